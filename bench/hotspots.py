"""Where the time goes: `python bench/hotspots.py --db sqlite|postgresql day_view|booking|replan|sweep`.

Runs one workload of bench/run.py under cProfile on a scratch database of 10,000 appointments
(or, for replan and sweep, of their own) and prints the functions that take the most time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import reminder_work, run  # noqa: E402
from bench import web_load as http  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from scheduler.extensions import db  # noqa: E402


def profiled(fn, rows: int) -> None:
    profile = cProfile.Profile()
    profile.enable()
    fn()
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(rows)
    stats.sort_stats("tottime").print_stats(rows)


def day_view(kind: str, rows: int) -> None:
    with ExitStack() as stack:
        env = run.build(kind, run.SMALL, "profile", stack)
        client = run.signed_in_client(env["app"])
        path = f"/calendar?date={env['busy_day'].isoformat()}"
        client.get(path)
        profiled(lambda: [client.get(path) for _ in range(20)], rows)


def booking(kind: str, rows: int) -> None:
    from scheduler.models import Patient
    from scheduler.staff import tokens, users

    with ExitStack() as stack:
        env = run.build(kind, run.SMALL, "profile", stack)
        app = env["app"]
        run.signed_in_client(app)
        with app.app_context():
            patients = [Patient(first_name="B", last_name=f"B{i}", email=f"b{i}@example.net") for i in range(400)]
            db.session.add_all(patients)
            db.session.flush()
            ids = [p.id for p in patients]
            token = tokens.issue_token(users.find_by_email("bench-admin@example.com"), actor_label="bench")
            db.session.commit()
        client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
        day = env["busy_day"] + timedelta(days=7)
        bodies = [
            {
                "patient_id": ids[slot * 20 + prac - 1],
                "practitioner_id": prac,
                "treatment_id": 1,
                "starts_at": (
                    datetime.combine(day, dtime(8), tzinfo=run.TZ).astimezone(UTC) + timedelta(hours=slot)
                ).isoformat(),
            }
            for slot in range(http.SLOTS_PER_DAY)
            for prac in range(1, 21)
        ]

        def book_all() -> None:
            for body in bodies[1:]:
                assert client.post("/api/v1/appointments", json=body, headers=headers).status_code == 201

        assert client.post("/api/v1/appointments", json=bodies[0], headers=headers).status_code == 201
        profiled(book_all, rows)


def replan(kind: str, rows: int) -> None:
    from scheduler import create_app
    from scheduler.models import Treatment
    from scheduler.reminders import replan as replanner

    with scratch_database(kind, "profile") as url:
        app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_EMBEDDED": False})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            treatment = db.session.get(Treatment, reminder_work.load_tracks(33_334, days_ago=30, seqs=3).id)
            treatment.remind_from = "P13W"

            def replan_once() -> None:
                replanner.replan_treatment(treatment)
                db.session.commit()

            profiled(replan_once, rows)
            db.session.remove()
            db.engine.dispose()


def sweep(kind: str, rows: int) -> None:
    from scheduler.reminders import sweep as sweeper

    with reminder_work.SinkServer() as server, scratch_database(kind, "profile") as url:
        app = reminder_work.mail_app(url, server.port)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            reminder_work.load_tracks(2_000, days_ago=90, seqs=1)
            profiled(sweeper.run, rows)
            db.session.remove()
            db.engine.dispose()


WORKLOADS = {"day_view": day_view, "booking": booking, "replan": replan, "sweep": sweep}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=25, help="functions to list")
    args = parser.parse_args()
    WORKLOADS[args.workload](args.db, args.rows)


if __name__ == "__main__":
    main()
