"""API: the outbox of reminder emails."""

from __future__ import annotations

from datetime import date, datetime

from scheduler.reminders import outbox as reminders
from scheduler.services import clock
from scheduler.web.api.core import endpoint
from scheduler.web.api.reminder_schemas import ReminderOut, ReminderQuery


def _instant(value: date | datetime | None) -> datetime | None:
    """A due_before bound: an instant as given, a date as the start of that local clinic day."""
    if value is None or isinstance(value, datetime):
        return value
    return clock.day_bounds(value)[0]


@endpoint("GET", "/reminders", query=ReminderQuery, response=ReminderOut, many=True)
def list_reminders(user, query: ReminderQuery):
    """Reminder emails by due time, filtered by patient, status, kind and due before an instant or date."""
    return reminders.search(
        limit=query.limit,
        offset=query.offset,
        patient_id=query.patient_id,
        status=query.status,
        kind=query.kind,
        due_before=_instant(query.due_before),
    )
