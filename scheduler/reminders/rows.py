"""Reading and writing reminder rows for the planner: the clinic settings, rows as plan input, ops applied."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import Select, select, update

from scheduler.domain import reconcile as rules
from scheduler.domain.plan import Clinic
from scheduler.extensions import db
from scheduler.models import Reminder
from scheduler.services import clock


@lru_cache(maxsize=16)
def _clinic(timezone: str, send_hours: str, pre_visit_hours: int) -> Clinic:
    return Clinic.parse(timezone, send_hours, pre_visit_hours)


def clinic() -> Clinic:
    """The plan settings of the running app (time zone, send hours, pre-visit lead time)."""
    cfg = current_app.config
    return _clinic(cfg["CLINIC_TIMEZONE"], cfg["REMINDER_SEND_HOURS"], int(cfg["PRE_VISIT_HOURS"]))


def mail_domain() -> str:
    """The domain part of Message-IDs: the sender's domain."""
    _name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return address.rpartition("@")[2] or "localhost"


def new_row(
    op: rules.Create,
    kind: str,
    patient_id: int,
    treatment_id: int,
    session_id: int | None,
    appointment_id: int | None,
    now,
    domain: str | None = None,
) -> dict:
    """Column values of a new reminder row (one spelling for the ORM and the bulk insert)."""
    return dict(
        patient_id=patient_id,
        treatment_id=treatment_id,
        kind=kind,
        session_id=session_id,
        appointment_id=appointment_id,
        seq=op.seq,
        due_at=op.due_at,
        expires_at=op.expires_at,
        status=op.status,
        reason=op.reason,
        attempts=0,
        message_id=new_message_id(domain),
        created_at=now,
        updated_at=now,
    )


def new_message_id(domain: str | None = None) -> str:
    """A fresh, globally unique Message-ID value, fixed on the row when it is planned.

    Its 32 hex digits are the time in nanoseconds and 64 random bits (as a UUIDv7 orders its
    time before its randomness), so the unique index on message_id takes new rows next to the
    last ones: one page a booking, where random ones dirtied a page of their own each (and split
    pages all over the index).
    """
    return f"<reminder.{time.time_ns():016x}{secrets.token_hex(8)}@{domain or mail_domain()}>"


@dataclass(frozen=True)
class Stored:
    """A stored reminder with the columns the planner groups by."""

    kind: str
    session_id: int | None
    row: rules.Row

    @property
    def seq(self) -> int:
        """Its place in the series."""
        return self.row.seq


def rows_query(*where: Any) -> Select:
    """The statement load_rows runs."""
    return select(
        Reminder.id,
        Reminder.kind,
        Reminder.session_id,
        Reminder.seq,
        Reminder.status,
        Reminder.due_at,
        Reminder.expires_at,
    ).where(*where)


def load_rows(*where: Any) -> list[Stored]:
    """The stored reminders matching conditions, as plan input."""
    return [
        Stored(r.kind, r.session_id, rules.Row(r.id, r.seq, r.status, r.due_at, r.expires_at))
        for r in db.session.execute(rows_query(*where))
    ]


def apply_ops(
    ops: list[rules.Create | rules.Change],
    *,
    kind: str,
    patient_id: int,
    treatment_id: int,
    session_id: int | None = None,
    appointment_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Inserts and updates rows as the plan says; a row a sweep claimed meanwhile is left alone.

    `extra` holds column values of the rows it creates beyond the plan's (a move's `moved_from`).
    New rows go out with the session's next flush (the next query or the commit), so that a
    request's new reminders are one INSERT.
    """
    now = clock.now()
    for op in ops:
        if isinstance(op, rules.Create):
            values = new_row(op, kind, patient_id, treatment_id, session_id, appointment_id, now)
            db.session.add(Reminder(**values | (extra or {})))
            continue
        values: dict[str, Any] = dict(due_at=op.due_at, expires_at=op.expires_at, status=op.status, updated_at=now)
        if not op.keep_reason:
            values["reason"] = op.reason
        if op.status == "pending":
            values["next_attempt_at"] = None
        db.session.execute(
            update(Reminder).where(Reminder.id == op.id, Reminder.status.in_(("pending", "cancelled"))).values(**values)
        )
