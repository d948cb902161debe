"""Every route, walked as anonymous, receptionist and admin: the expected redirect, 401, 403 or 200."""

from __future__ import annotations

import re

import pytest

from scheduler.extensions import db
from scheduler.models import Appointment, TreatmentSession
from scheduler.models.reminder import Reminder
from tests.conftest import csrf_from

PUBLIC = {"auth.login", "health.healthz", "health.readyz", "static", "public.book", "api.openapi_json"}
#: endpoints reached only with a signed link (tested in tests/reminders/test_unsubscribe.py and
#: tests/waitlist/test_offers.py)
SIGNED = {"public.unsubscribe_page", "public.unsubscribe", "offers.offer", "offers.take"} | {
    # the patients' own booking pages (tested in tests/web/test_patient_links.py)
    f"selfservice.{name}"
    for name in (
        "book_page",
        "book_confirm",
        "book",
        "join_waitlist",
        "appointment_page",
        "move_confirm",
        "move",
        "cancel_confirm",
        "cancel",
    )
}


@pytest.fixture
def world(app, make_patient, make_practitioner, make_treatment, make_user):
    """One of everything, so every <int:...> in a path names a real row."""
    from datetime import UTC, datetime, timedelta

    from scheduler.reminders import planning

    patient, prac, treatment = make_patient(), make_practitioner(), make_treatment()
    start = datetime(2030, 1, 7, 10, tzinfo=UTC)
    appt = Appointment(
        patient_id=patient.id,
        practitioner_id=prac.id,
        treatment_id=treatment.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status="booked",
    )
    db.session.add(appt)
    db.session.flush()
    planning.appointment_changed("booked", appt)
    db.session.commit()
    reminder = db.session.query(Reminder).first()
    past = TreatmentSession(
        patient_id=patient.id, treatment_id=treatment.id, performed_on=start.date(), product="BOTOX"
    )
    db.session.add(past)
    db.session.commit()
    ids = {
        "session_id": past.id,
        "patient_id": patient.id,
        "practitioner_id": prac.id,
        "treatment_id": treatment.id,
        "appointment_id": appt.id,
        "reminder_id": reminder.id if reminder else 1,
        "user_id": make_user("receptionist").id,
        "token_id": 1,
        "time_off_id": 1,
        "entry_id": 1,
    }
    return ids


def _paths(app, ids, method: str):
    """(endpoint, concrete path) for every rule that answers `method`."""
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint in PUBLIC | SIGNED:
            continue
        path = rule.rule
        for name, value in ids.items():
            path = path.replace(f"<int:{name}>", str(value))
        path = re.sub(r"<any\([^)]*\):action>", "check-in", path)
        assert "<" not in path, path
        yield rule.endpoint, path


def test_anonymous_is_sent_to_sign_in_or_gets_401(app, client, world):
    for method in ("GET", "POST"):
        for _endpoint, path in _paths(app, world, method):
            resp = client.open(path, method=method)
            if path.startswith("/api/"):
                assert resp.status_code == 401, (method, path)
            elif method == "GET":
                assert resp.status_code == 302 and resp.headers["Location"].startswith("/login"), (method, path)
            else:  # a POST without a CSRF token changes nothing, signed in or not
                assert resp.status_code in (302, 400), (method, path, resp.status_code)


@pytest.mark.parametrize("role", ["receptionist", "admin"])
def test_staff_pages_by_role(app, client, sign_in, world, role):
    sign_in(role)
    for _endpoint, path in _paths(app, world, "GET"):
        if path.startswith("/api/"):
            continue
        resp = client.get(path)
        if path.startswith("/admin") and role == "receptionist":
            assert resp.status_code == 403, path
        else:
            assert resp.status_code == 200, (path, resp.status_code)


@pytest.mark.parametrize("role", ["receptionist", "admin"])
def test_admin_posts_refuse_receptionists(app, client, sign_in, world, role):
    sign_in(role)
    token = csrf_from(client.get("/").get_data(as_text=True))
    for _endpoint, path in _paths(app, world, "POST"):
        if not path.startswith("/admin"):
            continue
        resp = client.post(path, data={"csrf_token": token})
        if role == "receptionist":
            assert resp.status_code == 403, path
        else:
            assert resp.status_code in (200, 302, 400, 404, 409, 422), (path, resp.status_code)


def test_api_endpoints_by_role(app, client, api_as, world):
    from scheduler.web.api.core import ROUTES

    reception, admin = api_as("receptionist"), api_as("admin")
    for route in ROUTES:
        path = route.path
        for name, value in world.items():
            path = path.replace("{" + name + "}", str(value))
        for api in (reception, admin):
            resp = api.client.open(
                f"/api/v1{path}", method=route.method.upper(), json={}, headers={"Authorization": f"Bearer {api.token}"}
            )
            if route.role == "admin" and api is reception:
                assert resp.status_code == 403, (route.method, path)
            else:
                assert resp.status_code in (200, 201, 400, 404, 409, 422), (route.method, path, resp.status_code)
                assert resp.status_code < 500
