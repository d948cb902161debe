"""GET /api/v1/reminders: the outbox as JSON, its filters and its errors."""

from __future__ import annotations

from datetime import date

from tests.api.conftest import assert_error
from tests.conftest import london
from tests.reminders.conftest import book, record, run_sweep

FIELDS = {
    "id",
    "patient_id",
    "kind",
    "session_id",
    "appointment_id",
    "due_at",
    "status",
    "attempts",
    "next_attempt_at",
    "sent_at",
    "reason",
    "seq",
    "message_id",
}


def test_reminders_list_and_filters(clinic, api_as, travel, smtp):
    api = api_as("receptionist")
    session = record(clinic, date(2027, 1, 4))  # 29 Mar, 16 May, 4 Jul
    appt = book(clinic, london(date(2027, 3, 3), 10), patient=clinic.noah)
    travel.move_to(london(date(2027, 3, 1), 10))
    run_sweep()
    everything = api.get("/reminders")
    assert everything.status_code == 200
    items = everything.get_json()["items"]
    assert len(items) == 5 and all(set(i) == FIELDS for i in items)
    assert [i["due_at"] for i in items] == sorted(i["due_at"] for i in items)
    sent = [i for i in items if i["status"] == "sent"]
    assert [(i["kind"], i["appointment_id"], i["attempts"], i["sent_at"]) for i in sent] == [
        ("confirmation", appt.id, 1, "2027-03-01T10:00:00+00:00")
    ]
    first = next(i for i in items if i["kind"] == "retreatment" and i["seq"] == 1)
    assert (first["session_id"], first["due_at"], first["status"]) == (
        session.id,
        "2027-03-29T08:00:00+00:00",
        "pending",
    )

    def ids(**params):
        resp = api.get("/reminders", **params)
        assert resp.status_code == 200, resp.get_json()
        return [(i["kind"], i["seq"]) for i in resp.get_json()["items"]]

    assert ids(patient_id=clinic.olivia) == [("retreatment", 1), ("retreatment", 2), ("retreatment", 3)]
    assert ids(status="sent") == [("confirmation", 0)]
    assert ids(kind="pre_visit") == [("pre_visit", 0)]
    assert ids(kind="retreatment", due_before="2027-05-16") == [("retreatment", 1)]  # before that local day
    assert ids(kind="retreatment", due_before="2027-05-16T08:00:01+00:00") == [("retreatment", 1), ("retreatment", 2)]
    assert ids(patient_id=clinic.noah, status="pending") == [("pre_visit", 0)]
    assert ids(patient_id=999) == []
    assert ids(limit=2, offset=1) == [("pre_visit", 0), ("retreatment", 1)]


def test_reminders_errors(clinic, api_as, client, travel):
    api = api_as("receptionist")
    assert_error(client.get("/api/v1/reminders"), 401, "unauthorized")
    for params in (
        {"status": "lost"},
        {"kind": "birthday"},
        {"due_before": "tomorrow"},
        {"due_before": "2027-03-01T09:00:00"},
        {"patient_id": "0"},
        {"patient_id": "x"},
        {"limit": "0"},
    ):
        err = assert_error(api.get("/reminders", **params), 400, "invalid")
        assert set(err["fields"]) == set(params), (params, err)


def test_openapi_describes_reminders(api_as):
    spec = api_as("receptionist").get("/openapi.json").get_json()
    op = spec["paths"]["/reminders"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"patient_id", "status", "kind", "due_before"}
    assert "ReminderOut" in spec["components"]["schemas"]
