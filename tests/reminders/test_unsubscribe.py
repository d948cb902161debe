"""Signed unsubscribe links: a confirmation page on GET, one-click POST (RFC 8058), bad links change
nothing; links name the patient by a random key, and links sent before the keys still work."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import time_machine
from flask import current_app
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import insert, select

from scheduler.extensions import db
from scheduler.models import AuditEvent, Patient
from scheduler.reminders import unsubscribe
from tests.conftest import london
from tests.reminders.conftest import book, record, rows, run_sweep


def token_for(patient_id: int) -> str:
    """The link token made today for that patient."""
    return unsubscribe.make_token(db.session.get(Patient, patient_id))


def legacy_token(patient_id: int, reminder_id: int | None) -> str:
    """A token as links sent before the unsubscribe keys made it: the ids, readable."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=unsubscribe.SALT).dumps(
        {"p": patient_id, "r": reminder_id}
    )


def readable_payload(token: str) -> dict:
    """What anyone can read in a token without the key (itsdangerous signs, it does not encrypt)."""
    payload = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def opted_in(patient_id: int) -> bool:
    db.session.rollback()
    return db.session.get(Patient, patient_id).reminders_opt_in


def pending(patient_id: int) -> int:
    return sum(1 for r in rows(patient_id=patient_id) if r.status == "pending")


def test_get_shows_a_confirmation_and_changes_nothing(clinic, client, travel):
    record(clinic, date(2027, 1, 4))
    token = token_for(clinic.olivia)
    resp = client.get(f"/p/unsubscribe/{token}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    # a link naming no email (as before the consents were split) stands for every email
    assert "Stop all emails?" in html and 'method="post"' in html and ">Unsubscribe</button>" in html
    assert "Harbour Lane Clinic" in html and "Content-Security-Policy" in resp.headers
    assert opted_in(clinic.olivia) and pending(clinic.olivia) == 3


def test_one_click_post_unsubscribes_without_a_csrf_token(clinic, client, travel, app):
    assert app.config["WTF_CSRF_ENABLED"]
    record(clinic, date(2027, 1, 4))
    book(clinic, london(date(2027, 3, 3), 10), treatment=clinic.cosmetic)
    token = token_for(clinic.olivia)
    resp = client.post(
        f"/p/unsubscribe/{token}", data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 200 and "You are unsubscribed" in resp.get_data(as_text=True)
    assert not opted_in(clinic.olivia)
    assert pending(clinic.olivia) == 0
    assert {r.reason for r in rows(patient_id=clinic.olivia)} == {"the patient asked for no emails"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.unsubscribed")).one()
    assert (event.actor, event.entity_id, event.details["via"]) == ("patient", clinic.olivia, "link")
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
    key = db.session.get(Patient, clinic.olivia).unsubscribe_key
    [reminder] = [r for r in rows(patient_id=clinic.olivia) if r.status == "sent"]
    # no patient id; the email's own id says what the link stops (a confirmation: every email)
    assert readable_payload(link.rsplit("/", 1)[1]) == {"k": key, "r": reminder.id}
    assert client.post(urlsplit(link).path).status_code == 200
    assert not opted_in(clinic.olivia)


def forged_tokens(patient_id: int) -> list[str]:
    good = token_for(patient_id)
    key = db.session.get(Patient, patient_id).unsubscribe_key
    ours = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=unsubscribe.SALT)
    return [
        good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        URLSafeTimedSerializer("someone-else's-key", salt=unsubscribe.SALT).dumps({"k": key}),
        URLSafeTimedSerializer("someone-else's-key", salt=unsubscribe.SALT).dumps({"p": patient_id}),
        URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset").dumps({"k": key}),
        "not-a-token",
        ours.dumps({"k": "0" * 32}),  # nobody's key
        ours.dumps({"k": 5}),
        ours.dumps({"p": "1"}),
        legacy_token(999_999, None),
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
    for token in (token_for(clinic.olivia), legacy_token(clinic.olivia, 7)):
        with time_machine.travel(datetime(2027, 3, 1, 8, tzinfo=UTC) + timedelta(days=401), tick=False):
            for method in (client.get, client.post):
                resp = method(f"/p/unsubscribe/{token}")
                assert resp.status_code == 410
                assert "This link has expired" in resp.get_data(as_text=True)
        assert opted_in(clinic.olivia) and pending(clinic.olivia) == 3
        with time_machine.travel(datetime(2027, 3, 1, 8, tzinfo=UTC) + timedelta(days=399), tick=False):
            assert client.get(f"/p/unsubscribe/{token}").status_code == 200


def test_a_link_sent_before_the_keys_still_unsubscribes(clinic, client, travel):
    record(clinic, date(2027, 1, 4))
    token = legacy_token(clinic.olivia, 7)
    assert readable_payload(token) == {"p": clinic.olivia, "r": 7}  # what those links showed
    assert client.get(f"/p/unsubscribe/{token}").status_code == 200
    assert client.post(f"/p/unsubscribe/{token}").status_code == 200
    assert not opted_in(clinic.olivia) and pending(clinic.olivia) == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.unsubscribed")).one()
    assert (event.entity_id, event.details["reminder_id"]) == (clinic.olivia, 7)
    assert opted_in(clinic.noah)


def test_every_patient_gets_a_random_key_however_the_row_is_inserted(clinic, make_patient):
    made = make_patient()
    db.session.execute(insert(Patient), [{"first_name": "Core", "last_name": f"Row{i}"} for i in range(3)])
    db.session.commit()
    keys = db.session.scalars(select(Patient.unsubscribe_key)).all()
    assert len(keys) >= 5 and len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)
    assert readable_payload(token_for(made.id)) == {"k": made.unsubscribe_key}


def test_the_booking_page_shows_how_to_book(client, app):
    app.config["CLINIC_PHONE"] = "020 7946 0000"
    html = client.get("/p/book").get_data(as_text=True)
    assert "Book your next appointment" in html and "020 7946 0000" in html and "clinic@example.com" in html
