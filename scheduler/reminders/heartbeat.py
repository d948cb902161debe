"""The sweep's heartbeat: when each sweep ran and what it did, for the admin pages."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import SweepRun
from scheduler.services import clock

#: heartbeats older than this are pruned
KEEP = timedelta(days=14)


def worker_name() -> str:
    """This process, as the heartbeat names it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def start() -> int:
    """Records that a sweep began; returns its heartbeat id (committed at once)."""
    begin_write()
    try:
        run = SweepRun(
            started_at=clock.now(), worker=worker_name(), sent=0, skipped=0, failed=0, retried=0, cancelled=0
        )
        db.session.add(run)
        db.session.commit()
        return run.id
    except BaseException:
        db.session.rollback()
        raise


def finish(
    run_id: int, *, sent: int, skipped: int, failed: int, retried: int, cancelled: int, note: str | None
) -> None:
    """Records what a sweep did and when it ended; prunes old heartbeats."""
    now = clock.now()
    begin_write()
    try:
        db.session.execute(
            update(SweepRun)
            .where(SweepRun.id == run_id)
            .values(
                finished_at=now,
                sent=sent,
                skipped=skipped,
                failed=failed,
                retried=retried,
                cancelled=cancelled,
                note=note,
            )
        )
        db.session.execute(delete(SweepRun).where(SweepRun.started_at < now - KEEP))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def last() -> SweepRun | None:
    """The most recent sweep that finished."""
    stmt = select(SweepRun).where(SweepRun.finished_at.is_not(None)).order_by(SweepRun.started_at.desc()).limit(1)
    return db.session.scalars(stmt).first()


def last_started() -> datetime | None:
    """When the most recent sweep started (finished or not), or None if none ever ran."""
    return db.session.scalar(select(func.max(SweepRun.started_at)))


def recent(limit: int = 20) -> list[SweepRun]:
    """The latest sweeps, newest first."""
    return list(
        db.session.scalars(select(SweepRun).order_by(SweepRun.started_at.desc(), SweepRun.id.desc()).limit(limit))
    )
