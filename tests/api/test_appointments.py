"""Booking, the clinic's rules (409 / 422), the safety interval and its override, rescheduling,
the status lifecycle, completion and the appointment list."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, TimeOff, TreatmentSession
from tests.api.conftest import NOW, TUESDAY, assert_error, audit_actions, book, booking, row_counts
from tests.conftest import london

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")
APPOINTMENT_FIELDS = {"id", "patient_id", "practitioner_id", "treatment_id", "starts_at", "ends_at", "status"}
COMPLETE = {"units": 155, "lot_number": "C1234C3"}


def tue(hh: int, mm: int = 0):
    return london(TUESDAY, hh, mm)


def record_session(api, world, performed_on: date, treatment_id: int | None = None, patient_id: int | None = None):
    resp = api.post(
        f"/patients/{patient_id or world.patient}/sessions",
        json={"treatment_id": treatment_id or world.migraine, "performed_on": performed_on.isoformat()},
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def status_of(appt_id: int) -> str:
    db.session.rollback()
    return db.session.get(Appointment, appt_id).status


# --- booking -------------------------------------------------------------------------------


def test_book_201_with_the_appointment(reception_api, world):
    resp = reception_api.post("/appointments", json=booking(world, tue(9)))
    assert resp.status_code == 201, resp.get_json()
    appt = resp.get_json()
    assert set(appt) >= APPOINTMENT_FIELDS
    assert appt == appt | {
        "patient_id": world.patient,
        "practitioner_id": world.prac,
        "treatment_id": world.migraine,
        "starts_at": "2027-03-02T09:00:00+00:00",
        "ends_at": "2027-03-02T09:30:00+00:00",
        "status": "booked",
    }
    assert RFC3339.match(appt["starts_at"]) and RFC3339.match(appt["ends_at"])
    assert reception_api.get(f"/appointments/{appt['id']}").get_json() == appt
    assert audit_actions("appointment", appt["id"]) == ["appointment.booked"]


def test_any_offset_is_accepted_and_answered_in_utc(reception_api, world):
    assert book(reception_api, world, "2027-03-02T10:00:00+01:00")["starts_at"] == "2027-03-02T09:00:00+00:00"
    assert book(reception_api, world, "2027-03-02T09:30:00Z")["starts_at"] == "2027-03-02T09:30:00+00:00"
    assert book(reception_api, world, "2027-03-02T05:00:00-05:00")["starts_at"] == "2027-03-02T10:00:00+00:00"


def test_cosmetic_duration_sets_the_end(reception_api, world):
    appt = book(reception_api, world, tue(16, 40), treatment_id=world.cosmetic)
    assert appt["ends_at"] == "2027-03-02T17:00:00+00:00"


def test_summer_time_hours_are_local(reception_api, world):
    """In British Summer Time the 09:00-17:00 day is 08:00-16:00 UTC."""
    assert book(reception_api, world, "2027-06-01T08:00:00+00:00")["starts_at"] == "2027-06-01T08:00:00+00:00"
    assert book(reception_api, world, "2027-06-01T15:30:00+00:00")["ends_at"] == "2027-06-01T16:00:00+00:00"
    for start in ("2027-06-01T07:45:00+00:00", "2027-06-01T15:45:00+00:00", "2027-06-01T16:00:00+00:00"):
        assert_error(reception_api.post("/appointments", json=booking(world, start)), 422, "outside_hours")


def test_clock_change_day(reception_api, world, make_practitioner):
    """28 March 2027 the clocks go forward: 09:00 local is 08:00 UTC; on 27 March it was 09:00 UTC."""
    sunday = make_practitioner(
        name="Dr Weekend", working_hours={"sat": [["09:00", "17:00"]], "sun": [["09:00", "17:00"]]}
    )
    assert (
        book(reception_api, world, london(date(2027, 3, 27), 9), practitioner_id=sunday.id)["starts_at"]
        == "2027-03-27T09:00:00+00:00"
    )
    appt = book(reception_api, world, london(date(2027, 3, 28), 9), practitioner_id=sunday.id)
    assert appt["starts_at"] == "2027-03-28T08:00:00+00:00"
    assert_error(
        reception_api.post(
            "/appointments", json=booking(world, "2027-03-28T07:30:00+00:00", practitioner_id=sunday.id)
        ),
        422,
        "outside_hours",
    )


@pytest.mark.parametrize(
    "start",
    [
        "2027-03-02T08:45:00+00:00",  # before opening
        "2027-03-02T16:45:00+00:00",  # runs past 17:00
        "2027-03-02T17:00:00+00:00",  # at closing
        "2027-03-02T23:50:00+00:00",  # runs into the next day
        "2027-03-06T10:00:00+00:00",  # Saturday
        "2027-03-07T10:00:00+00:00",  # Sunday
    ],
)
def test_outside_hours_is_422(reception_api, world, start):
    before = row_counts()
    err = assert_error(reception_api.post("/appointments", json=booking(world, start)), 422, "outside_hours")
    assert "starts_at" in err["fields"]
    assert row_counts() == before


def test_working_hours_edges_are_bookable(reception_api, world):
    assert book(reception_api, world, tue(9))["starts_at"] == "2027-03-02T09:00:00+00:00"
    assert book(reception_api, world, tue(16, 30))["ends_at"] == "2027-03-02T17:00:00+00:00"


def test_split_day_lunch_break_is_outside_hours(reception_api, world, make_practitioner):
    split = make_practitioner(name="Dr Split", working_hours={"tue": [["08:30", "12:30"], ["13:30", "17:30"]]})
    assert_error(
        reception_api.post("/appointments", json=booking(world, tue(12, 15), practitioner_id=split.id)),
        422,
        "outside_hours",
    )
    assert book(reception_api, world, tue(13, 30), practitioner_id=split.id)["status"] == "booked"


def test_time_off_is_outside_hours(reception_api, world):
    db.session.add(TimeOff(practitioner_id=world.prac, starts_at=tue(12), ends_at=tue(14), reason="training"))
    db.session.commit()
    for start in (tue(11, 45), tue(12), tue(13, 45)):
        assert_error(reception_api.post("/appointments", json=booking(world, start)), 422, "outside_hours")
    assert book(reception_api, world, tue(11, 30))["ends_at"] == "2027-03-02T12:00:00+00:00"
    assert book(reception_api, world, tue(14))["status"] == "booked"


def test_in_past_is_422(reception_api, world, frozen):
    before = row_counts()
    resp = reception_api.post("/appointments", json=booking(world, NOW - timedelta(days=1)))
    err = assert_error(resp, 422, "in_past")
    assert "starts_at" in err["fields"]
    frozen.move_to(london(TUESDAY, 12, 10))
    assert_error(reception_api.post("/appointments", json=booking(world, tue(12))), 422, "in_past")
    assert_error(reception_api.post("/appointments", json=booking(world, tue(12, 9))), 422, "in_past")
    assert row_counts() == before
    assert book(reception_api, world, tue(12, 10))["starts_at"] == "2027-03-02T12:10:00+00:00"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("patient_id", 9999, "invalid_reference"),
        ("practitioner_id", 9999, "invalid_reference"),
        ("treatment_id", 9999, "invalid_reference"),
    ],
)
def test_unknown_references_are_refused(reception_api, world, field, value, code):
    before = row_counts()
    err = assert_error(reception_api.post("/appointments", json=booking(world, tue(9), **{field: value})), 422, code)
    assert field in err["fields"]
    assert row_counts() == before


def test_inactive_treatment_or_practitioner(admin_api, world):
    admin_api.patch(f"/treatments/{world.cosmetic}", json={"active": False})
    admin_api.patch(f"/practitioners/{world.prac2}", json={"active": False})
    err = assert_error(admin_api.post("/appointments", json=booking(world, tue(9), treatment_id=world.cosmetic)), 422)
    assert "treatment_id" in err["fields"]
    err = assert_error(admin_api.post("/appointments", json=booking(world, tue(9), practitioner_id=world.prac2)), 422)
    assert "practitioner_id" in err["fields"]


# --- double booking --------------------------------------------------------------------------


@pytest.mark.parametrize("start", [(9, 0), (9, 15), (9, 29)])
def test_slot_taken_is_409(reception_api, world, start):
    book(reception_api, world, tue(9))
    before = row_counts()
    err = assert_error(
        reception_api.post("/appointments", json=booking(world, tue(*start), patient_id=world.patient2)),
        409,
        "slot_taken",
    )
    assert err["message"]
    assert row_counts() == before


def test_overlap_from_before_is_slot_taken(reception_api, world):
    book(reception_api, world, tue(10))
    assert_error(
        reception_api.post("/appointments", json=booking(world, tue(9, 45), patient_id=world.patient2)),
        409,
        "slot_taken",
    )


def test_back_to_back_is_allowed(reception_api, world):
    book(reception_api, world, tue(9))
    assert book(reception_api, world, tue(9, 30), patient_id=world.patient2)["status"] == "booked"
    # the patient moves straight on to another practitioner
    assert book(reception_api, world, tue(9, 30), practitioner_id=world.prac2)["status"] == "booked"


def test_patient_busy_is_409(reception_api, world):
    book(reception_api, world, tue(9))
    before = row_counts()
    assert_error(
        reception_api.post(
            "/appointments", json=booking(world, tue(9, 15), practitioner_id=world.prac2, treatment_id=world.cosmetic)
        ),
        409,
        "patient_busy",
    )
    assert row_counts() == before
    assert (
        book(reception_api, world, tue(9, 30), practitioner_id=world.prac2, treatment_id=world.cosmetic)["status"]
        == "booked"
    )


# A no-show can be marked only after the start, when the slot can no longer be booked: the slot
# freed by a no-show is checked in tests/api/test_lifecycle_guards.py (undoing it must find it free).
@pytest.mark.parametrize("action", ["cancel"])
def test_cancelled_or_missed_appointment_frees_the_slot(reception_api, world, action):
    appt = book(reception_api, world, tue(9))
    assert reception_api.post(f"/appointments/{appt['id']}/{action}").status_code == 200
    other = book(reception_api, world, tue(9), patient_id=world.patient2)  # the practitioner is free again
    again = book(reception_api, world, tue(9), practitioner_id=world.prac2)  # and so is the patient
    assert other["id"] != appt["id"] and again["starts_at"] == appt["starts_at"]


# --- the safety interval ---------------------------------------------------------------------


def test_too_soon_after_a_session_recorded_afterwards(reception_api, world):
    record_session(reception_api, world, date(2027, 1, 1))
    before = row_counts()
    err = assert_error(reception_api.post("/appointments", json=booking(world, tue(9))), 422, "too_soon")
    assert "2027-03-26" in err["fields"]["starts_at"]  # 1 January + 84 days
    assert "2027-01-01" in err["message"]
    assert row_counts() == before


@pytest.mark.parametrize(("performed_on", "status"), [(date(2026, 12, 8), 201), (date(2026, 12, 9), 422)])
def test_too_soon_boundary_is_exactly_min_interval_days(reception_api, world, performed_on, status):
    """A session on 8 December is 84 days before Tuesday 2 March: allowed; 9 December (83 days): too soon."""
    record_session(reception_api, world, performed_on)
    resp = reception_api.post("/appointments", json=booking(world, tue(9)))
    assert resp.status_code == status, resp.get_json()
    if status == 422:
        assert_error(resp, 422, "too_soon")


def test_too_soon_uses_the_local_date_of_the_start(reception_api, world, make_practitioner):
    """00:30 on 26 April in London is 23:30 UTC on 25 April: the local date decides."""
    night = make_practitioner(name="Dr Night", working_hours={"sun": [["23:00", "24:00"]], "mon": [["00:00", "02:00"]]})
    record_session(reception_api, world, date(2027, 2, 1))  # + 84 days = Monday 26 April 2027
    assert_error(
        reception_api.post("/appointments", json=booking(world, "2027-04-25T22:15:00+00:00", practitioner_id=night.id)),
        422,
        "too_soon",
    )
    assert book(reception_api, world, "2027-04-25T23:30:00+00:00", practitioner_id=night.id)["status"] == "booked"


def test_too_soon_across_treatments_of_the_same_toxin(reception_api, world, make_treatment):
    record_session(reception_api, world, date(2027, 2, 1), treatment_id=world.dystonia)  # BOTOX
    assert_error(reception_api.post("/appointments", json=booking(world, tue(9))), 422, "too_soon")  # migraine, BOTOX
    # BOTOX Cosmetic is the same toxin (onabotulinumtoxinA): blocked too
    err = assert_error(
        reception_api.post("/appointments", json=booking(world, tue(9), treatment_id=world.cosmetic)), 422, "too_soon"
    )
    assert "onabotulinumtoxinA" in err["message"]
    # Dysport is another toxin (abobotulinumtoxinA): not blocked
    dysport = make_treatment(name="Dysport migraine", product="Dysport")
    assert book(reception_api, world, tue(9), treatment_id=dysport.id)["status"] == "booked"


def test_too_soon_uses_the_booked_treatments_interval(reception_api, world):
    record_session(reception_api, world, date(2026, 12, 5), treatment_id=world.cosmetic)  # 87 days before
    assert_error(
        reception_api.post("/appointments", json=booking(world, tue(9), treatment_id=world.cosmetic)), 422, "too_soon"
    )  # cosmetic: 90 days
    assert book(reception_api, world, london(date(2027, 3, 5), 9), treatment_id=world.cosmetic)["status"] == "booked"


def test_other_patients_sessions_do_not_count(reception_api, world):
    record_session(reception_api, world, date(2027, 2, 1), patient_id=world.patient2)
    assert book(reception_api, world, tue(9))["status"] == "booked"


def test_a_completed_session_counts(admin_api, world, frozen):
    first = book(admin_api, world, tue(9))
    frozen.move_to(tue(9, 5))
    assert admin_api.post(f"/appointments/{first['id']}/check-in").status_code == 200
    assert admin_api.post(f"/appointments/{first['id']}/complete", json=COMPLETE).status_code == 201
    assert_error(admin_api.post("/appointments", json=booking(world, london(date(2027, 5, 24), 9))), 422, "too_soon")
    assert book(admin_api, world, london(date(2027, 5, 25), 9))["status"] == "booked"  # 2 March + 84 days


def test_admin_override_books_and_is_audited(admin_api, world):
    record_session(admin_api, world, date(2027, 2, 1))
    resp = admin_api.post("/appointments", json=booking(world, tue(9), override_reason="  Consultant approved  "))
    assert resp.status_code == 201, resp.get_json()
    appt = resp.get_json()
    assert appt["override_reason"] == "Consultant approved"
    assert audit_actions("appointment", appt["id"]) == ["appointment.booked", "appointment.safety_override"]
    db.session.rollback()
    event = db.session.query(AuditEvent).filter_by(action="appointment.safety_override").one()
    assert event.details == {"reason": "Consultant approved"}
    assert event.actor.startswith("admin") and event.actor_id is not None
    db.session.rollback()
    assert db.session.get(Appointment, appt["id"]).override_reason == "Consultant approved"


def test_admin_override_when_not_needed_is_not_recorded(admin_api, world):
    appt = book(admin_api, world, tue(9), override_reason="just in case")
    assert appt["override_reason"] is None
    assert audit_actions("appointment", appt["id"]) == ["appointment.booked"]


@pytest.mark.parametrize("too_soon", [True, False])
def test_receptionist_override_is_403(reception_api, world, too_soon):
    if too_soon:
        record_session(reception_api, world, date(2027, 2, 1))
    before = row_counts()
    assert_error(reception_api.post("/appointments", json=booking(world, tue(9), override_reason="please")), 403)
    assert row_counts() == before


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, 42])
def test_malformed_override_reason_is_400(admin_api, world, reason):
    assert_error(admin_api.post("/appointments", json=booking(world, tue(9), override_reason=reason)), 400, "invalid")


def test_override_does_not_skip_other_rules(admin_api, world):
    record_session(admin_api, world, date(2027, 2, 1))
    book(admin_api, world, tue(9), patient_id=world.patient2)
    assert_error(admin_api.post("/appointments", json=booking(world, tue(9), override_reason="ok")), 409, "slot_taken")
    assert_error(
        admin_api.post("/appointments", json=booking(world, tue(8), override_reason="ok")), 422, "outside_hours"
    )


# --- rescheduling ----------------------------------------------------------------------------


def test_reschedule_moves_the_appointment_and_frees_the_old_slot(reception_api, world):
    appt = book(reception_api, world, tue(9))
    resp = reception_api.post(f"/appointments/{appt['id']}/reschedule", json={"starts_at": tue(11).isoformat()})
    assert resp.status_code == 200, resp.get_json()
    moved = resp.get_json()
    assert (moved["id"], moved["starts_at"], moved["ends_at"], moved["status"]) == (
        appt["id"],
        "2027-03-02T11:00:00+00:00",
        "2027-03-02T11:30:00+00:00",
        "booked",
    )
    assert book(reception_api, world, tue(9), patient_id=world.patient2)["status"] == "booked"
    assert audit_actions("appointment", appt["id"]) == ["appointment.booked", "appointment.rescheduled"]


def test_reschedule_may_overlap_its_own_old_time(reception_api, world):
    appt = book(reception_api, world, tue(9))
    resp = reception_api.post(f"/appointments/{appt['id']}/reschedule", json={"starts_at": tue(9, 15).isoformat()})
    assert resp.status_code == 200 and resp.get_json()["starts_at"] == "2027-03-02T09:15:00+00:00"


@pytest.mark.parametrize(
    ("start", "status", "code"),
    [
        ("2027-03-02T10:15:00+00:00", 409, "slot_taken"),
        ("2027-03-02T12:00:00+00:00", 409, "patient_busy"),
        ("2027-02-26T10:00:00+00:00", 422, "in_past"),
        ("2027-03-02T07:00:00+00:00", 422, "outside_hours"),
        ("2027-03-06T10:00:00+00:00", 422, "outside_hours"),
        ("2027-03-02T10:00:00", 400, "invalid"),
        ("2027-02-30T10:00:00+00:00", 400, "invalid"),
    ],
)
def test_reschedule_follows_the_booking_rules(reception_api, world, start, status, code):
    appt = book(reception_api, world, tue(9))
    book(reception_api, world, tue(10), patient_id=world.patient2)  # prac busy 10:00-10:30
    book(reception_api, world, tue(12), practitioner_id=world.prac2, treatment_id=world.cosmetic)  # patient busy
    before = row_counts()
    assert_error(reception_api.post(f"/appointments/{appt['id']}/reschedule", json={"starts_at": start}), status, code)
    assert row_counts() == before
    db.session.rollback()
    assert db.session.get(Appointment, appt["id"]).starts_at == tue(9)


def test_reschedule_too_soon_needs_an_admin_override(reception_api, admin_api, world):
    appt = book(reception_api, world, london(date(2027, 4, 6), 9))
    record_session(reception_api, world, date(2027, 2, 1))
    later = london(date(2027, 4, 13), 9).isoformat()
    assert_error(
        reception_api.post(f"/appointments/{appt['id']}/reschedule", json={"starts_at": later}), 422, "too_soon"
    )
    assert_error(
        reception_api.post(
            f"/appointments/{appt['id']}/reschedule", json={"starts_at": later, "override_reason": "ok"}
        ),
        403,
    )
    resp = admin_api.post(f"/appointments/{appt['id']}/reschedule", json={"starts_at": later, "override_reason": "ok"})
    assert resp.status_code == 200 and resp.get_json()["override_reason"] == "ok"
    assert audit_actions("appointment", appt["id"])[-1] == "appointment.safety_override"


def test_reschedule_unknown_and_malformed(reception_api, world):
    assert_error(reception_api.post("/appointments/9999/reschedule", json={"starts_at": tue(9).isoformat()}), 404)
    appt = book(reception_api, world, tue(9))
    assert_error(reception_api.post(f"/appointments/{appt['id']}/reschedule", json={}), 400, "invalid")
    assert_error(reception_api.post(f"/appointments/{appt['id']}/reschedule"), 400)


# --- lifecycle -------------------------------------------------------------------------------

ACTIONS = {"check-in": "checked_in", "cancel": "cancelled", "no-show": "no_show", "complete": "completed"}
ALLOWED = {
    ("booked", "check-in"),
    ("booked", "cancel"),
    ("booked", "no-show"),
    ("checked_in", "complete"),
    ("checked_in", "cancel"),
}
PATHS = {
    "booked": [],
    "checked_in": ["check-in"],
    "completed": ["check-in", "complete"],
    "cancelled": ["cancel"],
    "no_show": ["no-show"],
}


def _act(api, appt_id: int, action: str):
    return api.post(f"/appointments/{appt_id}/{action}", json=COMPLETE if action == "complete" else None)


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("action", list(ACTIONS) + ["reschedule"])
def test_every_transition(reception_api, world, frozen, status, action):
    appt = book(reception_api, world, tue(9))
    frozen.move_to(tue(9, 5))  # on the day, after the start: every timing rule allows the change
    for step in PATHS[status]:
        assert _act(reception_api, appt["id"], step).status_code in (200, 201)
    assert status_of(appt["id"]) == status
    before = row_counts()
    if action == "reschedule":
        resp = reception_api.post(f"/appointments/{appt['id']}/reschedule", json={"starts_at": tue(11).isoformat()})
        allowed = status == "booked"
    else:
        resp = _act(reception_api, appt["id"], action)
        allowed = (status, action) in ALLOWED
    if allowed:
        assert resp.status_code in (200, 201), resp.get_json()
        if action != "reschedule":
            assert status_of(appt["id"]) == ACTIONS[action]
    else:
        err = assert_error(resp, 409, "bad_transition")
        assert err["message"]
        assert row_counts() == before
        assert status_of(appt["id"]) == status


def test_transition_answers_are_the_appointment(reception_api, world, frozen):
    appt = book(reception_api, world, tue(9))
    other = book(reception_api, world, tue(10))
    frozen.move_to(tue(10, 5))
    checked = reception_api.post(f"/appointments/{appt['id']}/check-in")
    assert checked.status_code == 200 and checked.get_json() == appt | {"status": "checked_in"}
    missed = reception_api.post(f"/appointments/{other['id']}/no-show").get_json()
    assert missed["status"] == "no_show" and missed["id"] == other["id"]
    assert audit_actions("appointment", other["id"]) == ["appointment.booked", "appointment.no_show"]


def test_cancel_with_and_without_a_reason(reception_api, world):
    a, b = book(reception_api, world, tue(9)), book(reception_api, world, tue(10))
    resp = reception_api.post(f"/appointments/{a['id']}/cancel", json={"reason": "patient unwell"})
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "cancelled" and resp.get_json()["cancel_reason"] == "patient unwell"
    resp = reception_api.post(f"/appointments/{b['id']}/cancel")
    assert resp.status_code == 200 and resp.get_json()["cancel_reason"] is None
    db.session.rollback()
    event = db.session.query(AuditEvent).filter_by(action="appointment.cancelled", entity_id=a["id"]).one()
    assert event.details == {"reason": "patient unwell"}


@pytest.mark.parametrize("data", ['{"reason": 5}', "{", "[]", '"cancel"', '{"reason": ""}'])
def test_cancel_with_a_malformed_body_is_400_and_cancels_nothing(reception_api, world, data):
    appt = book(reception_api, world, tue(9))
    assert_error(reception_api.post(f"/appointments/{appt['id']}/cancel", data=data), 400)
    assert status_of(appt["id"]) == "booked"


@pytest.mark.parametrize("action", list(ACTIONS) + ["reschedule"])
def test_lifecycle_on_unknown_appointment_is_404(reception_api, world, action):
    body = {"starts_at": tue(9).isoformat()} if action == "reschedule" else COMPLETE
    assert_error(reception_api.post(f"/appointments/424242/{action}", json=body), 404, "not_found")
    assert_error(reception_api.post(f"/appointments/{2**40}/{action}", json=body), 404, "not_found")


# --- completion ------------------------------------------------------------------------------


def test_complete_records_the_session(reception_api, world, frozen):
    appt = book(reception_api, world, tue(9))
    frozen.move_to(tue(9, 2))
    reception_api.post(f"/appointments/{appt['id']}/check-in")
    resp = reception_api.post(
        f"/appointments/{appt['id']}/complete",
        json={
            "units": 155,
            "lot_number": " C1234C3 ",
            "product": "BOTOX 100U",
            "lot_expiry": "2028-01-31",
            "sites": "frontalis, temporalis",
            "notes": "tolerated well",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    session = resp.get_json()
    assert session == session | {
        "patient_id": world.patient,
        "treatment_id": world.migraine,
        "appointment_id": appt["id"],
        "performed_on": "2027-03-02",
        "product": "BOTOX 100U",
        "units": 155,
        "lot_number": "C1234C3",
        "lot_expiry": "2028-01-31",
        "sites": "frontalis, temporalis",
        "external": False,
    }
    assert status_of(appt["id"]) == "completed"
    assert reception_api.get(f"/patients/{world.patient}/sessions").get_json() == {"items": [session]}
    row = db.session.get(TreatmentSession, session["id"])
    assert row.notes == "tolerated well" and row.recorded_by_id is not None
    assert "session.recorded" in audit_actions("session", session["id"])


def test_complete_defaults_the_product_to_the_treatments(reception_api, world, frozen):
    appt = book(reception_api, world, tue(9), treatment_id=world.cosmetic)
    frozen.move_to(tue(9, 5))
    reception_api.post(f"/appointments/{appt['id']}/check-in")
    session = reception_api.post(f"/appointments/{appt['id']}/complete", json={"units": 20.5, "lot_number": "X9"})
    assert session.status_code == 201
    assert (session.get_json()["product"], session.get_json()["units"]) == ("BOTOX Cosmetic", 20.5)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"lot_number": "C1"}, 400, "units"),
        ({"units": 100}, 400, "lot_number"),
        ({"units": 0, "lot_number": "C1"}, 400, "units"),
        ({"units": 1e9, "lot_number": "C1"}, 400, "units"),
        ({"units": "100", "lot_number": "C1"}, 400, "units"),
        ({"units": 100, "lot_number": ""}, 400, "lot_number"),
        ({"units": 100, "lot_number": 1234}, 400, "lot_number"),
        ({"units": 100, "lot_number": "C1", "lot_expiry": "2028-02-30"}, 400, "lot_expiry"),
        ({"units": 100, "lot_number": "C1", "lot_expiry": "2027-03-01"}, 422, "lot_expiry"),
        ({"units": 100, "lot_number": "C1", "sites": "s" * 501}, 400, "sites"),
    ],
)
def test_bad_completion_changes_nothing(reception_api, world, frozen, body, status, field):
    appt = book(reception_api, world, tue(9))
    frozen.move_to(tue(9, 5))
    reception_api.post(f"/appointments/{appt['id']}/check-in")
    before = row_counts()
    err = assert_error(reception_api.post(f"/appointments/{appt['id']}/complete", json=body), status)
    assert field in err["fields"], err
    assert row_counts() == before
    assert status_of(appt["id"]) == "checked_in"


# --- the list ------------------------------------------------------------------------------


@pytest.fixture
def week(reception_api, world):
    """Four appointments: Tue 09:00 and 11:00 (prac), Wed 10:00 (prac2, patient2), next Tue (cancelled)."""
    a = book(reception_api, world, tue(11))
    b = book(reception_api, world, tue(9))
    c = book(reception_api, world, london(date(2027, 3, 3), 10), practitioner_id=world.prac2, patient_id=world.patient2)
    d = book(reception_api, world, london(date(2027, 3, 9), 10))
    reception_api.post(f"/appointments/{d['id']}/cancel")
    return a["id"], b["id"], c["id"], d["id"]


def _ids(resp):
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert list(body) == ["items"]
    for item in body["items"]:
        assert RFC3339.match(item["starts_at"]) and RFC3339.match(item["ends_at"])
    return [i["id"] for i in body["items"]]


def test_list_appointments_filters(reception_api, world, week):
    a, b, c, d = week
    assert _ids(reception_api.get("/appointments")) == [b, a, c]  # today + 7 days, by start
    assert _ids(reception_api.get("/appointments", **{"from": "2027-03-02", "to": "2027-03-02"})) == [b, a]
    assert _ids(reception_api.get("/appointments", **{"from": "2027-03-03", "to": "2027-03-31"})) == [c, d]
    assert _ids(
        reception_api.get("/appointments", **{"from": "2027-03-02T09:15:00+00:00", "to": "2027-03-02T11:00:00+00:00"})
    ) == [b]
    assert _ids(reception_api.get("/appointments", practitioner_id=world.prac2)) == [c]
    assert _ids(reception_api.get("/appointments", patient_id=world.patient)) == [b, a, d]
    assert _ids(reception_api.get("/appointments", patient_id=world.patient, status="cancelled")) == [d]
    assert _ids(reception_api.get("/appointments", practitioner_id=9999)) == []


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2027-03-05", "to": "2027-03-01"},
        {"from": "yesterday"},
        {"from": "2027-02-30"},
        {"from": "2027-03-02T09:00:00"},  # naive
        {"practitioner_id": "x"},
        {"practitioner_id": 2**31},
        {"patient_id": 0},
        {"status": "done"},
        {"limit": 0},
    ],
)
def test_list_appointments_bad_query_is_400(reception_api, world, params):
    err = assert_error(reception_api.get("/appointments", **params), 400, "invalid")
    assert err["fields"]


def test_get_appointment_404(reception_api):
    assert_error(reception_api.get("/appointments/1"), 404, "not_found")
