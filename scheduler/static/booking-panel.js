// The calendar's booking panel: a free cell opens it instead of the booking form (which still
// works without JavaScript). Patient type-ahead, the treatment pre-filled from the patient's last
// session, only the times that fit, a new patient inline, Enter to book; one page load (the
// confirmation) from the cell.
"use strict";
(function () {
  var panel = document.getElementById("booking-panel");
  if (!panel || !window.fetch || !window.FormData || !window.URL) { return; }
  var form = panel.querySelector("[data-bp-form]");
  var backdrop = document.querySelector("[data-bp-backdrop]");
  var q = panel.querySelector("#bp-q");
  var results = panel.querySelector("#bp-results");
  var find = panel.querySelector("[data-bp-find]");
  var chosen = panel.querySelector("[data-bp-chosen]");
  var chosenName = panel.querySelector("[data-bp-chosen-name]");
  var newBox = panel.querySelector("[data-bp-new]");
  var confirmBox = panel.querySelector("[data-bp-confirm]");
  var treatment = panel.querySelector("#bp-treatment");
  var times = panel.querySelector("[data-bp-times]");
  var note = panel.querySelector("[data-bp-note]");
  var errorBox = panel.querySelector("[data-bp-error]");
  var when = panel.querySelector("[data-bp-when]");
  var full = panel.querySelector("[data-bp-full]");
  var submit = panel.querySelector("[data-bp-submit]");
  var state = { cell: null, practitioner: "", date: "", time: "", treatmentTouched: false, items: [], active: -1, seq: 0 };

  function json(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    });
  }
  function query(params) {
    return Object.keys(params).filter(function (k) { return params[k] !== "" && params[k] !== null && params[k] !== undefined; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }
  function showError(message) { errorBox.textContent = message || ""; }
  function setNew(on) {
    newBox.hidden = !on;
    newBox.querySelectorAll("input").forEach(function (input) { input.disabled = !on; });
    confirmBox.hidden = true;
    confirmBox.querySelector("input").disabled = true;
  }

  // --- opening and closing -------------------------------------------------------------------
  function open(cell) {
    var url = new URL(cell.href, window.location.href);
    state.cell = cell;
    state.practitioner = url.searchParams.get("practitioner_id") || "";
    state.date = url.searchParams.get("date") || "";
    state.time = url.searchParams.get("time") || "";
    state.treatmentTouched = false;
    form.reset();
    form.elements.patient_id.value = "";
    full.href = cell.href;
    chosen.hidden = true; find.hidden = false; setNew(false);
    results.innerHTML = ""; q.setAttribute("aria-expanded", "false");
    treatment.innerHTML = ""; times.innerHTML = ""; note.textContent = ""; showError("");
    when.textContent = state.time;
    panel.hidden = false; backdrop.hidden = false;
    q.focus();
    loadTimes();
  }
  function close() {
    panel.hidden = true; backdrop.hidden = true;
    if (state.cell) { state.cell.focus(); }
  }
  document.addEventListener("click", function (event) {
    var cell = event.target.closest && event.target.closest("a.free");
    if (!cell || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
    event.preventDefault();
    open(cell);
  });
  panel.querySelector("[data-bp-close]").addEventListener("click", close);
  backdrop.addEventListener("click", close);
  document.addEventListener("keydown", function (event) { if (event.key === "Escape" && !panel.hidden) { close(); } });

  // --- treatments and times ------------------------------------------------------------------
  function loadTimes() {
    var seq = ++state.seq;
    var params = { practitioner_id: state.practitioner, date: state.date, patient_id: form.elements.patient_id.value };
    if (state.treatmentTouched) { params.treatment_id = treatment.value; }
    json(panel.dataset.timesUrl + "?" + query(params)).then(function (r) {
      if (seq !== state.seq) { return; }
      if (!r.ok) { showError(r.body.error ? r.body.error.message : "These times cannot be shown."); return; }
      fillTimes(r.body);
    }).catch(function () { showError("The free times could not be loaded; try again."); });
  }
  function fillTimes(body) {
    when.textContent = body.practitioner + ", " + body.day + (state.time ? " at " + state.time : "");
    treatment.innerHTML = "";
    if (body.treatment_id === null) { treatment.appendChild(new Option("Choose the treatment…", "")); }
    body.treatments.forEach(function (t) {
      var label = t.name + " (" + t.minutes + " min" + (t.buffer ? " + " + t.buffer + " min buffer" : "") + ")";
      treatment.appendChild(new Option(label, String(t.id), false, t.id === body.treatment_id));
    });
    times.innerHTML = "";
    var picked = false;
    body.times.forEach(function (t) {
      var label = document.createElement("label");
      var radio = document.createElement("input");
      radio.type = "radio"; radio.name = "slot"; radio.value = t.value;
      if (t.label === state.time) { radio.checked = true; picked = true; }
      var text = document.createElement("span"); text.textContent = t.label;
      label.appendChild(radio); label.appendChild(text);
      times.appendChild(label);
    });
    var messages = [];
    if (body.treatment_id === null) { messages.push("Choose the treatment to see the times that fit."); }
    else if (!body.times.length) { messages.push("No time fits this treatment on this day."); }
    else if (state.time && !picked) { messages.push(state.time + " does not leave room for this treatment; pick another time."); }
    if (body.safety) { messages.push(body.safety); }
    note.textContent = messages.join(" ");
    if (body.safety) { var o = panel.querySelector("[data-bp-override]"); if (o) { o.open = true; } }
  }
  treatment.addEventListener("change", function () { state.treatmentTouched = true; loadTimes(); });

  // --- patient type-ahead ----------------------------------------------------------------------
  var timer = null;
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 180);
  });
  function search() {
    var text = q.value.trim();
    if (text.length < 2) { render([]); return; }
    json(panel.dataset.patientsUrl + "?" + query({ q: text })).then(function (r) {
      if (q.value.trim() === text) { render(r.ok ? r.body.items : []); }
    }).catch(function () { render([]); });
  }
  function render(items) {
    state.items = items; state.active = items.length ? 0 : -1;
    results.innerHTML = "";
    items.forEach(function (p, i) {
      var li = document.createElement("li");
      li.id = "bp-option-" + i; li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === state.active ? "true" : "false");
      var name = document.createElement("strong"); name.textContent = p.name;
      var sub = document.createElement("span"); sub.className = "sub";
      sub.textContent = [p.born ? "born " + p.born : "", p.phone, p.email].filter(Boolean).join(" · ");
      li.appendChild(name); li.appendChild(sub);
      li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(p); });
      results.appendChild(li);
    });
    q.setAttribute("aria-expanded", items.length ? "true" : "false");
    highlight();
  }
  function highlight() {
    Array.prototype.forEach.call(results.children, function (li, i) {
      li.setAttribute("aria-selected", i === state.active ? "true" : "false");
    });
    if (state.active >= 0) { q.setAttribute("aria-activedescendant", "bp-option-" + state.active); }
    else { q.removeAttribute("aria-activedescendant"); }
  }
  q.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!state.items.length) { return; }
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      state.active = (state.active + step + state.items.length) % state.items.length;
      highlight();
    } else if (event.key === "Enter") {
      event.preventDefault();  // Enter in the search chooses; Enter afterwards books
      if (state.active >= 0) { choose(state.items[state.active]); }
    }
  });
  function choose(p) {
    form.elements.patient_id.value = String(p.id);
    chosenName.textContent = p.name + (p.born ? " (born " + p.born + ")" : "");
    chosen.hidden = false; find.hidden = true; setNew(false);
    render([]); showError("");
    loadTimes();
    submit.focus();
  }
  panel.querySelector("[data-bp-change]").addEventListener("click", function () {
    form.elements.patient_id.value = "";
    chosen.hidden = true; find.hidden = false; q.value = ""; q.focus();
  });
  panel.querySelector("[data-bp-new-toggle]").addEventListener("click", function () {
    form.elements.patient_id.value = "";
    find.hidden = true; setNew(true);
    var words = q.value.trim().split(/[\s,]+/).filter(Boolean);
    if (words.length && !/\d/.test(q.value)) {
      var comma = q.value.indexOf(",") >= 0;  // "Patel, Amelia": last name first
      form.elements.first_name.value = comma ? words.slice(1).join(" ") : words.slice(0, -1).join(" ") || words[0];
      form.elements.last_name.value = comma ? words[0] : (words.length > 1 ? words[words.length - 1] : "");
    }
    form.elements.first_name.focus();
  });

  // --- booking -------------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    showError("");
    if (!form.elements.patient_id.value && newBox.hidden) { showError("Choose the patient, or register a new one."); q.focus(); return; }
    submit.disabled = true;
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; }, function () {
          return { ok: false, body: { error: { message: "The page has expired; reload it and try again." } } };
        });
      })
      .then(function (r) {
        if (r.ok && r.body.redirect) { window.location.assign(r.body.redirect); return; }
        submit.disabled = false;
        var error = r.body.error || {};
        showError(error.message || "The booking was refused.");
        var field = Object.keys(error.fields || {}).map(function (name) { return form.elements[name]; })
          .filter(function (el) { return el && el.focus && !el.disabled && el.type !== "hidden"; })[0];
        if (field) { field.focus(); } else { submit.focus(); }
        if (r.body.duplicates) { offerDuplicates(r.body.duplicates); }
        if (error.code === "slot_taken" || error.code === "outside_hours" || error.code === "in_past") { loadTimes(); }
      })
      .catch(function () { submit.disabled = false; showError("The booking could not be sent; try again."); });
  });
  function offerDuplicates(found) {
    confirmBox.hidden = false;
    confirmBox.querySelector("input").disabled = false;
    find.hidden = false;
    render(found);
  }
  document.documentElement.setAttribute("data-booking-panel", "ready");
})();
