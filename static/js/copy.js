// Copy buttons: <button data-copy="ID"> copies the text of the element with that id.
// Without the clipboard (an http:// site other than localhost, or refused) the text is
// selected instead, for Ctrl+C. Without JavaScript the buttons stay hidden. The words come
// from the page's catalogue (/jsi18n/, loaded first by base.html).
(function () {
  "use strict";
  function select(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copy(button) {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const text = source.textContent.trim();
    const label = button.textContent;
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text);
      button.textContent = gettext("Copied");
    } catch (error) {
      select(source);
      button.textContent = gettext("Selected: press Ctrl+C");
    }
    setTimeout(() => {
      button.textContent = label;
    }, 2500);
  }

  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => copy(button));
  });
})();
