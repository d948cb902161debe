"""Signed unsubscribe links: a confirmation page on GET, one-click POST (RFC 8058), bad links change nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import time_machine
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, Patient
from scheduler.reminders import unsubscribe
from tests.conftest import london
from tests.reminders.conftest import book, record, rows, run_sweep


def opted_in(patient_id: int) -> bool:
    db.session.rollback()
    return db.session.get(Patient, patient_id).reminders_opt_in


def pending(patient_id: int) -> int:
    return sum(1 for r in rows(patient_id=patient_id) if r.status == "pending")


def test_get_shows_a_confirmation_and_changes_nothing(clinic, client, travel):
    record(clinic, date(2027, 1, 4))
    token = unsubscribe.make_token(clinic.olivia, None)
    resp = client.get(f"/p/unsubscribe/{token}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Stop reminder emails?" in html and 'method="post"' in html and ">Unsubscribe</button>" in html
    assert "Harbour Lane Clinic" in html and "Content-Security-Policy" in resp.headers
    assert opted_in(clinic.olivia) and pending(clinic.olivia) == 3


def test_one_click_post_unsubscribes_without_a_csrf_token(clinic, client, travel, app):
    assert app.config["WTF_CSRF_ENABLED"]
    record(clinic, date(2027, 1, 4))
    book(clinic, london(date(2027, 3, 3), 10), treatment=clinic.cosmetic)
    token = unsubscribe.make_token(clinic.olivia, 7)
    resp = client.post(
        f"/p/unsubscribe/{token}", data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 200 and "You are unsubscribed" in resp.get_data(as_text=True)
    assert not opted_in(clinic.olivia)
    assert pending(clinic.olivia) == 0
    assert {r.reason for r in rows(patient_id=clinic.olivia)} == {"the patient opted out of reminders"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.unsubscribed")).one()
    assert (event.actor, event.entity_id, event.details["reminder_id"]) == ("patient", clinic.olivia, 7)
    # again: still fine, nothing new happens; the page now says so
    assert client.post(f"/p/unsubscribe/{token}").status_code == 200
    assert "already unsubscribed" in client.get(f"/p/unsubscribe/{token}").get_data(as_text=True)
    assert (
        db.session.scalar(
            select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action == "patient.unsubscribed")
        )
        == 1
    )
    assert opted_in(clinic.noah)


def test_the_link_in_a_delivered_email_works(clinic, client, smtp, travel):
    book(clinic, london(date(2027, 3, 3), 10))
    travel.move_to(london(date(2027, 3, 1), 10))
    run_sweep()
    [msg] = smtp.messages
    link = msg["List-Unsubscribe"].strip("<>")
    assert link in msg.get_body(("plain",)).get_content()
    assert client.post(urlsplit(link).path).status_code == 200
    assert not opted_in(clinic.olivia)


def forged_tokens(patient_id: int) -> list[str]:
    good = unsubscribe.make_token(patient_id, None)
    other_key = URLSafeTimedSerializer("someone-else's-key", salt=unsubscribe.SALT).dumps({"p": patient_id})
    other_salt = URLSafeTimedSerializer("testing-only-not-secret", salt="password-reset").dumps({"p": patient_id})
    return [
        good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        other_key,
        other_salt,
        "not-a-token",
        unsubscribe.make_token(999_999, None),
    ]


def test_forged_links_get_a_clear_400_and_change_nothing(clinic, client, travel):
    record(clinic, date(2027, 1, 4))
    for token in forged_tokens(clinic.olivia):
        for method in (client.get, client.post):
            resp = method(f"/p/unsubscribe/{token}")
            html = resp.get_data(as_text=True)
            assert resp.status_code == 400, token
            assert "This link is not valid" in html and "Nothing has been changed" in html
    assert opted_in(clinic.olivia) and pending(clinic.olivia) == 3


def test_expired_links_get_a_410_and_change_nothing(clinic, client, travel):
    record(clinic, date(2027, 1, 4))
    token = unsubscribe.make_token(clinic.olivia, None)
    with time_machine.travel(datetime(2027, 3, 1, 8, tzinfo=UTC) + timedelta(days=401), tick=False):
        for method in (client.get, client.post):
            resp = method(f"/p/unsubscribe/{token}")
            assert resp.status_code == 410
            assert "This link has expired" in resp.get_data(as_text=True)
    assert opted_in(clinic.olivia) and pending(clinic.olivia) == 3
    with time_machine.travel(datetime(2027, 3, 1, 8, tzinfo=UTC) + timedelta(days=399), tick=False):
        assert client.get(f"/p/unsubscribe/{token}").status_code == 200


def test_the_booking_page_shows_how_to_book(client, app):
    app.config["CLINIC_PHONE"] = "020 7946 0000"
    html = client.get("/p/book").get_data(as_text=True)
    assert "Book your next appointment" in html and "020 7946 0000" in html and "clinic@example.com" in html
