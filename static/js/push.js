// "Turn on notifications in this browser" (templates/notifications/settings.html): registers
// the service worker (/sw.js), subscribes with the site's VAPID public key and posts the
// subscription (endpoint, p256dh, auth) to the page's form address. Without Push API support
// (or without JavaScript) the button stays hidden and the explanation shows instead.
(function () {
  "use strict";
  const root = document.getElementById("push");
  if (!root) return;
  const button = root.querySelector("[data-push-on]");
  const status = root.querySelector("[data-push-status]");
  const unsupported = root.querySelector("[data-push-unsupported]");
  if (!button || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    if (unsupported) unsupported.hidden = false;
    return;
  }
  button.hidden = false;

  function bytesOf(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function label() {
    const agent = navigator.userAgent;
    const browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox" : /Chrome\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : "Browser";
    const system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /Mac OS X/.test(agent) ? "macOS" : /Windows/.test(agent) ? "Windows" : /Linux/.test(agent) ? "Linux" : "";
    return system ? browser + " on " + system : browser;
  }

  async function turnOn() {
    button.disabled = true;
    status.textContent = button.dataset.working;
    try {
      if ((await Notification.requestPermission()) !== "granted") {
        status.textContent = button.dataset.denied;
        return;
      }
      const registration = await navigator.serviceWorker.register(button.dataset.worker, { scope: "/" });
      await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: bytesOf(button.dataset.key),
      });
      const keys = subscription.toJSON().keys || {};
      const form = new FormData(root.querySelector("form[data-push-form]"));
      form.append("endpoint", subscription.endpoint);
      form.append("p256dh", keys.p256dh || "");
      form.append("auth", keys.auth || "");
      form.append("label", label());
      const answer = await fetch(button.dataset.url, { method: "POST", body: new URLSearchParams(form), credentials: "same-origin" });
      const reply = await answer.json().catch(() => ({}));
      if (!answer.ok) {
        await subscription.unsubscribe();
        status.textContent = reply.error || button.dataset.failed;
        return;
      }
      window.location.reload(); // the list of browsers now shows this one
    } catch (error) {
      status.textContent = button.dataset.failed;
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", turnOn);
})();
