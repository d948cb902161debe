"""Offering a freed slot to the waitlist: one `waitlist_offer` email row per chosen patient.

Called by the one reconcile (scheduler.reminders.planning) when an appointment is cancelled,
whichever path cancelled it. The rows go out through the sweep like every other email (claimed,
sent once, retried while the mail server is down); each expires when the slot starts. An
offer's `seq` is its waitlist entry's id, so the unique (appointment_id, kind, seq) index makes
offering the same slot to the same entry twice impossible.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from scheduler.domain import reconcile as rules
from scheduler.domain import waitlist as wishes
from scheduler.extensions import db
from scheduler.models import Appointment, Reminder, WaitlistEntry
from scheduler.reminders.rows import new_row
from scheduler.services import clock


def waiting(treatment_id: int) -> list[wishes.Wish]:
    """The waiting entries of a treatment, as plan input."""
    rows = db.session.execute(
        select(
            WaitlistEntry.id,
            WaitlistEntry.patient_id,
            WaitlistEntry.practitioner_id,
            WaitlistEntry.from_date,
            WaitlistEntry.until_date,
            WaitlistEntry.created_at,
        ).where(WaitlistEntry.treatment_id == treatment_id, WaitlistEntry.status == "waiting")
    )
    return [wishes.Wish(*r) for r in rows]


def offer_slot(appt: Appointment) -> list[int]:
    """Queues offers of a cancelled appointment's slot to the first matching waiting patients; their entry ids."""
    now = clock.now()
    if appt.starts_at <= now:
        return []
    slot = wishes.Slot(appt.patient_id, appt.practitioner_id, clock.local_date(appt.starts_at))
    count = int(current_app.config.get("WAITLIST_OFFERS", wishes.OFFERS_PER_SLOT))
    chosen = wishes.offers_for(waiting(appt.treatment_id), slot, count)
    made = set(
        db.session.scalars(
            select(Reminder.seq).where(Reminder.appointment_id == appt.id, Reminder.kind == "waitlist_offer")
        )
    )
    fresh = [w for w in chosen if w.id not in made]
    for wish in fresh:
        op = rules.Create(wish.id, now, appt.starts_at)
        db.session.add(
            Reminder(**new_row(op, "waitlist_offer", wish.patient_id, appt.treatment_id, None, appt.id, now))
        )
    if fresh:
        db.session.flush()
    return [w.id for w in fresh]
