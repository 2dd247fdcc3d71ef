// Adding a camera: show the fields that apply and preview the address (password masked).
// Without this script every field is shown and the form still works; the server builds
// the address from the same presets.
(function () {
  "use strict";
  const form = document.querySelector("[data-camera-wizard]");
  const data = document.getElementById("camera-presets");
  if (!form || !data) return;
  const presets = Object.fromEntries(JSON.parse(data.textContent).map((p) => [p.key, p]));
  const field = (name) => form.elements.namedItem(name);
  const value = (name) => {
    const element = field(name);
    return element ? String(element.value || "").trim() : "";
  };
  const preview = form.querySelector("[data-address-preview]");

  function checked(name) {
    const chosen = form.querySelector(`input[name="${name}"]:checked`);
    return chosen ? chosen.value : "";
  }

  function hostPart(host) {
    return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  }

  function maskedTyped(address) {
    // rtsp://user:password@host/...?pwd=x -> rtsp://user:••••@host/...?pwd=••••. The last "@"
    // of all: a password typed with a raw "/" or "?" is masked too (too much, never too little).
    const start = address.indexOf("//");
    if (start < 0) return address;
    let rest = address.slice(start + 2);
    const at = rest.lastIndexOf("@");
    if (at >= 0) {
      const userinfo = rest.slice(0, at);
      const user = userinfo.split(":")[0];
      rest = (userinfo.includes(":") ? `${user}:••••` : user) + rest.slice(at);
    }
    rest = rest.replace(/([?&;](?:user|username|password|passwd|pass|pwd|secret|token|key|auth)=)[^&;#]*/gi, "$1••••");
    return address.slice(0, start + 2) + rest;
  }

  function address(preset) {
    if (preset.key === "other") return maskedTyped(value("source_url"));
    const host = value("host");
    if (!host) return "";
    const channel = Math.max(1, parseInt(value("channel"), 10) || 1);
    const template = checked("stream") === "sub" ? preset.sub : preset.main;
    const path = template
      .replaceAll("{channel2}", String(channel).padStart(2, "0"))
      .replaceAll("{channel}", String(channel));
    const user = value("camera_user");
    const password = value("camera_password") ? ":••••" : "";
    const userinfo = user ? `${encodeURIComponent(user)}${password}@` : "";
    return `rtsp://${userinfo}${hostPart(host)}:${value("port") || preset.port}${path}`;
  }

  function show(selector, on) {
    form.querySelectorAll(selector).forEach((element) => {
      element.hidden = !on;
    });
  }

  function update() {
    const kind = checked("kind");
    const preset = presets[value("preset")];
    show('[data-for-kind="pull"]', kind === "pull");
    show('[data-for-kind="push"]', kind === "push");
    show('[data-for-preset="other"]', Boolean(preset) && preset.key === "other");
    show('[data-for-preset="fields"]', !preset || preset.key !== "other");
    show("[data-for-channel]", !preset || preset.uses_channel);
    const shown = preset ? address(preset) : "";
    preview.hidden = !shown;
    preview.querySelector("code").textContent = shown;
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
