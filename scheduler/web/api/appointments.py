"""API: availability, appointments and their lifecycle."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from scheduler.db import ONE_STATEMENT_WRITE, WRITES_LATE
from scheduler.extensions import db
from scheduler.models import Appointment
from scheduler.models.appointment import MAX_LENGTH
from scheduler.services import booking, catalog
from scheduler.services.errors import Invalid
from scheduler.web.api.core import endpoint
from scheduler.web.api.schemas import (
    AppointmentIn,
    AppointmentOut,
    AppointmentQuery,
    AvailabilityOut,
    AvailabilityQuery,
    CancelIn,
    CompleteIn,
    RescheduleIn,
    SessionOut,
)


@endpoint("GET", "/availability", query=AvailabilityQuery, response=AvailabilityOut, errors=(404,))
def availability(user, query: AvailabilityQuery):
    """Free starts that day for a practitioner and a treatment."""
    practitioner = catalog.get_practitioner(query.practitioner_id)
    treatment = catalog.get_treatment(query.treatment_id)
    return {"slots": booking.free_slots(practitioner, treatment, query.date)}


def _bound(value: date | datetime | None, end: bool) -> datetime | None:
    """A query bound as an instant: a date means that local day (inclusive at both ends)."""
    if value is None or isinstance(value, datetime):
        return value
    start, stop = booking.day_bounds(value)
    return stop if end else start


@endpoint("GET", "/appointments", query=AppointmentQuery, response=AppointmentOut, many=True)
def list_appointments(user, query: AppointmentQuery):
    """Appointments overlapping [from, to], by start time; filters by practitioner and patient."""
    start, stop = _bound(query.from_, False), _bound(query.to, True)
    if start and stop and stop < start:
        raise Invalid("'to' is before 'from'.", fields={"to": "before from"})
    if start is None and stop is None and query.patient_id is None:
        start = booking.day_bounds(booking.clock.today())[0]
        stop = start + timedelta(days=7)
    stmt = select(Appointment)
    if start is not None:
        stmt = stmt.where(Appointment.ends_at > start, Appointment.starts_at > start - MAX_LENGTH)
    if stop is not None:
        stmt = stmt.where(Appointment.starts_at < stop)
    if query.practitioner_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == query.practitioner_id)
    if query.patient_id is not None:
        stmt = stmt.where(Appointment.patient_id == query.patient_id)
    if query.status is not None:
        stmt = stmt.where(Appointment.status == query.status)
    return db.session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id).limit(query.limit)).all()


@endpoint("GET", "/appointments/{appointment_id}", response=AppointmentOut, errors=(404,))
def get_appointment(user, appointment_id: int):
    """One appointment."""
    return booking.get_appointment(appointment_id)


@endpoint("POST", "/appointments", body=AppointmentIn, response=AppointmentOut, status=201, errors=(403, 409, 422))
def create_appointment(user, body: AppointmentIn):
    """Books an appointment; 409 slot_taken / patient_busy, 422 outside_hours / in_past / too_soon."""
    return booking.book_row(actor=user, **body.model_dump())


setattr(create_appointment, WRITES_LATE, True)  # booking.book_row takes SQLite's write lock after its reads
# On PostgreSQL the booking reads, then writes the appointment, its emails and its audit event
# in one statement: no BEGIN and COMMIT around them (booking.book_row opens a transaction when it
# must write more).
setattr(create_appointment, ONE_STATEMENT_WRITE, True)


@endpoint(
    "POST",
    "/appointments/{appointment_id}/reschedule",
    body=RescheduleIn,
    response=AppointmentOut,
    errors=(403, 404, 409, 422),
)
def reschedule_appointment(user, appointment_id: int, body: RescheduleIn):
    """Moves a booked appointment under the same rules as booking."""
    return booking.reschedule(appointment_id, body.starts_at, actor=user, override_reason=body.override_reason)


@endpoint(
    "POST",
    "/appointments/{appointment_id}/cancel",
    body=CancelIn,
    body_required=False,
    response=AppointmentOut,
    errors=(404, 409),
)
def cancel_appointment(user, appointment_id: int, body: CancelIn):
    """Cancels an appointment (optional JSON body {"reason": ...})."""
    return booking.change_status(appointment_id, "cancelled", actor=user, reason=body.reason)


@endpoint("POST", "/appointments/{appointment_id}/check-in", response=AppointmentOut, errors=(404, 409))
def check_in_appointment(user, appointment_id: int):
    """Marks the patient as arrived."""
    return booking.change_status(appointment_id, "checked_in", actor=user)


@endpoint("POST", "/appointments/{appointment_id}/no-show", response=AppointmentOut, errors=(404, 409))
def no_show_appointment(user, appointment_id: int):
    """Marks a booked appointment as missed."""
    return booking.change_status(appointment_id, "no_show", actor=user)


@endpoint(
    "POST",
    "/appointments/{appointment_id}/complete",
    body=CompleteIn,
    response=SessionOut,
    status=201,
    errors=(404, 409, 422),
)
def complete_appointment(user, appointment_id: int, body: CompleteIn):
    """Completes a checked-in appointment and records its session (201 with the session)."""
    return booking.complete(appointment_id, actor=user, **body.model_dump())
