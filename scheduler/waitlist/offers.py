"""A patient takes an offered slot from their link: through the one booking path, first come first served.

The offer page reads the offer (`read`); taking it books the slot with
`scheduler.booking.operations.book` under the same rules as a desk booking, so of patients who
tap at once exactly one gets it (SQLite: the write lock; PostgreSQL: the exclusion constraint);
the others are told it was taken and stay on the list. The taker leaves the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from scheduler.booking import operations
from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import Appointment, Practitioner, WaitlistEntry
from scheduler.models.appointment import occupying_conflicts
from scheduler.services import audit
from scheduler.services.errors import Conflict
from scheduler.services.signed_links import BadLink
from scheduler.waitlist.tokens import OfferLink, read_token


@dataclass(frozen=True)
class Offer:
    """What an offer page shows: the slot, with whom, and where it stands for this patient."""

    link: OfferLink
    first_name: str
    starts_at: datetime
    minutes: int
    practitioner: str
    #: open (can be taken), taken (by someone else), yours (this patient booked it), closed (off the list)
    state: str


def _load(link: OfferLink) -> tuple[WaitlistEntry, Appointment]:
    """The entry and the cancelled appointment a link names; BadLink if they do not belong together."""
    entry = db.session.get(WaitlistEntry, link.entry_id)
    slot = db.session.get(Appointment, link.appointment_id)
    if entry is None or slot is None or entry.treatment_id != slot.treatment_id:
        raise BadLink("This link is not valid.")
    return entry, slot


def _state(entry: WaitlistEntry, slot: Appointment) -> str:
    """Where the offer stands for this patient."""
    holders = db.session.scalars(
        occupying_conflicts(slot.starts_at, slot.ends_at, practitioner_id=slot.practitioner_id)
    ).all()
    if any(a.patient_id == entry.patient_id for a in holders):
        return "yours"
    if holders:
        return "taken"
    return "open" if entry.status == "waiting" else "closed"


def read(token: str) -> Offer:
    """The offer behind a link; raises BadLink."""
    link = read_token(token)
    entry, slot = _load(link)
    practitioner = db.session.scalar(select(Practitioner.name).where(Practitioner.id == slot.practitioner_id))
    return Offer(
        link,
        entry.patient.first_name,
        slot.starts_at,
        int((slot.ends_at - slot.starts_at).total_seconds() // 60),
        practitioner or "",
        _state(entry, slot),
    )


def take(token: str) -> Appointment:
    """Books the offered slot for the patient of the link; the caller commits.

    Raises BadLink, Conflict (`taken`: someone was first; `closed`: no longer on the list) or a
    booking rule's error (Rejected: the practitioner's hours changed, the slot is too soon).
    """
    link = read_token(token)
    begin_write()
    entry, slot = _load(link)
    if entry.status != "waiting":
        raise Conflict("You are no longer on the waitlist for this.", code="closed")
    try:
        appt = operations.book(
            patient_id=entry.patient_id,
            practitioner_id=slot.practitioner_id,
            treatment_id=slot.treatment_id,
            starts_at=slot.starts_at,
            actor=None,
        )
    except Conflict as exc:
        if exc.code == "slot_taken":
            raise Conflict("Someone else took this time a moment ago.", code="taken") from None
        raise
    entry.status, entry.appointment_id = "booked", appt.id
    db.session.flush()
    audit.record(
        "waitlist.offer_taken",
        "appointment",
        appt.id,
        None,
        {"waitlist_entry_id": entry.id, "slot_of": slot.id, "via": "offer link"},
        actor_label="patient",
    )
    return appt
