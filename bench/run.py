"""Benchmarks at clinic-group scale: `python bench/run.py --db sqlite|postgresql --size N`.

Builds two scratch databases of its own (10,000 appointments and N), runs each workload on both
side by side, prints a table and, last, one JSON line of ratios and peak memory figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load, reminder_work, scratch  # noqa: E402
from scheduler import create_app  # noqa: E402
from scheduler.extensions import db  # noqa: E402

SMALL = 10_000
TZ = ZoneInfo("Europe/London")


def next_monday(today: date) -> date:
    """The busy day: the Monday after today (clinic days are weekdays)."""
    return today + timedelta(days=7 - today.weekday())


def build(kind: str, size: int, name: str, stack):
    """A migrated, bulk-loaded scratch database and an app bound to it."""
    url = stack.enter_context(scratch.scratch_database(kind, name))
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    began = time.perf_counter()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        now = datetime.now(UTC)
        busy = next_monday(now.astimezone(TZ).date())
        with db.engine.begin() as conn:
            counts = load.load(conn, size, busy, TZ, now)
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:  # the loader chose the ids: move the sequences past them
                for table in ("appointments", "sessions"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
                # The load's gigabytes of WAL are written out now, not by the checkpointer while
                # the workloads run (it spreads them over minutes): a deployment's steady state.
                conn.exec_driver_sql("CHECKPOINT")
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            raw = db.engine.raw_connection()  # the same for SQLite: the WAL into the file, emptied
            try:  # outside any transaction (SQLAlchemy would begin one), where a checkpoint can finish
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
    counts["seconds"] = round(time.perf_counter() - began, 1)
    # The operating system writes the load's dirty pages now, not in the background during the
    # measures: a kernel writeback thread had taken most of a core in an HTTP window.
    os.sync()
    return {"url": url, "app": app, "busy_day": busy, "counts": counts}


def median_ms(fn, repeat: int) -> float:
    """Median wall time of fn() in milliseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def signed_in_client(app):
    """A test client signed in as a fresh admin."""
    from scheduler.staff import users

    with app.app_context():
        if users.find_by_email("bench-admin@example.com") is None:
            users.create("bench-admin@example.com", "admin", "bench password 123", actor_label="bench")
            db.session.commit()
    client = app.test_client()
    resp = client.post("/login", data={"email": "bench-admin@example.com", "password": "bench password 123"})
    assert resp.status_code == 302, resp.status_code
    return client


def day_view(env, repeat: int = 40) -> float:
    """Median latency of the day calendar for the busy day."""
    client = signed_in_client(env["app"])
    path = f"/calendar?date={env['busy_day'].isoformat()}"
    resp = client.get(path)
    assert resp.status_code == 200, resp.status_code
    return median_ms(lambda: client.get(path), repeat)


def availability(env, repeat: int = 200) -> float:
    """Median latency of the availability endpoint for a practitioner on the busy day."""
    from scheduler.staff import tokens, users

    app = env["app"]
    with app.app_context():
        token = tokens.issue_token(users.find_by_email("bench-admin@example.com"), actor_label="bench")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/availability?practitioner_id=3&treatment_id=1&date={env['busy_day'].isoformat()}"
    assert client.get(path, headers=headers).status_code == 200
    return median_ms(lambda: client.get(path, headers=headers), repeat)


def booking_fixtures(env) -> tuple[str, list[int]]:
    """An API token of the bench admin, and 1,000 new patients to book (one booking each)."""
    from scheduler.models import Patient
    from scheduler.staff import tokens, users

    app = env["app"]
    signed_in_client(app)  # creates the bench admin
    with app.app_context():
        patients = [
            Patient(first_name="Book", last_name=f"Bench{i}", email=f"book{i}@example.net", reminders_opt_in=True)
            for i in range(1000)
        ]
        db.session.add_all(patients)
        db.session.flush()
        ids = [p.id for p in patients]
        token = tokens.issue_token(users.find_by_email("bench-admin@example.com"), actor_label="bench")
        db.session.commit()
    return token, ids


def scheduler_running(env) -> None:
    """A sweep heartbeat of now, as the running scheduler processes of a deployment leave every minute.

    Without one, every staff page also asks for the heartbeat to show the "scheduler has never
    run" banner: right for a broken deployment, not what the pages of a working one do.
    """
    from scheduler.models.reminder import SweepRun
    from scheduler.services import clock

    with env["app"].app_context():
        db.session.add(SweepRun(started_at=clock.now(), finished_at=clock.now(), worker="bench"))
        db.session.commit()


#: rounds of the HTTP figures, seconds each route is driven in a round, and its warm-up before
HTTP_ROUNDS, HTTP_SECONDS, HTTP_WARM_UP = 5, 5, 1


def http_figures(env, seconds: int = HTTP_SECONDS, rounds: int = HTTP_ROUNDS) -> dict[str, float]:
    """Requests per second of hello, the day calendar and booking under gunicorn, and worker peak RSS.

    The three routes take turns, `rounds` times, and each ratio is the median of the rounds' ratios:
    a route and hello are measured moments apart, so a slower minute of a shared machine weighs on
    both (one 10-second window each had put the day view at 0.085 in one run and 0.216 in the next).
    Five rounds, not three: on a machine whose speed swings by half from one window to the next
    (hello 3,167 to 4,709 a second in one run), three rounds' ratios of the same code spread from
    0.13 to 0.20, and a median of three moved with one slow window. Each window follows a second
    of the same requests, unmeasured: gunicorn replaces its workers every 5,000 or so requests
    (`max_requests`), so hello's tens of thousands leave new workers behind, and a new worker's
    first pages compile their templates and open their connections.
    """
    from bench import web_load as http

    token, ids = booking_fixtures(env)
    scheduler_running(env)
    server = http.Gunicorn(env["url"])
    rates: dict[str, list[float]] = {"hello": [], "day": [], "booking": []}

    def measured(url: str, headers: dict | None = None, script: str | None = None, warm: str | None = None) -> float:
        http.wrk(url, HTTP_WARM_UP, headers=headers, script=warm or script)
        return http.wrk(url, seconds, headers=headers, script=script)

    try:
        cookie = http.session_cookie(server.base, "bench-admin@example.com", "bench password 123")
        day = f"{server.base}/calendar?date={env['busy_day'].isoformat()}"
        for r in range(rounds):
            rates["hello"].append(measured(server.base + "/healthz"))
            rates["day"].append(measured(day, headers={"Cookie": cookie}))
            # Each round books its own ten free weeks, its warm-up the last two: no slot is asked for twice.
            first = env["busy_day"] + timedelta(weeks=1 + 10 * r)
            script, warm = (
                http.booking_script(token, start, load.PRACTITIONERS, ids, TZ, threads=2, count=count)
                for start, count in ((first, 10000), (first + timedelta(weeks=8), 2000))
            )
            rates["booking"].append(measured(server.base + "/api/v1/appointments", script=script, warm=warm))
        rss = server.peak_rss_mb()
    finally:
        server.stop()
    for name, values in rates.items():
        print(f"http req/s, {name}: " + ", ".join(f"{v:.0f}" for v in values), flush=True)

    def ratio(name: str) -> float:
        return round(statistics.median(w / h for w, h in zip(rates[name], rates["hello"], strict=True)), 3)

    print(f"worker peak RSS {rss:.0f} MiB")
    return {
        "http_day_view_vs_hello": ratio("day"),
        "http_booking_vs_hello": ratio("booking"),
        "peak_rss_mb_web": round(rss, 1),
    }


def sweep_claim(env) -> float:
    """Median time to find and claim 1,000 due reminders."""
    return reminder_work.claim_ms(env["app"])


WORKLOADS = [
    ("day_view", "day calendar, busy day (ms)", day_view),
    ("availability", "availability endpoint (ms)", availability),
    ("sweep_claim", "claim 1,000 due reminders (ms)", sweep_claim),
]
#: the keys of the last line, in this order; a workload left out by a --skip option is null
KEYS = (
    "day_view_ratio_large_vs_small",
    "availability_ratio_large_vs_small",
    "sweep_claim_ratio_large_vs_small",
    "http_day_view_vs_hello",
    "http_booking_vs_hello",
    "dispatch_vs_raw_smtp",
    "replan_vs_bare_update",
    "peak_rss_mb_web",
    "peak_rss_mb_scheduler",
)


def mail_figures(kind: str, rows: list, dispatch_count: int, replan_count: int, rss_count: int) -> dict:
    """The reminder figures that use their own scratch databases: dispatch, re-plan, scheduler memory."""
    d = reminder_work.dispatch(kind, dispatch_count)
    print(
        f"dispatch of {dispatch_count} (medians of the rounds): sweep {d['sweep_per_s']:.0f}/s, "
        f"raw smtplib {d['raw_per_s']:.0f}/s",
        flush=True,
    )
    r = reminder_work.replan(kind, replan_count)
    print(
        f"re-plan of {r['pending']} pending ({r['moved']} moved): {r['replan_s']:.2f} s, "
        f"bare UPDATE {r['bare_s']:.2f} s",
        flush=True,
    )
    m = reminder_work.scheduler_rss(kind, rss_count)
    print(f"scheduler sweep of {m['sent']}: {m['seconds']:.0f} s, peak RSS {m['peak_rss_mb']:.0f} MiB", flush=True)
    # the dispatch ratio is the median of the rounds' own ratios, as the JSON line has it
    rows.append((f"sweep emails/s ({dispatch_count}; vs raw smtplib)", d["raw_per_s"], d["sweep_per_s"], d["ratio"]))
    replan_ratio = r["replan_s"] / r["bare_s"]
    rows.append((f"re-plan {r['pending']} (s; vs bare UPDATE)", r["bare_s"], r["replan_s"], replan_ratio))
    return {
        "dispatch_vs_raw_smtp": round(d["ratio"], 3),
        "replan_vs_bare_update": round(replan_ratio, 3),
        "peak_rss_mb_scheduler": round(m["peak_rss_mb"], 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--skip-http", action="store_true", help="leave out the gunicorn + wrk figures")
    parser.add_argument("--skip-mail", action="store_true", help="leave out dispatch, re-plan and scheduler memory")
    parser.add_argument("--dispatch", type=int, default=5_000, help="due reminders the dispatch figure sends")
    parser.add_argument("--replan", type=int, default=100_000, help="pending reminders the re-plan figure moves")
    parser.add_argument("--rss-sweep", type=int, default=100_000, help="due reminders the scheduler memory sweep sends")
    args = parser.parse_args(argv)
    if args.size < SMALL:
        parser.error(f"--size must be at least {SMALL}")
    from contextlib import ExitStack

    results: dict[str, float | None] = dict.fromkeys(KEYS)
    rows = []
    with ExitStack() as stack:
        small = build(args.db, SMALL, "small", stack)
        large = build(args.db, args.size, "large", stack)
        print(f"built: small {small['counts']}, large {large['counts']}", flush=True)
        for key, label, fn in WORKLOADS:
            a, b = fn(small), fn(large)
            print(f"{label}: {a:.2f} at {SMALL}, {b:.2f} at {args.size}", flush=True)
            results[f"{key}_ratio_large_vs_small"] = round(b / a, 3)
            rows.append((label, a, b))
        if not args.skip_http:
            results.update(http_figures(large))
    mail_rows: list = []
    if not args.skip_mail:
        results.update(mail_figures(args.db, mail_rows, args.dispatch, args.replan, args.rss_sweep))
    print(f"{'workload':<44} {'10k':>10} {args.size:>10}  ratio")
    for label, a, b in rows:
        print(f"{label:<44} {a:>10.2f} {b:>10.2f}  {b / a:.2f}")
    print(f"{'':<44} {'baseline':>10} {'app':>10}  ratio")
    for label, a, b, ratio in mail_rows:
        print(f"{label:<44} {a:>10.2f} {b:>10.2f}  {ratio:.2f}")
    assert set(results) == set(KEYS), sorted(results)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
