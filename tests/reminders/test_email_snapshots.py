"""Snapshots of every email's subject, text and HTML (UPDATE_SNAPSHOTS=1 rewrites them after a deliberate change)."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from scheduler.extensions import db
from scheduler.models import Reminder
from scheduler.reminders import outbox as reminders
from tests.conftest import london
from tests.reminders.conftest import book, complete, record, rows

SNAPSHOTS = Path(__file__).parent / "snapshots"
TOKEN = re.compile(r"/p/(unsubscribe|book|appointment)/[A-Za-z0-9_.-]+")


def normalise(text: str) -> str:
    """Tokens in links name random per-patient keys (and the unsubscribe one a timestamp): the link
    tests check them, not the snapshots."""
    return TOKEN.sub(r"/p/\1/TOKEN", text)


def check(name: str, content: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(content, encoding="utf-8")
    assert path.is_file(), f"no snapshot {name}: run with UPDATE_SNAPSHOTS=1"
    assert content == path.read_text(encoding="utf-8"), f"{name} changed: review it, then UPDATE_SNAPSHOTS=1"


@pytest.fixture
def emails(clinic, travel, app) -> dict[str, Reminder]:
    """One email of each kind (and the last re-treatment reminder), planned for Olivia."""
    app.config["CLINIC_PHONE"] = "020 7946 0000"
    appt = book(clinic, london(date(2027, 3, 29), 10), treatment=clinic.cosmetic)  # the Monday after the change
    travel.move_to(london(date(2027, 3, 29), 10, 5))
    session = complete(appt.id)
    other = book(clinic, london(date(2027, 4, 6), 11), patient=clinic.noah)
    record(clinic, date(2027, 1, 4), patient=clinic.noah)
    by = {
        "confirmation": rows(appointment_id=other.id, kind="confirmation")[0],
        "pre_visit": rows(appointment_id=other.id, kind="pre_visit")[0],
        "follow_up": rows(session_id=session.id, kind="follow_up")[0],
        "retreatment": rows(session_id=session.id, kind="retreatment", seq=1)[0],
        "retreatment_last": rows(session_id=session.id, kind="retreatment", seq=3)[0],
    }
    db.session.expire_all()
    return by


@pytest.mark.parametrize("name", ["confirmation", "pre_visit", "follow_up", "retreatment", "retreatment_last"])
def test_email_snapshots(emails, name):
    msg, source = reminders.message_for(reminders.get(emails[name].id))
    assert source == "preview"
    parts = reminders.parts(msg)
    check(f"{name}.subject.txt", str(msg["Subject"]) + "\n")
    check(f"{name}.txt", normalise(parts["text"]))
    check(f"{name}.html", normalise(parts["html"]))
    assert bool(parts["attachments"]) == (name in ("confirmation", "pre_visit"))
