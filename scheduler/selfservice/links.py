"""Signed links in patients' emails, one purpose each, naming one patient.

- a booking link (`booking_link_for`) names a re-treatment track (the session it follows) and
  works until the track's window closed 14 days ago (the reminder's `expires_at`, carried in
  the token, so the link needs no row of its own);
- an appointment link (`appointment_link_for`) names one appointment; it works while the
  appointment is ahead (what may still be done is decided on the page: the cut-off).

Both also carry the patient's random unsubscribe key, checked against the row the link names: a
token of one patient never opens another's track or appointment. Each purpose signs with its own
salt (scheduler.services.signed_links), so a token is refused anywhere but on its own page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scheduler.domain.selfservice import link_expired
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, Treatment, TreatmentSession
from scheduler.services import clock
from scheduler.services.signed_links import BadLink, absolute, instant, read, sign, whole

BOOK_SALT = "patients.book"
APPOINTMENT_SALT = "patients.appointment"


@dataclass(frozen=True)
class Track:
    """What a booking link opens: the patient's re-treatment track of one treatment."""

    session: TreatmentSession
    patient: Patient
    treatment: Treatment


class Keyed(Protocol):
    """A patient as links need them: a Patient, or a row read with its unsubscribe key."""

    unsubscribe_key: str | None


class Tracked(Protocol):
    """A reminder as a booking link needs it (the model, or a row with the same names)."""

    kind: str
    session_id: int | None
    expires_at: datetime | None


class Identified(Protocol):
    """An appointment as its link needs it."""

    id: int


def _key(patient: Keyed) -> str:
    if not patient.unsubscribe_key:
        raise ValueError("the patient has no unsubscribe key (a row written outside the application)")
    return patient.unsubscribe_key


def booking_token(patient: Keyed, session_id: int, expires_at: datetime) -> str:
    """A booking token for one track, valid until `expires_at`."""
    payload = {"k": _key(patient), "s": session_id, "x": int(expires_at.timestamp())}
    return sign(BOOK_SALT, payload)


def booking_link_for(reminder: Tracked, patient: Keyed) -> str | None:
    """The personal booking link of a re-treatment reminder (None for any other email): one per
    track, so an email about several tracks carries one link each."""
    if reminder.kind != "retreatment" or reminder.session_id is None or reminder.expires_at is None:
        return None
    return absolute(f"/p/book/{booking_token(patient, reminder.session_id, reminder.expires_at)}")


def appointment_token(appt: Identified, patient: Keyed) -> str:
    """A token for moving or cancelling one appointment of the patient's."""
    return sign(APPOINTMENT_SALT, {"k": _key(patient), "a": appt.id})


def appointment_link_for(appt: Identified, patient: Keyed) -> str:
    """The "change or cancel" link of an appointment's emails and pages."""
    return absolute(f"/p/appointment/{appointment_token(appt, patient)}")


def _load(token: str, salt: str) -> dict:
    """The signed payload of a token, naming a patient by key, or BadLink."""
    data = read(token, salt)
    if not isinstance(data.get("k"), str):
        raise BadLink()
    return data


def read_booking(token: str) -> Track:
    """The track a booking token opens; BadLink when it is not valid, expired when its window is over."""
    data = _load(token, BOOK_SALT)
    session_id, expires = whole(data, "s"), instant(data, "x")
    session = db.session.get(TreatmentSession, session_id)
    if session is None or session.patient.unsubscribe_key != data["k"]:
        raise BadLink("This link is not valid.")
    if link_expired(expires, clock.now()):
        raise BadLink("This booking link has expired.", expired=True)
    return Track(session, session.patient, session.treatment)


def read_appointment(token: str) -> Appointment:
    """The appointment an appointment token opens; BadLink when not valid, expired once it is over."""
    data = _load(token, APPOINTMENT_SALT)
    appt = db.session.get(Appointment, whole(data, "a"))
    if appt is None or appt.patient.unsubscribe_key != data["k"]:
        raise BadLink("This link is not valid.")
    if link_expired(appt.ends_at, clock.now()):
        raise BadLink("This appointment has already taken place.", expired=True)
    return appt
