"""Appointment actions: check in, complete, cancel, no-show, reschedule."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, TreatmentSession
from scheduler.web.forms import slot_value
from tests.conftest import london
from tests.web.conftest import TODAY, TUESDAY, add_session, counts, fresh, make_appointment, post_form, text_of

COMPLETE = {
    "product": "",
    "units": "155",
    "lot_number": " C1234C3 ",
    "lot_expiry": "2027-12-31",
    "sites": "glabella, frontalis",
    "notes": "tolerated well",
}


@pytest.fixture
def booked(clinic):
    return make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 10))


@pytest.fixture
def checked_in(clinic):
    return make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 10), status="checked_in")


def _action(client, appt, action, data=None, page=None):
    return post_form(client, f"/appointments/{appt.id}/{action}", data or {}, page=page or f"/appointments/{appt.id}")


def test_the_appointment_page_offers_what_the_status_allows(client, clinic, reception, booked, frozen):
    resp = client.get(f"/appointments/{booked.id}")
    page = text_of(resp)
    assert "Olivia Smith" in page and "Monday 1 March 2027, 10:00–10:30" in page and "Dr Amelia Hart" in page
    for label in ("Check in", "Reschedule", "Cancel this appointment…"):
        assert label in page
    assert "Mark no-show" not in page  # not before the start (08:00 now, 10:00 start)
    frozen.move_to(london(TODAY, 10, 5))
    assert "Mark no-show" in text_of(client.get(f"/appointments/{booked.id}"))
    assert "Complete and record the session" not in page
    booked.status = "completed"
    db.session.commit()
    page = text_of(client.get(f"/appointments/{booked.id}"))
    assert "Check in" not in page and "Cancel this appointment" not in page and "Reschedule" not in page


def test_check_in(client, clinic, reception, booked):
    resp = _action(client, booked, "check-in")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/appointments/{booked.id}"
    assert fresh(booked).status == "checked_in"
    page = text_of(client.get(resp.headers["Location"]))
    assert "Olivia Smith checked in." in page and "Complete and record the session" in page


def test_check_in_from_the_patient_page_returns_there(client, clinic, reception, booked):
    resp = _action(client, booked, "check-in", {"next": f"/patients/{clinic.olivia.id}"})
    assert resp.headers["Location"] == f"/patients/{clinic.olivia.id}"


def test_next_never_leaves_the_site(client, clinic, reception, booked):
    resp = _action(client, booked, "check-in", {"next": "https://evil.example/"})
    assert resp.headers["Location"] == f"/appointments/{booked.id}"


def test_a_refused_transition_is_a_message(client, clinic, reception, checked_in):
    resp = _action(client, checked_in, "check-in")
    assert resp.status_code == 409
    assert "The appointment is already checked in." in text_of(resp)
    resp = _action(client, checked_in, "no-show")
    assert resp.status_code == 409
    assert "Cannot mark a checked in appointment as no-show." in text_of(resp)
    assert fresh(checked_in).status == "checked_in"


def test_no_show(client, clinic, reception, booked, frozen):
    frozen.move_to(london(TODAY, 10, 5))
    resp = _action(client, booked, "no-show")
    assert resp.status_code == 302
    assert fresh(booked).status == "no_show"
    assert "Olivia Smith marked as a no-show." in text_of(client.get(resp.headers["Location"]))


def test_cancel_needs_a_reason(client, clinic, reception, booked):
    resp = _action(client, booked, "cancel", {"reason": "  "})
    assert resp.status_code == 400
    assert "Say why the appointment is cancelled." in text_of(resp)
    assert '<details class="cancel" open>' in resp.get_data(as_text=True)
    assert fresh(booked).status == "booked"
    resp = _action(client, booked, "cancel", {"reason": "x" * 501})
    assert resp.status_code == 400 and "Keep the reason to 500 characters." in text_of(resp)


def test_cancel(client, clinic, reception, booked):
    resp = _action(client, booked, "cancel", {"reason": "Patient has flu"})
    assert resp.status_code == 302
    appt = fresh(booked)
    assert (appt.status, appt.cancel_reason) == ("cancelled", "Patient has flu")
    page = text_of(client.get(resp.headers["Location"]))
    assert "Cancelled Olivia Smith's appointment." in page and "Cancelled because Patient has flu" in page
    again = _action(client, booked, "cancel", {"reason": "again"})
    assert again.status_code == 409 and "The appointment is already cancelled." in text_of(again)


def test_complete_records_the_session(client, clinic, reception, checked_in):
    resp = _action(client, checked_in, "complete", COMPLETE)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/patients/{clinic.olivia.id}"
    assert fresh(checked_in).status == "completed"
    session = db.session.scalar(select(TreatmentSession))
    assert (session.appointment_id, session.product, session.units, session.lot_number) == (
        checked_in.id,
        "BOTOX",
        155,
        "C1234C3",
    )
    assert (session.lot_expiry, session.sites, session.notes, session.performed_on) == (
        date(2027, 12, 31),
        "glabella, frontalis",
        "tolerated well",
        TODAY,
    )
    assert session.recorded_by_id == reception.id
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "appointment.completed" in actions and "session.recorded" in actions
    page = text_of(client.get(resp.headers["Location"]))
    assert "Completed: Olivia Smith, lot C1234C3." in page and "C1234C3" in page
    done = text_of(client.get(f"/appointments/{checked_in.id}"))
    assert "Session recorded" in done and "glabella, frontalis" in done


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"units": ""}, "Enter the units given."),
        ({"units": "0"}, "Units must be more than 0 and at most 1000."),
        ({"units": "1001"}, "Units must be more than 0 and at most 1000."),
        ({"units": "lots"}, "Enter the units as a number, e.g. 155."),
        ({"lot_number": ""}, "Enter the lot number from the vial."),
        ({"lot_number": "L" * 65}, "Keep the lot number to 64 characters."),
        ({"lot_expiry": "31/12/2027"}, "Enter a date as YYYY-MM-DD"),
        ({"product": "P" * 81}, "Keep the product to 80 characters."),
        ({"sites": "s" * 501}, "Keep the sites to 500 characters."),
    ],
)
def test_complete_explains_each_problem(client, clinic, reception, checked_in, changes, message):
    before = counts()
    resp = _action(client, checked_in, "complete", COMPLETE | changes)
    assert resp.status_code == 400
    assert message in text_of(resp)
    assert fresh(checked_in).status == "checked_in" and counts() == before


def test_complete_refuses_an_expired_lot(client, clinic, reception, checked_in):
    resp = _action(client, checked_in, "complete", COMPLETE | {"lot_expiry": "2027-02-28"})
    assert resp.status_code == 422
    page = text_of(resp)
    assert "That lot had expired on the day of the session." in page and "Before the session date." in page
    assert fresh(checked_in).status == "checked_in"
    assert db.session.scalar(select(TreatmentSession)) is None


def test_complete_needs_a_check_in_first(client, clinic, reception, booked):
    resp = _action(client, booked, "complete", COMPLETE)
    assert resp.status_code == 409
    assert "Cannot mark a booked appointment as completed." in text_of(resp)


def test_reschedule_lists_free_times_and_moves(client, clinic, reception, booked):
    html = client.get(f"/appointments/{booked.id}/reschedule?date={TUESDAY}").get_data(as_text=True)
    assert slot_value(clinic.hart.id, london(TUESDAY, 9)) in html
    today = client.get(f"/appointments/{booked.id}/reschedule").get_data(as_text=True)
    assert slot_value(clinic.hart.id, london(TODAY, 10)) not in today  # where it already is
    assert slot_value(clinic.hart.id, london(TODAY, 10, 15)) in today  # overlapping itself is fine
    resp = post_form(
        client,
        f"/appointments/{booked.id}/reschedule",
        {"slot": slot_value(clinic.hart.id, london(TUESDAY, 14)), "date": str(TUESDAY)},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == f"/appointments/{booked.id}"
    assert fresh(booked).starts_at == london(TUESDAY, 14)
    assert "Moved Olivia Smith to Tue 2 Mar 2027 at 14:00." in text_of(client.get(resp.headers["Location"]))
    assert "appointment.rescheduled" in db.session.scalars(select(AuditEvent.action)).all()


def test_reschedule_conflicts_are_messages(client, clinic, reception, booked):
    make_appointment(clinic.noah, clinic.hart, clinic.migraine, london(TUESDAY, 14))
    resp = post_form(
        client,
        f"/appointments/{booked.id}/reschedule",
        {"slot": slot_value(clinic.hart.id, london(TUESDAY, 14)), "date": str(TUESDAY)},
    )
    assert resp.status_code == 409
    assert "The practitioner is already booked at that time." in text_of(resp)
    resp = post_form(
        client,
        f"/appointments/{booked.id}/reschedule",
        {"slot": slot_value(clinic.hart.id, london(TUESDAY, 19)), "date": str(TUESDAY)},
    )
    assert resp.status_code == 422 and "outside the practitioner's working hours" in text_of(resp)
    resp = post_form(
        client,
        f"/appointments/{booked.id}/reschedule",
        {"slot": slot_value(clinic.mehta.id, london(TUESDAY, 9)), "date": str(TUESDAY)},
    )
    assert resp.status_code == 400 and "That time is not one of the offered times." in text_of(resp)
    resp = post_form(client, f"/appointments/{booked.id}/reschedule", {"slot": ""})
    assert resp.status_code == 400 and "Pick a free time." in text_of(resp)
    assert fresh(booked).starts_at == london(TODAY, 10)


def test_reschedule_too_soon_and_admin_override(client, clinic, sign_in, booked):
    add_session(clinic.olivia, clinic.migraine, date(2027, 1, 1))  # safe from 26 Mar 2027
    sign_in("admin")
    url = f"/appointments/{booked.id}/reschedule"
    slot = {"slot": slot_value(clinic.hart.id, london(TUESDAY, 9)), "date": str(TUESDAY)}
    resp = post_form(client, url, slot)
    assert resp.status_code == 422
    assert "the earliest safe date is Fri 26 Mar 2027" in text_of(resp) and "To move it anyway" in text_of(resp)
    resp = post_form(client, url, slot | {"override_reason": "Booked before the rule; consultant agrees"})
    assert resp.status_code == 302
    appt = fresh(booked)
    assert appt.starts_at == london(TUESDAY, 9) and appt.override_reason.startswith("Booked before")


def test_only_booked_appointments_reschedule(client, clinic, reception, checked_in):
    page = text_of(client.get(f"/appointments/{checked_in.id}/reschedule"))
    assert "Only a booked appointment can be rescheduled; this one is checked in." in page
    resp = post_form(
        client, f"/appointments/{checked_in.id}/reschedule", {"slot": slot_value(clinic.hart.id, london(TUESDAY, 9))}
    )
    assert resp.status_code == 409
    assert "A checked in appointment cannot be rescheduled." in text_of(resp)


def test_unknown_appointments_are_404(client, clinic, reception):
    for path in ("/appointments/999", "/appointments/999/reschedule"):
        assert client.get(path).status_code == 404
    token_page = "/patients"
    assert post_form(client, "/appointments/999/check-in", {}, page=token_page).status_code == 404
    assert post_form(client, "/appointments/999/cancel", {"reason": "x"}, page=token_page).status_code == 404
