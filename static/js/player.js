// The clip player: a motion event's button seeks the video to it and plays.
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
})();
