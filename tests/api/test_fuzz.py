"""Property-based bad input for the writing endpoints: random JSON bodies, raw bytes, and valid bodies
with fields swapped for values of the wrong type. The API always answers below 500; a refusal is a
4xx with the error shape and writes nothing (every clinic table keeps its row count).

One clinic is built per test (function-scoped fixtures) and shared by its examples: a refused
example changes nothing by the property under test, and accepted ones only add rows, which the
next example measures afresh.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import TUESDAY, assert_error, book, row_counts
from tests.conftest import london

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            " ",
            "\u0000",
            "2027-02-30",
            "2027-03-02T10:00:00",
            "2027-03-02T10:00:00+00:00",
            "1999-01-01",
            "P3M",
            "P-1D",
            "0",
            "-1",
            "1e999",
            "null",
            "x" * 5000,
            "\ud7ff\U0001f600",
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _valid_bodies(world, appt_id: int) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        "appointments": (
            "POST",
            "/appointments",
            {
                "patient_id": world.patient2,
                "practitioner_id": world.prac2,
                "treatment_id": world.migraine,
                "starts_at": london(TUESDAY, 14).isoformat(),
                "override_reason": "checked",
            },
        ),
        "patients": (
            "POST",
            "/patients",
            {
                "first_name": "A",
                "last_name": "B",
                "email": "a@example.com",
                "phone": "07700 900000",
                "date_of_birth": "1980-01-01",
                "reminders_opt_in": True,
            },
        ),
        "patient_patch": (
            "PATCH",
            f"/patients/{world.patient}",
            {"first_name": "C", "email": None, "reminders_opt_in": False},
        ),
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
                "reminder_count": 3,
                "follow_up_after": "P14D",
                "active": True,
            },
        ),
        "treatment_patch": (
            "PATCH",
            f"/treatments/{world.dystonia}",
            {
                "min_interval_days": 84,
                "remind_from": "P12W",
                "remind_until": "P6M",
                "reminder_count": 2,
                "follow_up_after": None,
            },
        ),
        "practitioners": (
            "POST",
            "/practitioners",
            {"name": "Dr X", "email": "x@example.com", "active": True, "working_hours": {"mon": [["09:00", "17:00"]]}},
        ),
        "sessions": (
            "POST",
            f"/patients/{world.patient}/sessions",
            {
                "treatment_id": world.cosmetic,
                "performed_on": "2026-01-01",
                "units": 20,
                "lot_number": "L1",
                "product": "P",
                "lot_expiry": "2027-01-01",
                "sites": "s",
                "notes": "n",
                "external": True,
            },
        ),
        "reschedule": ("POST", f"/appointments/{appt_id}/reschedule", {"starts_at": london(TUESDAY, 15).isoformat()}),
        "complete": (
            "POST",
            f"/appointments/{appt_id}/complete",
            {"units": 10, "lot_number": "L", "product": "P", "lot_expiry": "2028-01-01", "sites": "s", "notes": "n"},
        ),
        "cancel": ("POST", f"/appointments/{appt_id}/cancel", {"reason": "r"}),
    }


@pytest.fixture
def fuzz(admin_api, world, frozen):
    """(api, targets): a checked-in appointment to complete, reschedule or cancel."""
    appt = book(admin_api, world, london(TUESDAY, 9))
    frozen.move_to(london(TUESDAY, 9, 5))  # check-in on the appointment's day
    assert admin_api.post(f"/appointments/{appt['id']}/check-in").status_code == 200
    return admin_api, _valid_bodies(world, appt["id"])


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
    "cancel",
]


def _send(api, method: str, path: str, data: bytes):
    return api.client.open(
        f"/api/v1{path}",
        method=method,
        data=data,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )


def _check(api, method: str, path: str, data: bytes) -> int:
    """Sends a body and checks the property; returns the status."""
    before = row_counts()
    resp = _send(api, method, path, data)
    assert resp.status_code < 500, (method, path, data[:200], resp.get_data(as_text=True)[:300])
    if resp.status_code >= 400:
        assert_error(resp, resp.status_code)
        assert row_counts() == before, (method, path, data[:200])
    return resp.status_code


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(body=json_values)
def test_random_json_bodies(fuzz, name, body):
    api, targets = fuzz
    method, path, _ = targets[name]
    _check(api, method, path, _dumps(body))


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_valid_bodies_with_wrong_field_values(fuzz, name, data):
    api, targets = fuzz
    method, path, valid = targets[name]
    fields = data.draw(st.lists(st.sampled_from(sorted(valid)), min_size=1, max_size=3, unique=True))
    body = dict(valid)
    for field in fields:
        body[field] = data.draw(json_values, label=field)
    if data.draw(st.booleans(), label="drop one"):
        body.pop(data.draw(st.sampled_from(sorted(body)), label="dropped"))
    _check(api, method, path, _dumps(body))


@pytest.mark.parametrize("name", ["appointments", "patients", "sessions", "complete", "treatments"])
@SETTINGS
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_raw_bytes(fuzz, name, raw):
    api, targets = fuzz
    method, path, _ = targets[name]
    status = _check(api, method, path, raw)
    assert status >= 400 or raw.strip().startswith(b"{")


@pytest.mark.parametrize("path", ["/patients", "/appointments", "/availability"])
@SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["q", "limit", "offset", "from", "to", "practitioner_id", "patient_id", "treatment_id", "date", "status"]
        ),
        st.text(max_size=30)
        | st.integers(min_value=-(2**64), max_value=2**64).map(str)
        | st.sampled_from(["2027-03-02", "2027-02-30", "2027-03-02T10:00:00+00:00", "1"]),
        max_size=5,
    )
)
def test_random_query_strings(fuzz, path, params):
    api, _ = fuzz
    resp = api.get(path, **params)
    assert resp.status_code < 500, (path, params, resp.get_data(as_text=True)[:300])
    if resp.status_code >= 400:
        assert_error(resp, resp.status_code)
    else:
        assert isinstance(resp.get_json(), dict)


@SETTINGS
@given(
    units=st.floats()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.decimals(places=6, allow_nan=False, allow_infinity=False).map(float)
)
def test_units_never_reach_the_database_unrepresentable(fuzz, world, units):
    """Units are stored as NUMERIC(7, 2) with a CHECK units > 0: anything accepted must fit it exactly."""
    api, _ = fuzz
    body = {"treatment_id": world.cosmetic, "performed_on": "2026-01-01", "units": units}
    status = _check(api, "POST", f"/patients/{world.patient}/sessions", _dumps(body))  # NaN, Infinity as JSON5
    if status == 201:
        assert 0 < units <= 1000 and round(units, 2) == units
