"""Control characters in the JSON API's text fields: refused with a 400 naming the field, nothing written.

Free-text fields (notes, reasons) keep line feeds and tabs, a CRLF stored as LF.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Appointment, Patient, TreatmentSession
from scheduler.web.api.core import ROUTES
from tests.api.conftest import TUESDAY, assert_error, book, row_counts
from tests.conftest import london

#: refused everywhere (and short enough for every field): an escape sequence and a CRLF
HOSTILE = "x\x1b[2J\r\nBcc"
HEADER_INJECTION = "Olivia\r\nBcc: victim@evil.example"


def _schema_types(prop: dict) -> list[dict]:
    """A JSON schema property and, for `X | None`, its members."""
    return prop.get("anyOf", [prop])


def _string_fields(model) -> dict[str, bool]:
    """Each string field of a request body -> whether it is plain text (no format, enum or pattern of its own)."""
    fields = {}
    for name, prop in model.model_json_schema()["properties"].items():
        members = [m for m in _schema_types(prop) if m.get("type") == "string"]
        if members:
            fields[name] = not any(key in m for m in members for key in ("format", "enum", "pattern"))
    return fields


def _url(path: str) -> str:
    """A route's path with 1 for each id (validation comes before the lookup)."""
    return re.sub(r"\{\w+\}", "1", path)


def test_every_string_field_of_every_request_body_refuses_control_characters(admin_api):
    checked = 0
    for route in (r for r in ROUTES if r.body is not None):
        for name, plain in _string_fields(route.body).items():
            send = admin_api.post if route.method == "post" else admin_api.patch
            err = assert_error(send(_url(route.path), json={name: HOSTILE}), 400, "invalid")
            assert name in err["fields"], (route.path, name, err)
            if plain:
                assert "control characters" in err["fields"][name], (route.path, name, err)
            checked += 1
    assert checked >= 40  # the patients', practitioners', treatments', appointments' and sessions' fields


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("first_name", HEADER_INJECTION, "U+000D"),
        ("last_name", "Smith\nBcc: victim@evil.example", "U+000A"),
        ("last_name", "Sm\u2028ith", "U+2028"),
        ("last_name", "Sm\tith", "U+0009"),
        ("first_name", "Ol\x00ivia", "U+0000"),
    ],
)
def test_a_patient_with_a_control_character_in_a_name_is_refused(reception_api, field, value, found):
    before = row_counts()
    body = {"first_name": "Olivia", "last_name": "Smith", "email": "o@example.net"} | {field: value}
    err = assert_error(reception_api.post("/patients", json=body), 400, "invalid")
    assert err["fields"] == {field: f"Value error, must be on one line, without control characters (found {found})"}
    assert row_counts() == before


@pytest.mark.parametrize(
    "email", ["o@example.net\r\nBcc: victim@evil.example", "o\x1b@example.net", "o@exa\u2028mple.net"]
)
def test_a_patient_email_with_a_control_character_is_refused(reception_api, world, email):
    before = row_counts()
    err = assert_error(reception_api.post("/patients", json={"first_name": "A", "last_name": "B", "email": email}), 400)
    assert set(err["fields"]) == {"email"}
    err = assert_error(reception_api.patch(f"/patients/{world.patient}", json={"email": email}), 400)
    assert set(err["fields"]) == {"email"}
    assert row_counts() == before
    assert db.session.get(Patient, world.patient).email == "olivia.smith@example.net"


def test_a_patient_edit_with_a_control_character_changes_nothing(reception_api, world):
    before = row_counts()
    resp = reception_api.patch(f"/patients/{world.patient}", json={"first_name": "Eve", "last_name": HEADER_INJECTION})
    err = assert_error(resp, 400, "invalid")
    assert set(err["fields"]) == {"last_name"}
    assert row_counts() == before
    patient = db.session.get(Patient, world.patient)
    assert (patient.first_name, patient.last_name) == ("Olivia", "Smith")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/practitioners", {"name": "Dr\r\nEvil"}, "name"),
        ("/practitioners", {"name": "Dr Evil", "email": "dr@example.net\nBcc: x@evil.example"}, "email"),
        ("/practitioners", {"name": "Dr Evil", "working_hours": {"mo\nn": [["09:00", "17:00"]]}}, "working_hours"),
        ("/treatments", {"name": "Bo\x85tox", "kind": "cosmetic", "product": "BOTOX"}, "name"),
        ("/treatments", {"name": "Botox", "kind": "cosmetic", "product": "BO\tTOX"}, "product"),
    ],
)
def test_catalogue_text_with_control_characters_is_refused(admin_api, path, body, field):
    treatment = {"duration_minutes": 30, "min_interval_days": 90, "remind_from": "P3M", "remind_until": "P6M"}
    before = row_counts()
    err = assert_error(admin_api.post(path, json=body | (treatment if path == "/treatments" else {})), 400, "invalid")
    assert set(err["fields"]) == {field}, err
    if field != "email":  # the email validator refuses it first, in its own words
        assert "control characters" in err["fields"][field], err
    assert row_counts() == before


def _checked_in(api, world, frozen) -> int:
    appt = book(api, world, london(TUESDAY, 10))
    frozen.move_to(london(TUESDAY, 10, 5))  # check-in on the appointment's day
    assert api.post(f"/appointments/{appt['id']}/check-in").status_code == 200
    return appt["id"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lot_number": "C1234\tC3"}, "lot_number"),
        ({"lot_number": "C1234C3\r\n=cmd"}, "lot_number"),
        ({"product": "BOTOX\x00"}, "product"),
        ({"sites": "glabella\nfrontalis"}, "sites"),
        ({"notes": "tolerated\x1b[31m well"}, "notes"),
        ({"notes": "line one\rline two"}, "notes"),
        ({"notes": "pa\u2029ra"}, "notes"),
    ],
)
def test_completing_with_control_characters_records_nothing(reception_api, world, frozen, changes, field):
    appt_id = _checked_in(reception_api, world, frozen)
    before = row_counts()
    resp = reception_api.post(f"/appointments/{appt_id}/complete", json={"units": 155, "lot_number": "C1"} | changes)
    err = assert_error(resp, 400, "invalid")
    assert set(err["fields"]) == {field} and "control characters" in err["fields"][field]
    assert row_counts() == before
    assert db.session.get(Appointment, appt_id).status == "checked_in"


def test_free_text_keeps_line_breaks_and_tabs_and_stores_crlf_as_lf(reception_api, world, frozen):
    appt_id = _checked_in(reception_api, world, frozen)
    notes = "Tolerated well.\r\nReview:\tin 4 weeks\nno bruising"
    resp = reception_api.post(
        f"/appointments/{appt_id}/complete", json={"units": 155, "lot_number": "C1", "notes": notes}
    )
    assert resp.status_code == 201, resp.get_json()
    db.session.rollback()
    assert db.session.scalar(select(TreatmentSession.notes)) == "Tolerated well.\nReview:\tin 4 weeks\nno bruising"


def test_a_cancel_reason_keeps_lines_but_not_other_control_characters(reception_api, world):
    appt = book(reception_api, world, london(TUESDAY, 10))
    before = row_counts()
    err = assert_error(reception_api.post(f"/appointments/{appt['id']}/cancel", json={"reason": "flu\x07"}), 400)
    assert set(err["fields"]) == {"reason"}
    assert row_counts() == before and db.session.get(Appointment, appt["id"]).status == "booked"
    resp = reception_api.post(f"/appointments/{appt['id']}/cancel", json={"reason": "Patient has flu.\r\nWill call."})
    assert resp.status_code == 200, resp.get_json()
    db.session.rollback()
    assert db.session.get(Appointment, appt["id"]).cancel_reason == "Patient has flu.\nWill call."


def test_an_override_reason_with_a_control_character_books_nothing(admin_api, world):
    before = row_counts()
    body = {
        "patient_id": world.patient,
        "practitioner_id": world.prac,
        "treatment_id": world.migraine,
        "starts_at": london(TUESDAY, 10).isoformat(),
        "override_reason": "clinician\x00 agreed",
    }
    err = assert_error(admin_api.post("/appointments", json=body), 400, "invalid")
    assert set(err["fields"]) == {"override_reason"}
    assert row_counts() == before


def test_a_past_session_with_a_control_character_is_refused(reception_api, world):
    before = row_counts()
    body = {"treatment_id": world.migraine, "performed_on": "2027-01-04", "lot_number": "EXT\u20289"}
    err = assert_error(reception_api.post(f"/patients/{world.patient}/sessions", json=body), 400, "invalid")
    assert set(err["fields"]) == {"lot_number"}
    assert row_counts() == before
