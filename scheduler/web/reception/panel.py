"""The booking panel of the calendar: JSON for its type-ahead and its free times, and its POST.

Progressive enhancement (scheduler/static/booking-panel.js): a free cell is a link to the plain
booking form; with JavaScript it opens a panel on the calendar page instead. From the click to
the confirmation (the appointment's page) the browser loads one page: the panel's reads are
fetches, and its POST answers JSON naming where to go.
"""

from __future__ import annotations

from datetime import date

from flask import flash, jsonify, request, url_for

from scheduler.booking import availability, operations
from scheduler.catalog import operations as catalog
from scheduler.domain import safety
from scheduler.extensions import db
from scheduler.models import Patient, Practitioner, Treatment
from scheduler.patients import records as patients
from scheduler.patients import view as patient_view
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.args import text_arg
from scheduler.web.forms import PatientForm, as_date, parse_slot, slot_value
from scheduler.web.panel_form import PanelForm
from scheduler.web.reception import bp
from scheduler.web.reception.common import actor, id_arg
from scheduler.web.reception.filters import local_hm, long_date, short_date

#: how many patients the type-ahead lists
TYPEAHEAD = 8


def _error(status: int, message: str, code: str = "invalid", fields: dict[str, str] | None = None):
    """A JSON refusal in the API's error shape."""
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


def _patient_json(p: Patient) -> dict:
    """A patient as the type-ahead lists them."""
    born = short_date(p.date_of_birth) if p.date_of_birth else ""
    return {"id": p.id, "name": p.full_name, "born": born, "phone": p.phone or "", "email": p.email or ""}


@bp.get("/book/panel/patients")
def panel_patients():
    """The type-ahead: patients matching ?q= (the patients' search), for staff."""
    q = text_arg("q", 100, label="search")
    found = patients.search(q, limit=TYPEAHEAD) if len(q) >= 2 else []
    return jsonify({"items": [_patient_json(p) for p in found]})


@bp.get("/book/panel/times")
def panel_times():
    """The free times that fit the treatment and its buffer with the practitioner on the day
    (today by default; no practitioner: none); without ?treatment_id=, the patient's usual
    treatment (their latest session's)."""
    day = as_date(request.args.get("date")) if request.args.get("date") else clock.today()
    if day is None:
        return _error(400, "Give the day as YYYY-MM-DD.", fields={"date": "not a date"})
    practitioner = None
    if request.args.get("practitioner_id"):
        practitioner = db.session.get(Practitioner, id_arg("practitioner_id") or 0)
        if practitioner is None or not practitioner.active:
            return _error(404, "There is no such practitioner taking bookings.")
    patient = db.session.get(Patient, id_arg("patient_id") or 0)
    treatment = db.session.get(Treatment, id_arg("treatment_id") or 0)
    if treatment is None and patient is not None:
        treatment = patient_view.usual_treatment(patient.id)
    if treatment is not None and not treatment.active:
        treatment = None
    body = {
        "practitioner": practitioner.name if practitioner else None,
        "day": long_date(day),
        "treatments": [
            {"id": t.id, "name": t.name, "minutes": t.duration_minutes, "buffer": t.buffer_minutes}
            for t in catalog.list_treatments(include_inactive=False)
        ],
        "treatment_id": treatment.id if treatment else None,
        "times": [],
        "safety": None,
    }
    if treatment is None or practitioner is None:
        return jsonify(body)
    starts = availability.free_slots(practitioner, treatment, day)
    body["times"] = [{"value": slot_value(practitioner.id, s), "label": local_hm(s)} for s in starts]
    if patient is not None:
        body["safety"] = _safety_note(patient, treatment, day)
    return jsonify(body)


def _safety_note(patient: Patient, treatment: Treatment, day: date) -> str | None:
    """Why the day is too soon after the patient's last session of the toxin, or None."""
    last = patient_view.last_session_of_toxin(patient.id, treatment.toxin)
    if not safety.is_too_soon(last, day, treatment.min_interval_days):
        return None
    earliest = safety.earliest_safe_date(last, treatment.min_interval_days)
    return (
        f"Too soon: the last {treatment.toxin} session was on {short_date(last)}; "
        f"the earliest safe date is {short_date(earliest)}."
    )


@bp.post("/book/panel")
def panel_book():
    """Books the chosen time for the chosen patient, or registers the new patient and books them
    (one transaction); answers JSON: where the confirmation is, or why not."""
    form = PanelForm()
    if not form.validate_on_submit():
        fields = {name: errors[0] for name, errors in form.errors.items() if errors}
        return _error(400, next(iter(fields.values()), "Please correct the marked fields."), fields=fields)
    treatment_id, chosen = id_arg("treatment_id", request.form), parse_slot(form.slot.data)
    if treatment_id is None or chosen is None:
        return _error(400, "Choose the treatment and a free time.", fields={"treatment_id": "choose one"})
    practitioner_id, starts_at = chosen
    common = dict(
        practitioner_id=practitioner_id,
        treatment_id=treatment_id,
        starts_at=starts_at,
        actor=actor(),
        override_reason=form.override_reason.data,
    )
    patient_id = id_arg("patient_id", request.form)
    try:
        if patient_id is not None:
            appt = operations.book(patient_id=patient_id, **common)
        else:
            new = PatientForm()
            if not new.validate():
                fields = {name: errors[0] for name, errors in new.errors.items() if errors}
                return _error(400, next(iter(fields.values())), fields=fields)
            duplicates = patients.possible_duplicates(
                new.first_name.data, new.last_name.data, new.date_of_birth.data, new.email.data
            )
            if duplicates and request.form.get("confirm_duplicate") != "1":
                return _duplicates(duplicates)
            appt = operations.book_new_patient(new.data_for_service(), **common)
    except ServiceError as exc:
        db.session.rollback()
        return _error(exc.status, exc.message, exc.code, exc.fields)
    db.session.commit()
    local = clock.local(appt.starts_at)
    flash(
        f"Booked {appt.patient.full_name} for {appt.treatment.name} with {appt.practitioner.name} "
        f"on {local:%a} {local.day} {local:%b %Y} at {local:%H:%M}.",
        "success",
    )
    return jsonify({"redirect": url_for("reception.appointment", appointment_id=appt.id)}), 201


def _duplicates(found: list[Patient]):
    """A 409 listing the likely same people, so the desk chooses one or registers anyway."""
    resp, status = _error(
        409,
        "A patient with this name and date of birth, or this email, is already registered: choose them, "
        "or tick “a different person” to register anyway.",
        "possible_duplicate",
    )
    body = resp.get_json() | {"duplicates": [_patient_json(p) for p in found]}
    return jsonify(body), status
