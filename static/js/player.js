// The clip player: a motion event's button seeks the video to it and plays; a link
// with ?t=<seconds> (the events page's) starts the player at that moment.
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
})();
