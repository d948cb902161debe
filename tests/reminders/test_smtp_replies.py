"""The mail server's replies: a 5xx is permanent (failed at once, with the reply), a 4xx is retried later."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.conftest import london
from tests.reminders.conftest import REFUSED, TRY_LATER, book, rows, run_sweep


def test_a_550_recipient_fails_at_once_and_a_451_one_is_retried(clinic, smtp, travel, app, make_patient):
    ann = make_patient(first_name="Ann", last_name="Other", email="ann@example.org")
    book(clinic, london(date(2027, 3, 3), 10))
    book(clinic, london(date(2027, 3, 3), 11), patient=clinic.noah)
    book(clinic, london(date(2027, 3, 3), 12), patient=ann.id)
    smtp.refuse["olivia@example.net"] = REFUSED
    smtp.refuse["noah@example.org"] = TRY_LATER
    travel.move_to(london(date(2027, 3, 1), 10))
    report = run_sweep()
    by_patient = {o.patient_id: o.result for o in report.outcomes}
    assert by_patient == {clinic.olivia: "failed", clinic.noah: "retry", ann.id: "sent"}
    [olivia] = rows(patient_id=clinic.olivia, kind="confirmation")
    assert (olivia.status, olivia.attempts, olivia.next_attempt_at) == ("failed", 1, None)
    assert olivia.reason == "olivia@example.net: 550 5.1.1 mailbox unavailable"
    [noah] = rows(patient_id=clinic.noah, kind="confirmation")
    assert (noah.status, noah.attempts) == ("pending", 1)
    assert noah.reason == "noah@example.org: 451 4.3.0 mailbox busy, try again later"
    assert noah.next_attempt_at > datetime.now(UTC)
    assert [rcpts for _sender, rcpts in smtp.envelopes] == [["ann@example.org"]]
    # at Noah's retry time the server takes both; Olivia's failed email is not tried again
    smtp.refuse.clear()
    travel.move_to(noah.next_attempt_at)
    report = run_sweep()
    assert {o.patient_id: o.result for o in report.outcomes} == {clinic.noah: "sent"}
    assert [(r.status, r.attempts) for r in rows(patient_id=clinic.noah, kind="confirmation")] == [("sent", 2)]
    assert [(r.status, r.attempts) for r in rows(patient_id=clinic.olivia, kind="confirmation")] == [("failed", 1)]
    assert [rcpts for _sender, rcpts in smtp.envelopes] == [["ann@example.org"], ["noah@example.org"]]


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("554 5.6.0 message content rejected", True), ("452 4.3.1 insufficient system storage", False)],
)
def test_a_reply_to_data_is_permanent_when_it_is_a_5xx(clinic, smtp, travel, reply, permanent):
    book(clinic, london(date(2027, 3, 3), 10))
    book(clinic, london(date(2027, 3, 3), 11), patient=clinic.noah)
    smtp.refuse_data["olivia@example.net"] = reply
    travel.move_to(london(date(2027, 3, 1), 10))
    run_sweep()
    [olivia] = rows(patient_id=clinic.olivia, kind="confirmation")
    assert (olivia.status, olivia.attempts, olivia.reason) == ("failed" if permanent else "pending", 1, reply)
    assert (olivia.next_attempt_at is None) == permanent
    assert [m["To"] for m in smtp.messages] == ["Noah Jones <noah@example.org>"]  # the connection went on


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("553 5.7.1 sender address rejected", True), ("451 4.7.1 greylisted, try again later", False)],
)
def test_a_reply_to_mail_from_is_permanent_when_it_is_a_5xx(clinic, smtp, travel, reply, permanent):
    book(clinic, london(date(2027, 3, 3), 10))
    smtp.refuse_sender = reply
    travel.move_to(london(date(2027, 3, 1), 10))
    report = run_sweep()
    assert [o.result for o in report.outcomes] == ["failed" if permanent else "retry"]
    [olivia] = rows(patient_id=clinic.olivia, kind="confirmation")
    assert (olivia.status, olivia.attempts, olivia.reason) == ("failed" if permanent else "pending", 1, reply)
    if not permanent:
        assert olivia.next_attempt_at > datetime.now(UTC)
    assert smtp.messages == []
