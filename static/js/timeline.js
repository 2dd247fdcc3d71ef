// The timeline page. The camera and day pickers show the choice at once (the form's "Show"
// button does the same without JavaScript). The day's bars are drawn here from the JSON the
// server puts in <script id="timeline-data" type="application/json"> (offsets in seconds from
// the day's start, in the person's time zone): zoom (24 h, 6 h, 1 h, 10 min) around the
// cursor, panning, and a time cursor set by clicking or dragging (mouse, pen or touch) or by
// the arrow keys. Letting go inside a clip opens it at that moment and plays it (the clip
// page's ?t= and ?play=1, player.js); outside the clips the page says so and offers the next
// recording. A file, not inline script: the site's Content-Security-Policy runs none.
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit]").forEach(function (field) {
    field.addEventListener("change", function () { field.form.submit(); });
  });

  const source = document.getElementById("timeline-data");
  if (!source) { return; }
  const data = JSON.parse(source.textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const ZERO = "00000000-0000-0000-0000-000000000000";
  const LENGTH = data.length;
  const ZOOMS = [LENGTH, 21600, 3600, 600]; // the whole day (23 or 25 hours on DST days), 6 h, 1 h, 10 min
  const TICKS = [3 * 3600, 3600, 600, 120];
  const bars = Array.prototype.slice.call(document.querySelectorAll("svg[data-testid=timeline-bar]"));
  const controls = document.querySelector("[data-timeline-controls]");
  const readout = document.querySelector("[data-testid=timeline-time]");
  const message = document.querySelector("[data-testid=timeline-message]");
  const hours = document.querySelector("[data-timeline-hours]");
  const cameras = {};
  data.cameras.forEach(function (camera) { cameras[camera.id] = camera; });

  // Wall-clock time of an offset, in the person's zone (its name handles DST days) and the
  // page's language; a browser that does not know the zone gets the day's UTC offset.
  const language = document.documentElement.lang || undefined;
  // What the bars' titles say of a clip's state (the JSON carries the machine's word).
  const STATUS = {
    uploaded: gettext("uploaded"), processing: gettext("being processed"), ready: gettext("ready"), failed: gettext("failed"),
  };
  let format;
  try {
    const clock = new Intl.DateTimeFormat(language, {
      timeZone: data.zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
    format = function (seconds) { return clock.format(new Date((data.start + seconds) * 1000)); };
  } catch (error) {
    format = function (seconds) {
      const at = new Date((data.start + seconds + data.utc_offset_minutes * 60) * 1000);
      return at.toISOString().substring(11, 19);
    };
  }
  function short(seconds) { return format(seconds).substring(0, 5); }

  let span = ZOOMS[0];
  let view = 0; // the first second shown
  let cursor = null; // the chosen moment, in seconds from the day's start
  let dragging = null; // the bar being dragged on

  function clamp(value, low, high) { return Math.max(low, Math.min(high, value)); }

  function readHash() {
    const match = /^#z=(\d+)&t=([\d.]+)$/.exec(window.location.hash);
    if (!match) { return; }
    const wanted = ZOOMS.indexOf(parseInt(match[1], 10));
    if (wanted >= 0) { span = ZOOMS[wanted]; }
    cursor = clamp(parseFloat(match[2]), 0, LENGTH - 1);
    centre(cursor);
  }

  function keep() {
    // Back from a clip returns to the same zoom and moment.
    if (cursor !== null && window.history.replaceState) {
      window.history.replaceState(null, "", "#z=" + span.toFixed(0) + "&t=" + cursor.toFixed(1));
    }
  }

  function centre(at) { view = clamp(at - span / 2, 0, LENGTH - span); }

  function rect(cls, x, y, width, height, title) {
    const shape = document.createElementNS(SVG, "rect");
    shape.setAttribute("class", cls);
    shape.setAttribute("x", x);
    shape.setAttribute("y", y);
    shape.setAttribute("width", width);
    shape.setAttribute("height", height);
    if (title) {
      const label = document.createElementNS(SVG, "title");
      label.textContent = title;
      shape.appendChild(label);
    }
    return shape;
  }

  function drawBar(bar) {
    const camera = cameras[bar.dataset.camera];
    const least = span / 400; // a short clip stays visible
    const end = view + span;
    while (bar.firstChild) { bar.removeChild(bar.firstChild); }
    bar.setAttribute("viewBox", view + " 0 " + span + " 10");
    camera.segments.forEach(function (s) {
      if (s.end < view || s.start > end) { return; }
      const cls = "clip status-" + s.status + (s.motion ? " has-motion" : "");
      const shape = rect(cls, s.start, 0, Math.max(s.end - s.start, least), 10, format(s.start) + " · " + (STATUS[s.status] || s.status));
      shape.setAttribute("data-recording", s.id); // which clip, as in the server's bar
      bar.appendChild(shape);
    });
    camera.motion.forEach(function (m) {
      if (m.end < view || m.start > end) { return; }
      bar.appendChild(rect("motion", m.start, 7, Math.max(m.end - m.start, least), 3,
        interpolate(gettext("motion at %(time)s"), { time: format(m.start) }, true)));
    });
    if (cursor !== null && cursor >= view && cursor <= end) {
      bar.appendChild(rect("cursor", cursor - span / 1000, 0, span / 500, 10, null));
    }
    if (cursor !== null) {
      bar.setAttribute("aria-valuenow", cursor.toFixed(0));
      bar.setAttribute("aria-valuetext", format(cursor));
    }
  }

  function drawHours() {
    const step = TICKS[ZOOMS.indexOf(span)];
    while (hours.firstChild) { hours.removeChild(hours.firstChild); }
    let n = 0;
    for (let at = Math.ceil(view / step) * step; at < view + span; at += step) {
      const label = document.createElement("span");
      label.textContent = short(at);
      label.className = "tick" + (n % 2 ? " odd" : "");
      label.style.left = ((at - view) * 100 / span) + "%"; // CSSOM, allowed by the CSP
      hours.appendChild(label);
      n += 1;
    }
  }

  function draw() {
    bars.forEach(drawBar);
    drawHours();
    controls.querySelectorAll("[data-zoom]").forEach(function (button) {
      button.setAttribute("aria-pressed", ZOOMS[parseInt(button.dataset.zoom, 10)] === span ? "true" : "false");
    });
    controls.querySelector("[data-pan='-1']").disabled = view <= 0;
    controls.querySelector("[data-pan='1']").disabled = view + span >= LENGTH;
    const until = view + span >= LENGTH ? "24:00" : short(view + span); // not the next day's 00:00
    readout.textContent = cursor === null ? short(view) + " – " + until : format(cursor);
  }

  function zoomTo(index) {
    const middle = cursor === null ? view + span / 2 : cursor; // zoom around the cursor, else the view's middle
    span = ZOOMS[clamp(index, 0, ZOOMS.length - 1)];
    centre(middle);
    keep();
    draw();
  }

  function zoomBy(step) {
    const here = ZOOMS.indexOf(span);
    if (cursor === null) { cursor = view + span / 2; }
    zoomTo(here + step);
  }

  function moveCursor(at) {
    cursor = clamp(at, 0, LENGTH - 1);
    if (cursor < view || cursor > view + span) { centre(cursor); }
    message.hidden = true;
    draw();
  }

  function atPointer(bar, event) {
    const box = bar.getBoundingClientRect();
    return view + clamp((event.clientX - box.left) / box.width, 0, 1) * span;
  }

  function clipUrl(id) { return data.clip_url.replace(ZERO, id); }

  function say(text, link, linkText) {
    message.textContent = text;
    if (link) {
      const a = document.createElement("a");
      a.href = link;
      a.textContent = linkText;
      a.setAttribute("data-testid", "timeline-next");
      message.appendChild(document.createTextNode(" "));
      message.appendChild(a);
    }
    message.hidden = false;
  }

  // The moment chosen on a camera's bar: its clip at that moment, or where it next recorded.
  function choose(bar) {
    if (cursor === null) { return; }
    keep();
    const camera = cameras[bar.dataset.camera];
    const inside = camera.segments.find(function (s) { return s.start <= cursor && cursor < s.end; });
    if (inside) {
      window.location.assign(clipUrl(inside.id) + "?t=" + (cursor - inside.start).toFixed(1) + "&play=1");
      return;
    }
    const words = { camera: camera.name, time: format(cursor) };
    const several = data.cameras.length > 1; // then the message says which camera
    const next = camera.segments.find(function (s) { return s.start > cursor; });
    if (next) {
      const text = several ? gettext("Nothing recorded by %(camera)s at %(time)s.") : gettext("Nothing recorded at %(time)s.");
      say(interpolate(text, words, true), clipUrl(next.id) + "?play=1",
        interpolate(gettext("Next recording at %(time)s"), { time: format(next.start) }, true));
    } else {
      const text = several ? gettext("Nothing recorded by %(camera)s at %(time)s, nor later this day.")
        : gettext("Nothing recorded at %(time)s, nor later this day.");
      say(interpolate(text, words, true), null, null);
    }
  }

  bars.forEach(function (bar) {
    bar.setAttribute("tabindex", "0");
    bar.setAttribute("role", "slider");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", LENGTH.toFixed(0));
    bar.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) { return; }
      dragging = bar;
      if (bar.setPointerCapture) { bar.setPointerCapture(event.pointerId); }
      bar.focus();
      moveCursor(atPointer(bar, event));
      event.preventDefault();
    });
    bar.addEventListener("pointermove", function (event) {
      if (dragging === bar) { moveCursor(atPointer(bar, event)); }
    });
    bar.addEventListener("pointerup", function (event) {
      if (dragging !== bar) { return; }
      dragging = null;
      moveCursor(atPointer(bar, event));
      choose(bar);
    });
    bar.addEventListener("pointercancel", function () { dragging = null; });
    bar.addEventListener("keydown", function (event) {
      const step = event.shiftKey ? span / 10 : span / 100;
      const from = cursor === null ? view + span / 2 : cursor;
      if (event.key === "ArrowLeft" || event.key === "ArrowDown") { moveCursor(from - step); }
      else if (event.key === "ArrowRight" || event.key === "ArrowUp") { moveCursor(from + step); }
      else if (event.key === "Home") { moveCursor(0); }
      else if (event.key === "End") { moveCursor(LENGTH - 1); }
      else if (event.key === "+" || event.key === "=") { zoomBy(1); }
      else if (event.key === "-" || event.key === "_") { zoomBy(-1); }
      else if (event.key === "Enter" || event.key === " ") { if (cursor === null) { moveCursor(from); } choose(bar); }
      else { return; }
      event.preventDefault();
    });
  });
  controls.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      zoomTo(parseInt(button.dataset.zoom, 10));
    });
  });
  controls.querySelectorAll("[data-pan]").forEach(function (button) {
    button.addEventListener("click", function () {
      view = clamp(view + parseInt(button.dataset.pan, 10) * span / 2, 0, LENGTH - span);
      draw();
    });
  });

  controls.hidden = false;
  document.querySelector("[data-timeline-hint]").hidden = false;
  const zone = document.querySelector("[data-timeline-zone]");
  const sign = data.utc_offset_minutes < 0 ? "−" : "+";
  const offset = Math.abs(data.utc_offset_minutes);
  zone.textContent = data.zone + " (UTC" + sign + String(Math.floor(offset / 60)).padStart(2, "0") + ":" +
    String(offset % 60).padStart(2, "0") + ")";
  readHash();
  draw();
  window.addEventListener("hashchange", function () { readHash(); draw(); });
})();
