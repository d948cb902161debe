"""The clinic's clock and time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """The current instant in UTC (tests move it with time-machine)."""
    return datetime.now(UTC)


def clinic_tz() -> ZoneInfo:
    """The clinic's IANA time zone (CLINIC_TIMEZONE)."""
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def local(instant: datetime) -> datetime:
    """An instant in the clinic's local time."""
    return instant.astimezone(clinic_tz())


def local_date(instant: datetime) -> date:
    """The clinic's calendar date at an instant."""
    return local(instant).date()


def today() -> date:
    """Today's date in the clinic."""
    return local_date(now())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a local clinic day starts and ends."""
    tz = clinic_tz()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)
