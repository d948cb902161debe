"""GET /availability: free starts of a day, without taken slots, time off, the past; clock changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.extensions import db
from scheduler.models import Appointment, TimeOff
from tests.api.conftest import TODAY, TUESDAY, assert_error, book
from tests.conftest import london

EVERY_DAY = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def slots(api, world, day: date | str, **params):
    resp = api.get(
        "/availability", **({"practitioner_id": world.prac, "treatment_id": world.migraine, "date": str(day)} | params)
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert list(body) == ["slots"]
    return body["slots"]


def hhmm(instants: list[str]) -> list[str]:
    return [s[11:16] for s in instants]


def test_a_free_day(reception_api, world):
    free = slots(reception_api, world, TUESDAY)
    assert len(free) == 31  # 09:00 .. 16:30 every 15 minutes
    assert free[0] == "2027-03-02T09:00:00+00:00" and free[-1] == "2027-03-02T16:30:00+00:00"
    assert all(s.endswith("+00:00") for s in free)
    assert free == sorted(free)


def test_taken_slots_are_excluded_and_come_back_when_cancelled(reception_api, world):
    appt = book(reception_api, world, london(TUESDAY, 10))
    free = hhmm(slots(reception_api, world, TUESDAY))
    assert "10:00" not in free and "10:15" not in free and "09:45" not in free
    assert "09:30" in free and "10:30" in free
    assert len(free) == 31 - 3
    # another practitioner is unaffected
    assert len(slots(reception_api, world, TUESDAY, practitioner_id=world.prac2)) == 31
    reception_api.post(f"/appointments/{appt['id']}/cancel")
    assert len(slots(reception_api, world, TUESDAY)) == 31


def test_every_offered_slot_can_be_booked(reception_api, world):
    book(reception_api, world, london(TUESDAY, 13, 15), patient_id=world.patient2)
    for start in slots(reception_api, world, TUESDAY)[::4]:
        resp = reception_api.post(
            "/appointments",
            json={
                "patient_id": world.patient2,
                "practitioner_id": world.prac2,
                "treatment_id": world.migraine,
                "starts_at": start,
            },
        )
        assert resp.status_code in (201, 409), resp.get_json()  # patient2 may be busy, never outside hours
        if resp.status_code == 409:
            assert resp.get_json()["error"]["code"] == "patient_busy"


def test_duration_decides_the_last_slot(reception_api, world):
    assert hhmm(slots(reception_api, world, TUESDAY, treatment_id=world.cosmetic))[-1] == "16:30"
    book(reception_api, world, london(TUESDAY, 9, 20), treatment_id=world.cosmetic)  # 09:20-09:40
    assert hhmm(slots(reception_api, world, TUESDAY))[:2] == ["09:45", "10:00"]


def test_time_off_is_excluded(reception_api, world):
    db.session.add(TimeOff(practitioner_id=world.prac, starts_at=london(TUESDAY, 12), ends_at=london(TUESDAY, 14)))
    db.session.add(
        TimeOff(
            practitioner_id=world.prac,
            starts_at=london(date(2027, 3, 3), 0),
            ends_at=london(date(2027, 3, 4), 0),
            reason="leave",
        )
    )
    db.session.commit()
    free = hhmm(slots(reception_api, world, TUESDAY))
    assert "11:30" in free and "11:45" not in free and "13:45" not in free and "14:00" in free
    assert slots(reception_api, world, date(2027, 3, 3)) == []


def test_the_past_is_excluded(reception_api, world, frozen):
    assert len(slots(reception_api, world, TODAY)) == 31  # 08:00 now: the whole day is ahead
    frozen.move_to(london(TODAY, 12, 10))
    free = slots(reception_api, world, TODAY)
    assert free[0] == "2027-03-01T12:15:00+00:00"
    assert slots(reception_api, world, TODAY - timedelta(days=1)) == []
    frozen.move_to(london(TODAY, 18))
    assert slots(reception_api, world, TODAY) == []


def test_days_off_and_inactive(admin_api, world):
    assert slots(admin_api, world, date(2027, 3, 6)) == []  # Saturday
    admin_api.patch(f"/practitioners/{world.prac}", json={"active": False})
    assert slots(admin_api, world, TUESDAY) == []
    admin_api.patch(f"/treatments/{world.cosmetic}", json={"active": False})
    assert slots(admin_api, world, TUESDAY, practitioner_id=world.prac2, treatment_id=world.cosmetic) == []


def test_spring_forward_day(reception_api, world, make_practitioner):
    """Sunday 28 March 2027: 09:00 local is 08:00 UTC; the day before it was 09:00 UTC."""
    prac = make_practitioner(name="Dr Always", working_hours=EVERY_DAY)
    saturday = slots(reception_api, world, date(2027, 3, 27), practitioner_id=prac.id)
    sunday = slots(reception_api, world, date(2027, 3, 28), practitioner_id=prac.id)
    assert saturday[0] == "2027-03-27T09:00:00+00:00" and sunday[0] == "2027-03-28T08:00:00+00:00"
    assert sunday[-1] == "2027-03-28T15:30:00+00:00"
    assert len(saturday) == len(sunday) == 31


def test_fall_back_day(reception_api, world, make_practitioner):
    prac = make_practitioner(name="Dr Always", working_hours=EVERY_DAY)
    saturday = slots(reception_api, world, date(2027, 10, 30), practitioner_id=prac.id)
    sunday = slots(reception_api, world, date(2027, 10, 31), practitioner_id=prac.id)
    assert saturday[0] == "2027-10-30T08:00:00+00:00" and sunday[0] == "2027-10-31T09:00:00+00:00"
    assert len(saturday) == len(sunday) == 31


def test_hours_across_the_skipped_hour(reception_api, world, make_practitioner):
    """00:30-03:00 local on 28 March 2027 is 00:30-02:00 UTC: 01:00-02:00 local never happens."""
    prac = make_practitioner(name="Dr Night", working_hours={"sun": [["00:30", "03:00"]]})
    free = slots(reception_api, world, date(2027, 3, 28), practitioner_id=prac.id)
    assert hhmm(free) == ["00:30", "00:45", "01:00", "01:15", "01:30"]
    resp = reception_api.post(
        "/appointments",
        json={
            "patient_id": world.patient,
            "practitioner_id": prac.id,
            "treatment_id": world.migraine,
            "starts_at": free[-1],
        },
    )
    assert resp.status_code == 201, resp.get_json()


def test_an_appointment_from_the_evening_before_blocks_the_morning(reception_api, world, make_practitioner):
    prac = make_practitioner(name="Dr Late", working_hours={"tue": [["23:00", "24:00"]], "wed": [["00:00", "02:00"]]})
    # booked before the hours changed: 23:45 on Tuesday until 00:15 on Wednesday
    db.session.add(
        Appointment(
            patient_id=world.patient,
            practitioner_id=prac.id,
            treatment_id=world.migraine,
            starts_at=london(TUESDAY, 23, 45),
            ends_at=london(TUESDAY, 23, 45) + timedelta(minutes=30),
            status="booked",
        )
    )
    db.session.commit()
    wednesday = hhmm(slots(reception_api, world, date(2027, 3, 3), practitioner_id=prac.id))
    assert wednesday[0] == "00:15"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"practitioner_id": 9999}, 404),
        ({"treatment_id": 9999}, 404),
        ({"date": "2027-02-30"}, 400),
        ({"date": "02/03/2027"}, 400),
        ({"date": ""}, 400),
        ({"date": "1700-01-01"}, 400),
        ({"practitioner_id": "one"}, 400),
        ({"practitioner_id": 2**31}, 400),
        ({"treatment_id": -1}, 400),
    ],
)
def test_bad_availability_queries(reception_api, world, params, status):
    base = {"practitioner_id": world.prac, "treatment_id": world.migraine, "date": TUESDAY.isoformat()}
    assert_error(reception_api.get("/availability", **(base | params)), status)


@pytest.mark.parametrize("missing", ["practitioner_id", "treatment_id", "date"])
def test_missing_availability_parameters_are_named(reception_api, world, missing):
    base = {"practitioner_id": world.prac, "treatment_id": world.migraine, "date": TUESDAY.isoformat()}
    base.pop(missing)
    err = assert_error(reception_api.get("/availability", **base), 400, "invalid")
    assert missing in err["fields"]
