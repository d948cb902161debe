"""What the dispatch must keep: UTF-8 quoted-printable text parts, and sent rows written with the next claim."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from scheduler.extensions import db
from scheduler.reminders import claims, sweep
from tests.conftest import london
from tests.reminders.conftest import record, rows, run_sweep


def test_text_parts_are_utf8_quoted_printable(clinic, smtp, travel, make_patient):
    """Each text part is UTF-8, quoted-printable (7-bit clean, short lines) and decodes back to what was rendered."""
    zoe = make_patient(first_name="Zoë", last_name="Ünal", email="zoe@example.net")
    record(clinic, date(2026, 12, 1), patient=zoe.id)
    travel.move_to(london(date(2027, 3, 1), 10))
    assert run_sweep().count("sent") == 1
    [raw] = smtp.raw
    [msg] = smtp.messages
    parts = {p.get_content_type(): p for p in msg.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    for part in parts.values():
        assert part["Content-Type"].endswith('; charset="utf-8"')
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert b"Dear Zo=C3=AB," in raw  # encoded on the wire, 7-bit clean
    text, html = parts["text/plain"].get_content(), parts["text/html"].get_content()
    assert text.startswith("Dear Zoë,\r\n") and text.endswith("\r\n")  # the wire's line ends
    assert '<html lang="en">' in html and "Dear Zoë,</p>" in html
    assert raw.isascii()
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))  # soft line breaks keep QP lines short


def _sweep_counting_commits() -> tuple[sweep.Report, int]:
    """One sweep, and how many transactions it committed."""
    commits = []
    listener = lambda _conn: commits.append(1)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        report = run_sweep()
    finally:
        event.remove(db.engine, "commit", listener)
    return report, len(commits)


def test_a_batch_is_written_sent_in_the_transaction_that_claims_the_next(
    clinic, smtp, travel, make_patient, app, monkeypatch
):
    """Batches of 7: every batch but the last is recorded with the next claim, so a sweep commits once a batch."""
    app.config["REMINDER_BATCH_SIZE"] = 7
    # No group waits long enough to be written on time alone, however slow this machine is today
    # (a loaded CI runner once took over 0.1 s between two sends of a batch).
    monkeypatch.setattr(sweep, "RECORD_WITHIN", 3600.0)
    people = [make_patient() for _ in range(20)]
    for n, p in enumerate(people):
        record(clinic, date(2026, 12, 1) + timedelta(days=n % 3), patient=p.id)
    travel.move_to(london(date(2027, 3, 1), 10))
    report, commits = _sweep_counting_commits()
    assert report.count("sent") == 20 and sorted(smtp.message_ids()) == sorted(r.message_id for r in rows(seq=1))
    assert {(r.status, r.attempts) for r in rows(seq=1)} == {("sent", 1)}
    # heartbeat start and end, housekeeping, and 4 claims (7, 7, 6, then none), each also recording
    # the batch before it: no transaction of its own for any "sent" group
    assert commits == 3 + 4


def test_a_group_left_waiting_is_written_before_the_next_send(clinic, smtp, travel, make_patient, app, monkeypatch):
    """When the next send would leave accepted messages unrecorded too long, they are written first."""
    app.config["REMINDER_BATCH_SIZE"] = 7
    monkeypatch.setattr(sweep, "RECORD_WITHIN", 0.0)  # every message has waited long enough
    for n, p in enumerate([make_patient() for _ in range(20)]):
        record(clinic, date(2026, 12, 1) + timedelta(days=n % 3), patient=p.id)
    travel.move_to(london(date(2027, 3, 1), 10))
    report, commits = _sweep_counting_commits()
    assert report.count("sent") == 20 and {(r.status, r.attempts) for r in rows(seq=1)} == {("sent", 1)}
    # as above, plus one transaction before each send but a batch's first: 6 + 6 + 5
    assert commits == 3 + 4 + 17


def test_record_sent_then_claim_leaves_out_rows_whose_claim_lapsed(clinic, travel, make_patient):
    """Only the holder of a claim records it as sent; the next claim is taken in the same transaction."""
    for p in [make_patient() for _ in range(4)]:
        record(clinic, date(2026, 12, 1), patient=p.id)
    travel.move_to(london(date(2027, 3, 1), 10))
    now = datetime.now(UTC)
    token, ids = claims.claim(2, timedelta(minutes=10), now)
    other_token, other_ids = claims.claim(2, timedelta(minutes=10), now)
    held, next_token, next_ids = claims.record_sent_then_claim(
        {token: [(ids[0], now)], "lapsed-claim-token": [(other_ids[0], now)]}, 5, timedelta(minutes=10), now
    )
    assert held == {ids[0]} and next_token not in (token, other_token)
    assert next_ids == []  # the four due rows are all claimed or sent
    by_id = {r.id: r for r in rows(seq=1)}
    assert (by_id[ids[0]].status, by_id[ids[0]].sent_at, by_id[ids[0]].claim_token) == ("sent", now, None)
    assert by_id[other_ids[0]].status == "sending" and by_id[other_ids[0]].claim_token == other_token
