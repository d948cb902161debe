"""Treatments and practitioners: lists, reads, creates, edits and docs/rules.md's interval validation."""

from __future__ import annotations

import pytest

from scheduler.extensions import db
from scheduler.models import AuditEvent, Treatment
from tests.api.conftest import assert_error, audit_actions, row_counts

TREATMENT_FIELDS = {
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
}
PRACTITIONER_FIELDS = {"id", "name", "email", "active", "working_hours"}

#: the catalogue of docs/rules.md, as an admin would enter it
CATALOGUE = [
    dict(
        name="Chronic migraine",
        kind="therapeutic",
        product="BOTOX",
        duration_minutes=30,
        min_interval_days=84,
        remind_from="P12W",
        remind_until="P6M",
        reminder_count=3,
        follow_up_after=None,
    ),
    dict(
        name="Cervical dystonia (torticollis)",
        kind="therapeutic",
        product="BOTOX",
        duration_minutes=30,
        min_interval_days=84,
        remind_from="P12W",
        remind_until="P6M",
        reminder_count=3,
        follow_up_after="P4W",
    ),
    dict(
        name="Chronic pain (back, neck, neuropathic)",
        kind="therapeutic",
        product="BOTOX",
        duration_minutes=30,
        min_interval_days=84,
        remind_from="P3M",
        remind_until="P6M",
        reminder_count=3,
        follow_up_after="P4W",
    ),
    dict(
        name="Cosmetic lines (glabellar, forehead, crow's feet)",
        kind="cosmetic",
        product="BOTOX Cosmetic",
        duration_minutes=20,
        min_interval_days=90,
        remind_from="P3M",
        remind_until="P6M",
        reminder_count=3,
        follow_up_after="P14D",
    ),
]


def treatment_body(**overrides):
    return dict(CATALOGUE[0]) | {"name": "New treatment"} | overrides


# --- treatments ----------------------------------------------------------------------------


@pytest.mark.parametrize("row", CATALOGUE, ids=lambda r: r["name"][:20])
def test_admin_creates_each_rules_md_treatment(admin_api, row):
    resp = admin_api.post("/treatments", json=row)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) >= TREATMENT_FIELDS
    assert body == body | row | {"active": True}
    assert isinstance(body["id"], int)
    assert admin_api.get(f"/treatments/{body['id']}").get_json() == body
    assert audit_actions("treatment", body["id"]) == ["treatment.created"]


def test_list_treatments_shape(reception_api, make_treatment):
    make_treatment(name="B treatment")
    make_treatment(name="A treatment", active=False)
    resp = reception_api.get("/treatments")
    assert resp.status_code == 200
    body = resp.get_json()
    assert list(body) == ["items"]
    assert [t["name"] for t in body["items"]] == ["A treatment", "B treatment"]
    assert all(set(t) >= TREATMENT_FIELDS for t in body["items"])
    assert [t["active"] for t in body["items"]] == [False, True]


def test_empty_lists_are_items_arrays(reception_api):
    for path in ("/treatments", "/practitioners", "/patients", "/appointments"):
        resp = reception_api.get(path)
        assert resp.status_code == 200 and resp.get_json() == {"items": []}, path


def test_get_unknown_treatment_is_404(reception_api):
    assert_error(reception_api.get("/treatments/999"), 404, "not_found")
    assert_error(reception_api.get(f"/treatments/{2**31}"), 404, "not_found")
    assert_error(reception_api.get(f"/treatments/{10**30}"), 404, "not_found")
    assert_error(reception_api.get("/treatments/0"), 404, "not_found")
    assert_error(reception_api.get("/treatments/-1"), 404)
    assert_error(reception_api.get("/treatments/abc"), 404)


def test_durations_are_normalised(admin_api):
    resp = admin_api.post(
        "/treatments",
        json=treatment_body(remind_from=" P90D ", remind_until="P1Y", reminder_count=2, follow_up_after="P1W7D"),
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["remind_from"], body["remind_until"], body["follow_up_after"]) == ("P90D", "P12M", "P14D")
    # docs/rules.md writes weeks (P12W); they come back as written, not as P84D
    resp = admin_api.post("/treatments", json=treatment_body(name="Weeks", remind_from="P12W", follow_up_after="P4W"))
    assert (resp.get_json()["remind_from"], resp.get_json()["follow_up_after"]) == ("P12W", "P4W")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"remind_from": "P8W"}, "remind_from"),  # 56 days, before the 84-day minimum interval
        ({"remind_from": "P83D"}, "remind_from"),
        ({"min_interval_days": 100, "remind_from": "P3M"}, "remind_from"),  # P3M counts as 90 days
        ({"remind_until": "P13M"}, "remind_until"),
        ({"remind_until": "P2Y"}, "remind_until"),
        ({"remind_until": "P12M1D"}, "remind_until"),
        ({"remind_until": "P53W"}, "remind_until"),
        ({"remind_until": "P366D"}, "remind_until"),
        ({"remind_from": "P6M", "remind_until": "P12W"}, "remind_until"),  # ends before it starts
        ({"remind_from": "P12W", "remind_until": "P12W", "reminder_count": 3}, "remind_until"),
        ({"remind_from": "3 months"}, "remind_from"),
        ({"remind_from": "PT12H"}, "remind_from"),
        ({"remind_from": "P"}, "remind_from"),
        ({"remind_from": "p12w"}, "remind_from"),
        ({"remind_from": "P-3M"}, "remind_from"),
        ({"remind_from": "P1.5M"}, "remind_from"),
        ({"remind_until": "P999999Y"}, "remind_until"),
        ({"remind_until": "P9999999M"}, "remind_until"),
        ({"remind_until": "P12M\n"}, None),  # stripped: valid
        ({"follow_up_after": "P0D"}, "follow_up_after"),
        ({"follow_up_after": "P7M"}, "follow_up_after"),
        ({"follow_up_after": "soon"}, "follow_up_after"),
    ],
)
def test_invalid_intervals_are_refused_with_the_field(admin_api, overrides, field):
    before = row_counts()
    resp = admin_api.post("/treatments", json=treatment_body(**overrides))
    if field is None:
        assert resp.status_code == 201, resp.get_json()
        return
    err = assert_error(resp, 422, "invalid_interval")
    assert field in err["fields"], err
    assert row_counts() == before


def test_boundaries_that_are_allowed(admin_api):
    ok = [
        {"remind_from": "P84D", "min_interval_days": 84},  # exactly the minimum interval
        {"remind_from": "P12W", "remind_until": "P12M"},  # exactly the ceiling
        {"remind_from": "P12W", "remind_until": "P52W"},
        {"remind_from": "P12W", "remind_until": "P12W", "reminder_count": 1},  # one reminder, empty window
        {"follow_up_after": "P6M"},
    ]
    for i, overrides in enumerate(ok):
        resp = admin_api.post("/treatments", json=treatment_body(name=f"T{i}", **overrides))
        assert resp.status_code == 201, (overrides, resp.get_json())


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "surgical"},
        {"duration_minutes": 0},
        {"duration_minutes": 481},
        {"duration_minutes": "30"},
        {"duration_minutes": 30.5},
        {"min_interval_days": 0},
        {"min_interval_days": True},
        {"reminder_count": 0},
        {"reminder_count": 7},
        {"remind_from": 12},
        {"remind_until": None},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 121},
        {"product": None},
        {"active": "yes"},
    ],
)
def test_malformed_treatment_fields_are_400(admin_api, overrides):
    before = row_counts()
    err = assert_error(admin_api.post("/treatments", json=treatment_body(**overrides)), 400, "invalid")
    assert set(overrides) & set(err["fields"]), err
    assert row_counts() == before


def test_missing_treatment_fields_are_named(admin_api):
    err = assert_error(admin_api.post("/treatments", json={"name": "Only a name"}), 400, "invalid")
    assert {"kind", "product", "duration_minutes", "min_interval_days", "remind_from", "remind_until"} <= set(
        err["fields"]
    )


def test_duplicate_treatment_name_is_409(admin_api):
    assert admin_api.post("/treatments", json=treatment_body()).status_code == 201
    before = row_counts()
    assert_error(admin_api.post("/treatments", json=treatment_body()), 409, "duplicate")
    assert row_counts() == before


def test_patch_treatment_changes_only_what_is_sent_and_audits_intervals(admin_api, make_treatment):
    t = make_treatment(name="Chronic migraine")
    resp = admin_api.patch(f"/treatments/{t.id}", json={"remind_until": "P9M", "reminder_count": 4})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["remind_from"], body["remind_until"], body["reminder_count"], body["name"]) == (
        "P12W",
        "P9M",
        4,
        "Chronic migraine",
    )
    db.session.rollback()
    event = db.session.query(AuditEvent).filter_by(entity_type="treatment", entity_id=t.id).one()
    assert event.action == "treatment.intervals_changed"
    assert event.details["changed"]["remind_until"] == ["P6M", "P9M"]
    assert event.actor.startswith("admin")


def test_patch_treatment_answers_how_many_pending_reminders_it_replanned(admin_api, make_treatment, make_patient):
    """Two sessions with three pending re-treatment reminders each: a new remind_until re-plans
    all six (the first keeps its date, but its window now closes later); a new name, none."""
    from datetime import date

    import time_machine

    from scheduler.patients import sessions
    from tests.conftest import NOW

    t = make_treatment(name="Chronic migraine")
    with time_machine.travel(NOW, tick=False):
        for patient in (make_patient(), make_patient()):
            sessions.record_past(patient.id, actor=None, treatment_id=t.id, performed_on=date(2027, 2, 1))
        db.session.commit()
        resp = admin_api.patch(f"/treatments/{t.id}", json={"remind_until": "P9M"})
        assert resp.status_code == 200 and resp.get_json()["reminders_replanned"] == 6
        resp = admin_api.patch(f"/treatments/{t.id}", json={"name": "Migraine"})
        assert resp.status_code == 200 and resp.get_json()["reminders_replanned"] == 0


def test_patch_treatment_name_only_is_not_an_interval_change(admin_api, make_treatment):
    t = make_treatment(name="Old")
    assert admin_api.patch(f"/treatments/{t.id}", json={"name": "New", "active": False}).status_code == 200
    assert audit_actions("treatment", t.id) == ["treatment.updated"]
    assert admin_api.patch(f"/treatments/{t.id}", json={}).get_json()["name"] == "New"
    assert audit_actions("treatment", t.id) == ["treatment.updated"]


def test_patch_follow_up_null_removes_it(admin_api, make_treatment):
    t = make_treatment(follow_up_after="P4W")
    resp = admin_api.patch(f"/treatments/{t.id}", json={"follow_up_after": None})
    assert resp.status_code == 200 and resp.get_json()["follow_up_after"] is None


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"remind_from": "P4W"}, 422, "remind_from"),
        ({"min_interval_days": 120}, 422, "remind_from"),  # P12W (84 days) is now too early
        ({"remind_until": "P13M"}, 422, "remind_until"),
        ({"remind_until": None}, 400, "remind_until"),
        ({"name": None}, 400, "name"),
        ({"reminder_count": "3"}, 400, "reminder_count"),
    ],
)
def test_patch_treatment_is_validated_against_the_merged_values(admin_api, make_treatment, body, status, field):
    t = make_treatment()
    before = row_counts()
    err = assert_error(admin_api.patch(f"/treatments/{t.id}", json=body), status)
    assert field in err["fields"], err
    assert row_counts() == before
    db.session.rollback()
    assert db.session.get(Treatment, t.id).remind_from == "P12W"


def test_patch_treatment_duplicate_name_and_unknown_id(admin_api, make_treatment):
    make_treatment(name="A")
    b = make_treatment(name="B")
    assert_error(admin_api.patch(f"/treatments/{b.id}", json={"name": "A"}), 409, "duplicate")
    assert_error(admin_api.patch("/treatments/999", json={"name": "C"}), 404, "not_found")


# --- practitioners -------------------------------------------------------------------------


def test_admin_creates_practitioner_with_normalised_hours(admin_api):
    hours = {"tue": [["13:00", "17:30"], ["08:15", "12:00"]], "sat": [["10:00", "24:00"]]}
    resp = admin_api.post("/practitioners", json={"name": "Dr Who", "email": "who@example.com", "working_hours": hours})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) >= PRACTITIONER_FIELDS
    assert body["working_hours"]["tue"] == [["08:15", "12:00"], ["13:00", "17:30"]]
    assert body["working_hours"]["sat"] == [["10:00", "24:00"]]
    assert body["working_hours"]["mon"] == []
    assert body["active"] is True and body["email"] == "who@example.com"
    listed = admin_api.get("/practitioners").get_json()
    assert listed == {"items": [body]}
    assert audit_actions("practitioner", body["id"]) == ["practitioner.created"]


def test_practitioner_without_hours_or_email(admin_api):
    resp = admin_api.post("/practitioners", json={"name": "Nurse Okafor"})
    assert resp.status_code == 201
    assert resp.get_json()["email"] is None
    assert all(v == [] for v in resp.get_json()["working_hours"].values())


@pytest.mark.parametrize(
    "hours",
    [
        {"monday": [["09:00", "17:00"]]},
        {"mon": [["17:00", "09:00"]]},
        {"mon": [["09:00", "09:00"]]},
        {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]},
        {"mon": [["9:00", "17:00"]]},
        {"mon": [["09:00", "25:00"]]},
        {"mon": [["24:00", "24:00"]]},
        {"mon": [["09:60", "17:00"]]},
        {"mon": [["08:00", "09:00"]] * 7},
    ],
)
def test_bad_working_hours_are_refused(admin_api, hours):
    before = row_counts()
    err = assert_error(
        admin_api.post("/practitioners", json={"name": "Dr X", "working_hours": hours}), 422, "invalid_hours"
    )
    assert "working_hours" in err["fields"]
    assert row_counts() == before


@pytest.mark.parametrize(
    "hours",
    [
        [["09:00", "17:00"]],
        "mon 9-5",
        {"mon": "09:00-17:00"},
        {"mon": [["09:00"]]},
        {"mon": [["09:00", "17:00", "18:00"]]},
        {"mon": [[900, 1700]]},
        {"mon": None},
    ],
)
def test_malformed_working_hours_are_400(admin_api, hours):
    before = row_counts()
    err = assert_error(admin_api.post("/practitioners", json={"name": "Dr X", "working_hours": hours}), 400, "invalid")
    assert any(k.startswith("working_hours") for k in err["fields"]), err
    assert row_counts() == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Dr X", "email": "not-an-email"},
        {"email": "a@example.com"},
        {"name": ""},
        {"name": "Dr X", "active": 1},
    ],
)
def test_bad_practitioner_fields_are_400(admin_api, body):
    before = row_counts()
    assert_error(admin_api.post("/practitioners", json=body), 400, "invalid")
    assert row_counts() == before


def test_get_and_patch_practitioner(admin_api, make_practitioner):
    p = make_practitioner(name="Dr Hart")
    assert admin_api.get(f"/practitioners/{p.id}").get_json()["name"] == "Dr Hart"
    resp = admin_api.patch(f"/practitioners/{p.id}", json={"working_hours": {"fri": [["09:00", "13:00"]]}})
    assert resp.status_code == 200
    assert resp.get_json()["working_hours"]["fri"] == [["09:00", "13:00"]]
    assert resp.get_json()["working_hours"]["mon"] == []
    assert_error(
        admin_api.patch(f"/practitioners/{p.id}", json={"working_hours": {"fri": [["13:00", "09:00"]]}}),
        422,
        "invalid_hours",
    )
    assert_error(admin_api.get("/practitioners/999"), 404, "not_found")
