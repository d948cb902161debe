"""Patients (search, register, read, edit) and their sessions (list, record afterwards)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scheduler.extensions import db
from scheduler.models import AuditEvent, Patient
from tests.api.conftest import TODAY, assert_error, audit_actions, row_counts

PATIENT_FIELDS = {"id", "first_name", "last_name", "email", "phone", "date_of_birth", "reminders_opt_in"}
SESSION_FIELDS = {
    "id",
    "patient_id",
    "treatment_id",
    "performed_on",
    "appointment_id",
    "product",
    "units",
    "lot_number",
    "lot_expiry",
    "sites",
    "external",
}


def test_create_patient_201_with_every_field(reception_api):
    body = {
        "first_name": " Olivia ",
        "last_name": "Smith",
        "email": "olivia@example.net",
        "phone": "+44 7700 900123",
        "date_of_birth": "1980-05-17",
        "reminders_opt_in": False,
    }
    resp = reception_api.post("/patients", json=body)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert set(out) >= PATIENT_FIELDS
    assert out == out | body | {"first_name": "Olivia"}
    assert reception_api.get(f"/patients/{out['id']}").get_json() == out
    assert audit_actions("patient", out["id"]) == ["patient.created"]


def test_create_patient_minimal_defaults(reception_api):
    out = reception_api.post("/patients", json={"first_name": "A", "last_name": "B"}).get_json()
    assert (out["email"], out["phone"], out["date_of_birth"], out["reminders_opt_in"]) == (None, None, None, True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "B"}, "first_name"),
        ({"first_name": "A"}, "last_name"),
        ({"first_name": "", "last_name": "B"}, "first_name"),
        ({"first_name": "A" * 81, "last_name": "B"}, "first_name"),
        ({"first_name": 7, "last_name": "B"}, "first_name"),
        ({"first_name": "A", "last_name": "B", "email": "nope"}, "email"),
        ({"first_name": "A", "last_name": "B", "phone": "call me"}, "phone"),
        ({"first_name": "A", "last_name": "B", "phone": 7700900123}, "phone"),
        ({"first_name": "A", "last_name": "B", "date_of_birth": "2027-02-30"}, "date_of_birth"),
        ({"first_name": "A", "last_name": "B", "date_of_birth": "17/05/1980"}, "date_of_birth"),
        ({"first_name": "A", "last_name": "B", "date_of_birth": "1850-01-01"}, "date_of_birth"),
        ({"first_name": "A", "last_name": "B", "date_of_birth": 19800517}, "date_of_birth"),
        ({"first_name": "A", "last_name": "B", "reminders_opt_in": "false"}, "reminders_opt_in"),
        ({"first_name": "A", "last_name": "B", "reminders_opt_in": None}, "reminders_opt_in"),
    ],
)
def test_bad_patient_is_400_naming_the_field(reception_api, body, field):
    before = row_counts()
    err = assert_error(reception_api.post("/patients", json=body), 400, "invalid")
    assert field in err["fields"], err
    assert row_counts() == before


def test_unknown_patient_is_404(reception_api):
    assert_error(reception_api.get("/patients/12345"), 404, "not_found")
    assert_error(reception_api.patch("/patients/12345", json={"first_name": "X"}), 404, "not_found")
    assert_error(reception_api.get("/patients/12345/sessions"), 404, "not_found")
    assert_error(
        reception_api.post("/patients/12345/sessions", json={"treatment_id": 1, "performed_on": "2027-01-01"}),
        404,
        "not_found",
    )
    assert_error(reception_api.get(f"/patients/{2**31}"), 404)
    assert_error(reception_api.get(f"/patients/{2**63}/sessions"), 404)


# --- search ----------------------------------------------------------------------------------


@pytest.fixture
def people(frozen, make_patient):
    """Three patients to look for."""
    a = make_patient(
        first_name="Olivia",
        last_name="Smith",
        email="olivia.smith@example.net",
        phone="07700 900123",
        date_of_birth=date(1980, 5, 17),
    )
    b = make_patient(
        first_name="Oliver",
        last_name="Smithson",
        email="ollie@work.example",
        phone="+44 20 7946 0958",
        date_of_birth=date(1991, 2, 3),
    )
    c = make_patient(
        first_name="Noah", last_name="O'Brien", email="noah_100%@example.org", phone=None, date_of_birth=None
    )
    return a.id, b.id, c.id


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("smith", [0, 1]),  # last name prefix, ordered by last name
        ("SMITH", [0, 1]),
        ("olivia", [0]),
        ("oli smi", [0, 1]),  # every word a name prefix
        ("olivia smith", [0]),
        ("smith olivia", [0]),
        ("o'brien", [2]),
        ("olivia.smith@example.net", [0]),
        ("@work.example", [1]),
        ("07700 900123", [0]),
        ("07700900123", [0]),
        ("7946 0958", [1]),
        ("79460958", [1]),
        ("1980-05-17", [0]),
        ("1991-02-03", [1]),
        ("100%", [2]),  # LIKE wildcards are literal
        ("_", [2]),
        ("%@", [2]),
        ("o_iv", []),
        ("%", [2]),
        ("nobody", []),
        ("", [0, 1, 2]),
    ],
)
def test_search_patients(reception_api, people, q, expected):
    resp = reception_api.get("/patients", q=q)
    assert resp.status_code == 200
    body = resp.get_json()
    assert list(body) == ["items"]
    ids = [p["id"] for p in body["items"]]
    if q == "":
        assert sorted(ids) == sorted(people)
    else:
        assert ids == [people[i] for i in expected]


def test_search_paging_and_bad_parameters(reception_api, people):
    first = reception_api.get("/patients", limit=1).get_json()["items"]
    second = reception_api.get("/patients", limit=1, offset=1).get_json()["items"]
    assert len(first) == len(second) == 1 and first != second
    assert_error(reception_api.get("/patients", limit=0), 400, "invalid")
    assert_error(reception_api.get("/patients", limit="many"), 400, "invalid")
    assert_error(reception_api.get("/patients", q="x" * 201), 400, "invalid")
    assert reception_api.get("/patients", q="x" * 200).get_json() == {"items": []}


# --- edit ----------------------------------------------------------------------------------


def test_patch_patient_changes_only_what_is_sent(reception_api, make_patient):
    p = make_patient(first_name="Olivia", last_name="Smith", email="o@example.net", phone="07700 900123")
    resp = reception_api.patch(f"/patients/{p.id}", json={"last_name": "Jones", "phone": None})
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert (out["first_name"], out["last_name"], out["phone"], out["email"]) == (
        "Olivia",
        "Jones",
        None,
        "o@example.net",
    )
    db.session.rollback()
    event = db.session.query(AuditEvent).filter_by(action="patient.updated", entity_id=p.id).one()
    assert event.details["changed"] == {"last_name": ["Smith", "Jones"], "phone": ["07700 900123", None]}


def test_patch_patient_opt_out_and_date(reception_api, make_patient):
    p = make_patient()
    out = reception_api.patch(
        f"/patients/{p.id}", json={"reminders_opt_in": False, "date_of_birth": "1970-12-31"}
    ).get_json()
    assert out["reminders_opt_in"] is False and out["date_of_birth"] == "1970-12-31"
    db.session.rollback()
    assert db.session.get(Patient, p.id).reminders_opt_in is False


@pytest.mark.parametrize(
    "body",
    [
        {"first_name": None},
        {"first_name": ""},
        {"reminders_opt_in": None},
        {"email": "x"},
        {"date_of_birth": "2027-13-01"},
        {"phone": ["07700"]},
    ],
)
def test_bad_patch_is_400_and_changes_nothing(reception_api, make_patient, body):
    p = make_patient(first_name="Olivia")
    before = row_counts()
    assert_error(reception_api.patch(f"/patients/{p.id}", json=body), 400, "invalid")
    assert row_counts() == before
    db.session.rollback()
    assert db.session.get(Patient, p.id).first_name == "Olivia"


# --- sessions ------------------------------------------------------------------------------


def test_record_and_list_sessions(reception_api, world):
    resp = reception_api.post(
        f"/patients/{world.patient}/sessions",
        json={
            "treatment_id": world.migraine,
            "performed_on": "2026-12-01",
            "units": 155,
            "lot_number": "C1234C3",
            "external": True,
        },
    )
    assert resp.status_code == 201, resp.get_json()
    s = resp.get_json()
    assert set(s) >= SESSION_FIELDS
    assert s == s | {
        "patient_id": world.patient,
        "treatment_id": world.migraine,
        "performed_on": "2026-12-01",
        "appointment_id": None,
        "product": "BOTOX",
        "units": 155,
        "lot_number": "C1234C3",
        "lot_expiry": None,
        "sites": None,
        "external": True,
    }
    older = reception_api.post(
        f"/patients/{world.patient}/sessions", json={"treatment_id": world.cosmetic, "performed_on": "2026-06-01"}
    ).get_json()
    assert older["external"] is False and older["product"] == "BOTOX Cosmetic" and older["units"] is None
    listed = reception_api.get(f"/patients/{world.patient}/sessions").get_json()
    assert listed == {"items": [s, older]}  # newest first
    assert reception_api.get(f"/patients/{world.patient2}/sessions").get_json() == {"items": []}
    assert audit_actions("session") == ["session.recorded", "session.recorded"]


def test_record_session_today_is_allowed_tomorrow_is_not(reception_api, world):
    ok = reception_api.post(
        f"/patients/{world.patient}/sessions", json={"treatment_id": world.migraine, "performed_on": TODAY.isoformat()}
    )
    assert ok.status_code == 201
    before = row_counts()
    err = assert_error(
        reception_api.post(
            f"/patients/{world.patient}/sessions",
            json={"treatment_id": world.migraine, "performed_on": (TODAY + timedelta(days=1)).isoformat()},
        ),
        422,
        "in_future",
    )
    assert "performed_on" in err["fields"]
    assert row_counts() == before


DROP = object()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"treatment_id": DROP}, 400, "treatment_id"),
        ({"performed_on": DROP}, 400, "performed_on"),
        ({"treatment_id": "T"}, 400, "treatment_id"),
        ({"treatment_id": 0}, 400, "treatment_id"),
        ({"treatment_id": 2**31}, 400, "treatment_id"),
        ({"treatment_id": 999}, 422, "treatment_id"),
        ({"performed_on": "2026-02-29"}, 400, "performed_on"),
        ({"performed_on": "2026-12-01T10:00:00+00:00"}, 400, "performed_on"),
        ({"performed_on": None}, 400, "performed_on"),
        ({"units": 0}, 400, "units"),
        ({"units": -5}, 400, "units"),
        ({"units": 1001}, 400, "units"),
        ({"units": "155"}, 400, "units"),
        ({"lot_number": ""}, 400, "lot_number"),
        ({"lot_number": "L" * 65}, 400, "lot_number"),
        ({"external": "yes"}, 400, "external"),
        ({"lot_expiry": "soon"}, 400, "lot_expiry"),
    ],
)
def test_bad_session_is_refused(reception_api, world, body, status, field):
    full = {"treatment_id": world.migraine, "performed_on": "2026-12-01"} | body
    full = {k: v for k, v in full.items() if v is not DROP}
    before = row_counts()
    err = assert_error(reception_api.post(f"/patients/{world.patient}/sessions", json=full), status)
    assert field in err["fields"], err
    assert row_counts() == before


def test_lot_numbers_are_searchable(reception_api, world):
    from scheduler.patients import sessions

    for patient, lot, day in (
        (world.patient, "C1", "2026-01-05"),
        (world.patient2, "C1", "2026-01-05"),
        (world.patient, "C2", "2026-06-05"),  # outside the safety interval of the first
    ):
        assert (
            reception_api.post(
                f"/patients/{patient}/sessions",
                json={"treatment_id": world.migraine, "performed_on": day, "lot_number": lot},
            ).status_code
            == 201
        )
    db.session.rollback()
    assert sorted(s.patient_id for s in sessions.patients_by_lot("C1")) == sorted([world.patient, world.patient2])


def test_date_of_birth_in_the_future_is_refused(reception_api):
    resp = reception_api.post(
        "/patients", json={"first_name": "Future", "last_name": "Child", "date_of_birth": "2099-01-01"}
    )
    assert resp.status_code == 400 and "date_of_birth" in resp.json["error"]["fields"]
