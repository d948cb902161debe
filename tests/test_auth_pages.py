"""Staff sign-in: CSRF, wrong passwords, lock-out, safe redirects, headers and cookie flags."""

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, User
from tests.conftest import PASSWORD, csrf_from


def _login(client, email, password, next_url=None):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    path = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data={"email": email, "password": password, "csrf_token": token})


def test_pages_need_sign_in(client):
    for path in ("/", "/calendar?date=2027-03-01", "/admin/"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_sign_in_and_out(client, make_user):
    user = make_user("receptionist")
    resp = _login(client, user.email.upper(), PASSWORD)
    assert resp.status_code == 302
    assert client.get("/").status_code == 200
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout").status_code == 400  # no CSRF token: nothing happens
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    user = make_user()
    wrong = _login(client, user.email, "not the password")
    unknown = _login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True) and "do not match" in unknown.get_data(as_text=True)


def test_post_without_csrf_signs_nobody_in(client, make_user):
    user = make_user()
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/").status_code == 302


def test_lockout_after_repeated_failures(client, make_user, app):
    user = make_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, user.email, "wrong password!")
    locked = _login(client, user.email, PASSWORD)
    assert locked.status_code == 429 and "locked" in locked.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.locked_out")) is not None


def test_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user()
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert _login(client, user.email, PASSWORD).status_code == 401


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/patients", "/patients"),
        ("https://evil.example/", "/calendar"),
        ("//evil.example/x", "/calendar"),
        ("/\\evil.example", "/calendar"),
        ("javascript:alert(1)", "/calendar"),
    ],
)
def test_next_only_goes_to_this_site(client, make_user, target, expected):
    user = make_user()
    resp = _login(client, user.email, PASSWORD, next_url=target)
    location = resp.headers["Location"]
    assert location in (expected, "/") or (expected == "/calendar" and location in ("/", "/calendar"))
    assert "evil" not in location and "javascript" not in location


def test_security_headers_and_cookie_flags(client, make_user):
    resp = client.get("/login")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    user = make_user()
    signed = _login(client, user.email, PASSWORD)
    session = [c for c in signed.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert session and "HttpOnly" in session[0] and "SameSite=Lax" in session[0]


def test_the_signed_in_user_is_a_persistent_user_read_fresh_each_request(app, make_user):
    """users.signed_in: the row as a persistent User (changes flush as an UPDATE, relationships
    load), read again on each request, so deactivation and a role change count at once."""
    from sqlalchemy import event, inspect

    from scheduler.models import User
    from scheduler.staff import users

    admin = make_user("admin")
    uid = admin.get_id()
    assert uid == f"{admin.id}:0"
    db.session.remove()
    with app.test_request_context("/"):
        user = users.signed_in(uid)
        state = inspect(user)
        assert state.persistent and not db.session.dirty and user.email == admin.email and user.is_admin
        assert users.signed_in(uid) is user  # the identity map's, no second read
        assert user.tokens == []  # a relationship loads
        statements = []

        def seen(_conn, _cursor, statement, *_rest):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            user.role = "receptionist"
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        db.session.remove()
    assert any(s.lstrip().upper().startswith("UPDATE USERS") for s in statements), statements
    assert db.session.get(User, admin.id).role == "receptionist" and db.session.query(User).count() == 1
    db.session.remove()
    with app.test_request_context("/"):
        assert not users.signed_in(uid).is_admin
        users.set_active(admin.id, False, actor=None)
        db.session.commit()
        db.session.remove()
    with app.test_request_context("/"):
        assert users.signed_in(uid) is None
        assert users.signed_in("999999:0") is None and users.signed_in(str(admin.id)) is None
        for malformed in ("1e3:0", "", "9" * 40 + ":0", f"{admin.id}:-1", f"{admin.id}:0:0", f"{admin.id}:"):
            assert users.signed_in(malformed) is None


def test_the_token_user_is_the_callers_id_email_and_role_and_a_revoked_token_none(app, make_user):
    """tokens.user_for_token: who is calling (what services read of an actor), or None once the
    token is revoked, the user deactivated, or the token unknown."""
    from scheduler.models import ApiToken
    from scheduler.staff import tokens, users

    admin, desk = make_user("admin"), make_user("receptionist")
    token, desk_token = tokens.issue_token(admin, actor_label="test"), tokens.issue_token(desk, actor_label="test")
    db.session.commit()
    caller = tokens.user_for_token(token)
    assert (caller.id, caller.email, caller.is_admin) == (admin.id, admin.email, True)
    assert not tokens.user_for_token(desk_token).is_admin
    assert not db.session.new and not db.session.dirty  # nothing to write for a read
    users.set_active(desk.id, False, actor=caller)
    db.session.commit()
    assert tokens.user_for_token(desk_token) is None
    tokens.revoke_token(db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == admin.id)), actor=None)
    db.session.commit()
    assert tokens.user_for_token(token) is None and tokens.user_for_token("csk_" + "x" * 300) is None


def test_hsts_is_sent_only_when_the_session_cookie_is_secure(app, client):
    assert app.config["SESSION_COOKIE_SECURE"] is False  # testing, as development: plain HTTP
    for path in ("/login", "/api/v1/treatments", "/p/book"):
        assert "Strict-Transport-Security" not in client.get(path).headers
    app.config["SESSION_COOKIE_SECURE"] = True
    for path in ("/login", "/api/v1/treatments", "/p/book"):
        assert client.get(path).headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
