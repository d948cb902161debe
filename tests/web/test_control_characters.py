"""Control characters in the receptionist's forms: a form error on the page, nothing written.

Textareas (notes, reasons) keep line breaks and tabs: the CRLF a browser sends is stored as LF.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Appointment, PatientInterval, TreatmentSession
from scheduler.web.auth import LoginForm
from scheduler.web.forms import slot_value
from scheduler.web.plain_text import PlainTextForm, is_typed_text
from tests.conftest import TODAY, london
from tests.web.conftest import TUESDAY, add_session, counts, fresh, make_appointment, post_form, text_of

HEADER_INJECTION = "Olivia\r\nBcc: victim@evil.example"
PATIENT = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.net", "phone": "07700 900999"}


def _all_forms(cls=FlaskForm) -> list[type[FlaskForm]]:
    """Every form class of the app (the app fixture has imported them all)."""
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("scheduler."):
            found.append(sub)
        found += _all_forms(sub)
    return found


def test_every_form_of_the_app_checks_its_text_fields(app):
    forms = _all_forms()
    assert len(forms) >= 12
    assert [f for f in forms if not issubclass(f, PlainTextForm)] == [LoginForm]  # signing in stores nothing
    for form_class in forms:
        if form_class is LoginForm:
            continue
        with app.test_request_context(method="POST", data={}):
            typed = [name for name, field in form_class()._fields.items() if is_typed_text(field)]
        with app.test_request_context(method="POST", data=dict.fromkeys(typed, "a\x1bb")):
            form = form_class()
            for field in form:
                if getattr(field, "choices", ()) is None:  # filled in by the view
                    field.choices = []
            form.validate()
            for name in typed:
                errors = " ".join(form[name].errors)
                assert errors, (form_class, name)
                if name != "slot":  # a slot is parsed, and refused in its own words first
                    assert "control characters" in errors and "(found U+001B)" in errors, (form_class, name)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"first_name": HEADER_INJECTION},
            "First name must be on one line, without control characters (found U+000D).",
        ),
        ({"last_name": "Lee\u2028Bcc"}, "Last name must be on one line, without control characters (found U+2028)."),
        ({"last_name": "L\tee"}, "Last name must be on one line, without control characters (found U+0009)."),
        ({"email": "ann@example.net\nBcc: x@evil.example"}, "Email must be on one line"),
        ({"phone": "07700\x00900999"}, "Phone must be on one line, without control characters (found U+0000)."),
    ],
)
def test_registering_a_patient_with_control_characters_writes_nothing(client, clinic, reception, changes, message):
    before = counts()
    resp = post_form(client, "/patients/new", PATIENT | changes)
    assert resp.status_code == 400
    assert message in text_of(resp)
    assert counts() == before


def test_editing_a_patient_with_control_characters_changes_nothing(client, clinic, reception):
    url = f"/patients/{clinic.olivia.id}/edit"
    resp = post_form(client, url, PATIENT | {"first_name": "Eve", "last_name": HEADER_INJECTION})
    assert resp.status_code == 400
    assert "Last name must be on one line, without control characters (found U+000D)." in text_of(resp)
    olivia = fresh(clinic.olivia)
    assert (olivia.first_name, olivia.last_name) == ("Olivia", "Smith")


COMPLETE = {"product": "", "units": "155", "lot_number": "C1234C3", "lot_expiry": "", "sites": "", "notes": ""}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lot_number": "C1234\tC3"}, "Lot number must be on one line, without control characters (found U+0009)."),
        ({"product": "BOTOX\x1b[2J"}, "Product must be on one line, without control characters (found U+001B)."),
        ({"sites": "glabella\r\nfrontalis"}, "Injection sites must be on one line"),
        (
            {"notes": "fine\x00"},
            "Notes must not contain control characters other than line breaks and tabs (found U+0000).",
        ),
        (
            {"notes": "one\rtwo"},
            "Notes must not contain control characters other than line breaks and tabs (found U+000D).",
        ),
    ],
)
def test_completing_with_control_characters_records_nothing(client, clinic, reception, changes, message):
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 10), status="checked_in")
    before = counts()
    resp = post_form(client, f"/appointments/{appt.id}/complete", COMPLETE | changes, page=f"/appointments/{appt.id}")
    assert resp.status_code == 400
    assert message in text_of(resp)
    assert counts() == before and fresh(appt).status == "checked_in"


def test_notes_keep_their_lines_with_crlf_stored_as_lf(client, clinic, reception):
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 10), status="checked_in")
    notes = "Tolerated well.\r\nReview:\tin 4 weeks"
    resp = post_form(
        client, f"/appointments/{appt.id}/complete", COMPLETE | {"notes": notes}, page=f"/appointments/{appt.id}"
    )
    assert resp.status_code == 302
    assert db.session.scalar(select(TreatmentSession.notes)) == "Tolerated well.\nReview:\tin 4 weeks"


def test_a_cancel_reason_with_a_control_character_cancels_nothing(client, clinic, reception):
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    before = counts()
    resp = post_form(client, f"/appointments/{appt.id}/cancel", {"reason": "flu\x07"}, page=f"/appointments/{appt.id}")
    assert resp.status_code == 400
    assert "Reason for cancelling must not contain control characters" in text_of(resp)
    assert counts() == before and fresh(appt).status == "booked"
    resp = post_form(client, f"/appointments/{appt.id}/cancel", {"reason": "Flu.\r\nWill call."}, page="/")
    assert resp.status_code == 302 and fresh(appt).cancel_reason == "Flu.\nWill call."


def test_an_override_reason_with_a_control_character_books_nothing(client, clinic, admin):
    add_session(clinic.olivia, clinic.migraine, date(2027, 2, 1))
    before = counts()
    data = {
        "patient_id": clinic.olivia.id,
        "treatment_id": clinic.migraine.id,
        "date": str(TUESDAY),
        "slot": slot_value(clinic.hart.id, london(TUESDAY, 11)),
        "override_reason": "early top-up\x1b",
    }
    resp = post_form(client, "/book", data, page=f"/book?patient_id={clinic.olivia.id}")
    assert resp.status_code == 400
    assert "Override reason (admins only) must not contain control characters" in text_of(resp)
    assert counts() == before and db.session.scalar(select(Appointment)) is None


def test_a_past_session_with_a_control_character_records_nothing(client, clinic, reception):
    before = counts()
    data = {
        "treatment_id": str(clinic.dystonia.id),
        "performed_on": "2027-01-20",
        "units": "200",
        "lot_number": "E\u20289",
    }
    resp = post_form(client, f"/patients/{clinic.olivia.id}/sessions/new", data)
    assert resp.status_code == 400
    assert "Lot number must be on one line, without control characters (found U+2028)." in text_of(resp)
    assert counts() == before


def test_a_patient_window_note_with_a_control_character_is_not_saved(client, clinic, reception):
    url = f"/patients/{clinic.olivia.id}/intervals/{clinic.migraine.id}"
    data = {"remind_from": "P13W", "remind_until": "P4M", "note": "wears off\r\nBcc: x@evil.example"}
    resp = post_form(client, url, data, page=f"/patients/{clinic.olivia.id}")
    assert resp.status_code == 302
    assert "The note must be on one line, without control characters (found U+000D)." in text_of(
        client.get(resp.headers["Location"])
    )
    assert db.session.scalars(select(PatientInterval)).all() == []
