// The timeline's camera and day pickers show the choice at once (the form's "Show"
// button does the same without JavaScript). A file, not onchange="": the site's
// Content-Security-Policy runs no inline script.
(function () {
  "use strict";
  document.querySelectorAll("[data-autosubmit]").forEach(function (field) {
    field.addEventListener("change", function () { field.form.submit(); });
  });
})();
