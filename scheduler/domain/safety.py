"""Treatment safety: minimum spacing between treatment sessions."""

from __future__ import annotations

from datetime import date, timedelta


def earliest_safe_date(last_session: date, min_interval_days: int) -> date:
    """First day a new session is allowed: the last session plus the minimum interval."""
    return last_session + timedelta(days=min_interval_days)


def is_too_soon(last_session: date | None, start_day: date, min_interval_days: int) -> bool:
    """True iff a session on start_day falls within min_interval_days after last_session."""
    if last_session is None or last_session > start_day:
        return False
    return (start_day - last_session).days < min_interval_days
