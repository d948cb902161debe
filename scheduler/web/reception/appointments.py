"""One appointment and its actions: check in, complete, cancel, no-show, reschedule."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from scheduler.booking import availability, operations, visits
from scheduler.domain import daytext, lifecycle, safety
from scheduler.extensions import db
from scheduler.models import Appointment
from scheduler.patients import sessions
from scheduler.patients import view as patient_view
from scheduler.patients.view import treatment_sites
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.clinical_forms import CompleteSessionForm, StatusActionForm
from scheduler.web.forms import CancelForm, RescheduleForm, as_date, parse_slot, slot_value
from scheduler.web.reception import bp
from scheduler.web.reception.common import actor, show_service_error
from scheduler.web.redirects import safe_next

#: the status changes made by a bare button, with what the flash message says
SIMPLE_ACTIONS = {
    "check-in": ("checked_in", "checked in"),
    "no-show": ("no_show", "marked as a no-show"),
    "undo": ("undo", "is booked again (undone)"),
}


_load = operations.get_appointment  # a NotFound renders the app's 404 page


def render_appointment(
    appt: Appointment,
    *,
    status: int = 200,
    error: str | None = None,
    cancel_form: CancelForm | None = None,
    complete_form: CompleteSessionForm | None = None,
    action_form: StatusActionForm | None = None,
):
    """The appointment page with the actions its status and the moment allow (an admin also sees
    the ones that need an override reason)."""
    session = sessions.of_appointment(appt.id)
    if complete_form is None:
        complete_form = CompleteSessionForm(formdata=None, product=appt.treatment.product)
    complete_form.offer_sites(treatment_sites(appt.treatment))
    last = patient_view.last_session_of_toxin(appt.patient_id, appt.treatment.toxin)
    earliest = safety.earliest_safe_date(last, appt.treatment.min_interval_days) if last else None
    can = lifecycle.offered_actions(
        appt.status,
        visit_day=clock.local_date(appt.starts_at),
        starts_at=appt.starts_at,
        today=clock.today(),
        now=clock.now(),
        is_admin=current_user.is_admin,
    )
    return render_template(
        "reception/appointment.html",
        appt=appt,
        session=session,
        action=action_form or StatusActionForm(formdata=None),
        cancel_form=cancel_form or CancelForm(formdata=None),
        complete_form=complete_form,
        can=can,
        is_admin=current_user.is_admin,
        dose=patient_view.dose_status(appt.patient_id, appt.treatment, clock.local_date(appt.starts_at)),
        last_of_toxin=last,
        earliest_safe=earliest,
        error=error,
    ), status


@bp.get("/appointments/<int:appointment_id>")
def appointment(appointment_id: int):
    """An appointment's details and its actions."""
    return render_appointment(_load(appointment_id))


@bp.post("/appointments/<int:appointment_id>/<any('check-in', 'no-show', 'undo'):action>")
def appointment_action(appointment_id: int, action: str):
    """Checks in, marks a no-show or undoes either (an admin's reason sets a timing rule aside);
    a refused change is shown on the appointment page."""
    appt = _load(appointment_id)
    form = StatusActionForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400, description="The form was not accepted; reload the page and try again.")
        return render_appointment(appt, status=400, error="Please correct the override reason.", action_form=form)
    new_status, done = SIMPLE_ACTIONS[action]
    target = safe_next(form.next.data, url_for("reception.appointment", appointment_id=appt.id))
    try:
        if new_status == "undo":
            visits.undo(appt.id, actor=actor(), override_reason=form.override_reason.data)
        else:
            visits.change_status(appt.id, new_status, actor=actor(), override_reason=form.override_reason.data)
    except ServiceError as exc:
        status = show_service_error(None, exc)
        return render_appointment(_load(appointment_id), status=status, error=_sentence(exc.message))
    db.session.commit()
    flash(f"{appt.patient.full_name} {done}.", "success")
    return redirect(target)


@bp.post("/appointments/<int:appointment_id>/cancel")
def appointment_cancel(appointment_id: int):
    """Cancels with a reason."""
    appt = _load(appointment_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return render_appointment(appt, status=400, error="Say why the appointment is cancelled.", cancel_form=form)
    target = safe_next(form.next.data, url_for("reception.appointment", appointment_id=appt.id))
    try:
        visits.change_status(appt.id, "cancelled", actor=actor(), reason=form.reason.data)
    except ServiceError as exc:
        status = show_service_error(form, exc)
        return render_appointment(_load(appointment_id), status=status, error=_sentence(exc.message), cancel_form=form)
    db.session.commit()
    flash(f"Cancelled {appt.patient.full_name}'s appointment.", "success")
    return redirect(target)


@bp.post("/appointments/<int:appointment_id>/complete")
def appointment_complete(appointment_id: int):
    """Completes a checked-in appointment and records the session (product, units, lot ...)."""
    appt = _load(appointment_id)
    form = CompleteSessionForm()
    form.offer_sites(treatment_sites(appt.treatment))
    if not form.validate_on_submit():
        return render_appointment(appt, status=400, error="Please correct the marked fields.", complete_form=form)
    try:
        visits.complete(
            appt.id,
            actor=actor(),
            units=form.units.data,
            lot_number=form.lot_number.data,
            product=form.product.data,
            lot_expiry=form.lot_expiry.data,
            sites=form.all_sites(),
            notes=form.notes.data,
            override_reason=form.override_reason.data,
        )
    except ServiceError as exc:
        status = show_service_error(form, exc)
        return render_appointment(
            _load(appointment_id), status=status, error=_sentence(exc.message), complete_form=form
        )
    db.session.commit()
    flash(f"Completed: {appt.patient.full_name}, lot {form.lot_number.data}.", "success")
    return redirect(url_for("reception.patient", patient_id=appt.patient_id))


def _free_starts(appt: Appointment, day: date) -> list[datetime]:
    """Free starts for the appointment's practitioner and treatment, the appointment itself not counted as busy."""
    return availability.free_slots(appt.practitioner, appt.treatment, day, exclude_id=appt.id)


def render_reschedule(
    appt: Appointment,
    form: RescheduleForm,
    *,
    status: int = 200,
    error: str | None = None,
    error_code: str | None = None,
):
    """The reschedule page: the free times of the same practitioner and treatment on a day."""
    source = request.form if request.method == "POST" else request.args
    day = as_date(source.get("date")) or max(clock.local_date(appt.starts_at), clock.today())
    options = [(s, slot_value(appt.practitioner_id, s)) for s in _free_starts(appt, day) if s != appt.starts_at]
    return render_template(
        "reception/reschedule.html",
        appt=appt,
        form=form,
        day=day,
        prev_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        options=options,
        checked=form.slot.data if request.method == "POST" else None,
        can=lifecycle.can_reschedule(appt.status),
        error=error,
        error_code=error_code,
        is_admin=current_user.is_admin,
    ), status


@bp.get("/appointments/<int:appointment_id>/reschedule")
def reschedule(appointment_id: int):
    """Pick a new free time for a booked appointment."""
    return render_reschedule(_load(appointment_id), RescheduleForm(formdata=None))


@bp.post("/appointments/<int:appointment_id>/reschedule")
def reschedule_post(appointment_id: int):
    """Moves the appointment; a refusal is shown on the form."""
    appt = _load(appointment_id)
    form = RescheduleForm()
    if not form.validate_on_submit():
        return render_reschedule(appt, form, status=400, error="Pick a free time.")
    practitioner_id, starts_at = parse_slot(form.slot.data)
    if practitioner_id != appt.practitioner_id:
        return render_reschedule(appt, form, status=400, error="That time is not one of the offered times.")
    try:
        operations.reschedule(appt.id, starts_at, actor=actor(), override_reason=form.override_reason.data)
    except ServiceError as exc:
        status = show_service_error(form, exc, {"starts_at": "slot"})
        return render_reschedule(
            _load(appointment_id), form, status=status, error=_sentence(exc.message), error_code=exc.code
        )
    db.session.commit()
    flash(
        f"Moved {appt.patient.full_name} to {clock.local(starts_at):%a} {clock.local(starts_at).day} "
        f"{clock.local(starts_at):%b %Y} at {clock.local(starts_at):%H:%M}.",
        "success",
    )
    return redirect(url_for("reception.appointment", appointment_id=appt.id))


def _sentence(message: str) -> str:
    """A service message as a sentence ("cannot mark ..." -> "Cannot mark ...."), days in the pages' style."""
    message = daytext.dates_in_words(message.strip())
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
