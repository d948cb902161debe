"""Reminder benchmarks on scratch databases: `python bench/sweep_bench.py --db sqlite|postgresql`.

- sweep: N due reminders (default 10,000) swept by one `sweep.run()` into a local SMTP server
  (aiosmtpd in its own process, accepting and discarding); prints time and emails per second.
- re-plan (`--replan M`, e.g. 100000): M pending re-treatment reminders of one treatment
  re-planned after an interval change (`planning.treatment_intervals_changed`); prints the time.

The data is bulk-loaded (patients, sessions and their reminder rows as the planner writes them),
so the timings measure the sweep and the re-plan, not the loading.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402
from scheduler import create_app  # noqa: E402
from scheduler.domain.plan import retreatment_plan  # noqa: E402
from scheduler.extensions import db  # noqa: E402
from scheduler.models import Patient, Reminder, Treatment, TreatmentSession  # noqa: E402
from scheduler.seed import CATALOGUE  # noqa: E402
from scheduler.services import planning, sweep  # noqa: E402
from scheduler.services.reminder_rows import clinic, new_message_id  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_server(port: int) -> subprocess.Popen:
    """aiosmtpd's discarding handler in its own process (so it does not share our GIL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("aiosmtpd did not start")


def load(n: int, *, days_ago: int, seqs: int) -> Treatment:
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
                reminders_opt_in=True,
                created_at=now,
                updated_at=now,
            )
            for i in range(n)
        ],
    )
    patient_ids = list(db.session.scalars(select(Patient.id).order_by(Patient.id)))
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


def bench_sweep(kind: str, n: int) -> None:
    port = free_port()
    server = smtp_server(port)
    try:
        with scratch_database(kind, "sweep") as url:
            app = create_app(
                "development",
                {
                    "SQLALCHEMY_DATABASE_URI": url,
                    "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": port,
                    "REMINDER_SEND_HOURS": "00:00-24:00",
                    "SCHEDULER_EMBEDDED": False,
                },
            )
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                load(n, days_ago=90, seqs=1)  # first reminder due (P12W = 84 days), window open
                started = time.perf_counter()
                report = sweep.run()
                elapsed = time.perf_counter() - started
                sent = db.session.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == "sent"))
                print(
                    f"{kind}: swept {n} due reminders in {elapsed:.2f} s: {report.count('sent')} sent "
                    f"({sent} recorded), {report.count('retry')} to retry, {report.count('failed')} failed; "
                    f"{report.count('sent') / elapsed:.0f} emails/s"
                )
                db.session.remove()
                db.engine.dispose()
    finally:
        server.terminate()
        server.wait(timeout=10)


def bench_replan(kind: str, n: int) -> None:
    with scratch_database(kind, "replan") as url:
        app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_EMBEDDED": False})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            treatment = load(n // 3 + (n % 3 > 0), days_ago=30, seqs=3)
            pending = db.session.scalar(select(func.count()).select_from(Reminder))
            treatment = db.session.get(Treatment, treatment.id)
            treatment.remind_from, treatment.reminder_count = "P13W", 3
            started = time.perf_counter()
            moved = planning.treatment_intervals_changed(treatment)
            db.session.commit()
            elapsed = time.perf_counter() - started
            print(f"{kind}: re-planned {pending} pending reminders in {elapsed:.2f} s ({moved} moved)")
            db.session.remove()
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--count", type=int, default=10_000, help="due reminders to sweep")
    parser.add_argument("--replan", type=int, default=0, help="also time a re-plan of this many reminders")
    args = parser.parse_args()
    if args.count:
        bench_sweep(args.db, args.count)
    if args.replan:
        bench_replan(args.db, args.replan)


if __name__ == "__main__":
    main()
