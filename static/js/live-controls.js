// Live view controls: fullscreen for one camera, grid layouts, and "Save a picture".
// A saved picture is the frame the page shows (drawn from its <video> or <img>), offered
// as a JPEG download only after the server wrote it to the household's access history.
// The controls are hidden without JavaScript: nothing here works without it.
(function () {
  "use strict";
  const LAYOUT_KEY = "nvr.liveColumns";

  function picture(box) {
    return box.querySelector("video, img.live-picture");
  }

  function stamp(date) {
    return date.toISOString().slice(0, 19).replace(/:/g, "-");
  }

  function jpegOf(element) {
    const width = element.videoWidth || element.naturalWidth;
    const height = element.videoHeight || element.naturalHeight;
    if (!width || !height) { return Promise.resolve(null); }
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(element, 0, 0, width, height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.92); });
  }

  function setUpSnapshot(form) {
    const box = document.querySelector('[data-live-camera="' + form.dataset.snapshot + '"]');
    const status = form.querySelector("[data-snapshot-status]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const element = box && picture(box);
      const taken = new Date();
      const made = element ? jpegOf(element) : Promise.resolve(null);
      made.then(function (blob) {
        if (!blob) { status.textContent = gettext("No picture to save yet."); return null; }
        return fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) { status.textContent = gettext("The picture could not be saved."); return; }
            const link = document.createElement("a");
            link.href = URL.createObjectURL(blob);
            link.download = (form.dataset.cameraName || "camera") + " " + stamp(taken) + ".jpg";
            document.body.appendChild(link);
            link.click();
            link.remove();
            setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
            status.textContent = gettext("Saved (written to the access history).");
          });
      }).catch(function () { status.textContent = gettext("The picture could not be saved."); });
    });
  }

  function setUpFullscreen(button) {
    const box = document.querySelector('[data-live-camera="' + button.dataset.fullscreen + '"]');
    if (!box || !box.requestFullscreen) { button.hidden = true; return; }
    button.addEventListener("click", function () {
      box.requestFullscreen().catch(function () {});
    });
  }

  function setUpLayouts(chooser) {
    const grid = document.querySelector("[data-live-grid]");
    function choose(columns) {
      grid.dataset.columns = columns;
      chooser.querySelectorAll("[data-columns]").forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.dataset.columns === columns));
      });
    }
    chooser.querySelectorAll("[data-columns]").forEach(function (button) {
      button.addEventListener("click", function () {
        choose(button.dataset.columns);
        try { localStorage.setItem(LAYOUT_KEY, button.dataset.columns); } catch (error) { /* private mode */ }
      });
    });
    let saved = "auto";
    try { saved = localStorage.getItem(LAYOUT_KEY) || "auto"; } catch (error) { /* private mode */ }
    choose(saved);
  }

  document.querySelectorAll("[data-live-controls]").forEach(function (controls) { controls.hidden = false; });
  document.querySelectorAll("form[data-snapshot]").forEach(setUpSnapshot);
  document.querySelectorAll("[data-fullscreen]").forEach(setUpFullscreen);
  document.querySelectorAll("[data-live-layouts]").forEach(setUpLayouts);
})();
