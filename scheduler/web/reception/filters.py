"""Template filters for dates, times and statuses, always in the clinic's time zone."""

from __future__ import annotations

from datetime import date, datetime

from scheduler.domain import daytext, durations, recall_calls
from scheduler.services import clock
from scheduler.web.reception import bp

STATUS_LABELS = {
    "booked": "Booked",
    "checked_in": "Checked in",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "no_show": "No-show",
}

REMINDER_LABELS = {
    "pending": "planned",
    "sending": "sending",
    "sent": "sent",
    "failed": "failed",
    "cancelled": "cancelled",
    "skipped": "skipped",
}


@bp.app_template_filter("local_hm")
def local_hm(instant: datetime | None) -> str:
    """HH:MM of an instant in clinic time."""
    return clock.local(instant).strftime("%H:%M") if instant else ""


@bp.app_template_filter("long_date")
def long_date(day: date | datetime | None) -> str:
    """ "Tuesday 2 March 2027" (an instant is first turned into its clinic date)."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = clock.local_date(day)
    return daytext.long_day(day)


@bp.app_template_filter("short_date")
def short_date(day: date | datetime | None) -> str:
    """ "Tue 2 Mar 2027" (an instant is first turned into its clinic date)."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = clock.local_date(day)
    return daytext.short_day(day)


@bp.app_template_filter("local_when")
def local_when(instant: datetime | None) -> str:
    """ "Tue 2 Mar 2027, 09:30" in clinic time."""
    if instant is None:
        return ""
    return f"{short_date(instant)}, {local_hm(instant)}"


@bp.app_template_filter("status_label")
def status_label(status: str) -> str:
    """A human label for an appointment status."""
    return STATUS_LABELS.get(status, status.replace("_", " "))


@bp.app_template_filter("reminder_label")
def reminder_label(status: str) -> str:
    """A human label for a reminder status."""
    return REMINDER_LABELS.get(status, status)


@bp.app_template_filter("treatment_short")
def treatment_short(name: str) -> str:
    """A treatment name without its bracketed detail ("Cervical dystonia")."""
    return name.split(" (", 1)[0]


@bp.app_template_filter("units")
def units(value: float | None) -> str:
    """Units without a needless ".0"."""
    if value is None:
        return ""
    return f"{value:g}"


@bp.app_template_filter("local_date_iso")
def local_date_iso(instant: datetime) -> str:
    """The clinic date of an instant as YYYY-MM-DD (for calendar links)."""
    return clock.local_date(instant).isoformat()


@bp.app_template_filter("plain_duration")
def plain_duration(iso: str | None) -> str:
    """ "12 weeks", "4 months" for an ISO 8601 duration (the API keeps ISO 8601)."""
    return durations.plain(iso)


@bp.app_template_filter("call_outcome")
def call_outcome(outcome: str) -> str:
    """A recall call's outcome in words ("No answer", "Call back")."""
    return recall_calls.OUTCOMES.get(outcome, outcome)


@bp.app_template_filter("dates_in_words")
def dates_in_words(text: str) -> str:
    """A message's YYYY-MM-DD days in the pages' style ("Fri 26 Mar 2027")."""
    return daytext.dates_in_words(str(text))
