"""The sweep's first step: skip pending emails that must never go out now (docs/rules.md rule 4).

Stale ones (a re-treatment window closed more than 14 days ago, an appointment already started,
a follow-up more than 14 days late) and, of several due re-treatment reminders of one track, all
but the newest. One short write transaction; on PostgreSQL only one sweep at a time does it (an
advisory lock), the others skip ahead to sending.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, literal, text, update

from scheduler.db import begin_write, is_sqlite
from scheduler.domain.plan import EXPIRY_REASONS
from scheduler.extensions import db
from scheduler.models import Reminder
from scheduler.models.reminder import newest_due_seq, superseded

T = Reminder.__table__
#: PostgreSQL advisory lock key: one sweep at a time does the housekeeping
HOUSEKEEPING_LOCK = 0x52454D31

Skipped = tuple[int, str, int, str]  # id, kind, patient id, reason


def skip_stale_and_superseded(now: datetime) -> list[Skipped]:
    """Marks stale and superseded pending reminders skipped; returns what it skipped."""
    begin_write()
    try:
        if not is_sqlite() and not db.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": HOUSEKEEPING_LOCK}
        ):
            db.session.rollback()
            return []
        skipped: list[Skipped] = []
        for kind, reason in EXPIRY_REASONS.items():
            stale = db.session.execute(
                update(T)
                .where(T.c.status == "pending", T.c.kind == kind, T.c.expires_at <= now)
                .values(status="skipped", reason=reason, updated_at=now)
                .returning(T.c.id, T.c.patient_id)
            ).all()
            skipped += [(i, kind, p, reason) for i, p in stale]
        skipped += _skip_superseded(now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return skipped


def _skip_superseded(now: datetime) -> list[Skipped]:
    """Of the due re-treatment reminders of each track, skips the pending ones older than the newest."""
    reason = literal("superseded by the newer reminder ") + cast(newest_due_seq(now), String) + " of the same track"
    done = db.session.execute(
        update(T)
        .where(T.c.status == "pending", superseded(now))
        .values(status="skipped", reason=reason, updated_at=now)
        .returning(T.c.id, T.c.patient_id, T.c.reason)
    ).all()
    return [(rid, "retreatment", patient_id, why) for rid, patient_id, why in done]
