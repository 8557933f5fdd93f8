// Small progressive enhancements: every page also works without this file.
(function () {
  "use strict";

  function setUpMenuToggle() {
    document.querySelectorAll("[data-menu-toggle]").forEach(function (toggle) {
      var menu = document.getElementById(toggle.getAttribute("aria-controls"));
      if (!menu) return;
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", String(open));
        menu.classList.toggle("is-open", open);
      });
    });
  }

  // Selects such as the estate switcher and the language switch submit as soon as a
  // choice is made; without JavaScript a "Go" button next to them does it.
  function setUpAutoSubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form.requestSubmit) select.form.requestSubmit();
        else select.form.submit();
      });
    });
  }

  // A triage suggestion (templates/triage/_suggestion.html) fills the selects marked
  // data-prefill that the person has not chosen themselves; a choice of theirs is kept.
  function setUpPrefill() {
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("select[data-prefill]")) {
        event.target.dataset.chosen = "true";
      }
    });
    document.addEventListener("htmx:afterSettle", function () {
      // An outerHTML swap settles on the new element: look it up rather than trust the target.
      var line = document.querySelector("[data-triage-suggestion]");
      if (!line) return;
      var form = line.closest("form");
      if (!form) return;
      ["kind", "category", "urgency"].forEach(function (name) {
        var select = form.querySelector('select[data-prefill="' + name + '"]');
        var value = line.dataset[name];
        if (!select || select.dataset.chosen === "true") return;
        if (select.querySelector('option[value="' + value + '"]')) select.value = value;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenuToggle();
    setUpAutoSubmit();
    setUpPrefill();
  });
})();
