"""Patients: search, register, edit, the patient page, and sessions recorded afterwards."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from scheduler.catalog import operations as catalog
from scheduler.domain import daytext, durations, text
from scheduler.extensions import db
from scheduler.models import Patient
from scheduler.patients import contacts, sessions
from scheduler.patients import intervals as patient_intervals
from scheduler.patients import records as patients
from scheduler.patients import view as patient_view
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.args import text_arg
from scheduler.web.clinical_forms import RecordSessionForm
from scheduler.web.forms import ActionForm, PatientForm, as_date
from scheduler.web.reception import bp
from scheduler.web.reception.call_form import CallForm
from scheduler.web.reception.common import actor, id_arg, show_service_error

PAGE = 50


_load = patients.get  # a NotFound renders the app's 404 page


@bp.get("/patients")
def patient_list():
    """Finds patients by name, email, phone or date of birth (?q=)."""
    q = text_arg("q", 100, label="search")
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    rows = patients.search(q, limit=PAGE + 1, offset=(page_no - 1) * PAGE)
    return render_template("reception/patients.html", q=q, results=rows[:PAGE], has_more=len(rows) > PAGE, page=page_no)


def _possible_duplicates(form: PatientForm, exclude_id: int | None = None) -> list[Patient]:
    """Patients with the same name and date of birth (or the same email) as the form."""
    return patients.possible_duplicates(
        form.first_name.data or "",
        form.last_name.data or "",
        form.date_of_birth.data,
        form.email.data,
        exclude_id=exclude_id,
    )


@bp.route("/patients/new", methods=["GET", "POST"])
def patient_new():
    """Registers a patient (warning first about a likely duplicate)."""
    form = PatientForm()
    if request.method == "GET":
        form.then.data = request.args.get("then", "")
    duplicates: list[Patient] = []
    status = 200
    if form.validate_on_submit():
        duplicates = _possible_duplicates(form) if form.date_of_birth.data or form.email.data else []
        if not duplicates or request.form.get("confirm_duplicate") == "1":
            try:
                patient = patients.create(form.data_for_service(), actor=actor())
            except ServiceError as exc:
                status = show_service_error(form, exc)
            else:
                db.session.commit()
                flash(f"Registered {patient.full_name}.", "success")
                if (form.then.data or "").startswith("book"):
                    return redirect(url_for("reception.book", patient_id=patient.id, **_booking_kept(form.then.data)))
                return redirect(url_for("reception.patient", patient_id=patient.id))
        else:
            status = 409
    elif request.method == "POST":
        status = 400
    return render_template("reception/patient_form.html", form=form, patient=None, duplicates=duplicates), status


def _booking_kept(then: str) -> dict[str, str]:
    """The booking choices a "Register a new patient" link carried ("book?practitioner_id=..&date=..
    &time=.."): the practitioner, day, time and treatment of the calendar cell, so that the slot is
    not lost; anything else in it is dropped."""
    carried = dict(parse_qsl(then.partition("?")[2][:300]))
    kept = {k: str(id_arg(k, carried)) for k in ("practitioner_id", "treatment_id") if id_arg(k, carried)}
    day = as_date(carried.get("date"))
    if day is not None:
        kept["date"] = day.isoformat()
    if re.fullmatch(r"\d\d:\d\d", carried.get("time", "")):
        kept["time"] = carried["time"]
    return kept


@bp.route("/patients/<int:patient_id>/edit", methods=["GET", "POST"])
def patient_edit(patient_id: int):
    """Edits a patient's details and reminder choice."""
    patient = _load(patient_id)
    form = PatientForm(obj=patient)
    if request.method == "GET":
        form.show_consents(patient)
    status = 200
    if form.validate_on_submit():
        try:
            patients.update(patient.id, form.data_for_service(), actor=actor())
        except ServiceError as exc:
            status = show_service_error(form, exc)
        else:
            db.session.commit()
            flash("Saved the patient's details.", "success")
            return redirect(url_for("reception.patient", patient_id=patient.id))
    elif request.method == "POST":
        status = 400
    return render_template("reception/patient_form.html", form=form, patient=patient, duplicates=[]), status


@bp.get("/patients/<int:patient_id>")
def patient(patient_id: int):
    """A patient's page: details, appointments, sessions and re-treatment status."""
    patient = _load(patient_id)
    upcoming, past = patient_view.appointments(patient.id)
    return render_template(
        "reception/patient.html",
        patient=patient,
        upcoming=upcoming,
        past=past,
        sessions=patient_view.sessions(patient.id),
        retreatment=patient_view.retreatment(patient.id),
        action=ActionForm(formdata=None),
        today=clock.today(),
        consent_vias=CONSENT_VIAS,
        calls=contacts.of_patient(patient.id),
        call_form=CallForm(formdata=None),
    )


#: how a consent was given, as the patient page says it
CONSENT_VIAS = {
    "desk": "at the desk",
    "api": "through the API",
    "link": "by the patient's email link",
    "migration": "carried over from the single reminder setting",
    "erasure": "when the record was erased",
}


@bp.post("/patients/<int:patient_id>/consents")
def patient_consents(patient_id: int):
    """Records the patient's consents as ticked (at the desk); withdrawn ones end the pending emails they covered."""
    patient = _load(patient_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; please try again.")
    answers = {topic: request.form.get(topic) == "y" for topic in ("therapeutic", "cosmetic", "emails")}
    try:
        changed = patients.update(patient.id, {"consents": answers}, actor=actor())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash("Consents saved; the patient's emails follow them." if changed else "Consents saved.", "success")
    return redirect(url_for("reception.patient", patient_id=patient.id))


@bp.route("/patients/<int:patient_id>/sessions/new", methods=["GET", "POST"])
def session_new(patient_id: int):
    """Records a session done earlier or at another clinic; the safety interval then counts it."""
    patient = _load(patient_id)
    form = RecordSessionForm()
    treatments = catalog.list_treatments(include_inactive=True)
    form.treatment_id.choices = [(t.id, t.name) for t in treatments]
    form.offer_sites(sorted({site for t in treatments for site in patient_view.treatment_sites(t)}))
    status = 200
    if form.validate_on_submit():
        try:
            sessions.record_past(
                patient.id,
                actor=actor(),
                treatment_id=form.treatment_id.data,
                performed_on=form.performed_on.data,
                units=form.units.data,
                lot_number=form.lot_number.data,
                product=form.product.data,
                lot_expiry=form.lot_expiry.data,
                sites=form.all_sites(),
                notes=form.notes.data,
                external=bool(form.external.data),
                override_reason=form.override_reason.data,
            )
        except ServiceError as exc:
            status = show_service_error(form, exc)
            error = daytext.dates_in_words(exc.message)
        else:
            db.session.commit()
            flash(f"Recorded the session of {form.performed_on.data:%d %b %Y}.", "success")
            return redirect(url_for("reception.patient", patient_id=patient.id))
    else:
        error = "Please correct the marked fields." if request.method == "POST" else None
        if request.method == "POST":
            status = 400
    return render_template(
        "reception/session_form.html",
        form=form,
        patient=patient,
        error=error,
        today=clock.today(),
        is_admin=current_user.is_admin,
    ), status


def _refused_text(values: dict[str, str]) -> str | None:
    """Why one of these single-line form values may not be stored (scheduler.domain.text), or None."""
    for name, value in values.items():
        reason = text.problem(value)
        if reason is not None:
            return f"The {name.replace('_', ' ')} {reason}."
    return None


_FIELD_NAMES = {"remind_from": "First reminder after", "remind_until": "Last reminder after"}


def _lengths(*typed: str) -> list[str]:
    """Lengths typed in words or ISO 8601 ("10 weeks", "P3M") as ISO 8601; unreadable text passes
    through (cut to the column's size) for the interval checks to refuse in the same words."""
    out = []
    for value in typed:
        try:
            out.append(durations.parse_plain(value))
        except ValueError:
            out.append(value[:20])
    return out


@bp.post("/patients/<int:patient_id>/intervals/<int:treatment_id>")
def patient_interval(patient_id: int, treatment_id: int):
    """Sets (or resets) this patient's re-treatment window for a treatment; their reminders follow it."""
    _load(patient_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; please try again.")
    typed = {name: request.form.get(name, "").strip() for name in ("remind_from", "remind_until", "note")}
    refused = _refused_text(typed)
    if refused and not request.form.get("reset"):
        flash(refused, "error")
        return redirect(url_for("reception.patient", patient_id=patient_id))
    try:
        if request.form.get("reset"):
            patient_intervals.clear_window(patient_id, treatment_id, actor=actor())
            message = "Back to the treatment's usual re-treatment window; reminders re-planned."
        else:
            lengths = _lengths(typed["remind_from"], typed["remind_until"])
            patient_intervals.set_window(
                patient_id,
                treatment_id,
                lengths[0],
                lengths[1],
                typed["note"][:200],
                actor=actor(),
            )
            message = "This patient's re-treatment window is saved; reminders re-planned."
        db.session.commit()
        flash(message, "success")
    except ServiceError as exc:
        db.session.rollback()
        problems = durations.plain_problems(exc.fields)
        flash(f"{exc.message} " + " ".join(f"{_FIELD_NAMES.get(k, k)}: {v}." for k, v in problems.items()), "error")
    return redirect(url_for("reception.patient", patient_id=patient_id))
