"""The calendar's reads: practitioners, their time off and their appointments in a window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import select

from scheduler.domain import slots
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, Practitioner, TimeOff, Treatment
from scheduler.models.appointment import MAX_LENGTH, overlapping
from scheduler.models.patient import full_name


class Booked(NamedTuple):
    """An appointment as the calendar draws it."""

    id: int
    practitioner_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    patient_name: str
    treatment_name: str
    #: end of the practitioner's held time (the treatment's buffer after ends_at)
    held_until: datetime


class Staff(NamedTuple):
    """A practitioner as the calendar draws them (hours as (day, intervals) pairs: hashable)."""

    id: int
    name: str
    active: bool
    hours: tuple[tuple[str, tuple[tuple[time, time], ...]], ...]

    def working_hours(self) -> slots.WorkingHours:
        """The hours as the slot functions take them."""
        return {day: list(intervals) for day, intervals in self.hours}


class Off(NamedTuple):
    """Time off as the calendar draws it."""

    practitioner_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str | None


class Shown(NamedTuple):
    """What a calendar draws: practitioners by name, their time off and the appointments by start."""

    staff: tuple[Staff, ...]
    offs: tuple[Off, ...]
    appts: tuple[Booked, ...]


def shown_between(start: datetime, end: datetime, practitioner_ids: Sequence[int] | None = None) -> Shown:
    """The practitioners (those ids, or everyone), their time off and their appointments (any
    status) overlapping [start, end)."""
    people = select(Practitioner).order_by(Practitioner.name, Practitioner.id)
    offs = (
        select(TimeOff)
        .join(Practitioner, Practitioner.id == TimeOff.practitioner_id)
        .where(TimeOff.starts_at < end, TimeOff.ends_at > start)
        .order_by(Practitioner.name, Practitioner.id, TimeOff.starts_at, TimeOff.id)
    )
    appts = (
        select(
            Appointment.id,
            Appointment.practitioner_id,
            Appointment.starts_at,
            Appointment.ends_at,
            Appointment.status,
            Patient.first_name,
            Patient.last_name,
            Treatment.name,
            Appointment.held_until,
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Treatment, Treatment.id == Appointment.treatment_id)
        .where(overlapping(start, end))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if practitioner_ids is not None:
        people = people.where(Practitioner.id.in_(practitioner_ids))
        offs = offs.where(TimeOff.practitioner_id.in_(practitioner_ids))
        appts = appts.where(Appointment.practitioner_id.in_(practitioner_ids))
    return Shown(
        tuple(
            Staff(p.id, p.name, p.active, _frozen(slots.stored_working_hours(p.working_hours)))
            for p in db.session.scalars(people)
        ),
        tuple(Off(t.practitioner_id, t.starts_at, t.ends_at, t.reason) for t in db.session.scalars(offs)),
        tuple(
            Booked(aid, pid, starts, ends, status, full_name(first, last), treatment, held)
            for aid, pid, starts, ends, status, first, last, treatment, held in db.session.execute(appts)
        ),
    )


def shortest_hold() -> timedelta | None:
    """The least time any active treatment holds a practitioner (its length plus its buffer): a
    free calendar cell must have that much room; None when nothing is offered."""
    rows = db.session.execute(
        select(Treatment.duration_minutes, Treatment.buffer_minutes).where(Treatment.active.is_(True))
    )
    return slots.shortest_hold((duration, buffer) for duration, buffer in rows)


def _frozen(hours: slots.WorkingHours) -> tuple[tuple[str, tuple[tuple[time, time], ...]], ...]:
    return tuple((day, tuple(intervals)) for day, intervals in hours.items())


def appointments(
    start: datetime | None,
    stop: datetime | None,
    *,
    practitioner_id: int | None = None,
    patient_id: int | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[Appointment]:
    """Appointments overlapping [start, stop] (either end open), by start time, optionally filtered."""
    stmt = select(Appointment)
    if start is not None:
        stmt = stmt.where(Appointment.ends_at > start, Appointment.starts_at > start - MAX_LENGTH)
    if stop is not None:
        stmt = stmt.where(Appointment.starts_at < stop)
    if practitioner_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == practitioner_id)
    if patient_id is not None:
        stmt = stmt.where(Appointment.patient_id == patient_id)
    if status is not None:
        stmt = stmt.where(Appointment.status == status)
    return list(db.session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id).limit(limit)))
