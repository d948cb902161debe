"""401 and 403 on every endpoint: no token, a bad one, a revoked one, a deactivated user, the wrong role."""

from __future__ import annotations

import pytest

from scheduler.extensions import db
from scheduler.models import ApiToken, User
from scheduler.staff import tokens
from tests.api.conftest import assert_error, row_counts
from tests.conftest import Api

#: every endpoint of CONTRACT §4 except GET /reminders, with an id placeholder of 1
STAFF = [
    ("GET", "/treatments"),
    ("GET", "/treatments/1"),
    ("GET", "/practitioners"),
    ("GET", "/patients"),
    ("POST", "/patients"),
    ("GET", "/patients/1"),
    ("PATCH", "/patients/1"),
    ("GET", "/availability?practitioner_id=1&treatment_id=1&date=2027-03-02"),
    ("GET", "/appointments"),
    ("POST", "/appointments"),
    ("POST", "/appointments/1/reschedule"),
    ("POST", "/appointments/1/cancel"),
    ("POST", "/appointments/1/check-in"),
    ("POST", "/appointments/1/no-show"),
    ("POST", "/appointments/1/complete"),
    ("GET", "/patients/1/sessions"),
    ("POST", "/patients/1/sessions"),
]
ADMIN = [
    ("POST", "/treatments"),
    ("PATCH", "/treatments/1"),
    ("POST", "/practitioners"),
]


def _call(client, method: str, path: str, headers: dict[str, str]):
    return client.open(f"/api/v1{path}", method=method, headers=headers, json={} if method != "GET" else None)


@pytest.mark.parametrize(("method", "path"), STAFF + ADMIN)
def test_no_token_is_401(client, method, path):
    resp = _call(client, method, path, {})
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer csk_not-a-real-token",
        "Bearer ",
        "Bearer",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        "Token csk_abc",
        "Bearer " + "x" * 5000,
        "Bearer \u00e9\u00e8",
    ],
)
def test_bad_token_is_401(client, header):
    resp = client.get("/api/v1/treatments", headers={"Authorization": header})
    assert_error(resp, 401, "unauthorized")


@pytest.mark.parametrize(("method", "path"), STAFF + ADMIN)
def test_revoked_token_is_401_everywhere(client, make_user, method, path):
    user = make_user("admin")
    token = tokens.issue_token(user, actor_label="test")
    db.session.commit()
    assert client.get("/api/v1/treatments", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    row = db.session.query(ApiToken).filter_by(user_id=user.id).one()
    tokens.revoke_token(row.id, actor=user)
    db.session.commit()
    assert_error(_call(client, method, path, {"Authorization": f"Bearer {token}"}), 401, "unauthorized")


def test_token_scheme_is_case_insensitive_and_other_tokens_keep_working(client, make_user):
    user = make_user("receptionist")
    first = tokens.issue_token(user, actor_label="test")
    second = tokens.issue_token(user, actor_label="test")
    db.session.commit()
    tokens.revoke_token(db.session.query(ApiToken).filter_by(prefix=first[:12]).one().id, actor=None)
    db.session.commit()
    assert client.get("/api/v1/treatments", headers={"Authorization": f"bearer {second}"}).status_code == 200
    assert_error(client.get("/api/v1/treatments", headers={"Authorization": f"Bearer {first}"}), 401)


def test_deactivated_users_token_is_401(client, make_user):
    user = make_user("admin")
    token = tokens.issue_token(user, actor_label="test")
    user.active = False
    db.session.commit()
    assert_error(client.get("/api/v1/treatments", headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")


def test_tokens_are_stored_hashed(client, make_user):
    user = make_user("admin")
    token = tokens.issue_token(user, actor_label="test")
    db.session.commit()
    row = db.session.query(ApiToken).filter_by(user_id=user.id).one()
    assert token not in (row.token_hash, row.prefix)
    assert row.token_hash == tokens.token_digest(token)


@pytest.mark.parametrize(("method", "path"), ADMIN)
def test_receptionist_on_admin_endpoints_is_403_and_writes_nothing(reception_api, frozen, method, path):
    before = row_counts()
    body = {
        "name": "Sneaky",
        "kind": "cosmetic",
        "product": "X",
        "duration_minutes": 20,
        "min_interval_days": 90,
        "remind_from": "P3M",
        "remind_until": "P6M",
        "working_hours": {},
    }
    resp = reception_api.client.open(
        f"/api/v1{path}", method=method, json=body, headers={"Authorization": f"Bearer {reception_api.token}"}
    )
    assert_error(resp, 403, "forbidden")
    assert row_counts() == before


@pytest.mark.parametrize(("method", "path"), STAFF)
def test_receptionist_passes_auth_on_staff_endpoints(reception_api, method, path):
    """A receptionist gets past authentication on every staff endpoint (never 401/403)."""
    resp = reception_api.client.open(
        f"/api/v1{path}",
        method=method,
        json={} if method != "GET" else None,
        headers={"Authorization": f"Bearer {reception_api.token}"},
    )
    assert resp.status_code not in (401, 403, 500), resp.get_json()


def test_openapi_needs_no_token(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.get_json()["openapi"].startswith("3.")


def test_unknown_api_path_and_method_are_json_errors(admin_api):
    assert_error(admin_api.get("/nope"), 404, "not_found")
    resp = admin_api.client.delete("/api/v1/treatments", headers={"Authorization": f"Bearer {admin_api.token}"})
    assert_error(resp, 405)
    assert "GET" in resp.headers["Allow"]


def test_api_users_are_distinct(client, make_user):
    """Each token authenticates as its own user (the audit log names the right actor)."""
    a, r = make_user("admin"), make_user("receptionist")
    ta, tr = tokens.issue_token(a, actor_label="t"), tokens.issue_token(r, actor_label="t")
    db.session.commit()
    Api(client, tr).post("/patients", json={"first_name": "A", "last_name": "B"})
    Api(client, ta).post("/patients", json={"first_name": "C", "last_name": "D"})
    from scheduler.models import AuditEvent

    db.session.rollback()
    actors = [e.actor for e in db.session.query(AuditEvent).filter_by(action="patient.created").order_by(AuditEvent.id)]
    assert actors == [r.email, a.email]
    assert db.session.get(User, a.id).is_admin and not db.session.get(User, r.id).is_admin
