// The declare page's "is this an incident?" checklist: says, as answers change, what they suggest.
// Advice only: it never stops anyone declaring. Without this script the rule is shown in words.
(() => {
  "use strict";

  function verdict(list) {
    const yes = list.querySelectorAll("input[type=checkbox]:checked").length;
    const total = list.querySelectorAll("input[type=checkbox]").length;
    const out = list.querySelector("[data-verdict]");
    if (!out) return;
    if (yes >= 2) {
      out.textContent = `${yes} of ${total} yes: this sounds like an incident. Declare it.`;
      out.dataset.suggests = "declare";
    } else if (yes === 1) {
      out.textContent = `1 of ${total} yes: it may not need an incident. If in doubt, declare anyway: a responder can decline it.`;
      out.dataset.suggests = "maybe";
    } else {
      out.textContent = "";
      delete out.dataset.suggests;
    }
  }

  document.addEventListener("change", (event) => {
    const list = event.target.closest?.("[data-checklist]");
    if (list) verdict(list);
  });
  document.addEventListener("DOMContentLoaded", () => {
    for (const list of document.querySelectorAll("[data-checklist]")) verdict(list);
  });
})();
