"""The one booking path: its emails, the tracks it holds back, and the database's own refusal of
an overlap turned into a 409."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from scheduler.booking import operations
from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Reminder
from scheduler.services.errors import Conflict
from tests.api.conftest import TUESDAY, book, booking
from tests.conftest import london


def tue(hh: int, mm: int = 0):
    return london(TUESDAY, hh, mm)


@pytest.mark.parametrize("opted_in", [True, False])
def test_a_booking_plans_its_confirmation_and_pre_visit_emails(reception_api, world, opted_in):
    """A confirmation and, for a patient who wants reminders, a pre-visit reminder; an audit event."""
    from scheduler.models import Patient

    db.session.get(Patient, world.patient).reminders_opt_in = opted_in
    db.session.commit()
    appt = book(reception_api, world, london(date(2027, 3, 9), 10))
    db.session.rollback()
    stored = [
        (r.kind, r.status)
        for r in db.session.scalars(select(Reminder).where(Reminder.appointment_id == appt["id"]).order_by(Reminder.id))
    ]
    if opted_in:
        assert stored == [("confirmation", "pending"), ("pre_visit", "pending")]
    else:  # the planner's own answer for a patient who asked for no emails: no pre-visit reminder
        assert [kind for kind, _ in stored] == ["confirmation"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.booked"))
    assert event.entity_id == appt["id"] and event.details["patient_id"] == world.patient


def test_a_booking_holds_back_the_retreatment_reminders_of_earlier_sessions(reception_api, world):
    """A patient with sessions of the treatment: the booking goes through the tracks' reconcile."""
    resp = reception_api.post(
        f"/patients/{world.patient}/sessions",
        json={"treatment_id": world.migraine, "performed_on": "2026-12-01"},
    )
    assert resp.status_code == 201, resp.get_json()
    retreatment = select(Reminder.status, Reminder.reason).where(
        Reminder.patient_id == world.patient, Reminder.kind == "retreatment"
    )
    assert {s for s, _ in db.session.execute(retreatment)} == {"pending"}
    book(reception_api, world, london(date(2027, 3, 9), 10))
    db.session.rollback()
    assert {s for s, _ in db.session.execute(retreatment)} == {"cancelled"}


def test_the_database_has_the_last_word_on_postgresql(reception_api, world, monkeypatch):
    """The application's overlap check switched off, the slot taken: the exclusion constraint
    refuses the insert, named as a 409, nothing is written, and the caller can go on."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's exclusion constraints; SQLite's write lock makes the check final")
    book(reception_api, world, tue(9))
    monkeypatch.setattr(operations, "_refuse_overlap", lambda **kwargs: None)
    resp = reception_api.post("/appointments", json=booking(world, tue(9), patient_id=world.patient2))
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "slot_taken"
    with pytest.raises(Conflict) as refused:
        operations.book(
            patient_id=world.patient2,
            practitioner_id=world.prac,
            treatment_id=world.migraine,
            starts_at=tue(9),
            actor=None,
        )
    assert refused.value.code == "slot_taken"
    assert db.session.scalar(select(Appointment.id).where(Appointment.patient_id == world.patient2)) is None
    db.session.rollback()


def test_a_move_into_a_taken_slot_is_refused_by_the_database_on_postgresql(reception_api, world, monkeypatch):
    """Rescheduling shares the booking's guard: the constraint's refusal is a 409 and the
    appointment keeps its time."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's exclusion constraints; SQLite's write lock makes the check final")
    book(reception_api, world, tue(9))
    moving = book(reception_api, world, tue(11), patient_id=world.patient2)
    monkeypatch.setattr(operations, "_refuse_overlap", lambda **kwargs: None)
    resp = reception_api.post(f"/appointments/{moving['id']}/reschedule", json={"starts_at": tue(9).isoformat()})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "slot_taken"
    db.session.rollback()
    assert db.session.get(Appointment, moving["id"]).starts_at == tue(11)
