"""Practitioners' time off (leave, training): no booking inside it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from scheduler.catalog.operations import get_practitioner
from scheduler.extensions import db
from scheduler.models import OCCUPYING, Appointment, TimeOff, User
from scheduler.models.appointment import overlapping
from scheduler.services import audit
from scheduler.services.errors import NotFound, Rejected


def add(practitioner_id: int, starts_at: datetime, ends_at: datetime, reason: str, *, actor: User | None) -> TimeOff:
    """Adds time off; refused when it would strand booked appointments (move them first)."""
    practitioner = get_practitioner(practitioner_id)
    if ends_at <= starts_at:
        raise Rejected(
            "The time off must end after it starts.", code="invalid_range", fields={"ends_at": "before start"}
        )
    clash = db.session.scalar(
        select(Appointment.id)
        .where(
            Appointment.practitioner_id == practitioner.id,
            Appointment.status.in_(OCCUPYING),
            overlapping(starts_at, ends_at),
        )
        .limit(1)
    )
    if clash is not None:
        raise Rejected(
            "There are appointments in that period; reschedule or cancel them first.",
            code="appointments_in_period",
            fields={"starts_at": "appointments booked"},
        )
    row = TimeOff(practitioner_id=practitioner.id, starts_at=starts_at, ends_at=ends_at, reason=reason[:200])
    db.session.add(row)
    db.session.flush()
    audit.record(
        "practitioner.time_off_added",
        "practitioner",
        practitioner.id,
        actor,
        {"from": starts_at.isoformat(), "to": ends_at.isoformat(), "reason": reason[:200]},
    )
    return row


def remove(time_off_id: int, *, actor: User | None) -> None:
    """Removes a period of time off."""
    row = db.session.get(TimeOff, time_off_id)
    if row is None:
        raise NotFound(f"There is no time off with id {time_off_id}.")
    audit.record(
        "practitioner.time_off_removed",
        "practitioner",
        row.practitioner_id,
        actor,
        {"from": row.starts_at.isoformat(), "to": row.ends_at.isoformat()},
    )
    db.session.delete(row)
