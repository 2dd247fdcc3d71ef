// The clip player: a motion event's button seeks the video to it and plays; a link
// with ?t=<seconds> (the events page's) starts the player at that moment. "Play through"
// (kept in this browser) goes on with the next clip when one ends; ?play=1 starts it.
(function () {
  "use strict";
  const video = document.querySelector("video.player");
  document.querySelectorAll("[data-seek]").forEach(function (button) {
    if (!video) { button.disabled = true; return; }
    button.addEventListener("click", function () {
      video.currentTime = parseFloat(button.dataset.seek) || 0;
      const playing = video.play();
      if (playing && playing.catch) { playing.catch(function () { /* autoplay refused: the seek stands */ }); }
    });
  });
  const start = parseFloat(new URLSearchParams(window.location.search).get("t") || "");
  if (video && isFinite(start) && start > 0) {
    const seek = function () {
      const end = isFinite(video.duration) ? video.duration : start;
      video.currentTime = Math.min(start, end);
    };
    if (video.readyState >= 1) { seek(); } else { video.addEventListener("loadedmetadata", seek, { once: true }); }
  }
  const KEEP = "nvr.playThrough";
  const through = document.querySelector("[data-play-through]");
  if (video && through) {
    through.closest("label").hidden = false;
    try { through.checked = localStorage.getItem(KEEP) === "1"; } catch (error) { /* private mode */ }
    through.addEventListener("change", function () {
      try { localStorage.setItem(KEEP, through.checked ? "1" : "0"); } catch (error) { /* private mode */ }
    });
    video.addEventListener("ended", function () {
      if (through.checked && video.dataset.next) { window.location.assign(video.dataset.next); }
    });
  }
  if (video && new URLSearchParams(window.location.search).get("play") === "1") {
    const playing = video.play();
    if (playing && playing.catch) {
      playing.catch(function () { video.muted = true; video.play().catch(function () {}); }); // autoplay rules
    }
  }
})();
