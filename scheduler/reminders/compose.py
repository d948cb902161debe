"""Builds a reminder's email: templates/emails/<kind>.txt + .html (subject in a block), headers, .ics.

The email names the clinic and says "your next appointment": never the treatment or diagnosis.
It is an `EmailMessage` built with `email.policy.default`: addresses are `Address` objects and
every header value is checked, so a name or address holding a line break (or any other control
character) is refused with `Unbuildable` instead of writing a header of its own.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from email import message_from_bytes, policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

from flask import current_app
from icalendar import Calendar, Event

from scheduler.models import Appointment, Patient, Reminder
from scheduler.reminders import mime, unsubscribe
from scheduler.selfservice.links import appointment_link_for, booking_link_for
from scheduler.services import clock
from scheduler.waitlist import tokens as offers

#: Unicode categories no header may hold: control characters, line and paragraph separators
FORBIDDEN = frozenset({"Cc", "Zl", "Zp"})


class Unbuildable(ValueError):
    """A value the email cannot carry: a control character in a header, or an address that is not one mailbox."""


@dataclass(frozen=True)
class Track:
    """One re-treatment track in a reminder email (several of one patient's go out as one email).

    Named by the day of the session it follows, never by its treatment.
    """

    reminder_id: int
    session_id: int | None
    treatment_id: int
    performed_on: date | None
    last: bool
    #: the reminder's expiry (the track's window closing): the track's booking link lasts that long + 14 days
    expires_at: datetime | None = None
    kind: str = "retreatment"


#: the iCalendar METHOD and STATUS of each email kind that carries the appointment
ICS = {
    "confirmation": ("REQUEST", "CONFIRMED"),
    "pre_visit": ("REQUEST", "CONFIRMED"),
    "cancellation": ("CANCEL", "CANCELLED"),
}


@dataclass(frozen=True)
class Rendered:
    """A rendered email: subject, text and HTML bodies."""

    subject: str
    text: str
    html: str


def local_when(instant: datetime) -> str:
    """'Monday 29 March 2027 at 10:00 (BST)': an instant in clinic time, as emails write it."""
    t = clock.local(instant)
    return f"{t:%A} {t.day} {t:%B %Y} at {t:%H:%M} ({t.tzname()})"


def short_when(instant: datetime) -> str:
    """'Monday 29 March at 10:00': for subjects."""
    t = clock.local(instant)
    return f"{t:%A} {t.day} {t:%B} at {t:%H:%M}"


def context(
    reminder: Reminder, patient: Patient, appt: Appointment | None, last: bool, tracks: list[Track] | None = None
) -> dict[str, Any]:
    """The template variables of one email."""
    cfg = current_app.config
    token = unsubscribe.make_token(patient, reminder)  # the link stops what this email is (its kind)
    moved_from = getattr(reminder, "moved_from", None)
    return _track_context(reminder, patient, tracks, last) | {
        "clinic_name": cfg["CLINIC_NAME"],
        "clinic_phone": cfg.get("CLINIC_PHONE"),
        "reply_to": sender(cfg["MAIL_DEFAULT_SENDER"])[1],
        "first_name": patient.first_name,
        "kind": reminder.kind,
        "last_reminder": last,
        "when": local_when(appt.starts_at) if appt is not None else None,
        "short_when": short_when(appt.starts_at) if appt is not None else None,
        "minutes": int((appt.ends_at - appt.starts_at).total_seconds() // 60) if appt is not None else None,
        "book_url": booking_link_for(reminder, patient) or f"{cfg['BASE_URL']}/p/book",
        "manage_url": appointment_link_for(appt, patient) if appt is not None else None,
        "unsubscribe_url": unsubscribe.url(token),
        "moved_from": local_when(moved_from) if moved_from is not None and reminder.kind == "confirmation" else None,
        "offer_url": _offer_url(reminder, appt),
    }


def _track_context(reminder: Reminder, patient: Patient, tracks: list[Track] | None, last: bool) -> dict[str, Any]:
    """A re-treatment email's tracks, each with its own booking link (one track unless the sweep
    combined several); the general booking page when a track has no link of its own."""
    if reminder.kind != "retreatment":
        return {"tracks": []}
    fallback = f"{current_app.config['BASE_URL']}/p/book"
    if not tracks:
        tracks = [Track(reminder.id, reminder.session_id, reminder.treatment_id, None, last, reminder.expires_at)]
    return {
        "tracks": [
            {
                "after": f"{t.performed_on.day} {t.performed_on:%B %Y}" if t.performed_on else None,
                "last": t.last,
                "book_url": booking_link_for(t, patient) or fallback,
            }
            for t in tracks
        ]
    }


def _offer_url(reminder: Reminder, appt: Appointment | None) -> str | None:
    """A waitlist offer's signed link (its seq is the waitlist entry's id), valid until the slot starts."""
    if reminder.kind != "waitlist_offer" or appt is None:
        return None
    return offers.url(offers.make_token(reminder.seq, appt.id, appt.starts_at))


def render(kind: str, ctx: dict[str, Any]) -> Rendered:
    """Renders emails/<kind>.txt and .html; the subject comes from the `subject` block of the text one."""
    env = current_app.jinja_env
    text_tmpl = env.get_template(f"emails/{kind}.txt")
    subject = " ".join("".join(text_tmpl.blocks["subject"](text_tmpl.new_context(ctx))).split())
    text = text_tmpl.render(ctx).strip() + "\n"
    html = env.get_template(f"emails/{kind}.html").render(ctx | {"subject": subject})
    return Rendered(subject, text, html)


def ics(
    appt: Appointment,
    sequence: int,
    now: datetime,
    domain: str,
    *,
    kind: str = "confirmation",
    organizer: str | None = None,
    attendee: str | None = None,
) -> bytes:
    """The appointment as an iCalendar (iTIP) file: UTC times, a UID stable per appointment.

    METHOD:REQUEST for a confirmation or reminder (a move sends a higher SEQUENCE, so calendars
    update the event), METHOD:CANCEL with a higher SEQUENCE still for a cancellation (calendars
    remove it). The clinic is the organiser, the patient the attendee.
    """
    clinic_name = current_app.config["CLINIC_NAME"]
    method, status = ICS[kind]
    cal = Calendar()
    cal.add("prodid", "-//Clinic scheduler//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", f"appointment-{appt.id}@{domain}")
    event.add("dtstamp", now.astimezone(clock.UTC))
    event.add("dtstart", appt.starts_at.astimezone(clock.UTC))
    event.add("dtend", appt.ends_at.astimezone(clock.UTC))
    event.add("sequence", sequence)
    event.add("status", status)
    if organizer:
        event.add("organizer", f"mailto:{organizer}", parameters={"CN": clinic_name})
    if attendee:
        event.add("attendee", f"mailto:{attendee}", parameters={"ROLE": "REQ-PARTICIPANT"})
    event.add("summary", f"Appointment at {clinic_name}")
    event.add("location", clinic_name)
    event.add("description", f"Your appointment at {clinic_name}.")
    cal.add_component(event)
    return cal.to_ical()


def build(
    reminder: Reminder,
    patient: Patient,
    appt: Appointment | None,
    *,
    now: datetime,
    last: bool = False,
    sequence: int = 0,
    tracks: list[Track] | None = None,
) -> EmailMessage:
    """The complete message: text + HTML alternatives, list headers, the .ics for appointment emails.

    `tracks`: the re-treatment tracks one email speaks for (the sweep combines a patient's due ones).
    Raises Unbuildable when a name, address or subject cannot be written safely into a header.
    """
    cfg = current_app.config
    ctx = context(reminder, patient, appt, last, tracks)
    body = render(reminder.kind, ctx)
    sender_name, address = sender(cfg["MAIL_DEFAULT_SENDER"])
    msg = EmailMessage(policy=mime.LONG_LINES)
    msg["Subject"] = checked(body.subject, "the subject")
    msg["From"] = _from(sender_name or cfg["CLINIC_NAME"], address)
    msg["To"] = mailbox(patient.full_name, patient.email or "", "the patient's name or email address")
    msg["Date"] = now.astimezone(clock.UTC)
    msg["Message-ID"] = reminder.message_id
    msg["List-Unsubscribe"] = f"<{ctx['unsubscribe_url']}>"
    msg["List-Unsubscribe-Post"] = mime.fixed("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    msg["Auto-Submitted"] = mime.fixed("Auto-Submitted", "auto-generated")
    calendar = None
    if appt is not None and reminder.kind in ICS:
        domain = address.rpartition("@")[2] or "localhost"
        invite = ics(appt, sequence, now, domain, kind=reminder.kind, organizer=address or None, attendee=patient.email)
        calendar = mime.calendar_part(invite, ICS[reminder.kind][0])
    return mime.assemble(msg, body.text, body.html, calendar)


@lru_cache(maxsize=4)
def _from(name: str, address: str):
    """The From header: the clinic's configured sender, checked and parsed once."""
    return mime.fixed("From", str(mailbox(name, address, "the sender (MAIL_DEFAULT_SENDER)")))


def mailbox(name: str, addr_spec: str, what: str) -> Address:
    """An address header value; Unbuildable if the name or address holds a control character,
    or the address is not one plain (ASCII) mailbox."""
    checked(name + addr_spec, what)
    try:
        return Address(display_name=name, addr_spec=addr_spec)
    except (ValueError, HeaderParseError, IndexError) as exc:  # IndexError: an empty address
        detail = "it is empty" if isinstance(exc, IndexError) else exc
        raise Unbuildable(f"{addr_spec!r} is not a usable email address: {detail}") from exc


def checked(value: str, what: str) -> str:
    """The value, if it holds no control character (line breaks included); else Unbuildable."""
    if any(unicodedata.category(ch) in FORBIDDEN for ch in value):
        raise Unbuildable(f"{what} contains a line break or another control character")
    return value


@lru_cache(maxsize=4)
def sender(configured: str) -> tuple[str, str]:
    """MAIL_DEFAULT_SENDER as (display name, address), parsed once (twice an email otherwise)."""
    return parseaddr(configured)


def why(exc: Exception) -> str:
    """Why an email could not be built, in a line: the value at fault, or the error."""
    return str(exc) if isinstance(exc, Unbuildable) else f"{type(exc).__name__}: {exc}"


def as_sent(msg: EmailMessage) -> EmailMessage:
    """The message as its recipient reads it: written out and parsed back."""
    return message_from_bytes(msg.as_bytes(), policy=policy.default)  # type: ignore[return-value]
