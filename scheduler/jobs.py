"""The APScheduler job list: one interval job that wakes the reminder sweep, and a daily one that
prunes stored email bodies past EMAIL_BODY_RETENTION_DAYS (scheduler.records.retention).

Reminders are rows, not jobs: APScheduler holds a single job with a stable id (coalesce, one
instance at a time, no misfire limit) in memory, and the sweep finds what is due in the database.
Any number of scheduler processes may run it; the sweep's claims keep each email to one sender.

Where the scheduler runs:

- `flask scheduler run`: in the foreground, until SIGINT or SIGTERM (production, beside gunicorn);
- inside the web process when SCHEDULER_EMBEDDED is on (the single-process run command), started
  by `start_embedded()` from create_app, which refuses when TESTING, under gunicorn (its arbiter
  sets SERVER_SOFTWARE and imports `gunicorn.arbiter`: each worker would start its own), in the
  parent process of Flask's reloader (the serving child has WERKZEUG_RUN_MAIN=true), under any
  flask command other than `flask run` (migrations, seeding, `flask scheduler run` itself), and
  when this process already started one.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from scheduler.extensions import db
from scheduler.records import retention
from scheduler.reminders import sweep
from scheduler.reminders.planning import WAKE_FLAG

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "reminders.sweep"
RETENTION_JOB_ID = "records.prune_email_bodies"
#: how often stored email bodies past EMAIL_BODY_RETENTION_DAYS are pruned
RETENTION_HOURS = 24
_embedded: BackgroundScheduler | None = None
_lock = threading.Lock()


def sweep_job(app: Flask, stop: threading.Event | None = None) -> None:
    """One tick: a sweep in its own app context; a database or mail outage is logged, not raised."""
    with app.app_context():
        try:
            report = sweep.run(stop=stop)
            sent, skipped = report.count("sent"), report.count("skipped")
            if sent or skipped or report.count("failed") or report.count("retry"):
                log.info(
                    "reminder sweep: %d sent, %d skipped, %d failed, %d to retry",
                    sent,
                    skipped,
                    report.count("failed"),
                    report.count("retry"),
                )
        except SQLAlchemyError as exc:
            log.warning("reminder sweep: database unavailable, trying again next tick: %s", exc.__class__.__name__)
            db.session.rollback()
        except Exception:
            log.exception("reminder sweep failed; trying again next tick")
            db.session.rollback()
        finally:
            db.session.remove()


def retention_job(app: Flask) -> None:
    """Prunes stored email bodies past their retention (scheduler.records.retention); errors are logged."""
    with app.app_context():
        try:
            retention.prune_email_bodies()
        except Exception:
            log.exception("email body retention failed; trying again next time")


def build_scheduler(app: Flask, stop: threading.Event | None = None, *, start_now: bool = True) -> BackgroundScheduler:
    """A scheduler holding the sweep job, every REMINDER_SWEEP_SECONDS (not started)."""
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    )
    scheduler.add_job(
        sweep_job,
        "interval",
        seconds=int(app.config["REMINDER_SWEEP_SECONDS"]),
        args=[app, stop],
        id=SWEEP_JOB_ID,
        name="reminder sweep",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC) if start_now else None,
    )
    scheduler.add_job(
        retention_job,
        "interval",
        hours=RETENTION_HOURS,
        args=[app],
        id=RETENTION_JOB_ID,
        name="email body retention",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC) if start_now else None,
    )
    return scheduler


def _in_reloader_parent_or_other_command() -> bool:
    """Whether this process is Flask's reloader parent or a flask command other than the web server."""
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        return False  # the reloader's serving child
    import click
    from flask.cli import run_command
    from flask.helpers import get_debug_flag

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False  # imported by a WSGI server other than flask's
    if ctx.command is not run_command:
        return True
    reload = ctx.params.get("reload")
    return bool(get_debug_flag() if reload is None else reload)


def under_gunicorn() -> bool:
    """Whether gunicorn runs this process (the embedded scheduler is never started there)."""
    return "gunicorn" in os.environ.get("SERVER_SOFTWARE", "") or "gunicorn.arbiter" in sys.modules


def start_embedded(app: Flask) -> BackgroundScheduler | None:
    """Starts the in-process scheduler for the single-process run command, if allowed here (see above)."""
    global _embedded
    if not app.config.get("SCHEDULER_EMBEDDED") or app.config.get("TESTING"):
        return None
    if under_gunicorn() or _in_reloader_parent_or_other_command():
        return None
    with _lock:
        if _embedded is not None:
            return None
        stop = threading.Event()
        _embedded = build_scheduler(app, stop)
        _embedded.start()

        def _shutdown() -> None:
            stop.set()
            if _embedded is not None and _embedded.running:
                _embedded.shutdown(wait=True)

        atexit.register(_shutdown)
        _wake_after_commits()
        log.info("embedded reminder scheduler started (every %s s)", app.config["REMINDER_SWEEP_SECONDS"])
        return _embedded


def _after_commit(session) -> None:
    """Session hook: a commit that queued an email due now wakes the embedded scheduler."""
    if session.info.pop(WAKE_FLAG, False):
        wake()


def _wake_after_commits() -> None:
    """After a commit that planned an email due now (a confirmation), sweeps at once instead of next tick."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)


def wake() -> None:
    """Asks the embedded scheduler, if this process runs one, to sweep now (after a booking)."""
    if _embedded is not None and _embedded.running:
        try:
            _embedded.modify_job(SWEEP_JOB_ID, next_run_time=datetime.now(UTC))
        except Exception:  # noqa: BLE001 -- waking early is a nicety; the next tick comes anyway
            log.debug("could not wake the embedded scheduler", exc_info=True)
