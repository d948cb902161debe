"""What a patient does through a link: book from a re-treatment reminder, move or cancel an appointment.

Each goes through the single booking path (scheduler.booking.operations / visits) under the same
rules as a desk booking, audited as made by the patient via their link. They flush; the caller
commits (and rolls back on a refusal).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from scheduler.booking import operations, visits
from scheduler.db import begin_write
from scheduler.domain import selfservice as rules
from scheduler.domain.reconcile import HOLDING
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, WaitlistEntry
from scheduler.selfservice import links, picker
from scheduler.services import clock
from scheduler.services.errors import Conflict, Rejected
from scheduler.waitlist import entries

#: who the audit log names for what a patient did through an email link (no staff user)
PATIENT_VIA_LINK = "patient via link"
CANCEL_REASON = "cancelled by the patient through their email link"


def booked_for(track: links.Track) -> Appointment | None:
    """The appointment that closed the track (booked or checked in, of the same treatment, on or
    after the session's day), if there is one: the booking link then shows it."""
    since = clock.day_bounds(track.session.performed_on)[0]
    stmt = (
        select(Appointment)
        .where(
            Appointment.patient_id == track.patient.id,
            Appointment.treatment_id == track.treatment.id,
            Appointment.status.in_(HOLDING),
            Appointment.starts_at >= since,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if track.session.appointment_id is not None:
        stmt = stmt.where(Appointment.id != track.session.appointment_id)
    return db.session.scalars(stmt.limit(1)).first()


def book(token: str, practitioner_id: int, starts_at: datetime) -> Appointment:
    """Books the track's treatment at a chosen time (the desk's rules; a race has one winner)."""
    begin_write()  # SQLite: the track's check and the booking under one write lock
    track = links.read_booking(token)
    # PostgreSQL: one booking of a track at a time (two taps, two tabs), whatever the times chosen
    db.session.get(Patient, track.patient.id, with_for_update=True, populate_existing=True)
    if booked_for(track) is not None:
        raise Conflict("You have already booked this appointment.", code="already_booked")
    return operations.book(
        patient_id=track.patient.id,
        practitioner_id=practitioner_id,
        treatment_id=track.treatment.id,
        starts_at=starts_at,
        actor=None,
        actor_label=PATIENT_VIA_LINK,
    )


def changeable(appt: Appointment) -> bool:
    """Whether the patient may still move or cancel the appointment themselves (booked, before the cut-off)."""
    cutoff = int(current_app.config["PATIENT_CHANGE_CUTOFF_HOURS"])
    return appt.status == "booked" and rules.can_change(appt.starts_at, clock.now(), cutoff)


def _changeable(appt: Appointment) -> None:
    if appt.status != "booked":
        raise Conflict(
            f"This appointment is {appt.status.replace('_', ' ')}; it cannot be changed.", code="bad_transition"
        )
    if not changeable(appt):
        raise Rejected("It is too close to the appointment to change it online; please call us.", code="too_late")


def move(token: str, starts_at: datetime) -> Appointment:
    """Moves the link's appointment to another time with the same practitioner, before the cut-off."""
    begin_write()
    appt = links.read_appointment(token)
    _changeable(appt)
    return operations.reschedule(appt.id, starts_at, actor=None, actor_label=PATIENT_VIA_LINK)


def cancel(token: str) -> Appointment:
    """Cancels the link's appointment before the cut-off (its reminders follow: one reconcile)."""
    begin_write()
    appt = links.read_appointment(token)
    _changeable(appt)
    return visits.change_status(appt.id, "cancelled", actor=None, reason=CANCEL_REASON, actor_label=PATIENT_VIA_LINK)


def join_waitlist(token: str, practitioner_id: int | None, from_date: date, until_date: date) -> WaitlistEntry:
    """Puts the track's patient on the waitlist for its treatment when no time suits (never for days
    before the safety minimum); a second request while they wait changes their dates."""
    begin_write()
    track = links.read_booking(token)
    first = picker.first_day(track.patient.id, track.treatment)
    if from_date < first:
        raise Rejected(
            f"The first day can be {first:%A} {first.day} {first:%B} at the earliest.",
            code="bad_dates",
            fields={"from_date": "too early"},
        )
    waiting = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.patient_id == track.patient.id,
            WaitlistEntry.treatment_id == track.treatment.id,
            WaitlistEntry.status == "waiting",
        )
    ).all()
    for old in waiting:  # the new dates replace the old ones: one entry per patient and treatment
        entries.remove(old.id, actor=None, actor_label=PATIENT_VIA_LINK)
    return entries.add(
        patient_id=track.patient.id,
        treatment_id=track.treatment.id,
        practitioner_id=practitioner_id,
        from_date=from_date,
        until_date=until_date,
        actor=None,
        actor_label=PATIENT_VIA_LINK,
    )
