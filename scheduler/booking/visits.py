"""An appointment's lifecycle after booking: check-in, cancellation, no-show, completion, undo.

The timing rules (scheduler.domain.lifecycle) and the toxin safety rules (scheduler.booking.clinical)
apply to the desk and the API alike; an admin may set an overridable rule aside with a reason.
"""

from __future__ import annotations

from datetime import date

from scheduler.booking import clinical
from scheduler.booking.operations import get_appointment, reoccupy
from scheduler.db import begin_write
from scheduler.domain import lifecycle
from scheduler.extensions import db
from scheduler.models import Appointment, TreatmentSession, User
from scheduler.reminders import planning
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict, Rejected


def change_status(
    appointment_id: int,
    target: str,
    *,
    actor: User | None,
    reason: str | None = None,
    override_reason: str | None = None,
    actor_label: str | None = None,
) -> Appointment:
    """Checks in, cancels or marks a no-show, refusing transitions the lifecycle forbids and, unless
    an admin overrides, a check-in on another day, a no-show before the start, or a check-in
    inside the toxin's safety interval (`actor_label` names a non-staff actor in the audit log, as
    in `operations.book`)."""
    begin_write()
    overrides = clinical.Overrides(actor, override_reason)
    appt = get_appointment(appointment_id, for_update=True)
    _check_transition(appt, target)
    _check_timing(appt, target, overrides)
    if target == "checked_in":
        clinical.check_interval(
            overrides, appt.patient_id, appt.treatment, _visit_day(appt), standing_reason=appt.override_reason
        )
    appt.status = target
    if target == "cancelled":
        appt.cancel_reason = reason
    db.session.flush()
    details = {"reason": reason} if reason else {}
    audit.record(f"appointment.{target}", "appointment", appt.id, actor, details, actor_label=actor_label)
    overrides.record("appointment", appt.id)
    planning.appointment_changed(target, appt)
    return appt


def undo(appointment_id: int, *, actor: User | None, override_reason: str | None = None) -> Appointment:
    """Undoes a check-in or a no-show on the appointment's day: the appointment is booked again
    (a no-show's time is taken again, so it must still be free)."""
    begin_write()
    overrides = clinical.Overrides(actor, override_reason)
    appt = get_appointment(appointment_id, for_update=True)
    if appt.status not in lifecycle.UNDO:
        raise Conflict(
            f"There is no check-in or no-show to undo on this {appt.status.replace('_', ' ')} appointment.",
            code="bad_transition",
        )
    problem = lifecycle.undo_problem(appt.status, visit_day=_visit_day(appt), today=clock.today())
    if problem:
        overrides.refuse(Rejected(_sentence(problem), code="not_today"))
    before = appt.status
    if before == "no_show":
        reoccupy(appt, lambda: setattr(appt, "status", "booked"))
    else:
        appt.status = "booked"
        db.session.flush()
    audit.record("appointment.undone", "appointment", appt.id, actor, {"from": before, "to": "booked"})
    overrides.record("appointment", appt.id)
    planning.appointment_changed("undone", appt)
    return appt


def _visit_day(appt: Appointment) -> date:
    """The appointment's local clinic day."""
    return clock.local_date(appt.starts_at)


def _sentence(message: str) -> str:
    """A rule's message as a sentence."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _check_transition(appt: Appointment, target: str) -> None:
    """Refuses a status change the lifecycle forbids (409 bad_transition)."""
    try:
        lifecycle.check_transition(appt.status, target)
    except lifecycle.BadTransition as exc:
        raise Conflict(str(exc), code="bad_transition") from None


def _check_timing(appt: Appointment, target: str, overrides: clinical.Overrides) -> None:
    """Refuses a change at the wrong moment (422), overridable by an admin except an early completion."""
    problem = lifecycle.timing_problem(
        target, visit_day=_visit_day(appt), starts_at=appt.starts_at, today=clock.today(), now=clock.now()
    )
    if problem is None:
        return
    code, message = problem
    refusal = Rejected(_sentence(message), code=code, fields={"status": message})
    if not lifecycle.is_overridable(target):
        raise refusal
    overrides.refuse(refusal)


def complete(
    appointment_id: int,
    *,
    actor: User | None,
    units: float,
    lot_number: str,
    product: str | None = None,
    lot_expiry: date | None = None,
    sites: str | None = None,
    notes: str | None = None,
    override_reason: str | None = None,
) -> TreatmentSession:
    """Completes a checked-in appointment on its day or later and records its session, under the
    toxin's safety interval and dose limit and refusing an expired lot (an admin may override)."""
    begin_write()
    overrides = clinical.Overrides(actor, override_reason)
    appt = get_appointment(appointment_id, for_update=True)
    _check_transition(appt, "completed")
    _check_timing(appt, "completed", overrides)
    performed_on = _visit_day(appt)
    treatment = appt.treatment
    session = clinical.new_session(
        overrides,
        treatment,
        patient_id=appt.patient_id,
        appointment_id=appt.id,
        standing_reason=appt.override_reason,
        performed_on=performed_on,
        units=units,
        lot_number=lot_number,
        lot_expiry=lot_expiry,
        product=product,
        sites=sites,
        notes=notes,
        external=False,
    )
    appt.status = "completed"
    audit.record("appointment.completed", "appointment", appt.id, actor, {"session_id": session.id})
    audit.record(
        "session.recorded",
        "session",
        session.id,
        actor,
        {"patient_id": appt.patient_id, "lot_number": lot_number, "units": units},
    )
    overrides.record("session", session.id)
    planning.appointment_changed("completed", appt, session)
    return session
