"""Exactly once: sweeps running at the same time, in threads and in processes, send each email once."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from scheduler.extensions import db
from scheduler.reminders import sweep
from tests.reminders.conftest import due_tracks, process_env, rows

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def all_day(app):
    """Send hours around the clock, so tests on the real clock can send."""
    app.config["REMINDER_SEND_HOURS"] = "00:00-24:00"


def test_parallel_threads_send_each_email_once(app, smtp, all_day, make_treatment, make_patient):
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 60)
    app.config["REMINDER_BATCH_SIZE"] = 5
    smtp.delay = 0.002
    start = threading.Barrier(6)
    reports, errors = [], []

    def sweeper() -> None:
        with app.app_context():
            try:
                start.wait(timeout=30)
                reports.append(sweep.run())
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweeper) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    received = Counter(smtp.message_ids())
    assert len(received) == 60 and set(received.values()) == {1}
    assert sum(r.count("sent") for r in reports) == 60
    assert sum(1 for r in reports if r.count("sent")) >= 2  # the work really was shared
    assert {r.status for r in rows(seq=1)} == {"sent"}  # the first reminder of each track was due
    assert set(received) == {r.message_id for r in rows(seq=1)}


def _sweep_process(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "sweep"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_parallel_processes_send_each_email_once(app, smtp, make_treatment, make_patient):
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 120)
    smtp.delay = 0.01
    env = process_env(app, smtp.port, REMINDER_BATCH_SIZE="10")  # batches small enough to share out
    procs = [_sweep_process(env) for _ in range(4)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    received = Counter(smtp.message_ids())
    assert len(received) == 120 and set(received.values()) == {1}
    per_process = [sum(1 for line in out.splitlines() if line.startswith("sent ")) for out, _err in outputs]
    assert sum(per_process) == 120
    assert sum(1 for n in per_process if n) >= 2  # the work really was shared
    assert all("Sweep done:" in out for out, _err in outputs)
    assert {r.status for r in rows(seq=1)} == {"sent"}


@pytest.mark.slow
def test_a_sweep_killed_mid_batch_is_finished_by_the_next_one(app, smtp, all_day, make_treatment, make_patient):
    import time
    from datetime import UTC, datetime, timedelta

    import time_machine

    from tests.reminders.conftest import run_sweep

    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 30)
    smtp.delay = 0.15
    proc = _sweep_process(process_env(app, smtp.port))
    deadline = time.monotonic() + 60
    while len(smtp.message_ids()) < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    before = Counter(smtp.message_ids())
    assert 8 <= sum(before.values()) < 30
    db.session.rollback()
    stuck = [r for r in rows(seq=1) if r.status == "sending"]
    assert stuck  # its claim is still held: nobody else may send those until the lease runs out
    unclaimed = len([r for r in rows(seq=1) if r.status == "pending"])
    assert run_sweep().count("sent") == unclaimed
    # restart after the dead sweep's lease ran out: everything left goes out
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=601), tick=False):
        assert run_sweep().count("sent") == len(stuck)
    assert {r.status for r in rows(seq=1)} == {"sent"}
    received = Counter(smtp.message_ids())
    assert set(received) == {r.message_id for r in rows(seq=1)}
    twice = [mid for mid, n in received.items() if n > 1]
    assert max(received.values()) <= 2 and len(twice) <= 1  # at most the one in flight when it died
