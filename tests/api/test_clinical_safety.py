"""Clinical safety through the API: the toxin family's interval, the dose limit, expired
lots, lifecycle timing with admin overrides and undo, session corrections and voids."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, Reminder, Toxin
from tests.api.conftest import assert_error, audit_actions, book, booking
from tests.conftest import TODAY, TUESDAY, london


def tue(hh: int, mm: int = 0):
    return london(TUESDAY, hh, mm)


def record(api, world, performed_on: date, **extra):
    body = {"treatment_id": world.migraine, "performed_on": performed_on.isoformat()} | extra
    return api.post(f"/patients/{world.patient}/sessions", json=body)


def last_audit(action: str) -> dict:
    db.session.rollback()
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()


# --- the toxin family ------------------------------------------------------------------------


def test_botox_five_days_after_a_botox_cosmetic_session_is_too_soon(reception_api, world):
    assert record(reception_api, world, date(2027, 2, 25), treatment_id=world.cosmetic).status_code == 201
    err = assert_error(reception_api.post("/appointments", json=booking(world, tue(9))), 422, "too_soon")
    assert "onabotulinumtoxinA session was on 2027-02-25" in err["message"]


def test_completion_43_days_after_a_session_recorded_later_is_refused(reception_api, admin_api, world, frozen):
    appt = book(reception_api, world, tue(9))  # no history yet: booked
    frozen.move_to(tue(9, 5))
    assert reception_api.post(f"/appointments/{appt['id']}/check-in").status_code == 200
    # the patient then mentions a BOTOX Cosmetic session elsewhere, 43 days before
    assert (
        record(reception_api, world, date(2027, 1, 18), treatment_id=world.cosmetic, external=True).status_code == 201
    )
    body = {"units": 155, "lot_number": "C1"}
    assert_error(reception_api.post(f"/appointments/{appt['id']}/complete", json=body), 422, "too_soon")
    assert_error(
        reception_api.post(f"/appointments/{appt['id']}/complete", json=body | {"override_reason": "x"}),
        403,
        "override_forbidden",
    )
    done = admin_api.post(f"/appointments/{appt['id']}/complete", json=body | {"override_reason": "neurologist agreed"})
    assert done.status_code == 201 and done.get_json()["override_reason"] == "neurologist agreed"
    event = last_audit("session.safety_override")
    assert event.entity_id == done.get_json()["id"] and event.details == {
        "reason": "neurologist agreed",
        "rules": ["too_soon"],
    }


def test_a_session_recorded_before_one_on_record_keeps_the_interval(reception_api, admin_api, world):
    """A session done elsewhere, recorded after the fact, may be dated before one already on record:
    the interval holds on both sides of it, not only after the sessions before it."""
    assert record(reception_api, world, date(2027, 2, 20)).status_code == 201
    err = assert_error(record(reception_api, world, date(2027, 2, 5), external=True), 422, "too_soon")
    assert "onabotulinumtoxinA session on 2027-02-20 is less than 84 days after 2027-02-05" in err["message"]
    assert set(err["fields"]) == {"performed_on"}
    assert record(reception_api, world, date(2026, 11, 28), external=True).status_code == 201  # 84 days before
    resp = record(admin_api, world, date(2027, 2, 5), external=True, override_reason="two clinics, one patient")
    assert resp.status_code == 201
    assert last_audit("session.safety_override").details == {
        "reason": "two clinics, one patient",
        "rules": ["too_soon"],
    }


def test_the_later_sessions_own_interval_holds_whichever_is_entered_first(reception_api, world):
    """BOTOX Cosmetic (90 days) and migraine BOTOX (84) are one toxin: a migraine session 86 days
    before a cosmetic one is too soon by the cosmetic's interval, whichever is recorded first."""
    assert record(reception_api, world, date(2027, 2, 27), treatment_id=world.cosmetic).status_code == 201
    err = assert_error(record(reception_api, world, date(2026, 12, 3), external=True), 422, "too_soon")
    assert "session on 2027-02-27 is less than 90 days after 2026-12-03" in err["message"]
    # the other order: the cosmetic session is the later one recorded, refused by its own interval
    other = {"treatment_id": world.cosmetic}
    assert record(reception_api, world, date(2026, 9, 1), external=True).status_code == 201
    assert_error(record(reception_api, world, date(2026, 11, 26), **other), 422, "too_soon")  # 86 days


def test_a_voided_later_session_does_not_hold_an_earlier_one_back(reception_api, world):
    sid = record(reception_api, world, date(2027, 2, 20)).get_json()["id"]
    assert reception_api.post(f"/sessions/{sid}/void", json={"reason": "wrong patient"}).status_code == 200
    assert record(reception_api, world, date(2027, 2, 5), external=True).status_code == 201


# --- the dose limit --------------------------------------------------------------------------


def test_the_dose_limit_across_three_sessions(reception_api, admin_api, world, make_treatment):
    db.session.add(Toxin(name="onabotulinumtoxinA", max_units=400, period_days=90))
    spasticity = make_treatment(name="Spasticity", min_interval_days=14)  # BOTOX, a short interval
    assert record(reception_api, world, date(2026, 12, 10), treatment_id=spasticity.id, units=300).status_code == 201
    assert record(reception_api, world, date(2027, 1, 10), treatment_id=spasticity.id, units=64).status_code == 201
    third = {"treatment_id": spasticity.id, "units": 200}
    err = assert_error(record(reception_api, world, date(2027, 2, 10), **third), 422, "dose_limit")
    assert "564 U within 90 days" in err["message"] and "400 U" in err["message"]
    # another toxin's units are never added: Dysport is abobotulinumtoxinA
    dysport = make_treatment(name="Dysport spasticity", product="Dysport", min_interval_days=14)
    assert record(reception_api, world, date(2027, 2, 10), treatment_id=dysport.id, units=500).status_code == 201
    resp = record(admin_api, world, date(2027, 2, 12), **third, override_reason="specialist dose plan")
    assert resp.status_code == 201
    assert last_audit("session.safety_override").details["rules"] == ["dose_limit"]


# --- lots -----------------------------------------------------------------------------------


def test_a_recorded_session_with_an_expired_lot_is_refused_unless_overridden(reception_api, admin_api, world):
    bad = {"lot_number": "OLD1", "lot_expiry": "2026-12-31"}
    assert_error(record(reception_api, world, date(2027, 2, 1), **bad), 422, "lot_expired")
    resp = record(admin_api, world, date(2027, 2, 1), **bad, override_reason="expiry misread, vial checked")
    assert resp.status_code == 201
    assert "session.safety_override" in audit_actions("session", resp.get_json()["id"])


# --- lifecycle timing -------------------------------------------------------------------------


def test_a_check_in_before_the_day_is_refused_unless_an_admin_overrides(reception_api, admin_api, world):
    appt = book(reception_api, world, tue(9))  # now is Monday 08:00
    assert_error(reception_api.post(f"/appointments/{appt['id']}/check-in"), 422, "not_today")
    assert_error(
        reception_api.post(f"/appointments/{appt['id']}/check-in", json={"override_reason": "x"}),
        403,
        "override_forbidden",
    )
    resp = admin_api.post(f"/appointments/{appt['id']}/check-in", json={"override_reason": "arrived a day early"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "checked_in"
    assert last_audit("appointment.safety_override").details == {
        "reason": "arrived a day early",
        "rules": ["not_today"],
    }
    # completing before the day is never allowed: the session would be dated in the future
    err = assert_error(
        admin_api.post(
            f"/appointments/{appt['id']}/complete", json={"units": 1, "lot_number": "L", "override_reason": "x"}
        ),
        422,
        "before_day",
    )
    assert err["message"]


def test_no_show_only_after_the_start_and_undo_on_the_day(reception_api, world, frozen):
    appt = book(reception_api, world, london(TODAY, 10))  # now is 08:00
    assert_error(reception_api.post(f"/appointments/{appt['id']}/no-show"), 422, "before_start")
    frozen.move_to(london(TODAY, 10, 5))
    assert reception_api.post(f"/appointments/{appt['id']}/no-show").get_json()["status"] == "no_show"
    undone = reception_api.post(f"/appointments/{appt['id']}/undo")
    assert undone.status_code == 200 and undone.get_json()["status"] == "booked"
    assert reception_api.post(f"/appointments/{appt['id']}/check-in").get_json()["status"] == "checked_in"
    assert reception_api.post(f"/appointments/{appt['id']}/undo").get_json()["status"] == "booked"
    assert audit_actions("appointment", appt["id"]).count("appointment.undone") == 2
    assert_error(reception_api.post(f"/appointments/{appt['id']}/undo"), 409, "bad_transition")
    reception_api.post(f"/appointments/{appt['id']}/no-show")
    frozen.move_to(london(TUESDAY, 9))
    assert_error(reception_api.post(f"/appointments/{appt['id']}/undo"), 422, "not_today")


# --- corrections ------------------------------------------------------------------------------


def test_a_correction_is_audited_with_before_and_after(reception_api, world):
    sid = record(reception_api, world, date(2027, 2, 1), units=100, lot_number="C1").get_json()["id"]
    resp = reception_api.patch(f"/sessions/{sid}", json={"units": 155, "lot_number": "C2", "sites": "glabella"})
    assert resp.status_code == 200 and (resp.get_json()["units"], resp.get_json()["lot_number"]) == (155, "C2")
    assert last_audit("session.corrected").details["changed"] == {
        "units": [100, 155],
        "lot_number": ["C1", "C2"],
        "sites": [None, "glabella"],
    }
    assert_error(reception_api.patch(f"/sessions/{sid}", json={"lot_expiry": "2027-01-01"}), 422, "lot_expired")


def test_a_voided_session_drives_no_reminders_and_no_safety_interval(reception_api, world):
    sid = record(reception_api, world, date(2027, 2, 1)).get_json()["id"]
    db.session.rollback()
    assert {r.status for r in db.session.scalars(select(Reminder).where(Reminder.session_id == sid))} == {"pending"}
    assert_error(reception_api.post("/appointments", json=booking(world, tue(9))), 422, "too_soon")
    assert_error(reception_api.post(f"/sessions/{sid}/void", json={}), 400)
    voided = reception_api.post(f"/sessions/{sid}/void", json={"reason": "entered on the wrong patient"})
    assert voided.status_code == 200 and voided.get_json()["void_reason"] == "entered on the wrong patient"
    db.session.rollback()
    rows = db.session.scalars(select(Reminder).where(Reminder.session_id == sid)).all()
    assert rows and {(r.status, r.reason) for r in rows} == {("cancelled", "the session was voided")}
    assert book(reception_api, world, tue(9))["status"] == "booked"  # no longer counts
    assert_error(reception_api.patch(f"/sessions/{sid}", json={"units": 5}), 409, "voided")
    assert_error(reception_api.post(f"/sessions/{sid}/void", json={"reason": "again"}), 409, "voided")
    assert "session.voided" in audit_actions("session", sid)
