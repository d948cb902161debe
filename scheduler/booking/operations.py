"""Booking and rescheduling: one path for the desk and the API, under the same rules.

Every operation flushes and leaves the commit to its caller (one request, one commit). No
practitioner or patient is ever booked twice at once: on SQLite the request holds the write lock
(`begin_write`) from before the check to the commit; on PostgreSQL the exclusion constraints have
the last word (`_write_guarded` turns them into 409s).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError

from scheduler.booking import clinical
from scheduler.booking.availability import occupancy
from scheduler.db import begin_write
from scheduler.domain import lifecycle, slots
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, Practitioner, Treatment, User
from scheduler.patients import records
from scheduler.reminders import planning
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict, NotFound, Rejected

#: names of the PostgreSQL exclusion constraints (see the migration) and their API codes
OVERLAP_CONSTRAINTS = {
    "ex_appointments_practitioner_overlap": ("slot_taken", "The practitioner is already booked at that time."),
    "ex_appointments_patient_overlap": ("patient_busy", "The patient already has an appointment at that time."),
}


def _get(model, ident: int, field: str, label: str):
    """Loads a referenced row or refuses the request naming the field."""
    row = db.session.get(model, ident)
    if row is None:
        raise Rejected(
            f"There is no {label} with id {ident}.", code="invalid_reference", fields={field: f"no such {label}"}
        )
    return row


def get_appointment(appointment_id: int, *, for_update: bool = False) -> Appointment:
    """Loads an appointment or raises NotFound."""
    stmt = select(Appointment).where(Appointment.id == appointment_id)
    if for_update:
        stmt = stmt.with_for_update()
    appt = db.session.scalars(stmt).first()
    if appt is None:
        raise NotFound(f"There is no appointment with id {appointment_id}.")
    return appt


def _check_slot(
    *,
    actor: User | None,
    patient: Patient,
    practitioner: Practitioner,
    treatment: Treatment,
    starts_at: datetime,
    override_reason: str | None,
    exclude_id: int | None = None,
) -> bool:
    """The booking rules, in the order a client learns of them; returns whether the start is
    inside the safety interval (allowed only with an admin's override reason)."""
    overrides = clinical.Overrides(actor, override_reason, "Only an admin may book inside the safety interval.")
    if not treatment.active:
        raise Rejected("That treatment is no longer offered.", code="inactive", fields={"treatment_id": "inactive"})
    if not practitioner.active:
        raise Rejected(
            "That practitioner is not taking bookings.", code="inactive", fields={"practitioner_id": "inactive"}
        )
    if starts_at < clock.now():
        raise Rejected("The start time is in the past.", code="in_past", fields={"starts_at": "in the past"})
    ends_at, held = _times(treatment, starts_at)
    hours = slots.stored_working_hours(practitioner.working_hours)
    occupied = occupancy(starts_at, ends_at, held, practitioner.id, patient.id, exclude_id)
    if occupied.time_off or not slots.within_working_hours(starts_at, held, hours, clock.clinic_tz()):
        raise Rejected(
            "That time is outside the practitioner's working hours"
            + (f" (with the {treatment.buffer_minutes} minutes after it)." if held > ends_at else "."),
            code="outside_hours",
            fields={"starts_at": "outside working hours"},
        )
    _refuse_overlap(taken=occupied.taken, busy=occupied.busy)
    # the safety interval by toxin (BOTOX and BOTOX Cosmetic alike), overridable by an admin
    return clinical.check_interval(overrides, patient.id, treatment, clock.local_date(starts_at))


def _times(treatment: Treatment, starts_at: datetime) -> tuple[datetime, datetime]:
    """A booking's end and the end of its practitioner's held time (the treatment's buffer after it)."""
    ends_at = starts_at + timedelta(minutes=treatment.duration_minutes)
    return ends_at, slots.held_until(ends_at, treatment.buffer_minutes)


def _refuse_overlap(*, taken: bool, busy: bool) -> None:
    """The 409 of an overlap, the practitioner's first: the same answers as the constraints'."""
    for hit, name in ((taken, "ex_appointments_practitioner_overlap"), (busy, "ex_appointments_patient_overlap")):
        if hit:
            code, message = OVERLAP_CONSTRAINTS[name]
            raise Conflict(message, code=code)


def _write_guarded(change: Callable[[], None]) -> None:
    """Makes a booking's change (a new appointment, a new time), turning the PostgreSQL overlap
    constraints into 409s.

    A booking committed by another request since the check makes the constraint refuse this one.
    PostgreSQL has then aborted the transaction, so it is rolled back here before the 409 is
    raised (the request writes nothing; a caller that goes on starts a new transaction). On SQLite
    the write lock taken before the check makes the check final, and nothing is refused here.
    """
    change()
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if name in OVERLAP_CONSTRAINTS:
            code, message = OVERLAP_CONSTRAINTS[name]
            raise Conflict(message, code=code) from None
        raise


def _booking_rows(patient_id: int, practitioner_id: int, treatment_id: int):
    """The patient, practitioner and treatment of a booking (one statement), or a 422 naming the
    first that does not exist."""
    found = db.session.execute(
        select(Patient, Practitioner, Treatment)
        .join_from(Patient, Practitioner, true())  # one row of each: a product of three single rows
        .join(Treatment, true())
        .where(Patient.id == patient_id, Practitioner.id == practitioner_id, Treatment.id == treatment_id)
    ).first()
    if found is None:
        _get(Patient, patient_id, "patient_id", "patient")
        _get(Practitioner, practitioner_id, "practitioner_id", "practitioner")
        _get(Treatment, treatment_id, "treatment_id", "treatment")
    return found


def book(
    *,
    patient_id: int,
    practitioner_id: int,
    treatment_id: int,
    starts_at: datetime,
    actor: User | None,
    override_reason: str | None = None,
    actor_label: str | None = None,
) -> Appointment:
    """Books an appointment after checking hours, overlaps and the safety interval.

    `actor` is the staff user who books; without one, `actor_label` names who did in the audit
    log (a patient through their email link, the system).
    """
    begin_write()
    patient, practitioner, treatment = _booking_rows(patient_id, practitioner_id, treatment_id)
    overridden = _check_slot(
        actor=actor,
        patient=patient,
        practitioner=practitioner,
        treatment=treatment,
        starts_at=starts_at,
        override_reason=override_reason,
    )
    ends_at, held = _times(treatment, starts_at)
    appt = Appointment(
        patient=patient,
        practitioner=practitioner,
        treatment=treatment,
        starts_at=starts_at,
        ends_at=ends_at,
        held_until=held,
        status="booked",
        override_reason=override_reason if overridden else None,
        booked_by_id=actor.id if actor else None,
    )
    _write_guarded(lambda: db.session.add(appt))
    audit.record(
        "appointment.booked",
        "appointment",
        appt.id,
        actor,
        {
            "patient_id": patient_id,
            "practitioner_id": practitioner_id,
            "treatment_id": treatment_id,
            "starts_at": starts_at.isoformat(),
        },
        actor_label=actor_label,
    )
    if overridden:
        audit.record("appointment.safety_override", "appointment", appt.id, actor, {"reason": override_reason})
    planning.appointment_changed("booked", appt)
    return appt


def reschedule(
    appointment_id: int,
    starts_at: datetime,
    *,
    actor: User | None,
    override_reason: str | None = None,
    actor_label: str | None = None,
) -> Appointment:
    """Moves a booked appointment to a new start under the same rules as booking (`actor_label` as in `book`)."""
    begin_write()
    appt = get_appointment(appointment_id, for_update=True)
    if not lifecycle.can_reschedule(appt.status):
        raise Conflict(f"A {appt.status.replace('_', ' ')} appointment cannot be rescheduled.", code="bad_transition")
    old = appt.starts_at
    overridden = _check_slot(
        actor=actor,
        patient=appt.patient,
        practitioner=appt.practitioner,
        treatment=appt.treatment,
        starts_at=starts_at,
        override_reason=override_reason,
        exclude_id=appt.id,
    )
    ends_at, held = _times(appt.treatment, starts_at)

    def move() -> None:
        appt.starts_at, appt.ends_at, appt.held_until = starts_at, ends_at, held
        if overridden:
            appt.override_reason = override_reason

    _write_guarded(move)
    audit.record(
        "appointment.rescheduled",
        "appointment",
        appt.id,
        actor,
        {"from": old.isoformat(), "to": starts_at.isoformat()},
        actor_label=actor_label,
    )
    if overridden:
        audit.record("appointment.safety_override", "appointment", appt.id, actor, {"reason": override_reason})
    planning.appointment_changed("rescheduled", appt, moved_from=old)
    return appt


def book_new_patient(
    patient: dict[str, Any],
    *,
    practitioner_id: int,
    treatment_id: int,
    starts_at: datetime,
    actor: User | None,
    override_reason: str | None = None,
) -> Appointment:
    """Registers a patient and books them in one transaction (the booking panel's new patient):
    a refused booking registers nobody, and the desk keeps the slot and what it typed."""
    begin_write()
    created = records.create(patient, actor=actor)
    return book(
        patient_id=created.id,
        practitioner_id=practitioner_id,
        treatment_id=treatment_id,
        starts_at=starts_at,
        actor=actor,
        override_reason=override_reason,
    )


def reoccupy(appt: Appointment, change: Callable[[], None]) -> None:
    """Makes an appointment occupy its time again (an undone no-show), refusing with a 409 when
    the practitioner (to the end of the held time) or the patient has since been booked at that time."""
    occupied = occupancy(appt.starts_at, appt.ends_at, appt.held_until, appt.practitioner_id, appt.patient_id, appt.id)
    _refuse_overlap(taken=occupied.taken, busy=occupied.busy)
    _write_guarded(change)
