"""Signed unsubscribe links (itsdangerous): one click ends every pending reminder of that patient.

A link names the patient by their random `unsubscribe_key`, never by the database id. Links sent
before the key existed named the id (and the email's reminder id) in readable base64; they are
signed and dated too, and keep working until UNSUBSCRIBE_MAX_AGE_DAYS after they were sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import Patient
from scheduler.reminders import planning
from scheduler.services import audit

SALT = "reminders.unsubscribe"
#: how long a link in an email keeps working
MAX_AGE_DAYS = 400


class BadToken(Exception):
    """The link was forged, mangled, or is too old."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


class Subscriber(Protocol):
    """What a link is made from: a Patient, or a row read with its unsubscribe key."""

    unsubscribe_key: str | None


@dataclass(frozen=True)
class Link:
    """Whom a valid token names: by key, or (links sent before the keys) by id and reminder id."""

    key: str | None = None
    patient_id: int | None = None
    reminder_id: int | None = None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(patient: Subscriber) -> str:
    """A signed, dated token naming the patient by their unsubscribe key."""
    if not patient.unsubscribe_key:
        raise ValueError("the patient has no unsubscribe key (a row written outside the application)")
    return _serializer().dumps({"k": patient.unsubscribe_key})


def url(token: str) -> str:
    """The absolute unsubscribe link for a token."""
    return f"{current_app.config['BASE_URL']}/p/unsubscribe/{token}"


def read_token(token: str) -> Link:
    """Whom a token names; raises BadToken."""
    max_age = int(current_app.config.get("UNSUBSCRIBE_MAX_AGE_DAYS", MAX_AGE_DAYS)) * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadToken("This unsubscribe link has expired.", expired=True) from None
    except BadSignature:
        raise BadToken("This unsubscribe link is not valid.") from None
    if isinstance(data, dict) and isinstance(data.get("k"), str):
        return Link(key=data["k"])
    if isinstance(data, dict) and isinstance(data.get("p"), int):
        reminder = data.get("r")
        return Link(patient_id=data["p"], reminder_id=reminder if isinstance(reminder, int) else None)
    raise BadToken("This unsubscribe link is not valid.")


def _patient(link: Link) -> Patient:
    """The patient a link names; raises BadToken when it names nobody."""
    if link.key is not None:
        patient = db.session.scalar(select(Patient).where(Patient.unsubscribe_key == link.key))
    else:
        patient = db.session.get(Patient, link.patient_id)
    if patient is None:
        raise BadToken("This unsubscribe link is not valid.")
    return patient


def patient_for(token: str) -> Patient:
    """The patient a valid token names; raises BadToken when it names nobody."""
    return _patient(read_token(token))


def unsubscribe(token: str) -> Patient:
    """Opts the patient out (idempotent) and ends their pending reminders; the caller commits."""
    link = read_token(token)
    begin_write()
    patient = _patient(link)
    if patient.reminders_opt_in:
        patient.reminders_opt_in = False
        db.session.flush()
        audit.record(
            "patient.unsubscribed",
            "patient",
            patient.id,
            None,
            {"reminder_id": link.reminder_id, "via": "email link"},
            actor_label="patient",
        )
        planning.patient_opted_out(patient)
    return patient
