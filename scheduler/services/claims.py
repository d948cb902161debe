"""Claiming due reminders in the database before sending, and recording what happened.

A claim moves rows to 'sending' with a lease (claimed_until) and a claim token, in one short
write transaction. On PostgreSQL the candidate rows are locked with `FOR UPDATE SKIP LOCKED`, so
concurrent sweeps take disjoint rows without waiting; on SQLite the transaction holds the write
lock (BEGIN IMMEDIATE) and the UPDATE re-checks each row's status, so a row already taken is not
returned. A row whose lease ran out (its sweep died) is claimable again. Only the holder of the
current claim token can record the outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, exists, literal, not_, or_, select, update

from scheduler.db import begin_write, is_sqlite
from scheduler.extensions import db
from scheduler.models import Reminder
from scheduler.models.reminder import LIVE_STATUSES

T = Reminder.__table__


def _claimable(now: datetime):
    """Rows whose lease has run out (first: they are the oldest), then due pending rows past any retry delay."""
    lapsed = and_(T.c.status == "sending", T.c.claimed_until < now)
    # Rule 4: of a track's due re-treatment reminders only the newest goes. Housekeeping skips the
    # older ones at the start of a sweep, but a session recorded while a sweep is running creates its
    # overdue reminders all at once (one transaction), so the claim itself passes over any that a
    # newer due one of the same track supersedes; the next housekeeping marks them skipped.
    newer = T.alias("newer")
    superseded = exists().where(
        newer.c.session_id == T.c.session_id,
        newer.c.kind == "retreatment",
        newer.c.seq > T.c.seq,
        newer.c.due_at <= now,
        newer.c.status.in_(LIVE_STATUSES),
    )
    due = and_(
        T.c.status == "pending",
        T.c.due_at <= now,
        or_(T.c.next_attempt_at.is_(None), T.c.next_attempt_at <= now),
        not_(and_(T.c.kind == "retreatment", superseded)),
    )
    return lapsed, due


def claim(limit: int, lease: timedelta, now: datetime) -> tuple[str, list[int]]:
    """Claims up to `limit` due rows, oldest first; returns the claim token and the row ids."""
    token = uuid.uuid4().hex
    begin_write()
    try:
        ids: list[int] = []
        for condition in _claimable(now):
            if len(ids) >= limit:
                break
            pick = select(T.c.id).where(condition).order_by(T.c.due_at, T.c.id).limit(limit - len(ids))
            claim_values = dict(status="sending", claimed_until=now + lease, claim_token=token, updated_at=now)
            if is_sqlite():
                # We hold the write lock; the UPDATE re-checks each row, RETURNING says which it took.
                stmt = update(T).where(T.c.id.in_(pick.scalar_subquery()), condition).values(**claim_values)
                ids.extend(db.session.execute(stmt.returning(T.c.id)).scalars())
            else:
                # Lock the rows first (skipping those another sweep holds), then take exactly those.
                picked = list(db.session.execute(pick.with_for_update(skip_locked=True)).scalars())
                if picked:
                    db.session.execute(update(T).where(T.c.id.in_(picked)).values(**claim_values))
                    ids.extend(picked)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return token, sorted(ids)


def _finish(reminder_id: int, token: str, **values) -> bool:
    """Writes an outcome if this claim still holds the row; commits at once."""
    begin_write()
    try:
        result = db.session.execute(
            update(T)
            .where(T.c.id == reminder_id, T.c.claim_token == token, T.c.status == "sending")
            .values(claimed_until=None, claim_token=None, **values)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result.rowcount == 1


def record_sent_many(token: str, accepted: list[tuple[int, datetime]]) -> set[int]:
    """Accepted messages (id, when) of one claim, in one statement; returns the ids whose claim still held."""
    if not accepted:
        return set()
    when = case({rid: literal(at, T.c.sent_at.type) for rid, at in accepted}, value=T.c.id)
    begin_write()
    try:
        held = set(
            db.session.execute(
                update(T)
                .where(T.c.id.in_([rid for rid, _ in accepted]), T.c.claim_token == token, T.c.status == "sending")
                .values(
                    status="sent",
                    sent_at=when,
                    attempts=T.c.attempts + 1,
                    claimed_until=None,
                    claim_token=None,
                    reason=None,
                    next_attempt_at=None,
                    updated_at=when,
                )
                .returning(T.c.id)
            ).scalars()
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return held


def record_failure(
    reminder_id: int, token: str, attempts: int, reason: str, retry_at: datetime | None, now: datetime
) -> bool:
    """A failed try: pending again until retry_at, or failed for good when retry_at is None."""
    status = "failed" if retry_at is None else "pending"
    return _finish(
        reminder_id, token, status=status, attempts=attempts, reason=reason, next_attempt_at=retry_at, updated_at=now
    )


def record_outcome(reminder_id: int, token: str, status: str, reason: str, now: datetime) -> bool:
    """Skipped or cancelled at send time, with the reason."""
    return _finish(reminder_id, token, status=status, reason=reason, updated_at=now)


def release(
    ids: Iterable[int], token: str, now: datetime, *, retry_at: datetime | None = None, reason: str | None = None
) -> None:
    """Gives claimed rows back untried (stopping, lease running short, send hours over, server down)."""
    ids = list(ids)
    if not ids:
        return
    begin_write()
    try:
        values = dict(status="pending", claimed_until=None, claim_token=None, updated_at=now, next_attempt_at=retry_at)
        if reason is not None:
            values["reason"] = reason
        db.session.connection().execute(
            update(T)
            .where(T.c.id == bindparam("b_id"), T.c.claim_token == token, T.c.status == "sending")
            .values(**values),
            [{"b_id": i} for i in ids],
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
