"""One claimed batch, read side: load the rows, check each is still wanted, render the messages.

Everything is read and rendered before any SMTP traffic, so no database transaction (and on
SQLite no write lock) is held while talking to the mail server.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import bindparam, func, select

from scheduler.domain import appointment_plan, consent
from scheduler.domain import reconcile as rules
from scheduler.domain.plan import expiry_reason
from scheduler.extensions import db
from scheduler.models import Appointment, Consent, Patient, Reminder, Treatment, TreatmentSession
from scheduler.models.patient import full_name
from scheduler.models.reminder import NOTICE_KINDS
from scheduler.reminders import compose
from scheduler.services import clock

log = logging.getLogger(__name__)


@dataclass
class Item:
    """A claimed reminder and what to do with it: send `message`, or end it with `status` and `reason`."""

    id: int
    kind: str
    patient_id: int
    attempts: int
    message: EmailMessage | None = None
    status: str | None = None
    reason: str | None = None
    recipient: str | None = None
    #: other due re-treatment reminders of the same patient that go out in this one's email
    #: (one email per patient per sweep): recorded with it, whatever happens to it
    riders: list[Item] = field(default_factory=list)


class Due(NamedTuple):
    """A claimed reminder, as far as sending it needs (compose reads the same names as on the model)."""

    id: int
    kind: str
    seq: int
    patient_id: int
    treatment_id: int
    session_id: int | None
    appointment_id: int | None
    attempts: int
    message_id: str
    expires_at: datetime | None
    moved_from: datetime | None


class Recipient(NamedTuple):
    """The patient an email goes to."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    #: names the patient in the email's unsubscribe link
    unsubscribe_key: str | None

    @property
    def full_name(self) -> str:
        return full_name(self.first_name, self.last_name)


class Visit(NamedTuple):
    """The appointment an email is about."""

    id: int
    starts_at: datetime
    ends_at: datetime
    status: str


R, P, A = Reminder.__table__, Patient.__table__, Appointment.__table__


@lru_cache(maxsize=1)
def _batch_query():
    """The claimed rows with their patients and appointments: one Core statement (no ORM objects).

    Built once; a sweep runs it for every batch. Parameters: b_ids (expanding), b_token.
    """
    return (
        select(*(R.c[name] for name in Due._fields))
        .add_columns(*(P.c[name] for name in Recipient._fields))
        .add_columns(*(A.c[name] for name in Visit._fields))
        .join_from(R, P, P.c.id == R.c.patient_id)
        .outerjoin(A, A.c.id == R.c.appointment_id)
        .where(R.c.id.in_(bindparam("b_ids", expanding=True)), R.c.claim_token == bindparam("b_token"))
        .where(R.c.status == "sending")
        .order_by(R.c.due_at, R.c.id)
    )


def _load(ids: list[int], token: str) -> list[tuple[Due, Recipient, Visit | None]]:
    """The claimed batch, in due order."""
    n, m = len(Due._fields), len(Due._fields) + len(Recipient._fields)
    loaded = []
    for row in db.session.connection().execute(_batch_query(), {"b_ids": ids, "b_token": token}):
        loaded.append((Due(*row[:n]), Recipient(*row[n:m]), Visit(*row[m:]) if row[m] is not None else None))
    return loaded


def _group(r: Due, facts: _Facts) -> tuple[int, str | None]:
    """The email a due re-treatment reminder goes out in: one per patient and treatment kind, since
    each kind has its own consent and the email's unsubscribe link stops the kind it names."""
    return r.patient_id, facts.kinds.get(r.treatment_id)


def prepare(ids: list[int], token: str, now: datetime) -> list[Item]:
    """Loads a claimed batch and decides, row by row, whether it still goes out."""
    loaded = _load(ids, token)
    facts = _Facts([r for r, _p, _a in loaded])
    items, wanted, combined = [], [], {}
    for r, patient, appt in loaded:
        item = Item(r.id, r.kind, r.patient_id, r.attempts, recipient=patient.email)
        verdict = _verdict(r, patient, appt, facts, now)
        if verdict is not None:
            item.status, item.reason = verdict
        elif r.kind == "retreatment" and _group(r, facts) in combined:  # one email per patient per sweep
            lead, tracks = combined[_group(r, facts)]
            lead.riders.append(item)
            tracks.append(facts.track(r))
            continue
        else:
            if r.kind == "retreatment":
                combined[_group(r, facts)] = (item, [facts.track(r)])
            wanted.append((item, r, patient, appt))
        items.append(item)
    for item, r, patient, appt in wanted:
        tracks = combined[_group(r, facts)][1] if r.kind == "retreatment" else None
        try:
            item.message = compose.build(
                r, patient, appt, now=now, last=facts.is_last(r), sequence=facts.revision(r), tracks=tracks
            )
        except Exception as exc:  # noqa: BLE001 -- one broken email must not hold up the batch
            item.status, item.reason = "failed", _unbuildable_reason(r.id, exc)
            for rider in item.riders:
                rider.status, rider.reason = item.status, item.reason
    db.session.rollback()  # ends the read transaction before any mail traffic
    return items


def _unbuildable_reason(reminder_id: int, exc: Exception) -> str:
    """Why an email could not be built, for its row; logged, with the traceback unless a value was at fault."""
    reason = compose.why(exc)
    if isinstance(exc, compose.Unbuildable):
        log.warning("could not build reminder %s: %s", reminder_id, reason)
    else:
        log.exception("could not build reminder %s", reminder_id)
    return f"could not build the email: {reason}"[:1000]


def _verdict(r: Due, patient: Recipient, appt: Visit | None, facts: _Facts, now: datetime) -> tuple[str, str] | None:
    """('skipped' | 'cancelled', reason) when the email must not go out now, else None."""
    if r.expires_at is not None and r.expires_at <= now:
        return "skipped", expiry_reason(r.kind)
    refused = consent.refusal(r.kind, facts.kinds.get(r.treatment_id), facts.consents[r.patient_id])
    if refused:
        return "skipped", refused  # withdrawn since the plan was made: the one consent rule, asked again
    if not (patient.email or "").strip():
        return "skipped", "the patient has no email address"
    if r.kind in ("confirmation", "pre_visit"):
        status = appt.status if appt is not None else "cancelled"
        if status != "booked":
            return "cancelled", appointment_plan.STATUS_REASONS.get(status, status)
        return None
    if r.kind in NOTICE_KINDS:  # the cancellation notice, the offer of the freed slot
        if appt is None or appt.status != "cancelled":
            return "cancelled", "the appointment is no longer cancelled"
        return None
    session = facts.session_fact(r)
    if session is None:
        return "cancelled", "the session was deleted"
    sessions = facts.sessions[(r.patient_id, r.treatment_id)]
    if r.kind == "retreatment":
        end = rules.track_end(session, sessions, facts.bookings[(r.patient_id, r.treatment_id)], None)
    else:
        end = rules.follow_up_end(session, sessions, None)
    return ("cancelled", end.reason) if end is not None else None


class _Facts:
    """What the checks need about a batch, loaded in a few queries."""

    def __init__(self, reminders: list[Due]):
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
                ).where(TreatmentSession.patient_id.in_(patients), TreatmentSession.counts())
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
        self.consents = Consent.states_of(db.session, (r.patient_id for r in reminders))
        self.kinds: dict[int, str] = dict(
            db.session.execute(
                select(Treatment.id, Treatment.kind).where(Treatment.id.in_({r.treatment_id for r in reminders}))
            ).all()
        )
        appts = {r.appointment_id for r in reminders if r.kind in compose.ICS}
        self.revisions: dict[int, int] = {}
        if appts:
            self.revisions = dict(
                db.session.execute(
                    select(Reminder.appointment_id, func.max(Reminder.seq))
                    .where(Reminder.appointment_id.in_(appts), Reminder.kind == "confirmation")
                    .group_by(Reminder.appointment_id)
                ).all()
            )

    def session_fact(self, r: Due) -> rules.SessionFact | None:
        """The reminder's session among the loaded ones."""
        return next((s for s in self.sessions[(r.patient_id, r.treatment_id)] if s.id == r.session_id), None)

    def is_last(self, r: Due) -> bool:
        """Whether this is the last re-treatment reminder of its track."""
        return r.kind == "retreatment" and r.seq >= self.counts.get(r.treatment_id, r.seq)

    def revision(self, r: Due) -> int:
        """How many times the appointment was moved (the .ics SEQUENCE), one more for its cancellation."""
        return self.revisions.get(r.appointment_id or 0, 0) + (r.kind == "cancellation")

    def track(self, r: Due) -> compose.Track:
        """A re-treatment reminder as one track of an email."""
        session = self.session_fact(r)
        performed_on = session and session.performed_on
        return compose.Track(r.id, r.session_id, r.treatment_id, performed_on, self.is_last(r), r.expires_at)
