"""Treatment safety: minimum spacing between treatment sessions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


def earliest_safe_date(last_session: date, min_interval_days: int) -> date:
    """First day a new session is allowed: the last session plus the minimum interval."""
    return last_session + timedelta(days=min_interval_days)


def is_too_soon(last_session: date | None, start_day: date, min_interval_days: int) -> bool:
    """True iff a session on start_day falls within min_interval_days after last_session."""
    if last_session is None or last_session > start_day:
        return False
    return (start_day - last_session).days < min_interval_days


def latest_on_or_before(sessions: Iterable[tuple[date, int]], day: date) -> date | None:
    """The latest of (date, interval) sessions on or before `day`."""
    return max((performed_on for performed_on, _interval in sessions if performed_on <= day), default=None)


def later_too_close(sessions: Iterable[tuple[date, int]], day: date) -> tuple[date, int] | None:
    """The first session after `day` that a session on `day` would come too soon before, by that
    later session's own interval (a session recorded after the fact, dated before ones on record):
    (its date, its interval), or None."""
    for performed_on, interval in sorted(sessions):
        if performed_on > day and is_too_soon(day, performed_on, interval):
            return performed_on, interval
    return None
