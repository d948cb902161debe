"""Free slots: a practitioner's working hours less their appointments and time off."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from scheduler.domain import slots
from scheduler.extensions import db
from scheduler.models import Practitioner, TimeOff, Treatment
from scheduler.models.appointment import occupying_conflicts
from scheduler.services import clock


def time_off_between(practitioner_id: int, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The practitioner's time off overlapping [start, end)."""
    stmt = select(TimeOff.starts_at, TimeOff.ends_at).where(
        TimeOff.practitioner_id == practitioner_id, TimeOff.starts_at < end, TimeOff.ends_at > start
    )
    return [(r.starts_at, r.ends_at) for r in db.session.execute(stmt)]


def busy_intervals(practitioner_id: int, start: datetime, end: datetime, exclude_id: int | None = None):
    """The practitioner's occupied appointments and time off overlapping [start, end)."""
    appts = db.session.scalars(occupying_conflicts(start, end, practitioner_id=practitioner_id, exclude_id=exclude_id))
    return [(a.starts_at, a.ends_at) for a in appts] + time_off_between(practitioner_id, start, end)


def free_slots(practitioner: Practitioner, treatment: Treatment, day: date) -> list[datetime]:
    """Free starts for the treatment with the practitioner on a local day."""
    if not practitioner.active or not treatment.active:
        return []
    hours = slots.parse_working_hours(practitioner.working_hours or {})
    start, end = clock.day_bounds(day)
    # An appointment that started the evening before can reach into this day.
    busy = busy_intervals(practitioner.id, start - timedelta(hours=12), end + timedelta(hours=12))
    step = timedelta(minutes=int(current_app.config["SLOT_STEP_MINUTES"]))
    return slots.free_slots(
        day, hours, clock.clinic_tz(), timedelta(minutes=treatment.duration_minutes), busy, clock.now(), step
    )
