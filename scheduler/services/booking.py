"""Booking operations: free slots, book, reschedule and the appointment lifecycle.

Every operation flushes and leaves the commit to its caller (one request, one commit).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select, true
from sqlalchemy.exc import IntegrityError

from scheduler.db import begin_write, is_sqlite
from scheduler.domain import lifecycle, safety, slots
from scheduler.extensions import db
from scheduler.models import OCCUPYING, Appointment, Patient, Practitioner, TimeOff, Treatment, TreatmentSession, User
from scheduler.models.appointment import overlapping
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict, Forbidden, NotFound, Rejected

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


def _references(patient_id: int, practitioner_id: int, treatment_id: int) -> tuple[Patient, Practitioner, Treatment]:
    """The patient, practitioner and treatment of a booking, in one statement (three primary-key look-ups)."""
    found = db.session.execute(
        select(Patient, Practitioner, Treatment)
        .join_from(Patient, Practitioner, true())
        .join(Treatment, true())
        .where(Patient.id == patient_id, Practitioner.id == practitioner_id, Treatment.id == treatment_id)
    ).first()
    if found is None:  # say which one is missing, in the order of the fields
        _get(Patient, patient_id, "patient_id", "patient")
        _get(Practitioner, practitioner_id, "practitioner_id", "practitioner")
        _get(Treatment, treatment_id, "treatment_id", "treatment")
    patient, practitioner, treatment = found
    return patient, practitioner, treatment


def get_appointment(appointment_id: int, *, for_update: bool = False) -> Appointment:
    """Loads an appointment or raises NotFound."""
    stmt = select(Appointment).where(Appointment.id == appointment_id)
    if for_update:
        stmt = stmt.with_for_update()
    appt = db.session.scalars(stmt).first()
    if appt is None:
        raise NotFound(f"There is no appointment with id {appointment_id}.")
    return appt


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a local clinic day starts and ends."""
    tz = clock.clinic_tz()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(clock.UTC), end.astimezone(clock.UTC)


def busy_intervals(practitioner_id: int, start: datetime, end: datetime, exclude_id: int | None = None):
    """The practitioner's occupied appointments and time off overlapping [start, end)."""
    appts = select(Appointment.starts_at, Appointment.ends_at).where(
        Appointment.practitioner_id == practitioner_id,
        Appointment.status.in_(OCCUPYING),
        overlapping(start, end),
    )
    if exclude_id is not None:
        appts = appts.where(Appointment.id != exclude_id)
    off = select(TimeOff.starts_at, TimeOff.ends_at).where(
        TimeOff.practitioner_id == practitioner_id, TimeOff.starts_at < end, TimeOff.ends_at > start
    )
    return [tuple(r) for r in db.session.execute(appts)] + [tuple(r) for r in db.session.execute(off)]


def free_slots(practitioner: Practitioner, treatment: Treatment, day: date) -> list[datetime]:
    """Free starts for the treatment with the practitioner on a local day."""
    if not practitioner.active or not treatment.active:
        return []
    hours = slots.parse_working_hours(practitioner.working_hours or {})
    start, end = day_bounds(day)
    # An appointment that started the evening before can reach into this day.
    busy = busy_intervals(practitioner.id, start - timedelta(hours=12), end + timedelta(hours=12))
    step = timedelta(minutes=_step_minutes())
    return slots.free_slots(
        day, hours, clock.clinic_tz(), timedelta(minutes=treatment.duration_minutes), busy, clock.now(), step
    )


def _step_minutes() -> int:
    from flask import current_app

    return int(current_app.config["SLOT_STEP_MINUTES"])


def last_session_of_product(patient_id: int, product: str, on_or_before: date) -> date | None:
    """The date of the patient's latest session of any treatment of this product up to a day."""
    stmt = (
        select(func.max(TreatmentSession.performed_on))
        .join(Treatment, Treatment.id == TreatmentSession.treatment_id)
        .where(
            TreatmentSession.patient_id == patient_id,
            Treatment.product == product,
            TreatmentSession.performed_on <= on_or_before,
        )
    )
    return db.session.scalar(stmt)


def _check_slot(
    *,
    patient: Patient,
    practitioner: Practitioner,
    treatment: Treatment,
    starts_at: datetime,
    actor: User | None,
    override_reason: str | None,
    exclude_id: int | None = None,
) -> tuple[datetime, bool]:
    """Applies every booking rule to a proposed start; returns the end and whether an override was used."""
    if override_reason is not None and (actor is None or not actor.is_admin):
        raise Forbidden("Only an admin may book inside the safety interval.", code="override_forbidden")
    if not treatment.active:
        raise Rejected("That treatment is no longer offered.", code="inactive", fields={"treatment_id": "inactive"})
    if not practitioner.active:
        raise Rejected(
            "That practitioner is not taking bookings.", code="inactive", fields={"practitioner_id": "inactive"}
        )
    ends_at = starts_at + timedelta(minutes=treatment.duration_minutes)
    if starts_at < clock.now():
        raise Rejected("The start time is in the past.", code="in_past", fields={"starts_at": "in the past"})
    tz = clock.clinic_tz()
    hours = slots.parse_working_hours(practitioner.working_hours or {})
    time_off = [
        (t.starts_at, t.ends_at)
        for t in db.session.scalars(
            select(TimeOff).where(
                TimeOff.practitioner_id == practitioner.id, TimeOff.starts_at < ends_at, TimeOff.ends_at > starts_at
            )
        )
    ]
    if not slots.within_working_hours(starts_at, ends_at, hours, tz, time_off):
        raise Rejected(
            "That time is outside the practitioner's working hours.",
            code="outside_hours",
            fields={"starts_at": "outside working hours"},
        )
    taken, busy = _overlaps(practitioner.id, patient.id, starts_at, ends_at, exclude_id)
    if taken:
        raise Conflict("The practitioner is already booked at that time.", code="slot_taken")
    if busy:
        raise Conflict("The patient already has an appointment at that time.", code="patient_busy")
    start_day = clock.local_date(starts_at)
    last = last_session_of_product(patient.id, treatment.product, start_day)
    too_soon = safety.is_too_soon(last, start_day, treatment.min_interval_days)
    if too_soon and override_reason is None:
        earliest = safety.earliest_safe_date(last, treatment.min_interval_days)
        raise Rejected(
            f"The patient's last {treatment.product} session was on {last.isoformat()}; "
            f"the earliest safe date is {earliest.isoformat()}.",
            code="too_soon",
            fields={"starts_at": f"earliest safe date is {earliest.isoformat()}"},
        )
    return ends_at, too_soon


def _overlaps(
    practitioner_id: int, patient_id: int, starts_at: datetime, ends_at: datetime, exclude_id: int | None
) -> tuple[bool, bool]:
    """Whether an occupying appointment overlaps [starts_at, ends_at) for the practitioner, and for the patient.

    One statement for both (each side is an index range scan on (who, starts_at)).
    """
    stmt = select(Appointment.practitioner_id, Appointment.patient_id).where(
        or_(Appointment.practitioner_id == practitioner_id, Appointment.patient_id == patient_id),
        Appointment.status.in_(OCCUPYING),
        overlapping(starts_at, ends_at),
    )
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    rows = db.session.execute(stmt).all()
    return any(r.practitioner_id == practitioner_id for r in rows), any(r.patient_id == patient_id for r in rows)


def _flush_guarded() -> None:
    """Flushes inside a savepoint, turning the PostgreSQL overlap constraints into 409s.

    SQLite has no such constraints (the write lock taken at the start of the request makes the
    check above final), so there it is a plain flush.
    """
    if is_sqlite():
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if name in OVERLAP_CONSTRAINTS:
            code, message = OVERLAP_CONSTRAINTS[name]
            raise Conflict(message, code=code) from None
        raise


def book(
    *,
    patient_id: int,
    practitioner_id: int,
    treatment_id: int,
    starts_at: datetime,
    actor: User | None,
    override_reason: str | None = None,
) -> Appointment:
    """Books an appointment after checking hours, overlaps and the safety interval."""
    begin_write()
    patient, practitioner, treatment = _references(patient_id, practitioner_id, treatment_id)
    ends_at, overridden = _check_slot(
        patient=patient,
        practitioner=practitioner,
        treatment=treatment,
        starts_at=starts_at,
        actor=actor,
        override_reason=override_reason,
    )
    appt = Appointment(
        patient=patient,
        practitioner=practitioner,
        treatment=treatment,
        starts_at=starts_at,
        ends_at=ends_at,
        status="booked",
        override_reason=override_reason if overridden else None,
        booked_by_id=actor.id if actor else None,
    )
    db.session.add(appt)
    _flush_guarded()
    audit.record(
        "appointment.booked",
        "appointment",
        appt.id,
        actor,
        {
            "patient_id": patient.id,
            "practitioner_id": practitioner.id,
            "treatment_id": treatment.id,
            "starts_at": starts_at.isoformat(),
        },
    )
    if overridden:
        audit.record("appointment.safety_override", "appointment", appt.id, actor, {"reason": override_reason})
    _notify("booked", appt)
    return appt


def reschedule(
    appointment_id: int, starts_at: datetime, *, actor: User | None, override_reason: str | None = None
) -> Appointment:
    """Moves a booked appointment to a new start under the same rules as booking."""
    begin_write()
    appt = get_appointment(appointment_id, for_update=True)
    if not lifecycle.can_reschedule(appt.status):
        raise Conflict(f"A {appt.status.replace('_', ' ')} appointment cannot be rescheduled.", code="bad_transition")
    old = appt.starts_at
    ends_at, overridden = _check_slot(
        patient=appt.patient,
        practitioner=appt.practitioner,
        treatment=appt.treatment,
        starts_at=starts_at,
        actor=actor,
        override_reason=override_reason,
        exclude_id=appt.id,
    )
    appt.starts_at, appt.ends_at = starts_at, ends_at
    if overridden:
        appt.override_reason = override_reason
    _flush_guarded()
    audit.record(
        "appointment.rescheduled", "appointment", appt.id, actor, {"from": old.isoformat(), "to": starts_at.isoformat()}
    )
    if overridden:
        audit.record("appointment.safety_override", "appointment", appt.id, actor, {"reason": override_reason})
    _notify("rescheduled", appt)
    return appt


def change_status(appointment_id: int, target: str, *, actor: User | None, reason: str | None = None) -> Appointment:
    """Checks in, cancels or marks a no-show, refusing transitions the lifecycle forbids."""
    begin_write()
    appt = get_appointment(appointment_id, for_update=True)
    _transition(appt, target)
    if target == "cancelled":
        appt.cancel_reason = reason
    db.session.flush()
    audit.record(f"appointment.{target}", "appointment", appt.id, actor, {"reason": reason} if reason else {})
    _notify(target, appt)
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
    _notify("completed", appt, session)
    return session


def _notify(event: str, appt: Appointment, session: TreatmentSession | None = None) -> None:
    """Tells the reminder planner that an appointment changed (see services.planning)."""
    from scheduler.services import planning

    planning.appointment_changed(event, appt, session)
