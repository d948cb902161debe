"""Every reception page needs a signed-in staff user; every POST needs its CSRF token."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_from, london
from tests.web.conftest import TODAY, TUESDAY, counts, make_appointment


def _pages(c, appt_id: int) -> list[str]:
    pid = c.olivia.id
    return [
        "/",
        "/calendar",
        f"/calendar?date={TUESDAY}",
        f"/calendar/week?practitioner_id={c.hart.id}",
        "/patients",
        "/patients?q=smith",
        "/patients/new",
        f"/patients/{pid}",
        f"/patients/{pid}/edit",
        f"/patients/{pid}/sessions/new",
        "/book",
        f"/book?patient_id={pid}&treatment_id={c.migraine.id}",
        f"/appointments/{appt_id}",
        f"/appointments/{appt_id}/reschedule",
        "/recall",
    ]


def _posts(c, appt_id: int) -> list[str]:
    pid = c.olivia.id
    return [
        "/book",
        "/patients/new",
        f"/patients/{pid}/edit",
        f"/patients/{pid}/sessions/new",
        f"/appointments/{appt_id}/check-in",
        f"/appointments/{appt_id}/no-show",
        f"/appointments/{appt_id}/cancel",
        f"/appointments/{appt_id}/complete",
        f"/appointments/{appt_id}/reschedule",
    ]


@pytest.fixture
def appt(clinic):
    return make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10))


def test_anonymous_visitors_are_sent_to_sign_in(client, clinic, appt):
    for path in _pages(clinic, appt.id):
        resp = client.get(path)
        assert resp.status_code == 302, path
        assert resp.headers["Location"].startswith("/login?next="), path


def test_anonymous_posts_change_nothing(client, clinic, appt):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    before = counts()
    for path in _posts(clinic, appt.id):
        resp = client.post(path, data={"csrf_token": token, "reason": "x", "first_name": "A", "last_name": "B"})
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login"), path
    assert counts() == before


def test_posts_without_a_csrf_token_change_nothing(client, clinic, appt, reception):
    before = counts()
    data = {
        "first_name": "Eve",
        "last_name": "Adams",
        "reason": "ill",
        "units": "100",
        "lot_number": "L1",
        "patient_id": str(clinic.olivia.id),
        "treatment_id": str(clinic.migraine.id),
        "slot": f"{clinic.hart.id}|{london(TUESDAY, 11).isoformat()}",
        "performed_on": str(TODAY),
    }
    for path in _posts(clinic, appt.id):
        resp = client.post(path, data=data)
        assert resp.status_code == 400, path
        assert "The form had expired or came from another page" in resp.get_data(as_text=True), path
        bad = client.post(path, data=data | {"csrf_token": "forged"})
        assert bad.status_code == 400, path
    assert counts() == before


def test_every_post_form_carries_a_csrf_token(client, clinic, appt, reception):
    make_appointment(clinic.noah, clinic.mehta, clinic.migraine, london(TODAY, 9), status="checked_in")
    for path in _pages(clinic, appt.id) + [f"/patients/{clinic.noah.id}"]:
        html = client.get(path).get_data(as_text=True)
        forms = re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I)
        posts = [f for f in forms if re.search(r'method="post"', f, flags=re.I)]
        assert posts, path  # at least the sign-out form
        for form in posts:
            assert 'name="csrf_token"' in form, (path, form[:200])


@pytest.mark.parametrize("role", ["receptionist", "admin"])
def test_pages_answer_for_both_roles(client, clinic, appt, sign_in, role):
    sign_in(role)
    for path in _pages(clinic, appt.id):
        assert client.get(path).status_code == 200, (role, path)


def test_the_admin_link_is_only_for_receptionists_hidden(client, clinic, sign_in):
    sign_in("receptionist")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin/"' not in html
    for label in ("Calendar", "Patients", "Book", "Recall"):
        assert f">{label}</a>" in html
    assert client.get("/admin/").status_code == 403


def test_admins_see_the_admin_link(client, clinic, sign_in):
    sign_in("admin")
    assert 'href="/admin/"' in client.get("/").get_data(as_text=True)


def test_security_headers_on_pages(client, clinic, reception):
    resp = client.get("/patients")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    html = resp.get_data(as_text=True)
    assert "<style" not in html and " style=" not in html and "<script>" not in html
