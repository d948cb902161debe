"""Signed unsubscribe links (itsdangerous): one click ends every pending reminder of that patient."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

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


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(patient_id: int, reminder_id: int | None = None) -> str:
    """A signed, dated token naming the patient (and the email it came in)."""
    return _serializer().dumps({"p": patient_id, "r": reminder_id})


def url(token: str) -> str:
    """The absolute unsubscribe link for a token."""
    return f"{current_app.config['BASE_URL']}/p/unsubscribe/{token}"


def read_token(token: str) -> tuple[int, int | None]:
    """The (patient id, reminder id) a token names; raises BadToken."""
    max_age = int(current_app.config.get("UNSUBSCRIBE_MAX_AGE_DAYS", MAX_AGE_DAYS)) * 86400
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadToken("This unsubscribe link has expired.", expired=True) from None
    except BadSignature:
        raise BadToken("This unsubscribe link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        raise BadToken("This unsubscribe link is not valid.")
    reminder = data.get("r")
    return data["p"], reminder if isinstance(reminder, int) else None


def patient_for(token: str) -> Patient:
    """The patient a valid token names; raises BadToken when it names nobody."""
    patient_id, _reminder = read_token(token)
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise BadToken("This unsubscribe link is not valid.")
    return patient


def unsubscribe(token: str) -> Patient:
    """Opts the patient out (idempotent) and ends their pending reminders; the caller commits."""
    patient_id, reminder_id = read_token(token)
    begin_write()
    patient = patient_for(token)
    if patient.reminders_opt_in:
        patient.reminders_opt_in = False
        db.session.flush()
        audit.record(
            "patient.unsubscribed",
            "patient",
            patient_id,
            None,
            {"reminder_id": reminder_id, "via": "email link"},
            actor_label="patient",
        )
        planning.patient_opted_out(patient)
    return patient
