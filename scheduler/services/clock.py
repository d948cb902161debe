"""The clinic's clock and time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
