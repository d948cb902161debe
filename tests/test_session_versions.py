"""A session cookie captured before a sign-out, a password reset, a role change or a deactivation
opens nothing afterwards: the user's session version in the cookie no longer matches."""

from __future__ import annotations

import pytest

from scheduler.extensions import db
from scheduler.models import User
from tests.conftest import PASSWORD, csrf_from

NEW_PASSWORD = "a brand new passphrase"


def _signed_in(app, email: str, password: str = PASSWORD):
    """A new client signed in as that user."""
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _opens_patients(app, cookie: str) -> bool:
    """Whether a fresh client holding only that session cookie gets the patients page."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    resp = other.get("/patients")
    if resp.status_code == 302:
        assert resp.headers["Location"].startswith("/login")
        return False
    assert resp.status_code == 200
    return True


def _admin_post(app, admin_client, path: str, **data: str):
    token = csrf_from(admin_client.get("/admin/staff").get_data(as_text=True))
    return admin_client.post(path, data={"csrf_token": token, **data})


@pytest.fixture
def desk(make_user):
    return make_user("receptionist")


@pytest.fixture
def admin_client(app, make_user):
    admin = make_user("admin")
    return _signed_in(app, admin.email)


def test_a_cookie_from_before_sign_out_is_refused_on_every_device(app, desk):
    laptop, phone = _signed_in(app, desk.email), _signed_in(app, desk.email)
    captured = _cookie(laptop)
    assert _opens_patients(app, captured)
    laptop.post("/logout", data={"csrf_token": csrf_from(laptop.get("/").get_data(as_text=True))})
    assert not _opens_patients(app, captured)
    assert phone.get("/patients").status_code == 302  # signing out ends every session of the user
    assert _opens_patients(app, _cookie(_signed_in(app, desk.email)))  # signing in again works


def test_a_cookie_from_before_a_password_reset_is_refused(app, desk, admin_client):
    captured = _cookie(_signed_in(app, desk.email))
    assert _opens_patients(app, captured)
    resp = _admin_post(app, admin_client, f"/admin/staff/{desk.id}/password", password=NEW_PASSWORD)
    assert resp.status_code == 302
    assert not _opens_patients(app, captured)
    assert _opens_patients(app, _cookie(_signed_in(app, desk.email, NEW_PASSWORD)))


def test_a_cookie_from_before_a_role_change_is_refused(app, desk, admin_client):
    captured = _cookie(_signed_in(app, desk.email))
    assert _opens_patients(app, captured)
    resp = _admin_post(app, admin_client, f"/admin/staff/{desk.id}/role", role="admin")
    assert resp.status_code == 302 and db.session.get(User, desk.id).role == "admin"
    assert not _opens_patients(app, captured)


def test_a_cookie_from_before_a_deactivation_stays_refused_after_reactivation(app, desk, admin_client):
    captured = _cookie(_signed_in(app, desk.email))
    assert _opens_patients(app, captured)
    assert _admin_post(app, admin_client, f"/admin/staff/{desk.id}/deactivate").status_code == 302
    assert not _opens_patients(app, captured)
    assert _admin_post(app, admin_client, f"/admin/staff/{desk.id}/activate").status_code == 302
    assert db.session.get(User, desk.id).active
    assert not _opens_patients(app, captured)


def test_an_admin_who_resets_their_own_password_stays_signed_in_there_only(app, admin_client):
    admin_id = db.session.query(User.id).filter_by(role="admin").scalar()
    elsewhere = _cookie(admin_client)
    resp = _admin_post(app, admin_client, f"/admin/staff/{admin_id}/password", password=NEW_PASSWORD)
    assert resp.status_code == 302
    assert admin_client.get("/admin/staff").status_code == 200
    assert not _opens_patients(app, elsewhere)


def test_a_cookie_without_a_session_version_is_refused(app, desk):
    """Cookies signed before session versions existed named the user by id alone."""
    client = _signed_in(app, desk.email)
    with client.session_transaction() as session:
        session["_user_id"] = str(desk.id)
    assert client.get("/patients").status_code == 302
