"""Rules of the patients' own booking pages (pure): the cut-off, the weeks shown, the nearest times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

#: how far ahead the week picker goes (weeks after the first bookable one)
HORIZON_WEEKS = 26


def can_change(starts_at: datetime, now: datetime, cutoff_hours: int) -> bool:
    """Whether a patient may still move or cancel an appointment themselves: up to `cutoff_hours`
    before its start (after that they call the clinic)."""
    return starts_at - now >= timedelta(hours=cutoff_hours)


def week_of(day: date) -> date:
    """The Monday of a day's week."""
    return day - timedelta(days=day.weekday())


def first_day(today: date, earliest_safe: date | None) -> date:
    """The first day a patient may pick: today, or the safety minimum after their last session."""
    return max(today, earliest_safe) if earliest_safe is not None else today


def shown_week(asked: date | None, first: date) -> date:
    """The Monday of the week to show: the one asked for, kept between the first bookable week and
    the horizon; the first bookable week when none (or a nonsensical one) was asked for."""
    lowest = week_of(first)
    highest = lowest + timedelta(weeks=HORIZON_WEEKS)
    if asked is None:
        return lowest
    return min(max(week_of(asked), lowest), highest)


def neighbours(monday: date, first: date) -> tuple[date | None, date | None]:
    """The previous and next weeks the picker may go to (None at either end)."""
    lowest = week_of(first)
    prev = monday - timedelta(weeks=1) if monday > lowest else None
    nxt = monday + timedelta(weeks=1) if monday < lowest + timedelta(weeks=HORIZON_WEEKS) else None
    return prev, nxt


def nearest(starts: Iterable[datetime], around: datetime, count: int = 4) -> list[datetime]:
    """The `count` free starts closest to a wanted one (earlier or later), in time order."""
    closest = sorted(starts, key=lambda s: (abs(s - around), s))[:count]
    return sorted(closest)


def link_expired(expires_at: datetime, now: datetime) -> bool:
    """Whether a dated link has run out."""
    return now >= expires_at
