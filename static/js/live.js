// Live pictures: one websocket per [data-live-camera] box.
//
// A browser that plays H.264 in MP4 through Media Source Extensions (or
// ManagedMediaSource, as on iPhone Safari) asks for ?format=mp4 (&hevc=1 if it plays
// H.265 too) and gets the camera's own stream as fragments, shown in a <video>; any
// other browser, and any camera that sends JPEG, gets JPEG pictures in an <img>. Binary messages are
// an init segment ("ftyp"), fragments ("moof") or a JPEG; each is acknowledged with
// the text "ack" once appended or drawn (the server sends at most two ahead, so a
// slow tab skips ahead instead of falling behind). Text messages are the camera's
// status. The state line says "live", "last picture N s ago" (greyed) or "offline":
// never a frozen picture labelled live, never a broken image. Its words come from the
// scripts' catalogue (/jsi18n/: gettext, interpolate) in the page's language.
(function () {
  "use strict";
  const ACCESS_ENDED = 4401;
  const STALE_MS = 3000; // no picture for this long: greyed, with its age
  const ACK_BATCH = 4; // MP4 messages acknowledged together
  const ACK_WAIT_MS = 250; // or after this long
  const Source = window.ManagedMediaSource || window.MediaSource;
  function supported(codec) {
    return Boolean(Source && Source.isTypeSupported && Source.isTypeSupported('video/mp4; codecs="' + codec + '"'));
  }
  const PLAYS_MP4 = supported("avc1.42E01E");
  const PLAYS_HEVC = PLAYS_MP4 && supported("hvc1.1.6.L93.B0");

  function boxType(bytes) {
    return bytes.length >= 8 ? String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]) : "";
  }


  // The codec string MSE asks for: the server puts it in the init segment's handler
  // name (hdlr), e.g. "avc1.42c01e" or "hvc1.1.6.L93.B0".
  function codecOf(bytes) {
    const text = String.fromCharCode.apply(null, bytes.subarray(0, Math.min(bytes.length, 4096)));
    const found = /(avc1|hvc1)\.[0-9A-Za-z.]+/.exec(text);
    return found ? found[0] : null;
  }

  function age(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) { return interpolate(gettext("%(n)s s"), { n: s }, true); }
    if (s < 7200) { return interpolate(gettext("%(n)s min"), { n: Math.round(s / 60) }, true); }
    return interpolate(gettext("%(n)s h"), { n: Math.round(s / 3600) }, true);
  }

  // Why a live view ended: the server sends a code (accounts' and devices' close reasons).
  const ENDED = {
    "camera disabled": function () { return gettext("disabled"); },
    "camera disabled by support": function () { return gettext("disabled by support"); },
    "camera deleted": function () { return gettext("access ended (camera deleted)"); },
    "camera access changed": function () { return gettext("access ended (camera access changed)"); },
    "membership removed": function () { return gettext("access ended (membership removed)"); },
    "password changed": function () { return gettext("access ended (password changed)"); },
    "signed out": function () { return gettext("access ended (signed out)"); },
    "signed out by support": function () { return gettext("access ended (signed out by support)"); },
    "second factor required": function () { return gettext("access ended (second factor required)"); },
    "support access ended": function () { return gettext("access ended (support access ended)"); },
  };
  function endedText(reason) {
    return ENDED[reason] ? ENDED[reason]() : gettext("access ended");
  }

  // The camera's status code, as the server's page shows it (devices.models.CameraStatus).
  function statusText(code) {
    if (code === "online") { return gettext("Online"); }
    if (code === "error") { return gettext("Error"); }
    return gettext("Offline");
  }

  // Plays fragments in a <video>; calls done(true) once each message is appended (the ack),
  // done(false) for one it drops (acked all the same, or its credit would be lost for good),
  // fail() when this browser cannot play the stream after all.
  function Mp4Player(box, done, fail) {
    let video = null;
    let buffer = null;
    let pending = [];
    let appending = false; // an append in flight (not a removal): its updateend is the ack
    let trimmedAt = 0;

    function start(codec) {
      stop();
      const element = document.createElement("video");
      element.className = "live-picture";
      element.muted = true;
      element.autoplay = true;
      element.playsInline = true;
      element.disableRemotePlayback = true; // ManagedMediaSource requires it (or an AirPlay source)
      const source = new Source();
      element.src = URL.createObjectURL(source);
      video = element;
      source.addEventListener("sourceopen", function () {
        URL.revokeObjectURL(element.src);
        if (video !== element) { return; } // replaced meanwhile
        let created;
        try {
          created = source.addSourceBuffer('video/mp4; codecs="' + codec + '"');
        } catch (error) { fail(); return; }
        created.mode = "segments";
        // Events of a buffer that was replaced (a new stream) are ignored.
        created.addEventListener("updateend", function () { if (buffer === created) { updated(); } });
        created.addEventListener("error", function () { if (buffer === created) { fail(); } });
        buffer = created;
        next();
      });
      box.replaceChildren(element);
    }

    function updated() {
      if (appending) {
        appending = false;
        done(true);
      }
      const ranges = buffer.buffered;
      if (ranges.length) {
        const end = ranges.end(ranges.length - 1);
        // Live means the newest picture: jump when behind (after a skip ahead, or a stall).
        if (end - video.currentTime > 1.0 || video.currentTime < ranges.start(ranges.length - 1)) {
          video.currentTime = Math.max(ranges.start(ranges.length - 1), end - 0.1);
        }
        if (video.paused) { video.play().catch(function () {}); }
        if (video.currentTime - ranges.start(0) > 30 && Date.now() - trimmedAt > 10000) {
          trim(video.currentTime - 10); // bounded memory over hours of live
          return;
        }
      }
      next();
    }

    function trim(until) {
      trimmedAt = Date.now();
      try { buffer.remove(0, Math.max(until, 0.1)); } catch (error) { fail(); }
    }

    function next() {
      if (!buffer || buffer.updating || !pending.length) { return; }
      const bytes = pending.shift();
      try {
        buffer.appendBuffer(bytes);
        appending = true;
      } catch (error) {
        if (error.name === "QuotaExceededError" && video.currentTime > 2) {
          pending.unshift(bytes); // full (ManagedMediaSource keeps little): make room, then again
          trim(video.currentTime - 1);
        } else {
          fail();
        }
      }
    }

    function stop() {
      if (video) { video.removeAttribute("src"); video.load(); }
      pending.forEach(function () { done(false); });
      if (appending) { done(false); }
      video = null;
      buffer = null;
      pending = [];
      appending = false;
    }

    return {
      push: function (bytes) {
        if (boxType(bytes) === "ftyp") {
          const codec = codecOf(bytes);
          if (!codec || !Source.isTypeSupported('video/mp4; codecs="' + codec + '"')) { done(false); fail(); return; }
          start(codec); // a new stream: a new source (its times start again)
        } else if (!video) {
          done(false);
          return; // a fragment without its init segment: nothing to append it to
        }
        pending.push(bytes);
        next();
      },
      stop: stop,
    };
  }

  // Draws JPEG pictures in an <img>, created on the first one that loads.
  function JpegPlayer(box, done) {
    let img = null;
    let shownUrl = null;
    let loadingUrl = null;
    return {
      push: function (blob) {
        const url = URL.createObjectURL(blob);
        if (loadingUrl) {
          // A newer frame arrived before the last one was drawn: drop it, but still
          // acknowledge it, or its credit would be lost for good.
          URL.revokeObjectURL(loadingUrl);
          done();
        }
        loadingUrl = url;
        const next = img || document.createElement("img");
        next.onload = function () {
          if (!img) { img = next; img.className = "live-picture"; img.alt = ""; box.replaceChildren(img); }
          if (shownUrl) { URL.revokeObjectURL(shownUrl); }
          shownUrl = url;
          loadingUrl = null;
          done(true);
        };
        next.onerror = function () { URL.revokeObjectURL(url); loadingUrl = null; done(); };
        next.src = url;
      },
      stop: function () {},
    };
  }

  function watch(box) {
    const cameraId = box.dataset.liveCamera;
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const states = document.querySelectorAll('[data-live-state="' + cameraId + '"]');
    let delay = 1000;
    let lastPicture = 0; // when the newest picture arrived (ms)
    let lastSeen = null; // the server's last_seen, when no picture arrived in this page
    let status = "connecting";
    let ended = null;
    let mp4 = PLAYS_MP4;

    function describe(now, stale) {
      if (ended) { return ended; }
      if (!stale) { return gettext("live"); }
      if (status === "unplayable") { return gettext("this browser cannot play this camera's live video"); }
      const picture = lastPicture ? interpolate(gettext("last picture %(age)s ago"), { age: age(now - lastPicture) }, true) : "";
      if (status === "offline") {
        const seen = lastSeen ? interpolate(gettext("last seen %(age)s ago"), { age: age(now - Date.parse(lastSeen)) }, true) : "";
        return gettext("offline") + (picture || seen ? " · " + (picture || seen) : "");
      }
      if (status === "online") { return picture || gettext("waiting for a picture"); }
      return status === "reconnecting" ? gettext("reconnecting…") : gettext("connecting…");
    }

    function render() {
      const now = Date.now();
      const stale = !lastPicture || now - lastPicture > STALE_MS;
      const text = describe(now, stale);
      box.classList.toggle("stale", Boolean(lastPicture) && (stale || Boolean(ended)));
      box.dataset.liveStatus = ended ? "ended" : stale ? (status === "offline" ? "offline" : "stale") : "live";
      if (!box.querySelector(".live-picture")) { box.dataset.placeholder = text; }
      states.forEach(function (el) { if (el.textContent !== text) { el.textContent = text; } });
    }

    function connect() {
      // The support viewer names its own socket (the grant's); members use the camera's.
      const path = box.dataset.liveSocket || ("/ws/live/" + cameraId + "/");
      const socket = new WebSocket(scheme + location.host + path + (mp4 ? "?format=mp4" + (PLAYS_HEVC ? "&hevc=1" : "") : ""));
      socket.binaryType = "arraybuffer";
      function ack(drawn) {
        if (drawn) { lastPicture = Date.now(); render(); }
        if (socket.readyState === WebSocket.OPEN) { socket.send("ack"); }
      }
      // MP4 is acked in batches ("ack N"): a message back per picture cost the server about
      // as much as sending the picture. The server lets an MP4 viewer hold up to a second or
      // two of video unacknowledged, so batching delays nothing.
      let owed = 0;
      let ackTimer = null;
      function flushAcks() {
        clearTimeout(ackTimer);
        ackTimer = null;
        if (owed && socket.readyState === WebSocket.OPEN) { socket.send(owed === 1 ? "ack" : "ack " + owed); }
        owed = 0;
      }
      function ackMp4(drawn) {
        if (drawn) { lastPicture = Date.now(); render(); }
        owed += 1;
        if (owed >= ACK_BATCH) { flushAcks(); } else if (!ackTimer) { ackTimer = setTimeout(flushAcks, ACK_WAIT_MS); }
      }
      const mp4Player = Mp4Player(box, ackMp4, function () {
        // This browser cannot play this stream after all: JPEG from now on.
        mp4 = false;
        socket.close();
      });
      const jpegPlayer = JpegPlayer(box, ack);
      socket.onopen = function () { delay = 1000; };
      socket.onmessage = function (event) {
        if (typeof event.data === "string") {
          const message = JSON.parse(event.data);
          if (message.type === "status" && message.state === "ended") {
            ended = endedText(message.message);
          } else if (message.type === "status") {
            status = message.state;
            if (message.last_seen) { lastSeen = message.last_seen; }
          }
          render();
          return;
        }
        const bytes = new Uint8Array(event.data);
        const kind = boxType(bytes);
        if (kind === "ftyp" || kind === "moof") {
          mp4Player.push(bytes);
        } else {
          jpegPlayer.push(new Blob([bytes], { type: "image/jpeg" }));
        }
      };
      socket.onclose = function (event) {
        clearTimeout(ackTimer);
        mp4Player.stop();
        if (event.code === ACCESS_ENDED) {
          ended = ended || endedText(event.reason);
          render();
          return;
        }
        status = "reconnecting";
        render();
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    render();
    setInterval(render, 1000);
    connect();
  }

  function pollStatus(card) {
    const url = card.dataset.statusUrl;
    // The server's format for the page's language ("DATETIME_FORMAT"), in the person's zone.
    const options = {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    };
    if (card.dataset.timeZone) { options.timeZone = card.dataset.timeZone; }
    let clock;
    try {
      clock = new Intl.DateTimeFormat(document.documentElement.lang || undefined, options);
    } catch (error) { // a zone this browser does not know: its own
      delete options.timeZone;
      clock = new Intl.DateTimeFormat(document.documentElement.lang || undefined, options);
    }
    function refresh() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          const fields = {
            status: statusText(data.status),
            fps: data.fps ? Number(data.fps).toLocaleString(document.documentElement.lang || undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) : "—", // no "0" for a silent camera
            last_seen: data.last_seen ? clock.format(new Date(data.last_seen)) : gettext("never"),
            watchers: data.watchers.length ? data.watchers.join(", ") : gettext("nobody"),
            status_message: data.status_message,
          };
          Object.keys(fields).forEach(function (name) {
            const el = card.querySelector('[data-field="' + name + '"]');
            if (el) { el.textContent = fields[name]; }
            // People's names are theirs, not to be translated; "nobody" is ours.
            if (el && name === "watchers") { el.translate = !data.watchers.length; }
          });
        })
        .catch(function () {});
    }
    setInterval(refresh, 2000);
    refresh();
  }

  document.querySelectorAll("[data-live-camera]").forEach(watch);
  document.querySelectorAll("[data-status-url]").forEach(pollStatus);
})();
