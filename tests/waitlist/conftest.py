"""Fixtures of the waitlist tests: the reminder tests' clinic, SMTP server and clock, and helpers."""

from __future__ import annotations

import re
from datetime import date

from scheduler.extensions import db
from scheduler.waitlist import entries
from tests.reminders.conftest import Clinic, clinic, smtp, travel  # noqa: F401 (fixtures)

TUESDAY = date(2027, 3, 2)
OFFER_LINK = re.compile(r"http://127\.0\.0\.1:5000(/p/offer/[A-Za-z0-9_.-]+)")


def wait(c: Clinic, patient: int, *, treatment: int | None = None, practitioner: int | None = None,
         start: date = TUESDAY, end: date = date(2027, 3, 31)) -> int:  # fmt: skip
    """Puts a patient on the waitlist (committed); the entry id."""
    entry = entries.add(
        patient_id=patient,
        treatment_id=treatment or c.migraine,
        practitioner_id=practitioner,
        from_date=start,
        until_date=end,
        actor=None,
    )
    db.session.commit()
    return entry.id


def offer_path(msg) -> str:
    """The offer link of an offer email (the same in its text and HTML parts)."""
    text = msg.get_body(("plain",)).get_content()
    [path] = OFFER_LINK.findall(text)
    assert OFFER_LINK.findall(msg.get_body(("html",)).get_content()) == [path]
    return path
