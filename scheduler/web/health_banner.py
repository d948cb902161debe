"""The scheduler-health banner on every staff page: reminders are not going out."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, current_app
from flask_login import current_user

from scheduler.reminders import heartbeat
from scheduler.services import clock

#: a sweep older than this means the scheduler is down (it sweeps every REMINDER_SWEEP_SECONDS)
STALE_AFTER = timedelta(minutes=10)


#: where an app keeps the newest sweep start it has read (in its own process)
SEEN = "scheduler_health_last_sweep"


def last_sweep() -> datetime | None:
    """When the most recent sweep started, or None if none ever ran."""
    return heartbeat.last_started()


def scheduler_warning() -> str | None:
    """A sentence for the banner when the last sweep is more than 10 minutes old, else None.

    A sweep seen to start at T keeps the scheduler healthy until T + STALE_AFTER whatever happens
    next (later sweeps only move T on), so each process remembers the newest T it read and asks
    the database again only once that has gone stale: staff pages skip the query while sweeps run.
    """
    known = current_app.extensions.get(SEEN)
    if known is not None and clock.now() - known <= STALE_AFTER:
        return None
    last = last_sweep()
    if last is not None:
        current_app.extensions[SEEN] = last
    if last is None:
        return "The reminder scheduler has never run: no reminder emails are being sent."
    age = clock.now() - last
    if age <= STALE_AFTER:
        return None
    minutes = int(age.total_seconds() // 60)
    when = f"{minutes} minutes" if minutes < 120 else f"{minutes // 60} hours"
    return f"The reminder scheduler last ran {when} ago: reminder emails are not going out."


def register(app: Flask) -> None:
    """Adds `scheduler_warning` to the templates of signed-in staff pages."""

    @app.context_processor
    def banner() -> dict[str, str | None]:
        if not current_user or not current_user.is_authenticated:
            return {"scheduler_warning": None}
        return {"scheduler_warning": scheduler_warning()}
