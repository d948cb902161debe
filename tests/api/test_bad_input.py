"""Hand-picked bad input on every writing endpoint: malformed JSON, wrong types, missing fields,
naive times, impossible dates, huge strings, ids beyond int32, non-object bodies, NUL bytes.
Always a 4xx with the error shape, never a 500, and nothing written."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import TUESDAY, assert_error, book, row_counts
from tests.conftest import london


def _targets(world, appt_id: int) -> dict[str, tuple[str, str, dict]]:
    """name -> (method, path, a valid body)."""
    return {
        "appointments": (
            "POST",
            "/appointments",
            {
                "patient_id": world.patient2,
                "practitioner_id": world.prac2,
                "treatment_id": world.migraine,
                "starts_at": london(TUESDAY, 14).isoformat(),
            },
        ),
        "patients": ("POST", "/patients", {"first_name": "A", "last_name": "B"}),
        "patient_patch": ("PATCH", f"/patients/{world.patient}", {"first_name": "C"}),
        "treatments": (
            "POST",
            "/treatments",
            {
                "name": "T",
                "kind": "cosmetic",
                "product": "P",
                "duration_minutes": 20,
                "min_interval_days": 90,
                "remind_from": "P3M",
                "remind_until": "P6M",
            },
        ),
        "treatment_patch": ("PATCH", f"/treatments/{world.migraine}", {"reminder_count": 2}),
        "practitioners": ("POST", "/practitioners", {"name": "Dr X"}),
        "sessions": (
            "POST",
            f"/patients/{world.patient}/sessions",
            {"treatment_id": world.cosmetic, "performed_on": "2026-01-01"},
        ),
        "reschedule": ("POST", f"/appointments/{appt_id}/reschedule", {"starts_at": london(TUESDAY, 15).isoformat()}),
        "complete": ("POST", f"/appointments/{appt_id}/complete", {"units": 10, "lot_number": "L"}),
    }


@pytest.fixture
def targets(admin_api, world, frozen):
    appt = book(admin_api, world, london(TUESDAY, 9))
    frozen.move_to(london(TUESDAY, 9, 5))  # check-in on the appointment's day
    assert admin_api.post(f"/appointments/{appt['id']}/check-in").status_code == 200
    return _targets(world, appt["id"])


NAMES = [
    "appointments",
    "patients",
    "patient_patch",
    "treatments",
    "treatment_patch",
    "practitioners",
    "sessions",
    "reschedule",
    "complete",
]

RAW_BODIES = [
    b"{",
    b"{'a': 1}",
    b"not json",
    b"[]",
    b"[{}]",
    b"null",
    b"true",
    b"42",
    b'"string"',
    b'{"a": 1,}',
    b"\xff\xfe\x00",
    b'{"first_name": "\\ud800"}',
    b"NaN",
    b"{" * 10000 + b"}" * 10000,
]


def _send(api, method: str, path: str, data: bytes, content_type: str = "application/json"):
    return api.client.open(
        f"/api/v1{path}",
        method=method,
        data=data,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": content_type},
    )


@pytest.mark.parametrize("name", NAMES)
def test_malformed_bodies_are_400(admin_api, targets, name):
    method, path, valid = targets[name]
    before = row_counts()
    for raw in RAW_BODIES:
        resp = _send(admin_api, method, path, raw)
        err = assert_error(resp, 400)
        assert err["code"] in ("malformed", "invalid"), (raw[:20], err)
    # the valid body really would have been accepted: the 400s were about the body
    assert row_counts() == before


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("patient_patch", "treatment_patch")])
def test_empty_body_is_400(admin_api, targets, name):
    method, path, _ = targets[name]
    before = row_counts()
    for raw in (b"", b"   ", b"{}"):
        assert_error(_send(admin_api, method, path, raw), 400)
    assert row_counts() == before


@pytest.mark.parametrize("name", NAMES)
def test_form_encoded_body_is_400(admin_api, targets, name):
    method, path, valid = targets[name]
    before = row_counts()
    data = "&".join(f"{k}={v}" for k, v in valid.items()).encode()
    assert_error(_send(admin_api, method, path, data, "application/x-www-form-urlencoded"), 400)
    assert row_counts() == before


WRONG_VALUES = [
    None,
    True,
    0,
    -1,
    2**31,
    2**63,
    10**40,
    1.5,
    "",
    " ",
    "x" * 100_000,
    [],
    {},
    ["a"],
    {"a": 1},
    "2027-02-30",
    "2027-03-02T10:00:00",
    "\u0000",
    "null",
]


@pytest.mark.parametrize("name", NAMES)
def test_wrong_value_in_each_field_is_4xx_and_writes_nothing(admin_api, targets, name):
    method, path, valid = targets[name]
    refused = 0
    for field in valid:
        for value in WRONG_VALUES:
            before = row_counts()
            resp = admin_api.client.open(
                f"/api/v1{path}",
                method=method,
                json=valid | {field: value},
                headers={"Authorization": f"Bearer {admin_api.token}"},
            )
            if resp.status_code < 400:
                continue  # a few values are fine for some fields ("null" is a name)
            assert 400 <= resp.status_code < 500, (field, repr(value)[:40], resp.get_data(as_text=True)[:300])
            err = assert_error(resp, resp.status_code)
            if resp.status_code == 400:
                assert err["fields"], (field, value, err)
            assert row_counts() == before, (field, repr(value)[:40])
            refused += 1
    assert refused >= len(valid) * (len(WRONG_VALUES) - 6)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "2027-03-02T10:00:00"),  # naive
        ("starts_at", "2027-03-02 10:00"),
        ("starts_at", "2027-02-30T10:00:00+00:00"),
        ("starts_at", "2027-03-02T25:00:00+00:00"),
        ("starts_at", "2027-03-02T10:00:00+25:00"),
        ("starts_at", "1999-12-31T10:00:00+00:00"),
        ("starts_at", "9999-12-31T23:59:59+00:00"),
        ("starts_at", 1_800_000_000),
        ("starts_at", "tomorrow"),
        ("patient_id", 2**31),
        ("patient_id", "1"),
        ("patient_id", 1.0),
        ("patient_id", True),
        ("practitioner_id", -3),
        ("treatment_id", None),
        ("override_reason", "r" * 501),
    ],
)
def test_bad_booking_fields_are_400_naming_the_field(admin_api, world, field, value):
    body = {
        "patient_id": world.patient,
        "practitioner_id": world.prac,
        "treatment_id": world.migraine,
        "starts_at": london(TUESDAY, 10).isoformat(),
    } | {field: value}
    before = row_counts()
    err = assert_error(admin_api.post("/appointments", json=body), 400, "invalid")
    assert field in err["fields"], err
    assert row_counts() == before


@pytest.mark.parametrize("missing", ["patient_id", "practitioner_id", "treatment_id", "starts_at"])
def test_missing_booking_field_is_named(admin_api, world, missing):
    body = {
        "patient_id": world.patient,
        "practitioner_id": world.prac,
        "treatment_id": world.migraine,
        "starts_at": london(TUESDAY, 10).isoformat(),
    }
    body.pop(missing)
    err = assert_error(admin_api.post("/appointments", json=body), 400, "invalid")
    assert list(err["fields"]) == [missing]


def test_unknown_fields_are_ignored(admin_api, world):
    body = {
        "patient_id": world.patient,
        "practitioner_id": world.prac,
        "treatment_id": world.migraine,
        "starts_at": london(TUESDAY, 10).isoformat(),
        "status": "completed",
        "id": 99,
        "ends_at": "x",
    }
    resp = admin_api.post("/appointments", json=body)
    assert resp.status_code == 201
    assert resp.get_json()["status"] == "booked" and resp.get_json()["id"] != 99


@pytest.mark.parametrize(
    "body",
    [
        {"first_name": "Ol\u0000ivia", "last_name": "Smith"},
        {"first_name": "Olivia", "last_name": "Smith", "phone": "0770\u00000"},
        {"first_name": "Olivia", "last_name": "Smith", "email": "o\u0000@example.com"},
    ],
)
def test_nul_characters_are_refused(reception_api, body):
    before = row_counts()
    err = assert_error(reception_api.post("/patients", json=body), 400, "invalid")
    assert err["fields"]
    assert row_counts() == before


@pytest.mark.parametrize("q", ["\u0000", "Smi\u0000th", "%00"])
def test_nul_in_a_search_is_not_a_500(reception_api, world, q):
    resp = reception_api.get("/patients", q=q)
    assert resp.status_code in (200, 400)
    if resp.status_code == 200:
        assert resp.get_json() == {"items": []}
    else:
        assert_error(resp, 400)


def test_huge_body_is_413(reception_api):
    before = row_counts()
    resp = reception_api.post("/patients", data=json.dumps({"first_name": "x" * 2_000_000, "last_name": "y"}))
    assert_error(resp, 413)
    assert row_counts() == before


def test_huge_strings_under_the_body_limit_are_400(reception_api, world):
    before = row_counts()
    for field in ("first_name", "last_name", "email", "phone"):
        body = {"first_name": "A", "last_name": "B"} | {field: "x" * 500_000}
        assert field in assert_error(reception_api.post("/patients", json=body), 400, "invalid")["fields"]
    assert row_counts() == before


@pytest.mark.parametrize("units", [0.001, 0.004, 1e-12, 5.99e-68, 5e-324])
def test_tiny_units_are_not_a_500(admin_api, targets, units):
    """Tiny units pass "greater than zero" but round to 0.00 in a NUMERIC(7,2) column (found by schemathesis)."""
    before = row_counts()
    resp = admin_api.post(
        f"/patients/{targets['sessions'][1].split('/')[2]}/sessions",
        json={"treatment_id": targets["sessions"][2]["treatment_id"], "performed_on": "2027-01-01", "units": units},
    )
    assert "units" in assert_error(resp, 400, "invalid")["fields"]
    method, path, _ = targets["complete"]
    resp = admin_api.post(path, json={"units": units, "lot_number": "L1"})
    assert "units" in assert_error(resp, 400, "invalid")["fields"]
    assert row_counts() == before


def test_units_keep_two_decimals(admin_api, world):
    resp = admin_api.post(
        f"/patients/{world.patient}/sessions",
        json={"treatment_id": world.migraine, "performed_on": "2027-01-01", "units": 12.5},
    )
    assert resp.status_code == 201 and resp.get_json()["units"] == 12.5
    resp = admin_api.post(
        f"/patients/{world.patient}/sessions",
        json={"treatment_id": world.migraine, "performed_on": "2027-01-01", "units": 12.345},
    )
    assert_error(resp, 400, "invalid")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"units": NaN, "lot_number": "L"}',
        b'{"units": Infinity, "lot_number": "L"}',
        b'{"units": 1e400, "lot_number": "L"}',
        b'{"units": -0.0, "lot_number": "L"}',
    ],
)
def test_non_finite_units_are_400(admin_api, targets, raw):
    method, path, _ = targets["complete"]
    before = row_counts()
    assert_error(_send(admin_api, method, path, raw), 400)
    assert row_counts() == before


def test_query_strings_with_junk(reception_api, world):
    for params in ({"limit": "1e3"}, {"limit": "-1"}, {"offset": "9" * 40}, {"limit": "\u0000"}):
        assert_error(reception_api.get("/patients", **params), 400, "invalid")
    resp = reception_api.client.get(
        "/api/v1/appointments?from=%ff%fe&to=2027-03-01", headers={"Authorization": f"Bearer {reception_api.token}"}
    )
    assert_error(resp, 400, "invalid")
    resp = reception_api.client.get(
        "/api/v1/appointments?patient_id=1&patient_id=x", headers={"Authorization": f"Bearer {reception_api.token}"}
    )
    assert resp.status_code in (200, 400)
