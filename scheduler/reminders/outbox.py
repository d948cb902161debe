"""Reading the outbox (API and admin pages) and sending a failed reminder again."""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import Reminder, Treatment, User
from scheduler.reminders import compose, mail
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict, NotFound

log = logging.getLogger(__name__)


def query(
    *,
    patient_id: int | None = None,
    patient_ids: list[int] | None = None,
    status: str | None = None,
    kind: str | None = None,
    due_before: datetime | None = None,
    newest_first: bool = False,
):
    """The SELECT of reminders matching the outbox filters."""
    stmt = select(Reminder)
    if patient_id is not None:
        stmt = stmt.where(Reminder.patient_id == patient_id)
    if patient_ids is not None:
        stmt = stmt.where(Reminder.patient_id.in_(patient_ids))
    if status is not None:
        stmt = stmt.where(Reminder.status == status)
    if kind is not None:
        stmt = stmt.where(Reminder.kind == kind)
    if due_before is not None:
        stmt = stmt.where(Reminder.due_at < due_before)
    order = (Reminder.due_at.desc(), Reminder.id.desc()) if newest_first else (Reminder.due_at, Reminder.id)
    return stmt.order_by(*order)


def search(limit: int = 500, offset: int = 0, **filters) -> list[Reminder]:
    """Reminders matching the filters, by due time."""
    stmt = query(**filters).options(joinedload(Reminder.patient)).limit(limit).offset(offset)
    return list(db.session.scalars(stmt))


def count(**filters) -> int:
    """How many reminders match the filters."""
    stmt = query(**filters).order_by(None).with_only_columns(func.count(Reminder.id))
    return db.session.scalar(stmt) or 0


def status_counts() -> dict[str, int]:
    """Reminders per status, for the outbox's summary line."""
    rows = db.session.execute(select(Reminder.status, func.count()).group_by(Reminder.status)).all()
    return {status: n for status, n in rows}


def get(reminder_id: int) -> Reminder:
    """Loads a reminder or raises NotFound."""
    reminder = db.session.get(Reminder, reminder_id, options=[joinedload(Reminder.patient)])
    if reminder is None:
        raise NotFound(f"There is no reminder with id {reminder_id}.")
    return reminder


def resend(reminder_id: int, *, actor: User | None) -> Reminder:
    """Queues a failed reminder again with a fresh set of tries (the sweep still checks it is wanted)."""
    begin_write()
    reminder = get(reminder_id)
    if reminder.status != "failed":
        raise Conflict(f"Only a failed email can be sent again; this one is {reminder.status}.", code="bad_status")
    now = clock.now()
    if reminder.expires_at is not None and reminder.expires_at <= now:
        raise Conflict("Too late to send this email again: its moment has passed.", code="expired")
    db.session.execute(
        update(Reminder)
        .where(Reminder.id == reminder.id, Reminder.status == "failed")
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=None,
            updated_at=now,
            reason=f"sent again by {actor.email if actor else 'an admin'} after: {reminder.reason or 'failure'}"[:1000],
        )
    )
    audit.record("reminder.resent", "reminder", reminder.id, actor, {"kind": reminder.kind})
    db.session.flush()
    db.session.refresh(reminder)
    return reminder


def message_for(reminder: Reminder) -> tuple[EmailMessage, str]:
    """The email of a reminder: as stored in the local outbox when it went there, else built now.

    Returns the message and where it came from ("outbox" or "preview"); raises what building raises.
    """
    stored = mail.read_outbox(reminder.message_id)
    if stored is not None:
        return stored, "outbox"
    sequence = 0
    if reminder.appointment_id is not None:
        sequence = (
            db.session.scalar(
                select(func.max(Reminder.seq)).where(
                    Reminder.appointment_id == reminder.appointment_id, Reminder.kind == "confirmation"
                )
            )
            or 0
        ) + (reminder.kind == "cancellation")  # a cancellation outranks the last confirmation
    msg = compose.build(
        reminder, reminder.patient, reminder.appointment, now=clock.now(), last=_is_last(reminder), sequence=sequence
    )
    return compose.as_sent(msg), "preview"


def shown(reminder: Reminder) -> dict[str, Any]:
    """What the outbox page shows of a reminder's email: its source and parts, or why it cannot be built."""
    try:
        msg, source = message_for(reminder)
        return {"source": source, "problem": None, **parts(msg)}
    except Exception as exc:  # noqa: BLE001 -- the page explains, never a 500
        log.warning("could not show the email of reminder %s", reminder.id, exc_info=True)
        problem = f"This email cannot be built: {compose.why(exc)}"
        return {"source": None, "problem": problem, "headers": [], "text": "", "html": "", "attachments": []}


def _is_last(reminder: Reminder) -> bool:
    """Whether a re-treatment reminder is the last of its track."""
    if reminder.kind != "retreatment":
        return False
    count = db.session.scalar(select(Treatment.reminder_count).where(Treatment.id == reminder.treatment_id))
    return reminder.seq >= (count or 0)


def parts(msg: EmailMessage) -> dict[str, Any]:
    """The text and HTML bodies and the attachments of a message, for display."""
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    attachments = []
    for part in msg.iter_attachments():
        content = part.get_content()
        if isinstance(content, bytes):
            content = content.decode("utf-8", errors="replace")
        attachments.append({"filename": part.get_filename(), "type": part.get_content_type(), "content": content})
    return {
        "headers": [(k, str(v)) for k, v in msg.items()],
        "text": text.get_content() if text is not None else "",
        "html": html.get_content() if html is not None else "",
        "attachments": attachments,
    }
