"""Pydantic schemas of the reminders API (kept apart from schemas.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from scheduler.web.api.schemas import Id, In, Out, OutInstant

ReminderKind = Literal["retreatment", "pre_visit", "follow_up", "confirmation", "cancellation", "waitlist_offer"]
ReminderStatus = Literal["pending", "sending", "sent", "failed", "cancelled", "skipped"]
DAY_OR_INSTANT = "must be a date (YYYY-MM-DD) or a time with an offset (2027-03-01T09:00:00+00:00)"


def _day_or_instant(value: Any) -> date | datetime:
    """A local date, or an instant with an explicit offset; one clear message otherwise."""
    if isinstance(value, str):
        try:
            parsed: date | datetime = (
                date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value.replace("Z", "+00:00"))
            )
        except ValueError:
            raise ValueError(DAY_OR_INSTANT) from None
        if isinstance(parsed, datetime) and parsed.utcoffset() is None:
            raise ValueError(DAY_OR_INSTANT)
        if not 2000 <= parsed.year <= 2100:
            raise ValueError("must be between the years 2000 and 2100")
        return parsed
    raise ValueError(DAY_OR_INSTANT)


DayOrInstant = Annotated[
    date | datetime,
    BeforeValidator(_day_or_instant),
    WithJsonSchema({"type": "string", "description": "a local date (YYYY-MM-DD) or an RFC 3339 instant"}),
]


class ReminderQuery(In):
    """Filters of GET /reminders; `due_before` is an instant, or a local date meaning the start of that day."""

    patient_id: Id | None = None
    status: ReminderStatus | None = None
    kind: ReminderKind | None = None
    due_before: DayOrInstant | None = None
    limit: int = Field(default=500, ge=1, le=5000)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class ReminderOut(Out):
    """One email of the outbox."""

    id: int
    patient_id: int
    kind: ReminderKind
    session_id: int | None
    appointment_id: int | None
    seq: int
    due_at: OutInstant
    status: ReminderStatus
    attempts: int
    next_attempt_at: OutInstant | None
    sent_at: OutInstant | None
    reason: str | None
    message_id: str
