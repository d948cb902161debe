"""Signed unsubscribe links (itsdangerous): what one click withdraws depends on the email it came from.

A link names the patient by their random `unsubscribe_key`, never by the database id, and the
email it came in by the reminder id. From a re-treatment reminder it withdraws the reminder
consent of that treatment kind only (therapeutic or cosmetic); from a service email
(confirmation, pre-visit, follow-up, notices), or when the patient picks "stop all emails" on the
page, it withdraws every consent (scheduler.domain.consent.unsubscribe_changes). RFC 8058
one-click POSTs carry no choice: they withdraw what the email's own link stands for.

Links sent before the key existed named the id (and the email's reminder id) in readable base64;
they are signed and dated too, and keep working until UNSUBSCRIBE_MAX_AGE_DAYS after they were
sent. Links sent before the consents were split named no email, or stood for every email: they
stop all emails, as they did when they were sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from scheduler.db import begin_write
from scheduler.domain import consent
from scheduler.extensions import db
from scheduler.models import Patient, Reminder, Treatment
from scheduler.patients import consents
from scheduler.services.signed_links import BadLink, absolute, read, sign, whole

SALT = "reminders.unsubscribe"
#: how long a link in an email keeps working
MAX_AGE_DAYS = 400


class Subscriber(Protocol):
    """What a link is made from: a Patient, or a row read with its unsubscribe key."""

    unsubscribe_key: str | None


class Sent(Protocol):
    """The email a link is in: a Reminder or a row read with its id."""

    id: int


@dataclass(frozen=True)
class Link:
    """Whom a valid token names: by key, or (links sent before the keys) by id and reminder id."""

    key: str | None = None
    patient_id: int | None = None
    reminder_id: int | None = None
    #: whether the link stands for its email's kind (links made since the consents were split)
    scoped: bool = False


@dataclass(frozen=True)
class Scope:
    """What a link stands for: the patient, and the email's kind and treatment kind (None: every email)."""

    patient: Patient
    email_kind: str | None
    treatment_kind: str | None
    reminder_id: int | None

    def changes(self, stop_all: bool) -> dict[str, bool]:
        """The consents a click withdraws."""
        return consent.unsubscribe_changes(self.email_kind, self.treatment_kind, stop_all)

    def already(self, stop_all: bool) -> bool:
        """Whether the patient has withdrawn all of it already."""
        state = self.patient.consent_state
        wanted = self.changes(stop_all)
        return all(
            (state.emails_stopped if topic == consent.EMAILS else topic not in state.reminders) for topic in wanted
        )


def make_token(patient: Subscriber, email: Sent | None = None) -> str:
    """A signed, dated token naming the patient by their unsubscribe key, and the email it is in."""
    if not patient.unsubscribe_key:
        raise ValueError("the patient has no unsubscribe key (a row written outside the application)")
    if email is None:
        return sign(SALT, {"k": patient.unsubscribe_key}, dated=True)
    return sign(SALT, {"k": patient.unsubscribe_key, "r": email.id}, dated=True)


def url(token: str) -> str:
    """The absolute unsubscribe link for a token."""
    return absolute(f"/p/unsubscribe/{token}")


def read_token(token: str) -> Link:
    """Whom a token names; raises BadLink."""
    max_age = int(current_app.config.get("UNSUBSCRIBE_MAX_AGE_DAYS", MAX_AGE_DAYS)) * 86400
    data = read(token, SALT, max_age=max_age, expired="This unsubscribe link has expired.")
    reminder = None if data.get("r") is None else whole(data, "r")  # links sent with no email name none
    if isinstance(data.get("k"), str):
        return Link(key=data["k"], reminder_id=reminder, scoped=True)
    if "p" in data:
        return Link(patient_id=whole(data, "p"), reminder_id=reminder)
    raise BadLink()


def _patient(link: Link) -> Patient:
    """The patient a link names; raises BadLink when it names nobody."""
    if link.key is not None:
        patient = db.session.scalar(select(Patient).where(Patient.unsubscribe_key == link.key))
    else:
        patient = db.session.get(Patient, link.patient_id)
    if patient is None:
        raise BadLink()
    return patient


def _scope(link: Link) -> Scope:
    """What a valid link stands for; raises BadLink when it names nobody.

    A scoped link whose email is gone (its session was deleted) stands for every email: the
    patient asked for fewer emails, and stopping more than asked is the safe side.
    """
    patient = _patient(link)
    if not link.scoped or link.reminder_id is None:
        return Scope(patient, None, None, link.reminder_id)
    row = db.session.execute(
        select(Reminder.kind, Treatment.kind)
        .join(Treatment, Treatment.id == Reminder.treatment_id)
        .where(Reminder.id == link.reminder_id, Reminder.patient_id == patient.id)
    ).first()
    if row is None:
        return Scope(patient, None, None, link.reminder_id)
    return Scope(patient, row[0], row[1], link.reminder_id)


def scope_for(token: str) -> Scope:
    """What a valid token stands for; raises BadLink."""
    return _scope(read_token(token))


def patient_for(token: str) -> Patient:
    """The patient a valid token names; raises BadLink when it names nobody."""
    return _patient(read_token(token))


def unsubscribe(token: str, *, stop_all: bool = False) -> Scope:
    """Withdraws what the link stands for, or every consent with `stop_all` (idempotent), ending the
    pending emails it covered; the caller commits."""
    link = read_token(token)
    begin_write()
    scope = _scope(link)
    consents.record(
        scope.patient,
        scope.changes(stop_all),
        via="link",
        actor=None,
        actor_label="patient",
        action="patient.unsubscribed",
        details={"reminder_id": link.reminder_id, "stop_all": stop_all},
    )
    return scope
