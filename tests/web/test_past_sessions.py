"""Recording a session done earlier or elsewhere ("any botulinum toxin in the last 4 months?")."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, TreatmentSession
from tests.conftest import london
from tests.web.conftest import TUESDAY, counts, post_form, text_of


def _url(clinic):
    return f"/patients/{clinic.olivia.id}/sessions/new"


def _good(clinic):
    return {
        "treatment_id": str(clinic.dystonia.id),
        "performed_on": "2027-01-20",
        "external": "y",
        "units": "200",
        "lot_number": "EXT-9",
        "product": "",
        "lot_expiry": "",
        "sites": "",
        "notes": "at St Mary's",
    }


def test_the_form_asks_the_intake_question(client, clinic, reception):
    page = text_of(client.get(_url(clinic)))
    assert "Have you had any botulinum toxin (Botox) in the last 4 months, here or at another clinic?" in page
    assert "Given at another clinic" in page


def test_record_an_external_session(client, clinic, reception):
    resp = post_form(client, _url(clinic), _good(clinic))
    assert resp.status_code == 302 and resp.headers["Location"] == f"/patients/{clinic.olivia.id}"
    s = db.session.scalar(select(TreatmentSession))
    assert (s.treatment_id, s.performed_on, s.external, s.units, s.lot_number, s.product, s.appointment_id) == (
        clinic.dystonia.id,
        date(2027, 1, 20),
        True,
        200,
        "EXT-9",
        "BOTOX",
        None,
    )
    assert s.notes == "at St Mary's" and s.recorded_by_id == reception.id
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.entity_type == "session")) == "session.recorded"
    page = text_of(client.get(resp.headers["Location"]))
    assert "Recorded the session of 20 Jan 2027." in page and "EXT-9" in page and "Another clinic" in page


def test_the_safety_interval_then_counts_it(client, clinic, reception):
    post_form(client, _url(clinic), _good(clinic))
    page = text_of(client.get(f"/book?patient_id={clinic.olivia.id}&treatment_id={clinic.migraine.id}&date={TUESDAY}"))
    assert "Earliest safe date: Wed 14 Apr 2027." in page
    from scheduler.web.forms import slot_value

    resp = post_form(
        client,
        "/book",
        {
            "patient_id": clinic.olivia.id,
            "treatment_id": clinic.migraine.id,
            "slot": slot_value(clinic.hart.id, london(TUESDAY, 10)),
        },
    )
    assert resp.status_code == 422 and "the earliest safe date is Wed 14 Apr 2027" in text_of(resp)


def test_only_the_date_and_treatment_are_needed(client, clinic, reception):
    resp = post_form(client, _url(clinic), {"treatment_id": str(clinic.migraine.id), "performed_on": "2027-02-10"})
    assert resp.status_code == 302
    s = db.session.scalar(select(TreatmentSession))
    assert (s.units, s.lot_number, s.external, s.product) == (None, None, False, "BOTOX")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"performed_on": ""}, "Enter the date of the injection."),
        ({"performed_on": "2027-03-02"}, "A session cannot be recorded for a future date."),
        ({"performed_on": "yesterday"}, "Enter a date as YYYY-MM-DD"),
        ({"performed_on": "1899-12-31"}, "Enter a year between 1900 and 2100."),
        ({"units": "-5"}, "Units must be more than 0 and at most 1000."),
        ({"lot_number": "L" * 65}, "Keep the lot number to 64 characters."),
        ({"treatment_id": "999"}, "Not a valid choice"),
        ({"notes": "n" * 2001}, "Keep the notes to 2000 characters."),
    ],
)
def test_problems_are_explained(client, clinic, reception, changes, message):
    before = counts()
    resp = post_form(client, _url(clinic), _good(clinic) | changes)
    assert resp.status_code == 400
    page = text_of(resp)
    assert message in page and "Please correct the marked fields." in page
    assert counts() == before
