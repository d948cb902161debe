"""An appointment's lifecycle after booking: check-in, cancellation, no-show, completion."""

from __future__ import annotations

from datetime import date

from scheduler.booking.operations import get_appointment
from scheduler.db import begin_write
from scheduler.domain import lifecycle
from scheduler.extensions import db
from scheduler.models import Appointment, TreatmentSession, User
from scheduler.reminders import planning
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict, Rejected


def change_status(
    appointment_id: int, target: str, *, actor: User | None, reason: str | None = None, actor_label: str | None = None
) -> Appointment:
    """Checks in, cancels or marks a no-show, refusing transitions the lifecycle forbids (`actor_label`
    names a non-staff actor in the audit log, as in `operations.book`)."""
    begin_write()
    appt = get_appointment(appointment_id, for_update=True)
    _transition(appt, target)
    if target == "cancelled":
        appt.cancel_reason = reason
    db.session.flush()
    details = {"reason": reason} if reason else {}
    audit.record(f"appointment.{target}", "appointment", appt.id, actor, details, actor_label=actor_label)
    planning.appointment_changed(target, appt)
    return appt


def _transition(appt: Appointment, target: str) -> None:
    """Applies a lifecycle transition or raises a 409 bad_transition."""
    try:
        lifecycle.check_transition(appt.status, target)
    except lifecycle.BadTransition as exc:
        raise Conflict(str(exc), code="bad_transition") from None
    appt.status = target


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
) -> TreatmentSession:
    """Completes a checked-in appointment and records its session."""
    begin_write()
    appt = get_appointment(appointment_id, for_update=True)
    _transition(appt, "completed")
    performed_on = clock.local_date(appt.starts_at)
    if lot_expiry is not None and lot_expiry < performed_on:
        raise Rejected(
            "That lot had expired on the day of the session.",
            code="lot_expired",
            fields={"lot_expiry": "before the session date"},
        )
    session = TreatmentSession(
        patient_id=appt.patient_id,
        treatment_id=appt.treatment_id,
        appointment_id=appt.id,
        performed_on=performed_on,
        product=product or appt.treatment.product,
        units=units,
        lot_number=lot_number,
        lot_expiry=lot_expiry,
        sites=sites,
        notes=notes,
        external=False,
        recorded_by_id=actor.id if actor else None,
    )
    db.session.add(session)
    db.session.flush()
    audit.record("appointment.completed", "appointment", appt.id, actor, {"session_id": session.id})
    audit.record(
        "session.recorded",
        "session",
        session.id,
        actor,
        {"patient_id": appt.patient_id, "lot_number": lot_number, "units": units},
    )
    planning.appointment_changed("completed", appt, session)
    return session
