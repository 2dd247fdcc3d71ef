// Live pictures: one websocket per <img data-live-camera>, binary JPEG frames in,
// the text "ack" out after each frame is drawn (the server sends at most two
// frames ahead of what we have drawn, newest first, so a slow tab skips frames
// instead of falling behind). On the camera page, the status refreshes every 2 s.
(function () {
  "use strict";
  const ACCESS_ENDED = 4401;

  function setState(cameraId, text) {
    document.querySelectorAll('[data-live-state="' + cameraId + '"]').forEach(function (el) { el.textContent = text; });
  }

  function watch(img) {
    const cameraId = img.dataset.liveCamera;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    let delay = 1000;
    let previousUrl = null;
    let loadingUrl = null;

    function connect() {
      // The support viewer names its own socket (the grant's); members use the camera's.
      const path = img.dataset.liveSocket || ("/ws/live/" + cameraId + "/");
      const socket = new WebSocket(scheme + location.host + path);
      socket.binaryType = "blob";
      function ack() { if (socket.readyState === WebSocket.OPEN) { socket.send("ack"); } }
      socket.onopen = function () { delay = 1000; setState(cameraId, "live"); };
      socket.onmessage = function (event) {
        if (typeof event.data === "string") { return; }
        const url = URL.createObjectURL(event.data);
        if (loadingUrl) {
          // A newer frame arrived before the last one was drawn: drop it, but
          // still acknowledge it, or its credit would be lost for good.
          URL.revokeObjectURL(loadingUrl);
          ack();
        }
        loadingUrl = url;
        img.onload = function () {
          if (previousUrl) { URL.revokeObjectURL(previousUrl); }
          previousUrl = url;
          loadingUrl = null;
          ack();
        };
        img.src = url;
      };
      socket.onclose = function (event) {
        if (event.code === ACCESS_ENDED) {
          setState(cameraId, "access ended (" + (event.reason || "revoked") + ")");
          img.classList.add("ended");
          return;
        }
        setState(cameraId, "reconnecting…");
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    connect();
  }

  function pollStatus(card) {
    const url = card.dataset.statusUrl;
    function refresh() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          const fields = {
            status: data.status.charAt(0).toUpperCase() + data.status.slice(1),
            fps: String(data.fps),
            last_seen: data.last_seen ? new Date(data.last_seen).toLocaleString() : "never",
            watchers: data.watchers.length ? data.watchers.join(", ") : "nobody",
            status_message: data.status_message,
          };
          Object.keys(fields).forEach(function (name) {
            const el = card.querySelector('[data-field="' + name + '"]');
            if (el) { el.textContent = fields[name]; }
          });
        })
        .catch(function () {});
    }
    setInterval(refresh, 2000);
    refresh();
  }

  document.querySelectorAll("img[data-live-camera]").forEach(watch);
  document.querySelectorAll("[data-status-url]").forEach(pollStatus);
})();
