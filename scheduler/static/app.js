// Small progressive enhancements; every page works without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // A select marked data-autosubmit refreshes its (GET) form when changed: the free times follow
  // the chosen treatment or practitioner without pressing "Show free times".
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form && !(select.required && select.value === "")) {
        if (select.form.requestSubmit) { select.form.requestSubmit(); } else { select.form.submit(); }
      }
    });
  });
  // Under 600 px list tables become stacked cards (app.css); each cell is labelled with its column's
  // heading. The reception lists carry their labels in the page; this labels the other tables.
  document.querySelectorAll("table.list").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (!cell.hasAttribute("data-label") && heads[i] && cell.colSpan === 1 && !cell.classList.contains("actions")) { cell.setAttribute("data-label", heads[i]); }
      });
    });
  });
  // Bring the first free time into view on the day calendar's today column.
  var now = document.querySelector(".cal .now");
  if (now && now.scrollIntoView && window.location.hash === "") {
    var box = now.getBoundingClientRect();
    if (box.top > window.innerHeight) { window.scrollTo(0, window.scrollY + box.top - window.innerHeight / 3); }
  }
  // The enhancements above are in place (browser tests wait for this before using them).
  document.documentElement.setAttribute("data-enhanced", "yes");
});
