"""Reminder workloads of bench/run.py: claiming due rows, dispatching to SMTP, re-planning, memory.

- claim: time to find and claim 1,000 due reminders (the sweep's `claims.claim`) in a database of
  any size; the rows are handed back after each try, so every try sees the same table.
- dispatch: emails per second of a real sweep sending 5,000 due reminders to a local SMTP server,
  and of a plain smtplib loop sending the very same message objects on one connection.
- replan: re-planning 100,000 pending reminders after an interval change, and one bare UPDATE
  moving the same rows' dates by a week (each row gets its own new dates, as in the re-plan).
- scheduler memory: peak RSS of `flask reminders sweep` (a scheduler process's sweep) sending
  100,000 due reminders, read from the kernel's accounting of the finished child.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text, update

from bench.scratch import scratch_database
from bench.web_load import free_port
from scheduler import create_app
from scheduler.domain.plan import retreatment_plan
from scheduler.extensions import db
from scheduler.models import Consent, Patient, Reminder, Treatment, TreatmentSession
from scheduler.reminders import planning
from scheduler.reminders import replan as replanner
from scheduler.reminders.rows import clinic, new_message_id
from scheduler.seed import CATALOGUE

ROOT = Path(__file__).resolve().parent.parent
T = Reminder.__table__
CLAIM = 1_000


class SinkServer:
    """aiosmtpd's discarding handler in its own process (so it does not share our GIL)."""

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}", "-c", "aiosmtpd.handlers.Sink"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("aiosmtpd did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def __enter__(self) -> SinkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def mail_app(url: str, port: int):
    """An app on a scratch database that mails to 127.0.0.1:port at any hour."""
    return create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "REMINDER_SEND_HOURS": "00:00-24:00",
            "SCHEDULER_EMBEDDED": False,
        },
    )


# -- data ----------------------------------------------------------------------------------------


def load_tracks(n: int, *, days_ago: int, seqs: int) -> Treatment:
    """n patients with one session each, days_ago days back, and their first `seqs` reminder rows."""
    now = datetime.now(UTC)
    treatment = Treatment(active=True, **CATALOGUE[0])  # chronic migraine
    db.session.add(treatment)
    db.session.flush()
    conn = db.session.connection()
    conn.execute(
        insert(Patient),
        [
            dict(
                first_name="Pat",
                last_name=f"Bench{i}",
                email=f"p{i}@example.net",
                created_at=now,
                updated_at=now,
            )
            for i in range(n)
        ],
    )
    patient_ids = list(db.session.scalars(select(Patient.id).order_by(Patient.id)))
    conn.execute(
        insert(Consent),
        [dict(patient_id=p, topic="therapeutic", given=True, via="migration", recorded_at=now) for p in patient_ids],
    )
    days = [(now - timedelta(days=days_ago + i % 60)).date() for i in range(n)]
    conn.execute(
        insert(TreatmentSession),
        [
            dict(
                patient_id=p, treatment_id=treatment.id, performed_on=d, product="BOTOX", external=False, created_at=now
            )
            for p, d in zip(patient_ids, days, strict=True)
        ],
    )
    sessions = db.session.execute(
        select(TreatmentSession.id, TreatmentSession.patient_id, TreatmentSession.performed_on)
    ).all()
    iv, settings = planning.intervals(treatment), clinic()
    rows = []
    for sid, pid, day in sessions:
        for p in retreatment_plan(day, iv, settings)[:seqs]:
            rows.append(
                dict(
                    patient_id=pid,
                    treatment_id=treatment.id,
                    kind="retreatment",
                    session_id=sid,
                    seq=p.seq,
                    due_at=min(p.due_at, now) if seqs == 1 else p.due_at,
                    expires_at=p.expires_at,
                    status="pending",
                    attempts=0,
                    message_id=new_message_id(),
                    created_at=now,
                    updated_at=now,
                )
            )
    for start in range(0, len(rows), 20_000):
        conn.execute(insert(Reminder), rows[start : start + 20_000])
    db.session.commit()
    return treatment


# -- claim ---------------------------------------------------------------------------------------


def claim_ms(app, repeat: int = 9) -> float:
    """Median milliseconds to claim CLAIM due reminders: the earliest pending first reminders are made due."""
    import statistics

    from scheduler.reminders import claims

    with app.app_context():
        now = datetime.now(UTC)
        first = (
            select(T.c.id)
            .where(T.c.status == "pending", T.c.kind == "retreatment", T.c.seq == 1, T.c.due_at > now)
            .order_by(T.c.due_at)
            .limit(CLAIM)
        )
        ids = list(db.session.scalars(first))
        assert len(ids) == CLAIM, f"only {len(ids)} pending reminders to make due"
        original = dict(db.session.execute(select(T.c.id, T.c.due_at).where(T.c.id.in_(ids))).all())
        db.session.execute(update(T).where(T.c.id.in_(ids)).values(due_at=now - timedelta(minutes=5)))
        db.session.commit()
        samples = []
        try:
            for _ in range(repeat + 1):
                started = time.perf_counter()
                token, got = claims.claim(CLAIM, timedelta(minutes=10), datetime.now(UTC))
                samples.append((time.perf_counter() - started) * 1000)
                assert len(got) == CLAIM, len(got)
                db.session.execute(
                    update(T)
                    .where(T.c.claim_token == token)
                    .values(status="pending", claim_token=None, claimed_until=None)
                )
                db.session.commit()
        finally:
            db.session.connection().execute(
                update(T).where(T.c.id == _bind("b_id")).values(due_at=_bind("b_due")),
                [{"b_id": i, "b_due": d} for i, d in original.items()],
            )
            db.session.commit()
        return statistics.median(samples[1:])


def _bind(name: str):
    from sqlalchemy import bindparam

    return bindparam(name)


# -- dispatch ------------------------------------------------------------------------------------


#: rounds of the dispatch figure: each sweeps its own due reminders and is followed at once by
#: the smtplib loop over the same messages; the figure is the median of the rounds' ratios
DISPATCH_ROUNDS = 3


def dispatch(kind: str, count: int = 5_000, rounds: int = DISPATCH_ROUNDS) -> dict[str, float]:
    """Emails per second: the sweep over a plain smtplib loop with the same messages, same server.

    A single sweep and a single loop, a minute apart on a shared machine, had given 0.65 in one
    run and 0.89 in another of the same code: the rounds put each sweep next to its own loop.
    """
    results = [_dispatch_round(kind, count, f"dispatch{r}") for r in range(rounds)]
    for sweep_per_s, raw_per_s in results:
        print(f"  dispatch round: sweep {sweep_per_s:.0f}/s, raw smtplib {raw_per_s:.0f}/s", flush=True)
    return {
        "sweep_per_s": statistics.median(s for s, _ in results),
        "raw_per_s": statistics.median(r for _, r in results),
        "ratio": statistics.median(s / r for s, r in results),
    }


def _dispatch_round(kind: str, count: int, name: str) -> tuple[float, float]:
    """One sweep of `count` due reminders and one smtplib loop over its messages: their rates.

    The loop sends the sweep's messages, built again after the sweep from the inputs the sweep
    built them from. Keeping the sent messages themselves during the sweep (as this did until
    2026-12-05) held thousands of header parse trees alive, and every full garbage collection
    walked them all: 0.6 ms an email that a real sweep, which drops each message once sent, never
    spends.
    """
    from scheduler.reminders import compose, sweep

    with SinkServer() as server, scratch_database(kind, name) as url:
        app = mail_app(url, server.port)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            load_tracks(count, days_ago=90, seqs=1)  # one due first reminder per patient
            inputs = []
            build = compose.build

            def recording_build(*args, **kwargs):
                inputs.append((args, kwargs))  # the rows and settings, small tuples
                return build(*args, **kwargs)

            compose.build = recording_build
            try:
                started = time.perf_counter()
                report = sweep.run()
                swept = time.perf_counter() - started
            finally:
                compose.build = build
            sent = report.count("sent")
            assert sent == count == len(inputs), (sent, count, len(inputs))
            messages = [build(*args, **kwargs) for args, kwargs in inputs]
            db.session.remove()
            db.engine.dispose()
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as conn:
            for msg in messages:
                conn.send_message(msg)
        raw = time.perf_counter() - started
    return sent / swept, len(messages) / raw


# -- re-plan -------------------------------------------------------------------------------------


def shifted(column, days: int):
    """SQL for a timestamp column moved by whole days (what a bare re-date of each row writes)."""
    if db.engine.dialect.name == "sqlite":
        # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff"; keep that format (and so the ordering).
        return func.strftime("%Y-%m-%d %H:%M:%f000", column, f"+{days} days")
    return column + text(f"interval '{days} days'")


def replan(kind: str, count: int = 100_000) -> dict[str, float]:
    """Seconds to re-plan `count` pending reminders after an interval change, and for one bare UPDATE."""
    with scratch_database(kind, "replan") as url:
        app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_EMBEDDED": False})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            treatment_id = load_tracks(-(-count // 3), days_ago=30, seqs=3).id
            pending = db.session.scalar(select(func.count()).select_from(T).where(T.c.status == "pending"))
            now = datetime.now(UTC)
            started = time.perf_counter()
            db.session.execute(
                update(T)
                .where(T.c.treatment_id == treatment_id, T.c.kind == "retreatment", T.c.status == "pending")
                .values(due_at=shifted(T.c.due_at, 7), expires_at=shifted(T.c.expires_at, 7), updated_at=now)
            )
            db.session.commit()
            bare = time.perf_counter() - started
            treatment = db.session.get(Treatment, treatment_id)
            treatment.remind_from = "P13W"
            started = time.perf_counter()
            moved = replanner.replan_treatment(treatment)
            db.session.commit()
            replanned = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    return {"pending": pending, "moved": moved, "replan_s": replanned, "bare_s": bare}


# -- the scheduler's memory ----------------------------------------------------------------------


def _watch_hwm(proc: subprocess.Popen, peak: list[int]) -> None:
    """Keeps the largest VmHWM (KiB) of a running process in peak[0]."""
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            text_ = status.read_text()
        except OSError:
            break
        found = re.search(r"VmHWM:\s+(\d+) kB", text_)
        if found:
            peak[0] = max(peak[0], int(found.group(1)))
        time.sleep(0.1)


def scheduler_rss(kind: str, count: int = 100_000) -> dict[str, float]:
    """Peak RSS (MiB) of `flask reminders sweep` sending `count` due reminders, and its wall time."""

    with SinkServer() as server, scratch_database(kind, "rss") as url:
        app = mail_app(url, server.port)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            load_tracks(count, days_ago=90, seqs=1)
            db.session.remove()
            db.engine.dispose()
        env = dict(
            os.environ,
            APP_ENV="development",
            DATABASE_URL=url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(server.port),
            REMINDER_SEND_HOURS="00:00-24:00",
            SCHEDULER_EMBEDDED="off",
            PYTHONPATH=str(ROOT),
        )
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "reminders", "sweep"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        # The kernel's own high-water mark of the process (VmHWM), polled until it exits. Not the
        # rusage of wait4: a child's ru_maxrss starts from the forking parent's size (this process,
        # which just loaded 100,000 rows), not from what the sweep itself used.
        peak = [0]
        watcher = threading.Thread(target=_watch_hwm, args=(proc, peak), daemon=True)
        watcher.start()
        out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        proc.wait()
        watcher.join()
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"flask reminders sweep failed ({proc.returncode}): {out[-2000:]}")
        with app.app_context():
            sent = db.session.scalar(select(func.count()).select_from(T).where(T.c.status == "sent"))
            db.session.remove()
            db.engine.dispose()
    assert sent == count, (sent, count, out[-2000:])
    return {"peak_rss_mb": peak[0] / 1024, "seconds": elapsed, "sent": sent}
