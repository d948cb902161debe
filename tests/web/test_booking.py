"""The booking form: patient, treatment, practitioner and day, a free time, then book."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent
from scheduler.web.forms import slot_value
from tests.conftest import london
from tests.web.conftest import TODAY, TUESDAY, add_session, counts, make_appointment, post_form, text_of


def _book(client, clinic, starts_at, *, patient=None, practitioner=None, treatment=None, **extra):
    patient, practitioner, treatment = (
        patient or clinic.olivia,
        practitioner or clinic.hart,
        treatment or clinic.migraine,
    )
    data = {
        "patient_id": patient.id,
        "treatment_id": treatment.id,
        "practitioner_id": "",
        "date": str(TUESDAY),
        "slot": slot_value(practitioner.id, starts_at),
    } | extra
    return post_form(client, "/book", data, page=f"/book?patient_id={patient.id}")


def _radios(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="slot" value="([^"]+)"', html)


def test_step_one_finds_the_patient(client, clinic, reception):
    page = text_of(client.get("/book"))
    assert "Find the patient" in page and "Register a new patient" in page
    resp = client.get(f"/book?q=smith&practitioner_id={clinic.hart.id}&date={TUESDAY}&time=10:00")
    html = resp.get_data(as_text=True)
    assert "Olivia Smith" in text_of(resp) and "Noah Jones" not in text_of(resp)
    # choosing keeps the calendar's prefill
    assert (
        f'href="/book?patient_id={clinic.olivia.id}&amp;practitioner_id={clinic.hart.id}&amp;date={TUESDAY}'
        f'&amp;time=10:00"'
    ) in html
    assert "No patient matches “nobody”" in text_of(client.get("/book?q=nobody"))


def test_free_times_are_listed_as_radio_buttons(client, clinic, reception):
    make_appointment(clinic.noah, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    html = client.get(
        f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}"
        f"&practitioner_id={clinic.hart.id}&date={TUESDAY}"
    ).get_data(as_text=True)
    values = _radios(html)
    assert values[0] == slot_value(clinic.hart.id, london(TUESDAY, 9))
    assert slot_value(clinic.hart.id, london(TUESDAY, 9, 30)) in values
    assert slot_value(clinic.hart.id, london(TUESDAY, 9, 45)) not in values  # would run into 10:00
    assert slot_value(clinic.hart.id, london(TUESDAY, 10, 15)) not in values
    assert slot_value(clinic.hart.id, london(TUESDAY, 16, 30)) in values
    assert 'name="override_reason"' not in html  # receptionists never see the override


def test_any_practitioner_lists_everyone(client, clinic, reception):
    html = client.get(f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}&date={TUESDAY}").get_data(
        as_text=True
    )
    values = _radios(html)
    assert {v.split("|")[0] for v in values} == {str(clinic.hart.id), str(clinic.mehta.id)}
    assert "<legend>Dr Amelia Hart</legend>" in html and "<legend>Dr Rohan Mehta</legend>" in html


def test_the_calendar_time_is_preselected(client, clinic, reception):
    url = (
        f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}&practitioner_id={clinic.hart.id}"
        f"&date={TUESDAY}&time=11:15"
    )
    html = client.get(url).get_data(as_text=True)
    assert f'value="{slot_value(clinic.hart.id, london(TUESDAY, 11, 15))}" checked' in html
    make_appointment(clinic.noah, clinic.hart, clinic.migraine, london(TUESDAY, 11, 30))
    page = text_of(client.get(url))
    assert "11:15 is not free for Chronic migraine (30 min) with Dr Amelia Hart; pick another time." in page


def test_the_treatment_defaults_to_the_patients_usual_one(client, clinic, reception):
    add_session(clinic.olivia, clinic.dystonia, date(2026, 10, 1))
    html = client.get(f"/book?patient_id={clinic.olivia.id}").get_data(as_text=True)
    assert f'<option value="{clinic.dystonia.id}" selected>' in html


def test_a_day_without_free_times_points_to_the_next(client, clinic, reception):
    saturday = date(2027, 3, 6)
    page = text_of(client.get(f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}&date={saturday}"))
    assert "No free times on this day." in page and "Next free day: Monday 8 March 2027" in page


def test_book_a_free_time(client, clinic, reception):
    resp = _book(client, clinic, london(TUESDAY, 11))
    assert resp.status_code == 302
    appt = db.session.scalar(select(Appointment))
    assert resp.headers["Location"] == f"/appointments/{appt.id}"
    assert (appt.patient_id, appt.practitioner_id, appt.treatment_id) == (
        clinic.olivia.id,
        clinic.hart.id,
        clinic.migraine.id,
    )
    assert appt.starts_at == london(TUESDAY, 11) and appt.status == "booked" and appt.booked_by_id == reception.id
    assert "appointment.booked" in db.session.scalars(select(AuditEvent.action)).all()
    page = text_of(client.get(resp.headers["Location"]))
    assert "Booked Olivia Smith for Chronic migraine with Dr Amelia Hart on Tue 2 Mar 2027 at 11:00." in page


def test_slot_taken_is_a_message_on_the_form(client, clinic, reception):
    make_appointment(clinic.noah, clinic.hart, clinic.migraine, london(TUESDAY, 11))
    before = counts()
    resp = _book(client, clinic, london(TUESDAY, 11))
    assert resp.status_code == 409
    page = text_of(resp)
    assert "The practitioner is already booked at that time." in page and "Pick another free time below." in page
    assert slot_value(clinic.hart.id, london(TUESDAY, 11)) not in _radios(resp.get_data(as_text=True))
    assert "Book an appointment" in page and "Olivia Smith" in page
    assert counts() == before


def test_patient_busy_is_a_message_on_the_form(client, clinic, reception):
    make_appointment(clinic.olivia, clinic.mehta, clinic.migraine, london(TUESDAY, 11))
    before = counts()
    resp = _book(client, clinic, london(TUESDAY, 11), treatment=clinic.dystonia)
    assert resp.status_code == 409
    assert "The patient already has an appointment at that time." in text_of(resp)
    assert counts() == before


def test_outside_hours_is_a_message_on_the_form(client, clinic, reception):
    resp = _book(client, clinic, london(TUESDAY, 20))
    assert resp.status_code == 422
    assert "That time is outside the practitioner's working hours." in text_of(resp)
    assert db.session.scalar(select(Appointment)) is None


def test_in_past_is_a_message_on_the_form(client, clinic, reception):
    resp = _book(client, clinic, london(date(2027, 2, 26), 10))
    assert resp.status_code == 422
    assert "The start time is in the past." in text_of(resp)
    assert db.session.scalar(select(Appointment)) is None


def test_too_soon_is_a_message_for_receptionists(client, clinic, reception):
    add_session(clinic.olivia, clinic.dystonia, date(2027, 2, 1))  # same product: BOTOX
    page = text_of(client.get(f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}&date={TUESDAY}"))
    assert "Last onabotulinumtoxinA session: Mon 1 Feb 2027. Earliest safe date: Mon 26 Apr 2027." in page
    assert "This day is too soon after the last session." in page
    resp = _book(client, clinic, london(TUESDAY, 11))
    assert resp.status_code == 422
    page = text_of(resp)
    assert (
        "The patient's last onabotulinumtoxinA session was on Mon 1 Feb 2027; "
        "the earliest safe date is Mon 26 Apr 2027." in page
    )
    assert "Only an admin can book sooner." in page
    assert db.session.scalar(select(Appointment)) is None


def test_a_receptionist_cannot_override(client, clinic, reception):
    add_session(clinic.olivia, clinic.migraine, date(2027, 2, 1))
    resp = _book(client, clinic, london(TUESDAY, 11), override_reason="please")
    assert resp.status_code == 403
    assert "Only an admin may book inside the safety interval." in text_of(resp)
    assert db.session.scalar(select(Appointment)) is None


def test_an_admin_overrides_with_a_reason(client, clinic, admin):
    add_session(clinic.olivia, clinic.migraine, date(2027, 2, 1))
    html = client.get(f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}&date={TUESDAY}").get_data(
        as_text=True
    )
    assert 'name="override_reason"' in html and '<details class="override" open>' in html
    refused = _book(client, clinic, london(TUESDAY, 11))
    assert refused.status_code == 422
    assert "To book anyway, give an override reason below" in text_of(refused)
    resp = _book(client, clinic, london(TUESDAY, 11), override_reason="  Consultant asked for an early top-up ")
    assert resp.status_code == 302
    appt = db.session.scalar(select(Appointment))
    assert appt.override_reason == "Consultant asked for an early top-up"
    override = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.safety_override"))
    assert override.details == {"reason": "Consultant asked for an early top-up"} and override.actor_id == admin.id
    assert "Consultant asked for an early top-up" in text_of(client.get(resp.headers["Location"]))


def test_the_override_reason_is_limited(client, clinic, admin):
    resp = _book(client, clinic, london(TUESDAY, 11), override_reason="x" * 501)
    assert resp.status_code == 400
    assert "Keep the reason to 500 characters." in text_of(resp)


def test_a_time_must_be_picked(client, clinic, reception):
    resp = _book(client, clinic, london(TUESDAY, 11), slot="")
    assert resp.status_code == 400
    assert "Pick a free time." in text_of(resp)
    resp = _book(client, clinic, london(TUESDAY, 11), slot="tomorrow-ish")
    assert resp.status_code == 400
    assert "That time is not one of the offered times; pick a free time." in text_of(resp)
    resp = _book(client, clinic, london(TUESDAY, 11), slot=f"{clinic.hart.id}|2027-03-02T11:00:00")  # no offset
    assert resp.status_code == 400
    assert db.session.scalar(select(Appointment)) is None


def test_patient_and_treatment_are_required(client, clinic, reception):
    resp = _book(client, clinic, london(TUESDAY, 11), patient_id="")
    assert resp.status_code == 400
    assert "Choose the patient first." in text_of(resp)
    resp = _book(client, clinic, london(TUESDAY, 11), patient_id="999")
    assert resp.status_code == 400
    assert "Choose the patient and the treatment first." in text_of(resp)


def test_an_unknown_practitioner_in_the_slot_is_refused(client, clinic, reception):
    resp = _book(client, clinic, london(TUESDAY, 11), slot=slot_value(999, london(TUESDAY, 11)))
    assert resp.status_code == 422
    assert "There is no practitioner with id 999." in text_of(resp)


def test_today_booking_after_now(client, clinic, reception, frozen):
    frozen.move_to(london(TODAY, 12, 5))
    html = client.get(
        f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}&practitioner_id={clinic.hart.id}"
    ).get_data(as_text=True)
    assert _radios(html)[0] == slot_value(clinic.hart.id, london(TODAY, 12, 15))
