"""The reminder sweep: skip what is stale, claim what is due, send, record. Safe to run many at once.

One sweep: (1) housekeeping in one short transaction: stale pending rows are skipped (rule 4's
14 days, appointments already started) and, of several due re-treatment reminders of a track,
all but the newest are skipped; (2) inside REMINDER_SEND_HOURS only, claim a batch, check and
render it, send it over one connection and record the accepted messages a small group at a time
(`_Accepted`: so a crash can repeat only the message in flight and those accepted in the last
fraction of a second, with the same Message-ID); repeat until nothing is due, the mail server
is down, or a stop is asked for.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app

from scheduler.domain.plan import in_send_window, retry_delay
from scheduler.extensions import db
from scheduler.models import Reminder
from scheduler.reminders import batch, claims, heartbeat, housekeeping, mail
from scheduler.reminders.rows import clinic
from scheduler.services import clock

log = logging.getLogger(__name__)
T = Reminder.__table__
#: accepted messages are recorded as sent in groups of at most this many ...
RECORD_EVERY = 50
#: ... and before the next send once the oldest of the group has waited this long (seconds)
RECORD_WITHIN = 0.1


@dataclass
class Outcome:
    """What happened to one reminder in a sweep."""

    id: int
    kind: str
    patient_id: int
    result: str  # sent, skipped, cancelled, retry, failed
    reason: str | None = None
    to: str | None = None


#: a report keeps the first this many outcomes (its counts cover them all): memory stays flat
KEPT_OUTCOMES = 1000


@dataclass
class Report:
    """What one sweep did: counts by result, the first outcomes, and each one as it happens to a listener."""

    outcomes: list[Outcome] = field(default_factory=list)
    note: str | None = None
    counts: Counter[str] = field(default_factory=Counter)
    listener: Callable[[Outcome], None] | None = None

    def add(self, outcome: Outcome) -> None:
        """Counts an outcome, keeps it if there is room, and tells the listener."""
        self.counts[outcome.result] += 1
        if len(self.outcomes) < KEPT_OUTCOMES:
            self.outcomes.append(outcome)
        if self.listener is not None:
            self.listener(outcome)

    def count(self, result: str) -> int:
        """How many reminders had this result."""
        return self.counts[result]


def settings() -> dict:
    """Sweep tuning from the config (defaults fit a single clinic)."""
    cfg = current_app.config
    return {
        "batch": int(cfg.get("REMINDER_BATCH_SIZE", 200)),
        "lease": timedelta(seconds=int(cfg.get("REMINDER_LEASE_SECONDS", 600))),
        "max_attempts": int(cfg.get("REMINDER_MAX_ATTEMPTS", 6)),
        "retry_base": timedelta(seconds=int(cfg.get("REMINDER_RETRY_BASE_SECONDS", 300))),
        "retry_cap": timedelta(hours=6),
        "margin": timedelta(seconds=2 * int(cfg["MAIL_TIMEOUT_SECONDS"])),
    }


def run(stop: threading.Event | None = None, on_outcome: Callable[[Outcome], None] | None = None) -> Report:
    """One sweep now; records its heartbeat. Database errors propagate (the job logs them).

    on_outcome, if given, hears of each reminder's outcome as it is recorded.
    """
    report = Report(listener=on_outcome)
    run_id = heartbeat.start()
    try:
        _housekeeping(report)
        if not in_send_window(clock.now(), clinic()):
            report.note = f"outside send hours ({current_app.config['REMINDER_SEND_HOURS']})"
        else:
            _deliver(report, stop or threading.Event(), settings())
    except Exception as exc:
        db.session.rollback()
        report.note = f"error: {type(exc).__name__}: {exc}"[:500]
        raise
    finally:
        _heartbeat(run_id, report)
    return report


def _heartbeat(run_id: int, report: Report) -> None:
    """Writes the heartbeat, never hiding the sweep's own error."""
    try:
        heartbeat.finish(
            run_id,
            sent=report.count("sent"),
            skipped=report.count("skipped"),
            failed=report.count("failed"),
            retried=report.count("retry"),
            cancelled=report.count("cancelled"),
            note=report.note,
        )
    except Exception:
        db.session.rollback()
        log.warning("could not record the sweep's heartbeat", exc_info=True)


def _housekeeping(report: Report) -> None:
    """Skips what must never go out now (stale, superseded), recording it in the report."""
    for rid, kind, patient_id, reason in housekeeping.skip_stale_and_superseded(clock.now()):
        report.add(Outcome(rid, kind, patient_id, "skipped", reason))


def _deliver(report: Report, stop: threading.Event, cfg: dict) -> None:
    """Claims and sends batches until nothing is due, the server is down, or a stop is asked for."""
    accepted = _Accepted(report)
    with mail.open_transport() as transport:
        try:
            while not stop.is_set():
                now = clock.now()
                token, ids = accepted.flush_and_claim(cfg["batch"], cfg["lease"], now)
                if not ids:
                    return
                lease_ends = now + cfg["lease"]
                items = batch.prepare(ids, token, now)
                if not _send_batch(items, token, transport, accepted, report, stop, cfg, lease_ends):
                    return
        finally:
            accepted.flush()


class _Accepted:
    """Messages the server accepted, recorded as sent a group at a time.

    A transaction per email cost as much as the SMTP conversation itself (on PostgreSQL a WAL
    flush each). Before each send the group is written if it holds RECORD_EVERY messages, or if
    the send, as long as the last one, would leave its oldest unrecorded for RECORD_WITHIN or more.
    After a batch, its last group is written in the transaction that claims the next batch (one
    commit less per batch). So a crash can repeat only the message in flight and those accepted
    in the last fraction of a second (with the same Message-ID, as docs/rules.md allows); with a mail
    server slower than RECORD_WITHIN per message, only the one in flight.
    """

    def __init__(self, report: Report):
        self.report = report
        self.group: list[tuple[batch.Item, str, datetime]] = []
        self.since = 0.0
        self.last_send = 0.0

    def add(self, item: batch.Item, token: str, at: datetime, took: float) -> None:
        """One more accepted message; `took` is how long its send took (seconds)."""
        if not self.group:
            self.since = time.monotonic()
        self.group.append((item, token, at))
        self.last_send = took

    def before_send(self) -> None:
        """Writes the group if it is full, or if the next send would leave it waiting too long."""
        if len(self.group) >= RECORD_EVERY or (
            self.group and time.monotonic() - self.since + self.last_send >= RECORD_WITHIN
        ):
            self.flush()

    def flush(self) -> None:
        """Writes the group in a transaction of its own."""
        if self.group:
            self._recorded(claims.record_sent_many(self._by_claim()))

    def flush_and_claim(self, limit: int, lease: timedelta, now: datetime) -> tuple[str, list[int]]:
        """Writes the group and claims the next batch, in one transaction; returns the claim."""
        held, token, ids = claims.record_sent_then_claim(self._by_claim(), limit, lease, now)
        self._recorded(held)
        return token, ids

    def _by_claim(self) -> dict[str, list[tuple[int, datetime]]]:
        """The group as (id, accepted at) by claim token: one claim per batch, so nearly always one."""
        by_claim: dict[str, list[tuple[int, datetime]]] = {}
        for item, token, at in self.group:
            by_claim.setdefault(token, []).extend((one.id, at) for one in _with_riders(item))
        return by_claim

    def _recorded(self, held: set[int]) -> None:
        """Reports the written group, once its transaction has committed, and starts a new one."""
        group, self.group = self.group, []
        for item, _token, _at in group:
            for one in _with_riders(item):
                if one.id in held:
                    self.report.add(Outcome(one.id, one.kind, one.patient_id, "sent", to=one.recipient))
                else:
                    log.warning("reminder %s was sent but its claim had lapsed", one.id)


def _send_batch(items, token, transport, accepted, report, stop, cfg, lease_ends) -> bool:
    """Sends one prepared batch; False when the sweep should end (server down, stop, send hours over)."""
    for n, item in enumerate(items):
        now = clock.now()
        if item.message is None:
            _not_sent(item, token, report, cfg)
            continue
        if stop.is_set() or not in_send_window(now, clinic()) or now + cfg["margin"] > lease_ends:
            accepted.flush()
            claims.release(_sendable_ids(items[n:]), token, now)
            _finish_outcomes(items[n:], token, report, cfg)
            return not stop.is_set() and in_send_window(now, clinic())
        accepted.before_send()
        started = time.monotonic()
        try:
            transport.send(item.message)
        except mail.MessageFailed as exc:
            _failed(item, token, str(exc), report, cfg, permanent=exc.permanent)
            continue
        except mail.TransportDown as exc:
            accepted.flush()
            retry_at = _failed(item, token, str(exc), report, cfg)
            rest = _sendable_ids(items[n + 1 :])
            claims.release(rest, token, clock.now(), retry_at=retry_at, reason=f"not tried: {exc}")
            _finish_outcomes(items[n + 1 :], token, report, cfg)
            report.note = str(exc)[:500]
            return False
        except Exception as exc:  # noqa: BLE001 -- a message that cannot be written out fails alone
            log.exception("could not send reminder %s", item.id)
            transport.reset()
            reason = f"could not write the email out: {type(exc).__name__}: {exc}"
            _failed(item, token, reason, report, cfg, permanent=True)
            continue
        accepted.add(item, token, clock.now(), time.monotonic() - started)
    return True


def _finish_outcomes(items, token, report, cfg) -> None:
    """Records the outcomes decided before sending (skips, cancellations, failures) in a batch that ends early."""
    for item in items:
        if item.message is None:
            _not_sent(item, token, report, cfg)


def _not_sent(item, token, report: Report, cfg: dict) -> None:
    """Records an outcome decided before sending: skipped, cancelled, or failed (counted as an attempt)."""
    if item.status == "failed":
        _failed(item, token, item.reason, report, cfg, permanent=True)
    elif claims.record_outcome(item.id, token, item.status, item.reason, clock.now()):
        report.add(Outcome(item.id, item.kind, item.patient_id, item.status, item.reason))


def _with_riders(item: batch.Item) -> list[batch.Item]:
    """An email's reminders: its own and those of the patient's other tracks it speaks for."""
    return [item, *item.riders]


def _sendable_ids(items: list[batch.Item]) -> list[int]:
    """The ids of the reminders of the emails still to send."""
    return [one.id for i in items if i.message is not None for one in _with_riders(i)]


def _failed(item, token, reason: str, report: Report, cfg: dict, *, permanent: bool = False):
    """Records a failed try: retried later with backoff and jitter, or failed if permanent or the last attempt.

    The reminders riding in the email share its fate (and its retry time, so they go together again).
    """
    attempts, now = item.attempts + 1, clock.now()
    retry_at = (
        None
        if permanent or attempts >= cfg["max_attempts"]
        else now + retry_delay(attempts, cfg["retry_base"], cfg["retry_cap"])
    )
    result = "failed" if retry_at is None else "retry"
    for one in _with_riders(item):
        if claims.record_failure(one.id, token, one.attempts + 1, reason[:1000], retry_at, now):
            report.add(Outcome(one.id, one.kind, one.patient_id, result, reason))
    return retry_at if retry_at is not None else now + cfg["retry_base"]
