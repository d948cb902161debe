// Live preview of reminder dates on the treatment editor: asks the server, which owns the rules.
(function () {
  "use strict";
  var form = document.getElementById("treatment-form");
  var box = document.getElementById("preview");
  if (!form || !box) { return; }
  var names = ["min_interval_days", "reminder_count", "from_value", "from_unit", "until_value", "until_unit",
               "follow_value", "follow_unit"];
  var fmt = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  function show(data) {
    box.textContent = "";
    var h = document.createElement("h3");
    h.textContent = "Preview";
    box.appendChild(h);
    var p = document.createElement("p");
    var problems = Object.keys(data.problems || {});
    if (problems.length) {
      p.className = "field-error";
      p.textContent = problems.map(function (k) { return k.replace(/_/g, " ") + ": " + data.problems[k] + "."; }).join(" ");
    } else {
      var dates = data.reminders.map(function (d) { return fmt.format(new Date(d + "T00:00:00Z")); });
      p.textContent = "A session today (" + fmt.format(new Date(data.session + "T00:00:00Z")) + ") \u2192 reminders on " +
        dates.join(", ") + (data.follow_up ? "; follow-up on " + fmt.format(new Date(data.follow_up + "T00:00:00Z")) : "") + ".";
    }
    box.appendChild(p);
  }
  var timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var params = new URLSearchParams();
      names.forEach(function (n) { var el = form.elements[n]; if (el) { params.set(n, el.value); } });
      fetch(form.dataset.previewUrl + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { show(data); } });
    }, 200);
  }
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
}());
