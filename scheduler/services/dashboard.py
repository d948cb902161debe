"""Figures for the admin dashboard: re-treatments falling due, reminder conversion, no-shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, select

from scheduler.extensions import db
from scheduler.models import Appointment
from scheduler.models.reminder import Reminder
from scheduler.services import clock

WEEKS = 26
CONVERSION_DAYS = 60


@dataclass(frozen=True)
class Week:
    """Re-treatment windows opening in one week (Monday to Sunday, local dates)."""

    monday: date
    count: int


def due_per_week(weeks: int = WEEKS) -> list[Week]:
    """Re-treatment windows opening (first reminder due, still pending) per week from this Monday."""
    today = clock.today()
    monday = today - timedelta(days=today.weekday())
    start = clock.day_bounds(monday)[0]
    end = clock.day_bounds(monday + timedelta(weeks=weeks))[0]
    stmt = select(Reminder.due_at).where(
        Reminder.kind == "retreatment",
        Reminder.seq == 1,
        Reminder.status == "pending",
        Reminder.due_at >= start,
        Reminder.due_at < end,
    )
    counts = [0] * weeks
    for (due,) in db.session.execute(stmt):
        counts[(clock.local_date(due) - monday).days // 7] += 1
    return [Week(monday + timedelta(weeks=i), n) for i, n in enumerate(counts)]


def conversion(days: int = 365) -> tuple[int, int]:
    """(tracks reminded, tracks booked within CONVERSION_DAYS of a reminder) over the last `days`."""
    since = clock.now() - timedelta(days=days)
    sent = and_(Reminder.kind == "retreatment", Reminder.status == "sent", Reminder.sent_at >= since)
    reminded = db.session.scalar(select(func.count(func.distinct(Reminder.session_id))).where(sent)) or 0
    # Interval arithmetic differs between databases: the 60-day bound is applied here.
    pairs = db.session.execute(
        select(Reminder.session_id, Reminder.sent_at, Appointment.created_at)
        .join(
            Appointment,
            and_(
                Appointment.patient_id == Reminder.patient_id,
                Appointment.treatment_id == Reminder.treatment_id,
                Appointment.created_at >= Reminder.sent_at,
            ),
        )
        .where(sent)
    )
    limit = timedelta(days=CONVERSION_DAYS)
    converted = len({session_id for session_id, sent_at, created in pairs if created - sent_at < limit})
    return reminded, converted


def no_show_rate(days: int = 90) -> tuple[int, int]:
    """(no-shows, attended or missed appointments) that started in the last `days`."""
    now = clock.now()
    window = and_(Appointment.starts_at >= now - timedelta(days=days), Appointment.starts_at < now)
    missed = db.session.scalar(select(func.count()).where(window, Appointment.status == "no_show")) or 0
    total = db.session.scalar(select(func.count()).where(window, Appointment.status.in_(("completed", "no_show")))) or 0
    return missed, total
