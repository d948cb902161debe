"""Patients: search, register, edit and the patient page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, Patient
from tests.conftest import london
from tests.web.conftest import TODAY, TUESDAY, add_session, counts, fresh, make_appointment, post_form, text_of

GOOD = {
    "first_name": "Imogen",
    "last_name": "Carter-Bell",
    "email": "imogen@example.net",
    "phone": "+44 7700 900321",
    "date_of_birth": "1979-11-30",
    "consent_therapeutic": "y",
    "consent_cosmetic": "y",
    "consent_emails": "y",
}


@pytest.mark.parametrize("q", ["smith", "Olivia Smith", "OLIVIA.SMITH@example", "900123", "07700 900123", "1980-05-17"])
def test_search_by_name_email_phone_or_date_of_birth(client, clinic, reception, q):
    page = text_of(client.get("/patients", query_string={"q": q}))
    assert "Smith, Olivia" in page and "Jones, Noah" not in page


def test_search_without_a_match_says_what_to_try(client, clinic, reception):
    page = text_of(client.get("/patients?q=zzz"))
    assert "No patient matches “zzz”" in page and "register a new patient" in page


def test_the_list_without_a_query_shows_everyone(client, clinic, reception):
    page = text_of(client.get("/patients"))
    assert "All patients" in page and "Jones, Noah" in page and "Smith, Olivia" in page


def test_register_a_patient(client, clinic, reception):
    resp = post_form(client, "/patients/new", GOOD)
    assert resp.status_code == 302
    patient = db.session.scalar(select(Patient).where(Patient.last_name == "Carter-Bell"))
    assert resp.headers["Location"] == f"/patients/{patient.id}"
    assert (patient.first_name, patient.email, patient.phone) == ("Imogen", "imogen@example.net", "+44 7700 900321")
    assert patient.date_of_birth == date(1979, 11, 30) and patient.reminders_opt_in is True
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity_id == patient.id)) == "patient.created"
    page = text_of(client.get(resp.headers["Location"]))
    assert "Registered Imogen Carter-Bell." in page


def test_register_then_book(client, clinic, reception):
    resp = post_form(client, "/patients/new", GOOD | {"then": "book"}, page="/patients/new?then=book")
    patient = db.session.scalar(select(Patient).where(Patient.last_name == "Carter-Bell"))
    assert resp.headers["Location"] == f"/book?patient_id={patient.id}"


def test_optional_fields_may_be_empty(client, clinic, reception):
    resp = post_form(client, "/patients/new", {"first_name": " Ann ", "last_name": " Lee "})
    assert resp.status_code == 302
    patient = db.session.scalar(select(Patient).where(Patient.last_name == "Lee"))
    assert (patient.first_name, patient.email, patient.phone, patient.date_of_birth) == ("Ann", None, None, None)
    assert patient.reminders_opt_in is False  # the boxes were not ticked
    assert patient.consent_state.emails_stopped and not patient.consent_state.reminders


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"first_name": ""}, "Enter the first name."),
        ({"first_name": "   "}, "Enter the first name."),
        ({"last_name": ""}, "Enter the last name."),
        ({"first_name": "x" * 81}, "Keep the first name to 80 characters."),
        ({"last_name": "x" * 81}, "Keep the last name to 80 characters."),
        ({"email": "not-an-email"}, "Enter an email address like name@example.com."),
        ({"phone": "call me"}, "Use digits, spaces, brackets and dashes, with an optional leading +."),
        ({"phone": "1" * 41}, "Keep the phone number to 40 characters."),
        ({"date_of_birth": "2027-03-02"}, "The date of birth cannot be in the future."),
        ({"date_of_birth": "1850-01-01"}, "Enter a year between 1900 and 2100."),
        ({"date_of_birth": "30/11/1979"}, "Enter a date as YYYY-MM-DD"),
    ],
)
def test_registration_explains_each_problem(client, clinic, reception, changes, message):
    before = counts()
    resp = post_form(client, "/patients/new", GOOD | changes)
    assert resp.status_code == 400
    page = text_of(resp)
    assert message in page and "Please correct the marked fields." in page
    assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    assert counts() == before


def test_a_likely_duplicate_is_flagged_before_registering(client, clinic, reception):
    same = GOOD | {"first_name": "olivia", "last_name": "SMITH", "date_of_birth": "1980-05-17", "email": ""}
    before = counts()
    resp = post_form(client, "/patients/new", same)
    assert resp.status_code == 409
    page = text_of(resp)
    assert "This may be a patient who is already registered" in page and "Olivia Smith" in page
    assert f'href="/patients/{clinic.olivia.id}"' in resp.get_data(as_text=True)
    assert counts() == before
    resp = post_form(client, "/patients/new", same | {"confirm_duplicate": "1"})
    assert resp.status_code == 302
    assert counts()["patients"] == before["patients"] + 1


def test_edit_a_patient(client, clinic, reception):
    url = f"/patients/{clinic.olivia.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'value="Olivia"' in form and 'value="1980-05-17"' in form and "checked" in form
    data = {
        "first_name": "Olivia",
        "last_name": "Smith-Hale",
        "email": "o.hale@example.net",
        "phone": "07700 900999",
        "date_of_birth": "1980-05-17",
    }  # boxes unticked: consents withdrawn
    resp = post_form(client, url, data)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/patients/{clinic.olivia.id}"
    olivia = fresh(clinic.olivia)
    assert (olivia.last_name, olivia.email, olivia.reminders_opt_in) == ("Smith-Hale", "o.hale@example.net", False)
    assert "Saved the patient's details." in text_of(client.get(resp.headers["Location"]))


def test_edit_refuses_bad_values(client, clinic, reception):
    resp = post_form(
        client, f"/patients/{clinic.olivia.id}/edit", {"first_name": "", "last_name": "Smith", "email": "bad"}
    )
    assert resp.status_code == 400
    page = text_of(resp)
    assert "Enter the first name." in page and "Enter an email address like name@example.com." in page
    assert fresh(clinic.olivia).first_name == "Olivia"


def test_unknown_patients_are_404(client, clinic, reception):
    for path in ("/patients/999", "/patients/999/edit", "/patients/999/sessions/new"):
        resp = client.get(path)
        assert resp.status_code == 404
        assert "There is no patient with id 999." in text_of(resp)


def test_the_patient_page(client, clinic, reception):
    p = clinic.olivia
    add_session(
        p,
        clinic.migraine,
        date(2026, 12, 1),
        units=155,
        lot_number="C1234C3",
        lot_expiry=date(2027, 6, 30),
        sites="PREEMPT",
    )
    add_session(p, clinic.cosmetic, date(2026, 10, 15), units=20, lot_number="X9", external=True)
    upcoming = make_appointment(p, clinic.hart, clinic.dystonia, london(TUESDAY, 10))
    make_appointment(p, clinic.mehta, clinic.migraine, london(date(2026, 12, 1), 9), status="completed")
    make_appointment(p, clinic.mehta, clinic.migraine, london(date(2026, 11, 20), 9), status="no_show")
    resp = client.get(f"/patients/{p.id}")
    assert resp.status_code == 200
    page = text_of(resp)
    # details and opt-in
    assert "Olivia Smith" in page and "17 May 1980" in page and "07700 900123" in page
    assert "olivia.smith@example.net" in page and "Re-treatment reminders, therapeutic Yes" in page
    # upcoming, with actions
    assert "Tue 2 Mar 2027, 10:00" in page and "Cervical dystonia with Dr Amelia Hart" in page
    html = resp.get_data(as_text=True)
    # Tuesday's appointment is not checked in on Monday: no check-in button until its day
    assert f'action="/appointments/{upcoming.id}/check-in"' not in html
    # sessions with product, units, lot
    assert "C1234C3" in page and "155" in page and "BOTOX" in page and "30 Jun 2027" in page and "PREEMPT" in page
    assert "X9" in page and "Another clinic" in page
    # past appointments
    assert "No-show" in page and "Completed" in page
    # re-treatment: migraine last 1 Dec 2026, safe from 23 Feb 2027 (84 days), window P12W..P6M
    section = page[page.index("Re-treatment") : page.index("Sessions")]
    assert "Chronic migraine" in section and "Tue 1 Dec 2026" in section
    assert "Tue 23 Feb 2027 – Tue 1 Jun 2027" in section and "Due now" in section
    assert "Cosmetic lines" in section and "Fri 15 Jan 2027 – Thu 15 Apr 2027" in section
    assert "(elsewhere)" in section


def test_patient_page_when_opted_out_and_new(client, clinic, reception):
    clinic.noah.reminders_opt_in = False
    db.session.commit()
    page = text_of(client.get(f"/patients/{clinic.noah.id}"))
    assert "Re-treatment reminders, cosmetic No withdrawn" in page and "follow-ups) No withdrawn" in page
    assert "Nothing booked." in page and "No sessions yet." in page
    assert "record that session" in page


def test_the_earliest_safe_date_spans_treatments_of_one_product(client, clinic, reception):
    add_session(clinic.olivia, clinic.migraine, date(2026, 11, 1))
    add_session(clinic.olivia, clinic.dystonia, date(2027, 2, 1))  # same product, BOTOX
    page = text_of(client.get(f"/patients/{clinic.olivia.id}"))
    section = page[page.index("Re-treatment") : page.index("Sessions")]
    # both rows are safe from 1 Feb + 84 days = 26 Apr 2027 (the dystonia window opens then too)
    migraine = section[section.index("Chronic migraine") : section.index("Cervical dystonia")]
    assert "Sun 1 Nov 2026 Mon 26 Apr 2027 Sun 24 Jan 2027 – Sat 1 May 2027" in migraine


def test_patient_page_for_today(client, clinic, reception):
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 9), status="checked_in")
    html = client.get(f"/patients/{clinic.olivia.id}").get_data(as_text=True)
    assert ">Complete<" in html
