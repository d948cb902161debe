"""The buffer after a treatment's appointments: the practitioner's next booking, time off and the
end of working hours leave room for it, in availability, booking, rescheduling, the calendar and
(on PostgreSQL) the exclusion constraint; the patient is not held by it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.booking import operations
from scheduler.domain import slots as slot_rules
from scheduler.extensions import db
from scheduler.models import Appointment, TimeOff, Treatment
from tests.api.conftest import TUESDAY, assert_error, book, booking
from tests.api.test_availability import hhmm, slots
from tests.conftest import london


def tue(hh: int, mm: int = 0):
    return london(TUESDAY, hh, mm)


@pytest.fixture
def buffered(world):
    """The world's migraine treatment (30 minutes) with a 10-minute buffer."""
    db.session.get(Treatment, world.migraine).buffer_minutes = 10
    db.session.commit()
    return world


def test_the_rule():
    end = tue(10, 30)
    assert slot_rules.held_until(end, 10) == tue(10, 40)
    assert slot_rules.held_length(30, 10) == timedelta(minutes=40)
    assert slot_rules.shortest_hold([(30, 10), (20, 0), (15, 10)]) == timedelta(minutes=20)
    assert slot_rules.shortest_hold([]) is None


def test_a_booking_holds_the_practitioner_until_the_end_of_its_buffer(reception_api, buffered):
    appt = book(reception_api, buffered, tue(10))
    db.session.rollback()
    row = db.session.get(Appointment, appt["id"])
    assert row.ends_at == tue(10, 30) and row.held_until == tue(10, 40)
    # 10:30 falls in the buffer; 10:45 is free
    resp = reception_api.post("/appointments", json=booking(buffered, tue(10, 30), patient_id=buffered.patient2))
    assert_error(resp, 409, "slot_taken")
    book(reception_api, buffered, tue(10, 45), patient_id=buffered.patient2)


def test_a_new_booking_leaves_room_for_its_own_buffer_before_the_next(reception_api, buffered):
    book(reception_api, buffered, tue(11), patient_id=buffered.patient2)
    # 10:30-11:00 would fit, but its buffer runs to 11:10
    resp = reception_api.post("/appointments", json=booking(buffered, tue(10, 30)))
    assert_error(resp, 409, "slot_taken")
    # a treatment without a buffer fits there
    book(reception_api, buffered, tue(10, 30), treatment_id=buffered.dystonia)


def test_the_buffer_must_fit_in_working_hours_and_before_time_off(reception_api, buffered):
    resp = reception_api.post("/appointments", json=booking(buffered, tue(16, 30)))  # 17:00 + 10 > 17:00
    err = assert_error(resp, 422, "outside_hours")
    assert "10 minutes after it" in err["message"]
    db.session.add(TimeOff(practitioner_id=buffered.prac, starts_at=tue(12), ends_at=tue(13), reason="Lunch"))
    db.session.commit()
    assert_error(reception_api.post("/appointments", json=booking(buffered, tue(11, 30))), 422, "outside_hours")
    book(reception_api, buffered, tue(11, 15))


def test_the_patient_is_not_held_by_the_buffer(reception_api, buffered):
    book(reception_api, buffered, tue(10))
    book(reception_api, buffered, tue(10, 30), practitioner_id=buffered.prac2, treatment_id=buffered.cosmetic)


def test_availability_offers_only_starts_where_the_treatment_and_its_buffer_fit(reception_api, buffered):
    free = hhmm(slots(reception_api, buffered, TUESDAY))
    assert free[-1] == "16:15"  # 16:15 + 30 + 10 = 16:55; 16:30 would hold until 17:10
    book(reception_api, buffered, tue(12), patient_id=buffered.patient2)
    free = hhmm(slots(reception_api, buffered, TUESDAY))
    assert "11:15" in free and "11:30" not in free  # 11:30 + 40 runs into 12:00
    assert "12:30" not in free and "12:45" in free  # 12:30 is the 12:00 booking's buffer
    no_buffer = hhmm(slots(reception_api, buffered, TUESDAY, treatment_id=buffered.dystonia))
    assert "11:30" in no_buffer and "12:30" not in no_buffer and "12:45" in no_buffer


def test_rescheduling_keeps_the_buffer(reception_api, buffered):
    book(reception_api, buffered, tue(9), patient_id=buffered.patient2)
    moving = book(reception_api, buffered, tue(14))
    resp = reception_api.post(f"/appointments/{moving['id']}/reschedule", json={"starts_at": tue(9, 30).isoformat()})
    assert_error(resp, 409, "slot_taken")
    resp = reception_api.post(f"/appointments/{moving['id']}/reschedule", json={"starts_at": tue(9, 45).isoformat()})
    assert resp.status_code == 200, resp.get_json()
    db.session.rollback()
    assert db.session.get(Appointment, moving["id"]).held_until == tue(10, 25)


def test_an_admin_sets_the_buffer_through_the_api(admin_api, world):
    resp = admin_api.patch(f"/treatments/{world.migraine}", json={"buffer_minutes": 15})
    assert resp.status_code == 200 and resp.get_json()["buffer_minutes"] == 15
    for bad in (-1, 61, "10", 2.5):
        assert_error(admin_api.patch(f"/treatments/{world.migraine}", json={"buffer_minutes": bad}), 400)
    assert admin_api.get(f"/treatments/{world.migraine}").get_json()["buffer_minutes"] == 15


def test_the_database_holds_the_buffer_on_postgresql(reception_api, buffered, monkeypatch):
    """The application's overlap check switched off: the exclusion constraint on
    [starts_at, held_until) refuses a start inside another booking's buffer."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's exclusion constraints; SQLite's write lock makes the check final")
    book(reception_api, buffered, tue(9))
    monkeypatch.setattr(operations, "_refuse_overlap", lambda **kwargs: None)
    resp = reception_api.post("/appointments", json=booking(buffered, tue(9, 30), patient_id=buffered.patient2))
    assert_error(resp, 409, "slot_taken")
    db.session.rollback()
    assert db.session.scalar(select(Appointment.id).where(Appointment.patient_id == buffered.patient2)) is None
