"""Retention: stored email bodies older than EMAIL_BODY_RETENTION_DAYS are pruned by a scheduler job;
the email's row (its metadata) and the audit log stay."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import AuditEvent, Reminder
from scheduler.records import retention
from scheduler.services import clock
from tests.conftest import london
from tests.reminders.conftest import book, run_sweep


def test_old_bodies_go_metadata_stays(clinic, travel, app):
    travel.move_to(london(date(2027, 3, 1), 10))
    book(clinic, london(date(2027, 3, 10), 10))
    book(clinic, london(date(2027, 3, 10), 11), patient=clinic.noah)
    run_sweep()
    files = sorted(Path(current_app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == 2
    old = clock.now() - timedelta(days=731)
    os.utime(files[0], (old.timestamp(), old.timestamp()))  # sent over two years ago
    os.utime(files[1], (clock.now().timestamp(), clock.now().timestamp()))  # sent today (the frozen clock)
    audit_rows = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert app.config["EMAIL_BODY_RETENTION_DAYS"] == 730
    assert retention.prune_email_bodies() == 1
    assert not files[0].exists() and files[1].exists()
    assert db.session.scalar(select(func.count()).where(Reminder.status == "sent")) == 2  # metadata kept
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audit_rows
    app.config["EMAIL_BODY_RETENTION_DAYS"] = 1
    travel.move_to(london(date(2027, 3, 5), 10))
    assert retention.prune_email_bodies() == 1 and not files[1].exists()


def test_the_job_is_registered_beside_the_sweep(app):
    scheduler = jobs.build_scheduler(app, start_now=False)
    job = scheduler.get_job(jobs.RETENTION_JOB_ID)
    assert job is not None and job.trigger.interval == timedelta(hours=24)
    assert scheduler.get_job(jobs.SWEEP_JOB_ID) is not None
