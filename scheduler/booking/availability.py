"""Free slots: a practitioner's working hours less their appointments and time off.

An appointment holds its practitioner until its `held_until` (its end plus its treatment's
buffer, domain.slots.held_until), and a new booking needs room for its own length and buffer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Select, select

from scheduler.domain import slots
from scheduler.extensions import db
from scheduler.models import Practitioner, TimeOff, Treatment
from scheduler.models.appointment import occupying_conflicts
from scheduler.services import clock


def time_off_overlapping(practitioner_id: int, start: datetime, end: datetime) -> Select[tuple[datetime, datetime]]:
    """The practitioner's time off overlapping [start, end) (the statement)."""
    return select(TimeOff.starts_at, TimeOff.ends_at).where(
        TimeOff.practitioner_id == practitioner_id, TimeOff.starts_at < end, TimeOff.ends_at > start
    )


def time_off_between(practitioner_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The practitioner's time off overlapping [start, end)."""
    return [(r.starts_at, r.ends_at) for r in db.session.execute(time_off_overlapping(practitioner_id, start, end))]


class Occupancy(NamedTuple):
    """What stands in a slot's way."""

    time_off: bool  #: the practitioner is off for part of [start, held)
    taken: bool  #: the practitioner is held then (by an appointment or its buffer)
    busy: bool  #: the patient has an appointment in [start, end)


def occupancy(
    starts_at: datetime,
    ends_at: datetime,
    held: datetime,
    practitioner_id: int,
    patient_id: int,
    exclude_id: int | None,
) -> Occupancy:
    """The practitioner's time off and bookings over [start, held) and the patient's over
    [start, end), as three EXISTS in one statement (each on its own index)."""
    off = time_off_overlapping(practitioner_id, starts_at, held).exists()
    taken = occupying_conflicts(
        starts_at, ends_at, held_until=held, practitioner_id=practitioner_id, exclude_id=exclude_id
    ).exists()
    busy = occupying_conflicts(starts_at, ends_at, patient_id=patient_id, exclude_id=exclude_id).exists()
    return Occupancy(*db.session.execute(select(off, taken, busy)).one())


def busy_intervals(practitioner_id: int, start: datetime, end: datetime, exclude_id: int | None = None):
    """The practitioner's held time (occupied appointments to their `held_until`) and time off
    overlapping [start, end)."""
    appts = db.session.scalars(occupying_conflicts(start, end, practitioner_id=practitioner_id, exclude_id=exclude_id))
    return [(a.starts_at, a.held_until) for a in appts] + time_off_between(practitioner_id, start, end)


def free_slots(
    practitioner: Practitioner, treatment: Treatment, day: date, *, exclude_id: int | None = None
) -> list[datetime]:
    """Free starts for the treatment with the practitioner on a local day: the treatment and its
    buffer fit before the next appointment, time off and the end of working hours
    (`exclude_id`: an appointment being moved, not counted as busy)."""
    if not practitioner.active or not treatment.active:
        return []
    hours = slots.stored_working_hours(practitioner.working_hours)
    start, end = clock.day_bounds(day)
    # An appointment that started the evening before can reach into this day.
    busy = busy_intervals(practitioner.id, start - timedelta(hours=12), end + timedelta(hours=12), exclude_id)
    step = timedelta(minutes=int(current_app.config["SLOT_STEP_MINUTES"]))
    hold = slots.held_length(treatment.duration_minutes, treatment.buffer_minutes)
    return slots.free_slots(day, hours, clock.clinic_tz(), hold, busy, clock.now(), step)
