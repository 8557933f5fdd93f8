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

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenuToggle();
    setUpAutoSubmit();
  });
})();
