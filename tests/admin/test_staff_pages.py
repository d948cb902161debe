"""Admin staff pages: create users, roles, deactivation, password reset, API tokens."""

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import ApiToken, AuditEvent, User
from tests.conftest import PASSWORD, csrf_from


def _token(client, path="/admin/staff"):
    return csrf_from(client.get(path).get_data(as_text=True))


def test_receptionist_gets_403_and_anonymous_is_redirected(client, sign_in):
    assert client.get("/admin/staff").status_code == 302
    sign_in("receptionist")
    assert client.get("/admin/staff").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/lots").status_code == 403


def test_admin_creates_a_user_who_can_sign_in(client, sign_in, app):
    sign_in("admin")
    resp = client.post(
        "/admin/staff",
        data={
            "email": "New@Example.com",
            "name": "New",
            "role": "receptionist",
            "password": "a long enough password",
            "csrf_token": _token(client),
        },
    )
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new@example.com"))
    assert user is not None and user.role == "receptionist"
    assert (
        db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "user.created", AuditEvent.entity_id == user.id)
        )
        is not None
    )
    other = app.test_client()
    token = csrf_from(other.get("/login").get_data(as_text=True))
    ok = other.post(
        "/login", data={"email": "new@example.com", "password": "a long enough password", "csrf_token": token}
    )
    assert ok.status_code == 302


def test_create_user_refuses_duplicates_short_passwords_and_missing_csrf(client, sign_in):
    admin = sign_in("admin")
    dup = client.post(
        "/admin/staff",
        data={"email": admin.email, "role": "admin", "password": "another password", "csrf_token": _token(client)},
    )
    assert dup.status_code == 400 and "already exists" in dup.get_data(as_text=True)
    short = client.post(
        "/admin/staff",
        data={"email": "x@example.com", "role": "admin", "password": "short", "csrf_token": _token(client)},
    )
    assert short.status_code == 400 and "between 10 and 512" in short.get_data(as_text=True)
    no_csrf = client.post(
        "/admin/staff", data={"email": "y@example.com", "role": "admin", "password": "a long enough password"}
    )
    assert no_csrf.status_code == 400
    assert db.session.scalar(select(User).where(User.email.in_(["x@example.com", "y@example.com"]))) is None


def test_role_change_deactivation_and_last_admin_guard(client, sign_in, make_user):
    admin = sign_in("admin")
    other = make_user("receptionist")
    page = f"/admin/staff/{other.id}"
    client.post(f"{page}/role", data={"role": "admin", "csrf_token": _token(client, page)})
    db.session.expire_all()
    assert db.session.get(User, other.id).role == "admin"
    client.post(f"{page}/deactivate", data={"csrf_token": _token(client, page)})
    db.session.expire_all()
    assert db.session.get(User, other.id).active is False
    # the signed-in admin is now the only active admin: demoting them is refused
    own = f"/admin/staff/{admin.id}"
    resp = client.post(
        f"{own}/role", data={"role": "receptionist", "csrf_token": _token(client, own)}, follow_redirects=True
    )
    assert "at least one active admin" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"


def test_password_reset_lifts_lockout(client, sign_in, make_user):
    sign_in("admin")
    other = make_user("receptionist")
    page = f"/admin/staff/{other.id}"
    resp = client.post(f"{page}/password", data={"password": "brand new password", "csrf_token": _token(client, page)})
    assert resp.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, other.id)
    from werkzeug.security import check_password_hash

    assert check_password_hash(user.password_hash, "brand new password")
    assert not check_password_hash(user.password_hash, PASSWORD)


def test_issue_and_revoke_token(client, sign_in):
    admin = sign_in("admin")
    page = f"/admin/staff/{admin.id}"
    resp = client.post(f"{page}/tokens", data={"csrf_token": _token(client, page)})
    html = resp.get_data(as_text=True)
    token = html.split('<code class="token">')[1].split("<")[0]
    assert client.get("/api/v1/treatments", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == admin.id))
    client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": _token(client)})
    assert client.get("/api/v1/treatments", headers={"Authorization": f"Bearer {token}"}).status_code == 401
