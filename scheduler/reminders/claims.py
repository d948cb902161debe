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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    Update,
    and_,
    any_,
    bindparam,
    case,
    func,
    not_,
    or_,
    select,
    update,
)

from scheduler.db import begin_write, is_sqlite
from scheduler.extensions import db
from scheduler.models import Reminder
from scheduler.models.reminder import superseded

T = Reminder.__table__


def _claimable(now: BindParameter) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Rows whose lease has run out (first: they are the oldest), then due pending rows past any retry delay."""
    lapsed = and_(T.c.status == "sending", T.c.claimed_until < now)
    # Rule 4: of a track's due re-treatment reminders only the newest goes. Housekeeping skips the
    # older ones at the start of a sweep, but a session recorded while a sweep is running creates its
    # overdue reminders all at once (one transaction), so the claim itself passes over any that a
    # newer due one of the same track supersedes; the next housekeeping marks them skipped.
    due = and_(
        T.c.status == "pending",
        T.c.due_at <= now,
        or_(T.c.next_attempt_at.is_(None), T.c.next_attempt_at <= now),
        not_(superseded(now)),
    )
    return lapsed, due


@lru_cache(maxsize=2)
def _claim_statements(sqlite: bool) -> tuple[Update, ...]:
    """The claim's UPDATEs (lapsed leases, due rows, their patients' other due re-treatment reminders),
    built once: a sweep claims every few seconds.

    Building these expressions cost about a millisecond a claim; as cached statements they also
    keep their compiled form. Parameters: c_now, c_until (the lease's end), c_token, c_limit.
    """
    now = bindparam("c_now", type_=T.c.due_at.type)
    values = dict(
        status="sending",
        claimed_until=bindparam("c_until", type_=T.c.claimed_until.type),
        claim_token=bindparam("c_token", type_=T.c.claim_token.type),
        updated_at=now,
    )
    limit = bindparam("c_limit", type_=Integer)
    lapsed, due = _claimable(now)
    # One email per patient per sweep: the due re-treatment reminders of the patients whose
    # re-treatment reminders this claim took come along, whatever the batch size, to be combined.
    mine = T.alias("mine")
    siblings = and_(
        due,
        T.c.kind == "retreatment",
        T.c.patient_id.in_(
            select(mine.c.patient_id).where(mine.c.claim_token == values["claim_token"], mine.c.kind == "retreatment")
        ),
    )
    return tuple(
        _take(select(T.c.id).where(condition).order_by(T.c.due_at, T.c.id).limit(limit), condition, sqlite)
        .values(**values)
        .returning(T.c.id)
        for condition in (lapsed, due, siblings)
    )


def _take(pick: Select, condition, sqlite: bool) -> Update:
    """The UPDATE that claims the rows `pick` selects, in one statement (one round trip) on both databases.

    SQLite: we hold the write lock; the UPDATE re-checks each row, RETURNING says which it took.
    PostgreSQL: the picked rows are locked first, skipping those another sweep holds, in
    ARRAY(subquery): run once, before the UPDATE, which then finds the rows by primary key
    whatever the table's size (a join to a CTE was planned as a scan of the whole table).
    """
    if sqlite:
        return update(T).where(T.c.id.in_(pick.scalar_subquery()), condition)
    return update(T).where(T.c.id == any_(func.array(pick.with_for_update(skip_locked=True).scalar_subquery())))


@contextmanager
def _writing() -> Iterator[None]:
    """One write transaction: SQLite's write lock from its start, committed at once, rolled back on any error."""
    begin_write()
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def claim(limit: int, lease: timedelta, now: datetime) -> tuple[str, list[int]]:
    """Claims up to `limit` due rows, oldest first; returns the claim token and the row ids."""
    with _writing():
        return _claim(limit, lease, now)


def record_sent_then_claim(
    sent: dict[str, list[tuple[int, datetime]]], limit: int, lease: timedelta, now: datetime
) -> tuple[set[int], str, list[int]]:
    """record_sent_many and then claim, in one transaction: the sweep's last group of a batch and its next batch.

    Returns the ids recorded as sent, the new claim token and the claimed ids. One commit less per
    batch (on PostgreSQL a WAL flush, on SQLite a write lock taken once).
    """
    with _writing():
        held = _mark_sent(sent)
        return held, *_claim(limit, lease, now)


def _claim(limit: int, lease: timedelta, now: datetime) -> tuple[str, list[int]]:
    """The claim's statements, in the caller's transaction."""
    token = uuid.uuid4().hex
    params = dict(c_now=now, c_until=now + lease, c_token=token)
    ids: list[int] = []
    *take, siblings = _claim_statements(is_sqlite())
    for stmt in take:
        if len(ids) >= limit:
            break
        ids.extend(db.session.execute(stmt, params | {"c_limit": limit - len(ids)}).scalars())
    if ids:
        ids.extend(db.session.execute(siblings, params | {"c_limit": limit}).scalars())
    return token, sorted(ids)


def _finish(reminder_id: int, token: str, **values) -> bool:
    """Writes an outcome if this claim still holds the row; commits at once."""
    with _writing():
        result = db.session.execute(
            update(T)
            .where(T.c.id == reminder_id, T.c.claim_token == token, T.c.status == "sending")
            .values(claimed_until=None, claim_token=None, **values)
        )
    return result.rowcount == 1


def record_sent_many(sent: dict[str, list[tuple[int, datetime]]]) -> set[int]:
    """Accepted messages (id, when) by claim token, one statement a claim; returns the ids whose claim still held."""
    if not sent:
        return set()
    with _writing():
        return _mark_sent(sent)


def _mark_sent(sent: dict[str, list[tuple[int, datetime]]]) -> set[int]:
    """The "sent" UPDATEs, in the caller's transaction; the ids whose claim still held."""
    held: set[int] = set()
    for token, accepted in sent.items():
        params: dict[str, object] = {"s_token": token}
        for k, (rid, at) in enumerate(accepted):
            params[f"s_id{k}"], params[f"s_at{k}"] = rid, at
        held.update(db.session.scalars(_sent_statement(len(accepted)), params))
    return held


def _sent_statement(n: int) -> Update:
    """The UPDATE recording n accepted messages of one claim; each row gets its own sent_at.
    Parameters: s_token, s_id<k> and s_at<k>.
    """
    ids = [bindparam(f"s_id{k}", type_=Integer) for k in range(n)]
    when = case(*((T.c.id == ids[k], bindparam(f"s_at{k}", type_=T.c.sent_at.type)) for k in range(n)))
    token = bindparam("s_token", type_=T.c.claim_token.type)
    return (
        update(T)
        .where(T.c.id.in_(ids), T.c.claim_token == token, T.c.status == "sending")
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
    )


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
    values = dict(status="pending", claimed_until=None, claim_token=None, updated_at=now, next_attempt_at=retry_at)
    if reason is not None:
        values["reason"] = reason
    with _writing():
        db.session.connection().execute(
            update(T)
            .where(T.c.id == bindparam("b_id"), T.c.claim_token == token, T.c.status == "sending")
            .values(**values),
            [{"b_id": i} for i in ids],
        )
