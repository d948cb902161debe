"""Retention of email bodies: the local outbox's copies older than EMAIL_BODY_RETENTION_DAYS go.

A sent email's row (kind, status, due and sent times, Message-ID, reason) stays in the reminders
table as its metadata, and the audit log is never pruned; only the body, the `.eml` file the local
outbox keeps under OUTBOX_DIR, is deleted once it is older than the setting (default 730 days, two
years). With an SMTP server the app keeps no bodies at all. Run daily by the scheduler
(scheduler.jobs, job `records.prune_email_bodies`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app

from scheduler.services import clock

log = logging.getLogger(__name__)
DEFAULT_DAYS = 730


def prune_email_bodies(now: datetime | None = None) -> int:
    """Deletes stored email bodies older than the retention period; returns how many went."""
    days = int(current_app.config.get("EMAIL_BODY_RETENTION_DAYS", DEFAULT_DAYS))
    cutoff = ((now or clock.now()) - timedelta(days=days)).timestamp()
    directory = Path(current_app.config["OUTBOX_DIR"])
    if not directory.is_dir():
        return 0
    pruned = 0
    for path in directory.glob("*.eml"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                pruned += 1
        except FileNotFoundError:
            continue  # removed meanwhile (erasure, another scheduler)
    if pruned:
        log.info("pruned %d email bodies older than %d days", pruned, days)
    return pruned
