// Adding a camera: show the fields that apply, preview the address (password masked) and
// "Test connection" without leaving the page. Without this script every field is shown
// and the form still works; the server builds the address from the same presets. The
// server's answers come in the page's language; this script's own words from /jsi18n/.
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
  const testButton = form.querySelector("[data-test-connection]");
  const result = form.querySelector("[data-test-result]");
  const message = form.querySelector("[data-test-message]");
  const snapshot = form.querySelector("[data-test-snapshot]");
  let snapshotUrl = null;

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
    testButton.hidden = kind !== "pull";
  }

  function say(text, outcome) {
    result.hidden = false;
    message.textContent = text;
    show("[data-hint-for]", false);
    if (outcome) show(`[data-hint-for="${outcome}"]`, true);
  }

  function showSnapshot(base64) {
    if (snapshotUrl) URL.revokeObjectURL(snapshotUrl);
    snapshotUrl = null;
    snapshot.hidden = !base64;
    if (!base64) return;
    // A blob: URL: the site's CSP allows no data: images.
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    snapshotUrl = URL.createObjectURL(new Blob([bytes], { type: "image/jpeg" }));
    snapshot.src = snapshotUrl;
  }

  async function testConnection() {
    testButton.disabled = true;
    showSnapshot(null);
    say(gettext("Testing: connecting to the camera (up to about ten seconds)…"));
    try {
      const response = await fetch(form.dataset.testUrl, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const answer = response.headers.get("Content-Type")?.includes("json") ? await response.json() : {};
      if (response.status === 400 && answer.errors) {
        say(interpolate(gettext("Check the form: %(errors)s"), { errors: Object.values(answer.errors).flat().join(" ") }, true));
      } else if (response.status === 403) {
        say(gettext("Only the household's owners and members add cameras."));
      } else if (answer.message) {
        say(answer.message, answer.outcome);
        showSnapshot(answer.ok ? answer.snapshot : null);
      } else {
        say(interpolate(gettext("The test could not run (the site answered %(status)s)."), { status: response.status }, true));
      }
    } catch (error) {
      say(gettext("The test could not run: the site did not answer."));
    } finally {
      testButton.disabled = false;
    }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  testButton.addEventListener("click", testConnection);
  update();
})();
