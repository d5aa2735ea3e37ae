// trailgate console: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Filter the rows of a table as you type: <input data-filter="TABLE-ID">.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.dataset.filter);
    if (!table) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr").forEach(function (row) {
        row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) < 0;
      });
    });
  });

  // Enter in a search box clicks its own button, not the form's default one.
  document.querySelectorAll("input[data-enter]").forEach(function (input) {
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        var button = document.getElementById(input.dataset.enter);
        if (button) { button.click(); }
      }
    });
  });

  // Copy buttons.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!navigator.clipboard) { return; }
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });

  // "Go back" links.
  document.querySelectorAll("a[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });

  // Create-role wizard: show the options of the chosen trusted entity type.
  var kinds = document.querySelectorAll("input[name=kind]");
  function showKind() {
    var chosen = document.querySelector("input[name=kind]:checked");
    document.querySelectorAll("[data-when]").forEach(function (box) {
      box.hidden = chosen !== null && box.dataset.when !== chosen.value;
    });
  }
  kinds.forEach(function (radio) { radio.addEventListener("change", showKind); });
  if (kinds.length) { showKind(); }

  // Event history quick ranges (UTC, as the form's fields are).
  document.querySelectorAll("button[data-range]").forEach(function (button) {
    button.addEventListener("click", function () {
      var end = new Date();
      var start = new Date(end.getTime() - Number(button.dataset.range) * 1000);
      var iso = function (d) { return d.toISOString().slice(0, 19); };
      document.getElementById("start").value = iso(start);
      document.getElementById("end").value = iso(end);
    });
  });

  // Close an open menu with Escape and return focus to its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
}());
