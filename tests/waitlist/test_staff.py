"""Staff work the waitlist: the reception page (linked from the navigation) and the API."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, WaitlistEntry
from tests.conftest import csrf_from
from tests.waitlist.conftest import TUESDAY, wait


def test_the_api_adds_lists_and_removes(clinic, reception_api):
    body = {
        "patient_id": clinic.noah,
        "treatment_id": clinic.migraine,
        "from_date": "2027-03-02",
        "until_date": "2027-03-20",
    }
    created = reception_api.post("/waitlist", json=body)
    assert created.status_code == 201
    entry = created.get_json()
    assert entry | {"id": 0, "created_at": ""} == body | {
        "id": 0, "created_at": "", "practitioner_id": None, "status": "waiting", "appointment_id": None,
    }  # fmt: skip
    second = reception_api.post("/waitlist", json=body | {"patient_id": clinic.olivia, "practitioner_id": clinic.prac})
    assert second.status_code == 201
    listed = reception_api.get("/waitlist").get_json()["items"]
    assert [i["patient_id"] for i in listed] == [clinic.noah, clinic.olivia]  # who joined first
    assert [i["id"] for i in reception_api.get("/waitlist", patient_id=clinic.olivia).get_json()["items"]] == [
        second.get_json()["id"]
    ]
    assert reception_api.get(f"/waitlist/{entry['id']}").get_json()["patient_id"] == clinic.noah
    removed = reception_api.post(f"/waitlist/{entry['id']}/remove")
    assert removed.status_code == 200 and removed.get_json()["status"] == "removed"
    assert reception_api.post(f"/waitlist/{entry['id']}/remove").get_json()["error"]["code"] == "bad_transition"
    assert [i["patient_id"] for i in reception_api.get("/waitlist").get_json()["items"]] == [clinic.olivia]
    assert reception_api.get("/waitlist", status="removed").get_json()["items"][0]["id"] == entry["id"]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "waitlist_entry")).all()
    assert sorted(actions) == ["waitlist.added", "waitlist.added", "waitlist.removed"]


def test_the_api_refuses_bad_entries_with_4xx(clinic, reception_api):
    good = {
        "patient_id": clinic.noah,
        "treatment_id": clinic.migraine,
        "from_date": "2027-03-02",
        "until_date": "2027-03-20",
    }
    cases = [
        (good | {"until_date": "2027-03-01"}, 422, "bad_dates"),
        (good | {"from_date": "2026-01-01", "until_date": "2026-02-01"}, 422, "bad_dates"),
        (good | {"until_date": "2028-06-01"}, 422, "bad_dates"),
        (good | {"patient_id": 999999}, 422, "invalid_reference"),
        (good | {"practitioner_id": 999999}, 422, "invalid_reference"),
        (good | {"treatment_id": "1"}, 400, None),
        (good | {"from_date": "yesterday"}, 400, None),
    ]
    for body, status, code in cases:
        resp = reception_api.post("/waitlist", json=body)
        assert resp.status_code == status, (body, resp.get_json())
        if code:
            assert resp.get_json()["error"]["code"] == code
    assert reception_api.get("/waitlist/2147483647").status_code == 404
    db.session.rollback()
    assert db.session.scalars(select(WaitlistEntry)).all() == []


def test_the_reception_page_adds_and_removes(client, sign_in, clinic):
    sign_in()
    day = client.get("/").get_data(as_text=True)
    assert 'href="/waitlist"' in day  # in the navigation
    found = client.get("/waitlist?q=Noah").get_data(as_text=True)
    assert f"/waitlist?patient_id={clinic.noah}" in found
    page = client.get(f"/waitlist?patient_id={clinic.noah}").get_data(as_text=True)
    form = {
        "csrf_token": csrf_from(page),
        "patient_id": str(clinic.noah),
        "treatment_id": str(clinic.migraine),
        "practitioner_id": "0",
        "from_date": "2027-03-02",
        "until_date": "2027-03-01",
    }
    refused = client.post("/waitlist", data=form)
    assert refused.status_code == 422 and "the last date is before the first date" in refused.get_data(as_text=True)
    added = client.post("/waitlist", data=form | {"until_date": "2027-03-20"})
    assert added.status_code == 303
    listing = client.get("/waitlist").get_data(as_text=True)
    assert "Noah Jones" in listing and "Any" in listing and "Added to the waitlist." in listing
    [entry] = db.session.scalars(select(WaitlistEntry)).all()
    assert (entry.practitioner_id, entry.from_date, entry.until_date) == (None, TUESDAY, date(2027, 3, 20))
    gone = client.post(f"/waitlist/{entry.id}/remove", data={"csrf_token": csrf_from(listing)})
    assert gone.status_code == 303
    assert "Nobody is waiting." in client.get("/waitlist").get_data(as_text=True)
    assert client.post(f"/waitlist/{entry.id}/remove", data={"csrf_token": csrf_from(listing)}).status_code == 409


def test_a_post_without_csrf_changes_nothing(client, sign_in, clinic):
    sign_in()
    entry_id = wait(clinic, clinic.noah)
    assert client.post(f"/waitlist/{entry_id}/remove").status_code == 400
    db.session.rollback()
    assert db.session.get(WaitlistEntry, entry_id).status == "waiting"
