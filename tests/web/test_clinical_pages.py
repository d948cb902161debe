"""The clinical-safety pages: the appointment page offers only what will be accepted (an admin gets
an override reason), the session correction and void page, the admin's toxin limits."""

from __future__ import annotations

from datetime import date

from scheduler.extensions import db
from scheduler.models import AuditEvent, Toxin
from tests.conftest import london
from tests.web.conftest import TODAY, TUESDAY, add_session, fresh, make_appointment, post_form, text_of


def test_a_receptionist_is_not_offered_a_check_in_before_the_day(client, clinic, reception):
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    page = text_of(client.get(f"/appointments/{appt.id}"))
    assert "Check in" not in page and "Mark no-show" not in page and "Check-in opens on" in page
    resp = post_form(client, f"/appointments/{appt.id}/check-in", {}, page=f"/appointments/{appt.id}")
    assert resp.status_code == 422 and "checked in on the day of the appointment" in text_of(resp)
    assert fresh(appt).status == "booked"


def test_an_admin_checks_in_early_with_a_reason(client, clinic, admin):
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    page = text_of(client.get(f"/appointments/{appt.id}"))
    assert "Check in on another day (admin override)" in page
    resp = post_form(
        client,
        f"/appointments/{appt.id}/check-in",
        {"override_reason": "came a day early"},
        page=f"/appointments/{appt.id}",
    )
    assert resp.status_code == 302 and fresh(appt).status == "checked_in"
    event = db.session.query(AuditEvent).filter_by(action="appointment.safety_override").one()
    assert event.details == {"reason": "came a day early", "rules": ["not_today"]}


def test_undo_a_check_in_on_the_day(client, clinic, reception):
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 10), status="checked_in")
    assert "Undo check-in" in text_of(client.get(f"/appointments/{appt.id}"))
    resp = post_form(client, f"/appointments/{appt.id}/undo", {}, page=f"/appointments/{appt.id}")
    assert resp.status_code == 302 and fresh(appt).status == "booked"


def test_complete_with_sites_from_the_treatments_list(client, clinic, reception):
    clinic.migraine.usual_sites = "procerus\nfrontalis\ntemporalis"
    db.session.commit()
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 10), status="checked_in")
    page = client.get(f"/appointments/{appt.id}").get_data(as_text=True)
    assert 'value="frontalis"' in page
    data = {"units": "155", "lot_number": "C1", "site_choices": ["procerus", "temporalis"], "sites": "left occiput"}
    resp = post_form(client, f"/appointments/{appt.id}/complete", data, page=f"/appointments/{appt.id}")
    assert resp.status_code == 302
    assert fresh(appt).status == "completed"
    from scheduler.patients import sessions

    assert sessions.of_appointment(appt.id).sites == "procerus, temporalis, left occiput"


def test_correct_and_void_a_session_from_the_patient_page(client, clinic, reception):
    s = add_session(clinic.olivia, clinic.migraine, date(2027, 2, 1), units=100.0)
    page = client.get(f"/patients/{clinic.olivia.id}").get_data(as_text=True)
    assert f'href="/sessions/{s.id}"' in page
    resp = post_form(client, f"/sessions/{s.id}", {"units": "120", "lot_number": "C9"}, page=f"/sessions/{s.id}")
    assert resp.status_code == 302 and (fresh(s).units, fresh(s).lot_number) == (120, "C9")
    resp = post_form(client, f"/sessions/{s.id}/void", {"reason": " "}, page=f"/sessions/{s.id}")
    assert resp.status_code == 400 and fresh(s).voided_at is None
    resp = post_form(client, f"/sessions/{s.id}/void", {"reason": "duplicate entry"}, page=f"/sessions/{s.id}")
    assert resp.status_code == 302 and fresh(s).void_reason == "duplicate entry"
    assert "voided" in text_of(client.get(f"/patients/{clinic.olivia.id}"))


def test_the_admin_sets_a_toxin_limit(client, clinic, admin):
    assert "onabotulinumtoxinA" in text_of(client.get("/admin/toxins"))
    resp = post_form(
        client,
        "/admin/toxins",
        {"name": "onabotulinumtoxinA", "max_units": "400", "period_days": "90"},
        page="/admin/toxins",
    )
    assert resp.status_code == 302
    row = db.session.query(Toxin).filter_by(name="onabotulinumtoxinA").one()
    assert (row.max_units, row.period_days) == (400, 90)
    resp = post_form(client, "/admin/toxins", {"name": "abobotulinumtoxinA", "max_units": "1000"}, page="/admin/toxins")
    assert resp.status_code == 422


def test_a_receptionist_cannot_open_the_toxin_limits(client, clinic, reception):
    assert client.get("/admin/toxins").status_code == 403
