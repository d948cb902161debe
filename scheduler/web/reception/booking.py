"""The booking form: patient, then treatment, practitioner and day, then a free time, then book.

The first steps are GET (nothing changes until the final POST). A refused booking (slot_taken,
patient_busy, outside_hours, in_past, too_soon, ...) comes back as a message on the form with
the free times refreshed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from scheduler.booking import availability, operations
from scheduler.catalog import operations as catalog
from scheduler.domain import daytext, safety
from scheduler.extensions import db
from scheduler.models import Patient, Practitioner, Treatment
from scheduler.patients import records as patients
from scheduler.patients import view as patient_view
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.args import text_arg
from scheduler.web.forms import BookForm, as_date, parse_slot, slot_value
from scheduler.web.reception import bp
from scheduler.web.reception.common import id_arg, show_service_error

#: how far ahead the form looks for the next day with a free time
LOOKAHEAD_DAYS = 21

#: what to add to a refusal so the receptionist knows what to do next
HINTS = {
    "slot_taken": "Pick another free time below.",
    "patient_busy": "The patient is booked elsewhere then; pick another time.",
    "outside_hours": "Pick one of the free times below.",
    "in_past": "Pick a time later today or another day.",
}


@dataclass
class SlotGroup:
    """The free times of one practitioner on the chosen day."""

    practitioner: Practitioner
    slots: list[tuple[datetime, str]] = field(default_factory=list)


@dataclass
class Choice:
    """What the receptionist has chosen so far (from the query or the posted form)."""

    patient: Patient | None
    treatment: Treatment | None
    practitioner: Practitioner | None
    day: date
    time: str
    q: str


def _chosen(source) -> Choice:
    """Reads the choices from request.args (GET) or request.form (POST), ignoring bad values (a search text
    with a control character is a 400)."""
    pid, tid, prid = id_arg("patient_id", source), id_arg("treatment_id", source), id_arg("practitioner_id", source)
    patient = db.session.get(Patient, pid) if pid else None
    treatment = db.session.get(Treatment, tid) if tid else None
    if treatment is not None and not treatment.active:
        treatment = None
    if treatment is None and patient is not None and not tid:
        treatment = patient_view.usual_treatment(patient.id)
    practitioner = db.session.get(Practitioner, prid) if prid else None
    if practitioner is not None and not practitioner.active:
        practitioner = None
    day = as_date(source.get("date")) or clock.today()
    time_text = (source.get("time") or "").strip()[:5]
    return Choice(patient, treatment, practitioner, day, time_text, text_arg("q", 100, source, label="search"))


def _slot_groups(choice: Choice, practitioners: list[Practitioner]) -> list[SlotGroup]:
    """Free times on the chosen day for the chosen practitioner (or everyone)."""
    if choice.treatment is None:
        return []
    chosen = [choice.practitioner] if choice.practitioner else practitioners
    groups = []
    for p in chosen:
        starts = availability.free_slots(p, choice.treatment, choice.day)
        groups.append(SlotGroup(p, [(s, slot_value(p.id, s)) for s in starts]))
    return groups


def _next_free_day(choice: Choice, practitioners: list[Practitioner]) -> date | None:
    """The next day after the chosen one with a free time, within LOOKAHEAD_DAYS."""
    if choice.treatment is None:
        return None
    chosen = [choice.practitioner] if choice.practitioner else practitioners
    for offset in range(1, LOOKAHEAD_DAYS + 1):
        day = choice.day + timedelta(days=offset)
        if any(availability.free_slots(p, choice.treatment, day) for p in chosen):
            return day
    return None


def _preselected(choice: Choice, groups: list[SlotGroup], posted: str | None) -> str | None:
    """The slot value to pre-check: the posted one, else the time prefilled from the calendar."""
    values = {v for g in groups for _, v in g.slots}
    if posted and posted in values:
        return posted
    if choice.time:
        for g in groups:
            for start, value in g.slots:
                if clock.local(start).strftime("%H:%M") == choice.time and (
                    choice.practitioner is None or g.practitioner.id == choice.practitioner.id
                ):
                    return value
    return None


def _safety(choice: Choice) -> dict | None:
    """The patient's last session of the treatment's toxin and the earliest safe date."""
    if choice.patient is None or choice.treatment is None:
        return None
    last = patient_view.last_session_of_toxin(choice.patient.id, choice.treatment.toxin)
    if last is None:
        return {"last": None, "earliest": None, "too_soon": False}
    earliest = safety.earliest_safe_date(last, choice.treatment.min_interval_days)
    return {"last": last, "earliest": earliest, "too_soon": choice.day < earliest}


def _params(choice: Choice, **changes) -> dict:
    """Query parameters that keep the current choices (for links between the steps)."""
    params = {
        "patient_id": choice.patient.id if choice.patient else None,
        "treatment_id": choice.treatment.id if choice.treatment else None,
        "practitioner_id": choice.practitioner.id if choice.practitioner else None,
        "date": choice.day.isoformat(),
        "time": choice.time or None,
    } | changes
    return {k: v for k, v in params.items() if v not in (None, "")}


def render_book(
    form: BookForm, choice: Choice, *, status: int = 200, error: str | None = None, error_code: str | None = None
):
    """Renders the booking page for the current choices."""
    practitioners = catalog.list_practitioners(include_inactive=False)
    treatments = catalog.list_treatments(include_inactive=False)
    groups = _slot_groups(choice, practitioners) if choice.patient else []
    any_free = any(g.slots for g in groups)
    matches = patients.search(choice.q, limit=20) if choice.patient is None and choice.q else []
    return render_template(
        "reception/book.html",
        form=form,
        choice=choice,
        practitioners=practitioners,
        treatments=treatments,
        groups=groups,
        checked=_preselected(choice, groups, form.slot.data if request.method == "POST" else None),
        next_free=None if any_free or choice.patient is None else _next_free_day(choice, practitioners),
        safety=_safety(choice),
        matches=matches,
        params=lambda **kw: _params(choice, **kw),
        today=clock.today(),
        prev_day=(choice.day - timedelta(days=1)).isoformat(),
        next_day=(choice.day + timedelta(days=1)).isoformat(),
        error=error,
        error_code=error_code,
        hint=HINTS.get(error_code or ""),
        is_admin=current_user.is_admin,
    ), status


@bp.get("/book")
def book():
    """The booking form (GET steps: find the patient, choose treatment, practitioner and day)."""
    choice = _chosen(request.args)
    form = BookForm(
        formdata=None,
        patient_id=choice.patient.id if choice.patient else "",
        treatment_id=choice.treatment.id if choice.treatment else "",
    )
    return render_book(form, choice)


@bp.post("/book")
def book_post():
    """Books the chosen free time; a refusal is shown on the form."""
    form = BookForm()
    choice = _chosen(request.form)
    if not form.validate_on_submit():
        first = next(
            (
                f.errors[0]
                for f in (form.patient_id, form.treatment_id, form.slot, form.override_reason, form.csrf_token)
                if f.errors
            ),
            "Please correct the marked fields.",
        )
        return render_book(form, choice, status=400, error=first)
    if choice.patient is None or choice.treatment is None:
        return render_book(form, choice, status=400, error="Choose the patient and the treatment first.")
    practitioner_id, starts_at = parse_slot(form.slot.data)
    try:
        appt = operations.book(
            patient_id=choice.patient.id,
            practitioner_id=practitioner_id,
            treatment_id=choice.treatment.id,
            starts_at=starts_at,
            actor=current_user._get_current_object(),
            override_reason=form.override_reason.data,
        )
    except ServiceError as exc:
        status = show_service_error(None, exc)  # the message heads the form; the free times are refreshed
        choice = _chosen(request.form)  # reload after the rollback
        return render_book(form, choice, status=status, error=daytext.dates_in_words(exc.message), error_code=exc.code)
    db.session.commit()
    flash(
        f"Booked {appt.patient.full_name} for {appt.treatment.name} with {appt.practitioner.name} "
        f"on {_when(appt.starts_at)}.",
        "success",
    )
    return redirect(url_for("reception.appointment", appointment_id=appt.id))


def _when(instant: datetime) -> str:
    """ "Tue 2 Mar 2027 at 09:30" in clinic time."""
    local = clock.local(instant)
    return f"{local:%a} {local.day} {local:%b %Y} at {local:%H:%M}"
