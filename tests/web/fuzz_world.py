"""The clinic the form fuzz test works in (one of everything), the hostile values it sends, and a
snapshot of the database to go back to after a request that was accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import ApiToken, Appointment, Base, Reminder, TimeOff
from scheduler.patients import intervals as patient_intervals
from scheduler.patients import sessions
from scheduler.reminders import planning, unsubscribe
from scheduler.selfservice import links
from scheduler.staff import tokens, users
from scheduler.waitlist import entries as waitlist
from scheduler.waitlist import tokens as offer_tokens
from tests.conftest import COSMETIC, PASSWORD, TODAY, TUESDAY, london

#: what goes into every query argument, form field and path segment, by a short name for reports
HOSTILE = {
    "NUL": "\x00",
    "CR/LF": "/\r\nX-Injected: 1",
    "100k characters": "x" * 100_000,
    "year 1": "0001-01-01",
    "year 9999": "9999-12-31",
    "huge id": "99999999999999999999",
    "2^31": "2147483648",
    "negative": "-1",
}
#: the extreme dates as a datetime-local input sends them
AS_DATETIME = {"year 1": "0001-01-01T00:00", "year 9999": "9999-12-31T23:59"}
#: what goes into an <int:...> path segment
HOSTILE_IDS = ["0", "-1", "2147483648", "99999999999999999999"]
ADMIN_EMAIL = "fuzz.admin@example.com"


def hostile_values(kind: str = "text") -> dict[str, str]:
    """The hostile values for a control of this input type (extreme dates with a time for datetime-local)."""
    return HOSTILE | AS_DATETIME if kind == "datetime-local" else HOSTILE


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table."""
    return {t.name: [dict(r._mapping) for r in db.session.execute(select(t))] for t in Base.metadata.sorted_tables}


def restore(rows: dict[str, list[dict]]) -> None:
    """Puts the database back to a snapshot: the same rows with the same ids (sequences are left ahead)."""
    for table in reversed(Base.metadata.sorted_tables):
        db.session.execute(table.delete())
    for table in Base.metadata.sorted_tables:
        if rows[table.name]:
            db.session.execute(table.insert(), rows[table.name])
    db.session.commit()


def build_world(make_patient, make_practitioner, make_treatment) -> dict[str, list]:
    """One of everything (two where a page shows other forms by state); the values of every path variable."""
    migraine, cosmetic = make_treatment(name="Chronic migraine"), make_treatment(**COSMETIC)
    hart, olivia = make_practitioner(name="Dr Hart"), make_patient(first_name="Olivia", last_name="Smith")
    staff = users.create("fuzz.reception@example.com", "receptionist", PASSWORD, name="Rec", actor_label="fuzz")
    retired = users.create("fuzz.retired@example.com", "receptionist", PASSWORD, name="Old", actor_label="fuzz")
    retired.active = False
    tokens.issue_token(staff, actor_label="fuzz")
    db.session.commit()  # each service below opens its own write transaction
    past = sessions.record_past(
        olivia.id, actor=None, treatment_id=migraine.id, performed_on=TODAY - timedelta(days=100), lot_number="Fuzz"
    )  # the lot a person searching types (fuzz_site.TYPED)
    db.session.commit()
    patient_intervals.set_window(olivia.id, migraine.id, "P12W", "P5M", "wears off early", actor=None)
    db.session.commit()
    booked = _appointment(olivia.id, hart.id, cosmetic, london(TUESDAY, 10), "booked")
    checked_in = _appointment(olivia.id, hart.id, migraine, london(TODAY, 9), "checked_in")
    # booked for later today: its check-in button is offered (check-in only on the day)
    today = _appointment(olivia.id, hart.id, migraine, london(TODAY, 11), "booked")
    off = TimeOff(practitioner_id=hart.id, starts_at=london(TUESDAY, 14), ends_at=london(TUESDAY, 15), reason="x")
    db.session.add(off)
    db.session.flush()
    freed = _appointment(olivia.id, hart.id, cosmetic, london(TUESDAY, 11), "cancelled")  # a slot for the waitlist
    wish = waitlist.add(
        patient_id=olivia.id,
        treatment_id=cosmetic.id,
        practitioner_id=None,
        from_date=TODAY,
        until_date=TUESDAY,
        actor=None,
    )
    failed = db.session.query(Reminder).order_by(Reminder.id).first()
    failed.status, failed.reason, failed.attempts = "failed", "mail server down", 5
    token_id = db.session.query(ApiToken.id).filter_by(user_id=staff.id).scalar()
    db.session.commit()
    return {
        "patient_id": [olivia.id],
        "practitioner_id": [hart.id],
        "treatment_id": [migraine.id],
        "appointment_id": [booked.id, checked_in.id, today.id],
        "reminder_id": [failed.id],
        "user_id": [staff.id, retired.id],
        "token_id": [token_id],
        "time_off_id": [off.id],
        "session_id": [past.id],
        # the patients' links: unsubscribe, waitlist offer, booking (the track's reminder) and change-or-cancel
        "token": [
            unsubscribe.make_token(olivia),
            offer_tokens.make_token(wish.id, freed.id, freed.starts_at),
            *_patient_tokens(make_patient, migraine, olivia, booked),
        ],
        "entry_id": [wish.id],
        "action": ["check-in", "no-show", "undo"],
    }


def _patient_tokens(make_patient, migraine, olivia, booked: Appointment) -> list[str]:
    """A booking token of an open track (Noah's) and Olivia's change-or-cancel token of `booked`;
    their pages answer as often as the fuzz asks."""
    current_app.config["PATIENT_LINK_RATE_PER_MINUTE"] = 1_000_000
    noah = make_patient(first_name="Noah", last_name="Jones")
    day = TODAY - timedelta(days=90)
    session = sessions.record_past(noah.id, actor=None, treatment_id=migraine.id, performed_on=day)
    db.session.commit()
    reminder = db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id, Reminder.kind == "retreatment").order_by(Reminder.seq)
    ).first()
    booking = links.booking_link_for(reminder, noah).rsplit("/", 1)[1]
    return [booking, links.appointment_token(booked, olivia)]


def _appointment(patient_id: int, practitioner_id: int, treatment, start: datetime, status: str) -> Appointment:
    """An appointment row with its planned emails."""
    appt = Appointment(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        treatment_id=treatment.id,
        starts_at=start.astimezone(UTC),
        ends_at=start + timedelta(minutes=treatment.duration_minutes),
        status=status,
    )
    db.session.add(appt)
    db.session.flush()
    planning.appointment_changed("booked", appt)
    return appt
