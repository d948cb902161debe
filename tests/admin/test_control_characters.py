"""Control characters in the admin forms: a form error on the page, nothing written."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Practitioner, TimeOff, Treatment, User
from tests.admin.test_treatment_pages import FORM as TREATMENT
from tests.conftest import csrf_from, london
from tests.web.conftest import text_of


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _post(client, url: str, data: dict, page: str | None = None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data=data | {"csrf_token": token})


def test_a_practitioner_with_a_control_character_is_not_saved(client, sign_in):
    sign_in("admin")
    resp = _post(client, "/admin/practitioners/new", {"name": "Dr\r\nEvil", "active": "y", "hours_mon": "09:00-17:00"})
    assert resp.status_code == 400
    assert "Name must be on one line, without control characters (found U+000D)." in text_of(resp)
    resp = _post(client, "/admin/practitioners/new", {"name": "Dr Evil", "email": "dr@example.net\x0bBcc: x@y.z"})
    assert resp.status_code == 400
    assert "Email must be on one line, without control characters (found U+000B)." in text_of(resp)
    assert _count(Practitioner) == 0


def test_a_treatment_with_a_control_character_is_not_saved(client, sign_in):
    sign_in("admin")
    resp = _post(client, "/admin/treatments/new", TREATMENT | {"product": "BOTOX\x1b[2J"})
    assert resp.status_code == 400
    assert "Product must be on one line, without control characters (found U+001B)." in text_of(resp)
    resp = _post(client, "/admin/treatments/new", TREATMENT | {"name": "Chronic\u2028migraine"})
    assert resp.status_code == 400
    assert "Name must be on one line, without control characters (found U+2028)." in text_of(resp)
    assert _count(Treatment) == 0


def test_a_staff_user_with_a_control_character_is_not_created(client, sign_in):
    sign_in("admin")
    before = _count(User)
    base = {"email": "new@example.com", "name": "New", "role": "receptionist", "password": "a long enough password"}
    resp = _post(client, "/admin/staff", base | {"email": "new@example.com\r\nBcc: x@evil.example"})
    assert resp.status_code == 400
    assert "Email must be on one line, without control characters (found U+000D)." in text_of(resp)
    resp = _post(client, "/admin/staff", base | {"name": "New\x00"})
    assert resp.status_code == 400
    assert "Name must be on one line, without control characters (found U+0000)." in text_of(resp)
    assert _count(User) == before


def test_time_off_with_a_control_character_in_its_reason_is_not_added(client, sign_in, make_practitioner):
    prac = make_practitioner()
    page = f"/admin/practitioners/{prac.id}"
    with time_machine.travel(london(date(2027, 3, 1), 8), tick=False):
        sign_in("admin")
        data = {"starts": "2027-03-02T09:00", "ends": "2027-03-02T13:00", "reason": "training\r\nday"}
        resp = _post(client, f"{page}/time-off", data, page=page)
        assert resp.status_code == 400
        shown = text_of(resp)
        assert "Reason must be on one line, without control characters (found U+000D)." in shown
        assert "The time off was not added" in shown and prac.name in shown
        assert _count(TimeOff) == 0
        resp = _post(client, f"{page}/time-off", data | {"reason": "training day"}, page=page)
        assert resp.status_code == 302
        assert _count(TimeOff) == 1
