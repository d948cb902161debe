"""The reminder plan: which emails a session or an appointment should have, and when they go out.

Pure functions (no Flask, no database), following docs/rules.md:

- rule 1: re-treatment dates are D + remind_from, D + remind_until and equal whole-day steps
  between them (rounded down), calendar months clamped to the month end;
- rule 2: an email is due at the start of REMINDER_SEND_HOURS, local clinic time, on its date,
  and goes out only inside those hours;
- rule 4: a reminder whose window closed (D + remind_until) more than 14 days ago is skipped,
  never sent (of several due reminders of a track only the newest goes: `models.reminder.superseded`).

services.planning turns these plans into rows (see scheduler.domain.reconcile for the diff).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain.durations import Duration, add_duration, parse_duration
from scheduler.domain.sendhours import parse_send_hours

#: how long after its window closed (or after it fell due) a reminder may still go out
LATE_GRACE = timedelta(days=14)


@dataclass(frozen=True)
class Intervals:
    """A treatment's reminder fields, parsed."""

    remind_from: Duration
    remind_until: Duration
    count: int
    follow_up_after: Duration | None = None

    @classmethod
    def parse(cls, remind_from: str, remind_until: str, count: int, follow_up_after: str | None = None) -> Intervals:
        """Builds the intervals from a treatment's ISO 8601 fields."""
        follow = parse_duration(follow_up_after) if follow_up_after else None
        return cls(parse_duration(remind_from), parse_duration(remind_until), int(count), follow)


@dataclass(frozen=True)
class Clinic:
    """The clinic settings a plan depends on: time zone, send hours, pre-visit lead time."""

    tz: ZoneInfo
    send_start: time
    send_end: time
    pre_visit: timedelta = timedelta(hours=24)

    @classmethod
    def parse(cls, timezone: str, send_hours: str, pre_visit_hours: int = 24) -> Clinic:
        """Builds the settings from CLINIC_TIMEZONE, REMINDER_SEND_HOURS and PRE_VISIT_HOURS."""
        start, end = parse_send_hours(send_hours)
        return cls(ZoneInfo(timezone), start, end, timedelta(hours=pre_visit_hours))


@dataclass(frozen=True)
class Planned:
    """One email a plan asks for: its place in the series, when it is due, when it goes stale."""

    seq: int
    due_at: datetime
    expires_at: datetime | None


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time; a time skipped by a DST change maps past the gap."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def retreatment_dates(performed_on: date, iv: Intervals) -> list[date]:
    """Rule 1: the dates of a session's re-treatment reminders, first to last (never decreasing)."""
    first = add_duration(performed_on, iv.remind_from)
    if iv.count <= 1:
        return [first]
    last = max(first, add_duration(performed_on, iv.remind_until))
    step = (last - first).days // (iv.count - 1)
    return [first + timedelta(days=step * i) for i in range(iv.count - 1)] + [last]


def window_closes(performed_on: date, iv: Intervals) -> date:
    """The last day of a session's re-treatment window (D + remind_until)."""
    return max(add_duration(performed_on, iv.remind_until), add_duration(performed_on, iv.remind_from))


@dataclass(frozen=True)
class Window:
    """A session's re-treatment window: the first and the last day a reminder may fall on."""

    opens: date
    closes: date

    def state(self, today: date, *, booked: bool) -> str:
        """ "booked", "not_due", "open" or "overdue" on a day."""
        if booked:
            return "booked"
        if today < self.opens:
            return "not_due"
        return "open" if today <= self.closes else "overdue"


def retreatment_window(performed_on: date, iv: Intervals) -> Window:
    """The re-treatment window of a session performed on a day (D + remind_from to D + remind_until)."""
    return Window(add_duration(performed_on, iv.remind_from), window_closes(performed_on, iv))


def due_at(day: date, clinic: Clinic) -> datetime:
    """Rule 2: a dated email is due when the send hours open on that local day."""
    return local_instant(day, clinic.send_start, clinic.tz)


def retreatment_plan(performed_on: date, iv: Intervals, clinic: Clinic) -> list[Planned]:
    """The re-treatment reminders of a session (seq 1..count), stale 14 days after the window closed."""
    stale = local_instant(window_closes(performed_on, iv) + LATE_GRACE + timedelta(days=1), time.min, clinic.tz)
    return [Planned(i, due_at(day, clinic), stale) for i, day in enumerate(retreatment_dates(performed_on, iv), 1)]


def follow_up_plan(performed_on: date, iv: Intervals, clinic: Clinic) -> Planned | None:
    """The follow-up after a session (seq 0), if the treatment has one; stale 14 days after it fell due."""
    if iv.follow_up_after is None:
        return None
    due = due_at(add_duration(performed_on, iv.follow_up_after), clinic)
    return Planned(0, due, due + LATE_GRACE)


def pre_visit_plan(starts_at: datetime, clinic: Clinic, seq: int = 0) -> Planned:
    """The pre-visit reminder: PRE_VISIT_HOURS before the start, stale once the appointment starts."""
    return Planned(seq, starts_at - clinic.pre_visit, starts_at)


def confirmation_plan(starts_at: datetime, now: datetime, seq: int) -> Planned:
    """A booking confirmation: due now, stale once the appointment starts."""
    return Planned(seq, now, starts_at)


def in_send_window(instant: datetime, clinic: Clinic) -> bool:
    """Rule 2: whether emails may go out at this instant (local time inside the send hours)."""
    local = instant.astimezone(clinic.tz).time().replace(tzinfo=None)
    if clinic.send_end == time.max:
        return local >= clinic.send_start
    return clinic.send_start <= local < clinic.send_end


EXPIRY_REASONS = {
    "retreatment": "its re-treatment window closed more than 14 days ago",
    "follow_up": "more than 14 days late",
    "pre_visit": "the appointment had already started",
    "confirmation": "the appointment had already started",
}


def expiry_reason(kind: str) -> str:
    """Why a stale email of this kind is skipped."""
    return EXPIRY_REASONS[kind]


def retry_delay(attempts: int, base: timedelta, cap: timedelta, rand: Callable[[], float] = random.random) -> timedelta:
    """Exponential backoff with jitter: about base * 2^(attempts-1), capped, between half and all of it."""
    full = min(cap, base * (2 ** max(0, attempts - 1)))
    return full / 2 + full / 2 * rand()
