"""Message-IDs: unique, one shape, and in the order they were made (so the unique index on them
takes a booking's emails next to the last ones, not on random pages)."""

from __future__ import annotations

import re

from scheduler.reminders.rows import mail_domain, new_message_id


def test_message_ids_are_unique_and_ordered_by_when_they_were_made():
    ids = [new_message_id("clinic.example") for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"<reminder\.[0-9a-f]{32}@clinic\.example>", m) for m in ids)
    stamps = [m[len("<reminder.") :][:16] for m in ids]  # nanoseconds, then 64 random bits
    assert stamps == sorted(stamps)


def test_the_domain_is_the_senders(app):
    app.config["MAIL_DEFAULT_SENDER"] = "Clinic Desk <desk@botox-clinic.example>"
    assert mail_domain() == "botox-clinic.example"
    app.config["MAIL_DEFAULT_SENDER"] = ""
    assert mail_domain() == "localhost"
    assert new_message_id().endswith("@localhost>")
