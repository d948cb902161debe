"""API: availability, appointments and their lifecycle."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from scheduler.booking import calendar, operations, visits
from scheduler.booking.availability import free_slots
from scheduler.catalog import operations as catalog
from scheduler.services import clock
from scheduler.services.errors import Invalid
from scheduler.web.api.appointment_schemas import (
    AppointmentIn,
    AppointmentOut,
    AppointmentQuery,
    AvailabilityOut,
    AvailabilityQuery,
    CancelIn,
    CompleteIn,
    OverrideIn,
    RescheduleIn,
    SessionOut,
)
from scheduler.web.api.core import endpoint


@endpoint("GET", "/availability", query=AvailabilityQuery, response=AvailabilityOut, errors=(404,))
def availability(user, query: AvailabilityQuery):
    """Free starts that day for a practitioner and a treatment."""
    practitioner = catalog.get_practitioner(query.practitioner_id)
    treatment = catalog.get_treatment(query.treatment_id)
    return {"slots": free_slots(practitioner, treatment, query.date)}


def _bound(value: date | datetime | None, end: bool) -> datetime | None:
    """A query bound as an instant: a date means that local day (inclusive at both ends)."""
    if value is None or isinstance(value, datetime):
        return value
    start, stop = clock.day_bounds(value)
    return stop if end else start


@endpoint("GET", "/appointments", query=AppointmentQuery, response=AppointmentOut, many=True)
def list_appointments(user, query: AppointmentQuery):
    """Appointments overlapping [from, to], by start time; filters by practitioner and patient."""
    start, stop = _bound(query.from_, False), _bound(query.to, True)
    if start and stop and stop < start:
        raise Invalid("'to' is before 'from'.", fields={"to": "before from"})
    if start is None and stop is None and query.patient_id is None:
        start = clock.day_bounds(clock.today())[0]
        stop = start + timedelta(days=7)
    return calendar.appointments(
        start,
        stop,
        practitioner_id=query.practitioner_id,
        patient_id=query.patient_id,
        status=query.status,
        limit=query.limit,
    )


@endpoint("GET", "/appointments/{appointment_id}", response=AppointmentOut, errors=(404,))
def get_appointment(user, appointment_id: int):
    """One appointment."""
    return operations.get_appointment(appointment_id)


@endpoint("POST", "/appointments", body=AppointmentIn, response=AppointmentOut, status=201, errors=(403, 409, 422))
def create_appointment(user, body: AppointmentIn):
    """Books an appointment; 409 slot_taken / patient_busy, 422 outside_hours / in_past / too_soon."""
    return operations.book(actor=user, **body.model_dump())


@endpoint(
    "POST",
    "/appointments/{appointment_id}/reschedule",
    body=RescheduleIn,
    response=AppointmentOut,
    errors=(403, 404, 409, 422),
)
def reschedule_appointment(user, appointment_id: int, body: RescheduleIn):
    """Moves a booked appointment under the same rules as booking."""
    return operations.reschedule(appointment_id, body.starts_at, actor=user, override_reason=body.override_reason)


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
    return visits.change_status(appointment_id, "cancelled", actor=user, reason=body.reason)


@endpoint(
    "POST",
    "/appointments/{appointment_id}/check-in",
    body=OverrideIn,
    body_required=False,
    response=AppointmentOut,
    errors=(403, 404, 409, 422),
)
def check_in_appointment(user, appointment_id: int, body: OverrideIn):
    """Marks the patient as arrived, on the appointment's day (422 not_today, too_soon; an admin's
    optional `override_reason` sets either aside)."""
    return visits.change_status(appointment_id, "checked_in", actor=user, override_reason=body.override_reason)


@endpoint(
    "POST",
    "/appointments/{appointment_id}/no-show",
    body=OverrideIn,
    body_required=False,
    response=AppointmentOut,
    errors=(403, 404, 409, 422),
)
def no_show_appointment(user, appointment_id: int, body: OverrideIn):
    """Marks a booked appointment as missed, once it has started (422 before_start)."""
    return visits.change_status(appointment_id, "no_show", actor=user, override_reason=body.override_reason)


@endpoint(
    "POST",
    "/appointments/{appointment_id}/undo",
    body=OverrideIn,
    body_required=False,
    response=AppointmentOut,
    errors=(403, 404, 409, 422),
)
def undo_appointment(user, appointment_id: int, body: OverrideIn):
    """Undoes a check-in or a no-show on the appointment's day: booked again."""
    return visits.undo(appointment_id, actor=user, override_reason=body.override_reason)


@endpoint(
    "POST",
    "/appointments/{appointment_id}/complete",
    body=CompleteIn,
    response=SessionOut,
    status=201,
    errors=(403, 404, 409, 422),
)
def complete_appointment(user, appointment_id: int, body: CompleteIn):
    """Completes a checked-in appointment and records its session (201 with the session)."""
    return visits.complete(appointment_id, actor=user, **body.model_dump())
