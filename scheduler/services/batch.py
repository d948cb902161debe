"""One claimed batch, read side: load the rows, check each is still wanted, render the messages.

Everything is read and rendered before any SMTP traffic, so no database transaction (and on
SQLite no write lock) is held while talking to the mail server.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from email.message import Message

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from scheduler.domain import appointment_plan
from scheduler.domain import reconcile as rules
from scheduler.domain.plan import expiry_reason
from scheduler.extensions import db
from scheduler.models import Appointment, Reminder, Treatment, TreatmentSession
from scheduler.services import clock, compose

log = logging.getLogger(__name__)


@dataclass
class Item:
    """A claimed reminder and what to do with it: send `message`, or end it with `status` and `reason`."""

    id: int
    kind: str
    patient_id: int
    attempts: int
    message: Message | None = None
    status: str | None = None
    reason: str | None = None
    recipient: str | None = None


def prepare(ids: list[int], token: str, now: datetime) -> list[Item]:
    """Loads a claimed batch and decides, row by row, whether it still goes out."""
    reminders = list(
        db.session.scalars(
            select(Reminder)
            .options(joinedload(Reminder.patient), joinedload(Reminder.appointment), joinedload(Reminder.session))
            .where(Reminder.id.in_(ids), Reminder.claim_token == token, Reminder.status == "sending")
            .order_by(Reminder.due_at, Reminder.id)
        ).unique()
    )
    facts = _Facts(reminders)
    items = []
    for r in reminders:
        item = Item(r.id, r.kind, r.patient_id, r.attempts, recipient=r.patient.email)
        verdict = _verdict(r, facts, now)
        if verdict is not None:
            item.status, item.reason = verdict
        else:
            try:
                item.message = compose.build(
                    r, r.patient, r.appointment, now=now, last=facts.is_last(r), sequence=facts.revision(r)
                )
            except Exception as exc:  # noqa: BLE001 -- one broken email must not hold up the batch
                log.exception("could not build reminder %s", r.id)
                item.status, item.reason = "failed", f"could not build the email: {type(exc).__name__}: {exc}"[:1000]
        items.append(item)
    db.session.rollback()  # ends the read transaction before any mail traffic
    return items


def _verdict(r: Reminder, facts: _Facts, now: datetime) -> tuple[str, str] | None:
    """('skipped' | 'cancelled', reason) when the email must not go out now, else None."""
    if r.expires_at is not None and r.expires_at <= now:
        return "skipped", expiry_reason(r.kind)
    if not r.patient.reminders_opt_in:
        return "skipped", rules.OPTED_OUT
    if not (r.patient.email or "").strip():
        return "skipped", "the patient has no email address"
    if r.kind in ("confirmation", "pre_visit"):
        status = r.appointment.status if r.appointment is not None else "cancelled"
        if status != "booked":
            return "cancelled", appointment_plan.STATUS_REASONS.get(status, status)
        return None
    session = facts.session_fact(r)
    if session is None:
        return "cancelled", "the session was deleted"
    sessions = facts.sessions[(r.patient_id, r.treatment_id)]
    if r.kind == "retreatment":
        end = rules.track_end(session, sessions, facts.bookings[(r.patient_id, r.treatment_id)], True)
    else:
        end = rules.follow_up_end(session, sessions, True)
    return ("cancelled", end.reason) if end is not None else None


class _Facts:
    """What the checks need about a batch, loaded in a few queries."""

    def __init__(self, reminders: list[Reminder]):
        pairs = {(r.patient_id, r.treatment_id) for r in reminders if r.kind in ("retreatment", "follow_up")}
        patients = {p for p, _t in pairs}
        self.sessions: dict[tuple[int, int], list[rules.SessionFact]] = defaultdict(list)
        self.bookings: dict[tuple[int, int], list[rules.BookingFact]] = defaultdict(list)
        self.counts: dict[int, int] = {}
        if patients:
            for s in db.session.execute(
                select(
                    TreatmentSession.id,
                    TreatmentSession.patient_id,
                    TreatmentSession.treatment_id,
                    TreatmentSession.performed_on,
                    TreatmentSession.appointment_id,
                    TreatmentSession.external,
                ).where(TreatmentSession.patient_id.in_(patients))
            ):
                self.sessions[(s.patient_id, s.treatment_id)].append(
                    rules.SessionFact(s.id, s.performed_on, s.appointment_id, s.external)
                )
            for a in db.session.execute(
                select(
                    Appointment.id,
                    Appointment.patient_id,
                    Appointment.treatment_id,
                    Appointment.starts_at,
                    Appointment.status,
                ).where(Appointment.patient_id.in_(patients), Appointment.status.in_(rules.HOLDING))
            ):
                self.bookings[(a.patient_id, a.treatment_id)].append(
                    rules.BookingFact(a.id, clock.local_date(a.starts_at), a.status)
                )
            treatments = {t for _p, t in pairs}
            self.counts = dict(
                db.session.execute(
                    select(Treatment.id, Treatment.reminder_count).where(Treatment.id.in_(treatments))
                ).all()
            )
        appts = {r.appointment_id for r in reminders if r.kind in ("confirmation", "pre_visit")}
        self.revisions: dict[int, int] = {}
        if appts:
            self.revisions = dict(
                db.session.execute(
                    select(Reminder.appointment_id, func.max(Reminder.seq))
                    .where(Reminder.appointment_id.in_(appts), Reminder.kind == "confirmation")
                    .group_by(Reminder.appointment_id)
                ).all()
            )

    def session_fact(self, r: Reminder) -> rules.SessionFact | None:
        """The reminder's session among the loaded ones."""
        return next((s for s in self.sessions[(r.patient_id, r.treatment_id)] if s.id == r.session_id), None)

    def is_last(self, r: Reminder) -> bool:
        """Whether this is the last re-treatment reminder of its track."""
        return r.kind == "retreatment" and r.seq >= self.counts.get(r.treatment_id, r.seq)

    def revision(self, r: Reminder) -> int:
        """How many times the appointment was moved (the .ics SEQUENCE)."""
        return self.revisions.get(r.appointment_id or 0, 0)
