"""openapi.json: a valid OpenAPI 3.1 document that lists every endpoint of CONTRACT §4, whose
schemas accept what the API really answers and refuse what it refuses."""

from __future__ import annotations

from datetime import date

import jsonschema
import openapi_spec_validator
import pytest

from tests.api.conftest import TUESDAY, book
from tests.conftest import london

#: (method, path) of every endpoint of CONTRACT §4 except GET /reminders (the reminders issue)
CONTRACT = {
    ("get", "/treatments"),
    ("get", "/treatments/{treatment_id}"),
    ("post", "/treatments"),
    ("patch", "/treatments/{treatment_id}"),
    ("get", "/practitioners"),
    ("post", "/practitioners"),
    ("get", "/patients"),
    ("post", "/patients"),
    ("get", "/patients/{patient_id}"),
    ("patch", "/patients/{patient_id}"),
    ("get", "/availability"),
    ("get", "/appointments"),
    ("post", "/appointments"),
    ("post", "/appointments/{appointment_id}/reschedule"),
    ("post", "/appointments/{appointment_id}/cancel"),
    ("post", "/appointments/{appointment_id}/check-in"),
    ("post", "/appointments/{appointment_id}/no-show"),
    ("post", "/appointments/{appointment_id}/complete"),
    ("get", "/patients/{patient_id}/sessions"),
    ("post", "/patients/{patient_id}/sessions"),
}
ADMIN_ONLY = {("post", "/treatments"), ("patch", "/treatments/{treatment_id}"), ("post", "/practitioners")}


@pytest.fixture
def spec(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def _operations(spec):
    return {(m, p): op for p, item in spec["paths"].items() for m, op in item.items()}


def test_spec_is_valid_openapi_3_1(spec):
    openapi_spec_validator.validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_every_contract_endpoint_is_described(spec):
    ops = _operations(spec)
    assert set(ops) >= CONTRACT, CONTRACT - set(ops)
    assert spec["servers"] == [{"url": "/api/v1"}]
    assert len({op["operationId"] for op in ops.values()}) == len(ops)


def test_operations_document_auth_and_errors(spec):
    ops = _operations(spec)
    for key in CONTRACT:
        op = ops[key]
        assert op["security"] == [{"bearer": []}], key
        assert {"400", "401", "403"} <= set(op["responses"]), key
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert len(ok) == 1, key
        for code, answer in op["responses"].items():
            if not code.startswith("2"):
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
        if "{" in key[1]:
            assert "404" in op["responses"], key
    for key in {
        ("post", "/treatments"),
        ("post", "/patients"),
        ("post", "/appointments"),
        ("post", "/practitioners"),
        ("post", "/patients/{patient_id}/sessions"),
        ("post", "/appointments/{appointment_id}/complete"),
    }:
        assert "201" in ops[key]["responses"], key
    booking = ops[("post", "/appointments")]["responses"]
    assert {"409", "422"} <= set(booking)
    for key in ("cancel", "check-in", "no-show"):
        assert "409" in ops[("post", f"/appointments/{{appointment_id}}/{key}")]["responses"]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_lists_are_items_objects_and_query_parameters_are_listed(spec):
    ops = _operations(spec)
    for key in (
        ("get", "/treatments"),
        ("get", "/practitioners"),
        ("get", "/patients"),
        ("get", "/appointments"),
        ("get", "/patients/{patient_id}/sessions"),
    ):
        schema = ops[key]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["type"] == "object" and schema["required"] == ["items"], key
        assert schema["properties"]["items"]["type"] == "array"
    params = {p["name"]: p for p in ops[("get", "/availability")]["parameters"]}
    assert {n for n, p in params.items() if p["required"]} == {"practitioner_id", "treatment_id", "date"}
    assert all(p["in"] == "query" for p in params.values())
    names = {p["name"] for p in ops[("get", "/appointments")]["parameters"]}
    assert {"from", "to", "practitioner_id", "patient_id"} <= names
    assert "q" in {p["name"] for p in ops[("get", "/patients")]["parameters"]}


def test_contract_fields_are_in_the_schemas(spec):
    schemas = spec["components"]["schemas"]
    expect = {
        "TreatmentOut": {
            "id",
            "name",
            "kind",
            "product",
            "duration_minutes",
            "min_interval_days",
            "remind_from",
            "remind_until",
            "reminder_count",
            "follow_up_after",
            "active",
        },
        "PractitionerOut": {"id", "name", "email", "active", "working_hours"},
        "PatientOut": {"id", "first_name", "last_name", "email", "phone", "date_of_birth", "reminders_opt_in"},
        "AppointmentOut": {"id", "patient_id", "practitioner_id", "treatment_id", "starts_at", "ends_at", "status"},
        "SessionOut": {
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
        },
        "AppointmentIn": {"patient_id", "practitioner_id", "treatment_id", "starts_at", "override_reason"},
        "CompleteIn": {"units", "lot_number", "product", "lot_expiry", "sites", "notes"},
        "SessionIn": {"treatment_id", "performed_on", "units", "lot_number", "external"},
    }
    for name, fields in expect.items():
        assert fields <= set(schemas[name]["properties"]), (name, fields - set(schemas[name]["properties"]))
    assert set(schemas["AppointmentIn"]["required"]) == {"patient_id", "practitioner_id", "treatment_id", "starts_at"}
    assert set(schemas["CompleteIn"]["required"]) == {"units", "lot_number"}
    assert schemas["AppointmentOut"]["properties"]["starts_at"]["format"] == "date-time"
    assert schemas["ErrorOut"]["required"] == ["error"]


# --- the schemas describe the real answers -----------------------------------------------------


def _validator(spec, schema):
    root = dict(schema) | {"components": spec["components"]}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _response_schema(spec, method, path, status):
    return spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def _check(spec, method, path, resp):
    schema = _response_schema(spec, method, path, resp.status_code)
    errors = list(_validator(spec, schema).iter_errors(resp.get_json()))
    assert not errors, (method, path, resp.status_code, [e.message for e in errors][:3])


def test_real_answers_match_their_schemas(admin_api, world, spec, frozen):
    a = admin_api
    _check(spec, "get", "/treatments", a.get("/treatments"))
    _check(spec, "get", "/treatments/{treatment_id}", a.get(f"/treatments/{world.migraine}"))
    _check(spec, "patch", "/treatments/{treatment_id}", a.patch(f"/treatments/{world.migraine}", json={"active": True}))
    _check(
        spec,
        "post",
        "/treatments",
        a.post(
            "/treatments",
            json={
                "name": "X",
                "kind": "cosmetic",
                "product": "P",
                "duration_minutes": 20,
                "min_interval_days": 90,
                "remind_from": "P3M",
                "remind_until": "P6M",
            },
        ),
    )
    _check(spec, "get", "/practitioners", a.get("/practitioners"))
    _check(
        spec,
        "post",
        "/practitioners",
        a.post("/practitioners", json={"name": "Dr Y", "working_hours": {"mon": [["09:00", "12:00"]]}}),
    )
    _check(spec, "get", "/patients", a.get("/patients", q="smith"))
    _check(spec, "post", "/patients", a.post("/patients", json={"first_name": "A", "last_name": "B"}))
    _check(spec, "get", "/patients/{patient_id}", a.get(f"/patients/{world.patient}"))
    _check(spec, "patch", "/patients/{patient_id}", a.patch(f"/patients/{world.patient}", json={"phone": None}))
    _check(
        spec,
        "get",
        "/availability",
        a.get("/availability", practitioner_id=world.prac, treatment_id=world.migraine, date=TUESDAY.isoformat()),
    )
    appt = book(a, world, london(TUESDAY, 9))
    other = book(a, world, london(TUESDAY, 11))
    _check(spec, "get", "/appointments", a.get("/appointments"))
    _check(
        spec,
        "post",
        "/appointments/{appointment_id}/reschedule",
        a.post(f"/appointments/{other['id']}/reschedule", json={"starts_at": london(TUESDAY, 12).isoformat()}),
    )
    frozen.move_to(london(TUESDAY, 12, 5))  # on the day, after the start (no-show, check-in)
    _check(spec, "post", "/appointments/{appointment_id}/no-show", a.post(f"/appointments/{other['id']}/no-show"))
    _check(spec, "post", "/appointments/{appointment_id}/check-in", a.post(f"/appointments/{appt['id']}/check-in"))
    _check(
        spec,
        "post",
        "/appointments/{appointment_id}/complete",
        a.post(f"/appointments/{appt['id']}/complete", json={"units": 100, "lot_number": "L1"}),
    )
    _check(spec, "post", "/appointments/{appointment_id}/cancel", a.post(f"/appointments/{appt['id']}/cancel"))
    _check(
        spec,
        "post",
        "/patients/{patient_id}/sessions",
        a.post(
            f"/patients/{world.patient2}/sessions",
            json={"treatment_id": world.cosmetic, "performed_on": date(2027, 1, 1).isoformat()},
        ),
    )
    _check(spec, "get", "/patients/{patient_id}/sessions", a.get(f"/patients/{world.patient}/sessions"))
    # errors too
    _check(spec, "get", "/treatments/{treatment_id}", a.get("/treatments/999"))
    _check(spec, "post", "/appointments", a.post("/appointments", json={"patient_id": "x"}))


def test_request_schemas_agree_with_the_api(admin_api, world, spec):
    """A body the schema accepts is accepted (201); bodies the schema refuses are refused (400)."""
    body_schema = spec["paths"]["/patients"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    validator = _validator(spec, body_schema)
    good = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "date_of_birth": "1915-12-10"}
    assert validator.is_valid(good)
    assert admin_api.post("/patients", json=good).status_code == 201
    for bad in ({"first_name": "Ada"}, {"first_name": 1, "last_name": "L"}, {"first_name": "", "last_name": "L"}):
        assert not validator.is_valid(bad)
        assert admin_api.post("/patients", json=bad).status_code == 400
