"""The production deployment, end to end: gunicorn (4 workers) + two `flask scheduler run` + PostgreSQL + SMTP.

Deployed as the README's "Production" section says (APP_ENV=production, `flask db upgrade`,
`gunicorn -c deploy/gunicorn.conf.py wsgi:app`, two scheduler processes), on a scratch database of
its own, sending to a real SMTP server (aiosmtpd) in this process. Staff users and tokens come from
the CLI; the catalogue, practitioners and patients from the API. Then eight threads drive the API at
once: booking races for the same slot and the same patient, bookings with check-ins, completions,
cancellations, no-shows and reschedules, and sessions recorded afterwards whose re-treatment
reminders are already due (some several of one track, so rule 4's catch-up applies).

When every due email has gone out, the processes are stopped and the test checks: each due email
was received exactly once (by Message-ID, no duplicates at all), each received message is a sent
row of the outbox, the catch-up sent only the newest reminder of a track, nobody is booked twice at
once, each contested slot had exactly one winner, and the API never answered 5xx.
"""

from __future__ import annotations

import http.client
import json
import random
import secrets
import subprocess
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler import seed
from tests.production.conftest import (
    FLASK,
    ROOT,
    Processes,
    ScratchDatabase,
    SmtpSink,
    clean_environment,
    free_port,
    postgres_test_url,
    wait_until,
)

pytestmark = [
    pytest.mark.production,
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_test_url() is None,
        reason="production deployment test: runs on PostgreSQL only "
        "(set TEST_DATABASE_URL=postgresql+psycopg://...; this run uses SQLite)",
    ),
]

TZ = ZoneInfo("Europe/London")
THREADS = 8
WORKERS = 4
BASE_URL = "https://clinic.example"
ALL_WEEK = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
#: the catalogue of docs/rules.md, as the demo seeds it, by a short key
CATALOGUE = dict(zip(("migraine", "dystonia", "pain", "cosmetic"), map(dict, seed.CATALOGUE), strict=True))
#: words an email subject must never contain (CONTRACT §6: never the diagnosis or the treatment)
PRIVATE_WORDS = ("migraine", "dystonia", "torticollis", "pain", "cosmetic", "botox", "injection")


# --- HTTP -------------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    status: int
    body: Any


@dataclass
class Api:
    """A bearer-token JSON client for the gunicorn server; logs every answer (one connection per request)."""

    port: int
    token: str
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        url = "/api/v1" + path
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        headers = {"Authorization": f"Bearer {self.token}", "Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, url, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
        finally:
            conn.close()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        with self.lock:
            self.calls.append(Call(method, path, status, payload))
        return status, payload

    def get(self, path: str, **query: Any) -> tuple[int, Any]:
        return self.request("GET", path, **query)

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return self.request("POST", path, body)

    def created(self, path: str, body: Any) -> dict:
        status, payload = self.post(path, body)
        assert status == 201, (path, status, payload)
        return payload


def rfc3339(day: date, hh: int, minutes: int = 0) -> str:
    """A local clinic wall-clock time (hh:00 plus some minutes) as RFC 3339 with its offset."""
    return (datetime(day.year, day.month, day.day, hh, tzinfo=TZ) + timedelta(minutes=minutes)).isoformat()


# --- the deployment -----------------------------------------------------------------------------


def deployment_env(db: ScratchDatabase, smtp_port: int, web_port: int, tmp_path) -> dict[str, str]:
    """The production environment of every process (README "Production"), sending to the test SMTP server."""
    env = clean_environment()
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(32),
        DATABASE_URL=db.url,
        BASE_URL=BASE_URL,
        CLINIC_NAME="Deployment Test Clinic",
        CLINIC_TIMEZONE="Europe/London",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        MAIL_USE_TLS="off",
        MAIL_USE_SSL="off",
        MAIL_DEFAULT_SENDER="reception@clinic.example",
        MAIL_TIMEOUT_SECONDS="10",
        OUTBOX_DIR=str(tmp_path / "outbox"),
        # the whole day, so reminders go out whenever the test runs; a sweep every second
        REMINDER_SEND_HOURS="00:00-24:00",
        REMINDER_SWEEP_SECONDS="1",
        SCHEDULER_EMBEDDED="off",
        WEB_CONCURRENCY=str(WORKERS),
        GUNICORN_BIND=f"127.0.0.1:{web_port}",
        PYTHONUNBUFFERED="1",
    )
    return env


def flask_command(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Runs one `flask --app wsgi ...` command to completion; its standard output."""
    done = subprocess.run([*FLASK, *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stderr}\n{done.stdout}"
    return done.stdout


def staff_token(env: dict[str, str], email: str, role: str) -> str:
    """`flask users create` then `flask users token`: a new API token for a new staff user."""
    flask_command(
        env, "users", "create", email, "--role", role, "--password-stdin", stdin=secrets.token_urlsafe(16) + "\n"
    )
    lines = flask_command(env, "users", "token", email).strip().splitlines()
    assert len(lines) == 1 and lines[0].strip(), lines
    return lines[0].strip()


def web_ready(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


# --- the clinic ---------------------------------------------------------------------------------


@dataclass
class Clinic:
    treatments: dict[str, int]
    race_prac: int
    pracs: list[int]
    race_patients: list[int]  # one per thread, for the practitioner races
    contested_patients: list[int]  # one per patient race
    pool: list[int]  # shared by the threads' ordinary bookings
    history: list[tuple[int, str, int, bool]]  # (patient, treatment key, days ago, external)
    groups: dict[str, list[int]]  # history patients by what their sessions should lead to
    emails: dict[int, str | None]
    opted_in: dict[int, bool]


def build_clinic(admin: Api, reception: Api) -> Clinic:
    """The catalogue and practitioners (admin), the patients (reception), created concurrently."""
    with ThreadPoolExecutor(THREADS) as pool:
        treatments = dict(
            zip(
                CATALOGUE,
                pool.map(lambda body: admin.created("/treatments", body)["id"], CATALOGUE.values()),
                strict=True,
            )
        )
        pracs = list(
            pool.map(
                lambda n: admin.created(
                    "/practitioners",
                    {"name": f"Dr Deploy {n}", "email": f"dr{n}@clinic.example", "working_hours": ALL_WEEK},
                )["id"],
                range(4),
            )
        )
        specs: list[dict] = []
        for n in range(THREADS):
            specs.append({"first_name": "Racer", "last_name": f"R{n}", "email": f"racer{n}@patients.example"})
        for n in range(2):
            specs.append({"first_name": "Contested", "last_name": f"C{n}", "email": f"contested{n}@patients.example"})
        for n in range(24):
            specs.append({"first_name": "Pool", "last_name": f"P{n}", "email": f"pool{n}@patients.example"})
        # history: (group, treatment, days ago, external, email, opted in)
        plan = (
            [("catch_up", "cosmetic", 150, n % 2 == 0, True, True) for n in range(6)]
            + [("one_due", "migraine", 100, False, True, True) for _ in range(4)]
            + [("stale", "pain", 250, False, True, True) for _ in range(2)]
            + [("opted_out", "cosmetic", 150, False, True, False) for _ in range(2)]
            + [("no_email", "cosmetic", 150, False, False, True)]
        )
        for n, (_g, _t, _d, _x, has_email, opted_in) in enumerate(plan):
            specs.append(
                {
                    "first_name": "History",
                    "last_name": f"H{n}",
                    "email": f"history{n}@patients.example" if has_email else None,
                    "reminders_opt_in": opted_in,
                    "date_of_birth": "1975-06-15",
                }
            )
        patients = list(pool.map(lambda body: reception.created("/patients", body), specs))
    ids = [p["id"] for p in patients]
    racers, contested, pool_ids, hist = (
        ids[:THREADS],
        ids[THREADS : THREADS + 2],
        ids[THREADS + 2 : THREADS + 26],
        ids[THREADS + 26 :],
    )
    groups: dict[str, list[int]] = defaultdict(list)
    history = []
    for pid, (group, treatment, days, external, _e, _o) in zip(hist, plan, strict=True):
        groups[group].append(pid)
        history.append((pid, treatment, days, external))
    return Clinic(
        treatments=treatments,
        race_prac=pracs[0],
        pracs=pracs[1:],
        race_patients=racers,
        contested_patients=contested,
        pool=pool_ids,
        history=history,
        groups=dict(groups),
        emails={p["id"]: p["email"] for p in patients},
        opted_in={p["id"]: p["reminders_opt_in"] for p in patients},
    )


# --- the load -----------------------------------------------------------------------------------


@dataclass
class Load:
    """What the threads did, for the assertions."""

    slot_races: dict[str, list[tuple[int, Any]]] = field(default_factory=lambda: defaultdict(list))
    patient_races: dict[str, list[tuple[int, Any]]] = field(default_factory=lambda: defaultdict(list))
    booked: list[int] = field(default_factory=list)
    sessions: dict[int, tuple[int, str]] = field(default_factory=dict)  # session id -> (patient, treatment key)
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def drive(api: Api, clinic: Clinic, today: date, load: Load) -> None:
    """Eight threads at once: booking races, then bookings with their lifecycle and recorded sessions."""
    barrier = threading.Barrier(THREADS)
    race_day = today + timedelta(days=2)
    migraine, treatments = clinic.treatments["migraine"], list(clinic.treatments.values())
    history = [clinic.history[i::THREADS] for i in range(THREADS)]

    def worker(n: int) -> None:
        rng = random.Random(1000 + n)
        try:
            # 1. four slots of one practitioner, each wanted by all eight threads (different patients);
            #    45 minutes apart: the demo's migraine holds its practitioner 30 minutes and a 10-minute buffer
            for k in range(4):
                starts = rfc3339(race_day, 9, 45 * k)
                barrier.wait(timeout=60)
                result = api.post(
                    "/appointments",
                    {
                        "patient_id": clinic.race_patients[n],
                        "practitioner_id": clinic.race_prac,
                        "treatment_id": migraine,
                        "starts_at": starts,
                    },
                )
                with load.lock:
                    load.slot_races[starts].append(result)
            # 2. one patient wanted at the same time by every thread, with four practitioners
            for k, patient in enumerate(clinic.contested_patients):
                starts = rfc3339(race_day, 14 + k)
                barrier.wait(timeout=60)
                result = api.post(
                    "/appointments",
                    {
                        "patient_id": patient,
                        "practitioner_id": clinic.pracs[n % 3] if n % 4 else clinic.race_prac,
                        "treatment_id": migraine,
                        "starts_at": starts,
                    },
                )
                with load.lock:
                    load.patient_races[f"{patient}@{starts}"].append(result)
            barrier.wait(timeout=60)
            # 3. ordinary work, interleaved with sessions recorded afterwards
            mine = list(history[n])
            for i in range(10):
                if mine and i % 3 == 0:
                    patient, key, days, external = mine.pop()
                    status, body = api.post(
                        f"/patients/{patient}/sessions",
                        {
                            "treatment_id": clinic.treatments[key],
                            "performed_on": (today - timedelta(days=days)).isoformat(),
                            "units": 20,
                            "lot_number": f"LOT{n}{i}",
                            "external": external,
                        },
                    )
                    assert status == 201, (status, body)
                    with load.lock:
                        load.sessions[body["id"]] = (patient, key)
                book_one(api, clinic, rng, today, treatments, load)
            while mine:
                patient, key, days, external = mine.pop()
                status, body = api.post(
                    f"/patients/{patient}/sessions",
                    {
                        "treatment_id": clinic.treatments[key],
                        "performed_on": (today - timedelta(days=days)).isoformat(),
                        "external": external,
                    },
                )
                assert status == 201, (status, body)
                with load.lock:
                    load.sessions[body["id"]] = (patient, key)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            barrier.abort()
            with load.lock:
                load.errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,), name=f"load-{n}") for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "load threads did not finish"


def book_one(api: Api, clinic: Clinic, rng: random.Random, today: date, treatments: list[int], load: Load) -> None:
    """Books a free slot (one of the first few, so threads collide), then takes it through its lifecycle."""
    prac = rng.choice(clinic.pracs)
    day = today + timedelta(days=rng.randrange(3, 7))
    treatment = rng.choice(treatments)
    status, body = api.get("/availability", practitioner_id=prac, treatment_id=treatment, date=day.isoformat())
    assert status == 200, (status, body)
    if not body["slots"]:
        return
    starts = rng.choice(body["slots"][:3])
    status, appt = api.post(
        "/appointments",
        {
            "patient_id": rng.choice(clinic.pool),
            "practitioner_id": prac,
            "treatment_id": treatment,
            "starts_at": starts,
        },
    )
    if status != 201:
        assert status in (409, 422), (status, appt)
        return
    with load.lock:
        load.booked.append(appt["id"])
    path, roll = f"/appointments/{appt['id']}", rng.random()
    # The bookings lie 3 to 7 days ahead: a check-in is refused before the visit's
    # day (422 not_today) and a no-show before its start (422 before_start); the refusal must be
    # that one, and a refused request must write nothing the checks below would see.
    if roll < 0.45:
        status, result = api.post(f"{path}/check-in")
        assert status == 422 and result["error"]["code"] == "not_today", (status, result)
    elif roll < 0.6:
        status, result = api.post(f"{path}/cancel", {"reason": "patient rang"})
        assert status == 200, (status, result)
    elif roll < 0.7:
        status, result = api.post(f"{path}/no-show")
        assert status == 422 and result["error"]["code"] == "before_start", (status, result)
    elif roll < 0.8:
        status, free = api.get(
            "/availability", practitioner_id=prac, treatment_id=treatment, date=(day + timedelta(days=1)).isoformat()
        )
        if status == 200 and free["slots"]:
            status, result = api.post(f"{path}/reschedule", {"starts_at": rng.choice(free["slots"][:3])})
            assert status in (200, 409, 422), (status, result)


# --- reading the outcome ------------------------------------------------------------------------


def outbox_state(db: ScratchDatabase) -> tuple[int, int, datetime]:
    """(due emails still to send, emails recorded sent, the database's now)."""
    with db.connect() as conn:
        return conn.execute(
            "SELECT count(*) FILTER (WHERE status IN ('pending', 'sending') AND due_at <= now()),"
            " count(*) FILTER (WHERE status = 'sent'), now() FROM reminders"
        ).fetchone()


def fetch(db: ScratchDatabase, sql: str, *params: Any) -> list[dict[str, Any]]:
    import psycopg.rows

    with db.connect() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


# --- the test -----------------------------------------------------------------------------------


def test_production_deployment_sends_each_due_email_once_under_concurrent_load(
    scratch_db: ScratchDatabase, smtp_sink: SmtpSink, processes: Processes, tmp_path
):
    started = time.monotonic()
    web_port = free_port()
    env = deployment_env(scratch_db, smtp_sink.port, web_port, tmp_path)

    # --- deploy: migrate, then the web server, two schedulers and the staff users side by side
    flask_command(env, "db", "upgrade")
    web = processes.start("gunicorn", [*FLASK[:1], "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"], env)
    schedulers = [processes.start(f"scheduler-{n}", [*FLASK, "scheduler", "run"], env) for n in (1, 2)]
    with ThreadPoolExecutor(2) as pool:
        admin_token, reception_token = pool.map(
            lambda args: staff_token(env, *args),
            [("admin@clinic.example", "admin"), ("reception@clinic.example", "receptionist")],
        )
    assert wait_until(lambda: web_ready(web_port) or web.popen.poll() is not None, 60), "gunicorn never got ready"
    assert web.popen.poll() is None, "gunicorn exited"
    assert all(s.popen.poll() is None for s in schedulers), "a scheduler exited"
    admin, reception = Api(web_port, admin_token), Api(web_port, reception_token)
    assert reception.post("/treatments", CATALOGUE["migraine"])[0] == 403  # roles hold under gunicorn too

    # --- the clinic and the load
    clinic = build_clinic(admin, reception)
    today = datetime.now(TZ).date()
    load = Load()
    load_started = time.monotonic()
    drive(reception, clinic, today, load)
    load_seconds = time.monotonic() - load_started
    assert not load.errors, load.errors

    # --- wait (bounded) until every due email is out, then a little longer for any duplicate
    def settled() -> bool:
        to_send, sent, _now = outbox_state(scratch_db)
        return to_send == 0 and sent == len(smtp_sink.snapshot())

    assert wait_until(settled, 90, 0.5), f"due emails still unsent after 90 s: {outbox_state(scratch_db)}"
    time.sleep(2.5)  # more than two sweep intervals of each scheduler: a duplicate would show now
    assert settled()
    cutoff = outbox_state(scratch_db)[2]

    # --- stop cleanly: SIGTERM ends each scheduler with status 0 after its sweep; gunicorn shuts down
    for proc in schedulers:
        assert processes.stop(proc) == 0, proc.output()
        assert proc.output()[0].rstrip().endswith("Reminder scheduler stopped.")
    assert processes.stop(web) == 0, web.output()
    received = smtp_sink.snapshot()

    # --- the API: no 5xx, conflicts did happen
    calls = reception.calls + admin.calls
    server_errors = [c for c in calls if c.status >= 500]
    assert not server_errors, server_errors[:5]
    statuses = Counter(c.status for c in calls)
    assert set(statuses) <= {200, 201, 403, 409, 422}, statuses
    assert statuses[409] > 0

    # --- each contested slot: exactly one winner, everybody else a 409 naming the conflict
    assert len(load.slot_races) == 4 and len(load.patient_races) == 2
    for starts, results in load.slot_races.items():
        assert len(results) == THREADS
        assert sum(s == 201 for s, _ in results) == 1, (starts, results)
        assert all(s == 409 and b["error"]["code"] == "slot_taken" for s, b in results if s != 201), results
    for key, results in load.patient_races.items():
        assert len(results) == THREADS
        assert sum(s == 201 for s, _ in results) == 1, (key, results)
        assert all(s == 409 and b["error"]["code"] in ("patient_busy", "slot_taken") for s, b in results if s != 201)
    winners = fetch(
        scratch_db,
        "SELECT practitioner_id, starts_at, count(*) AS n FROM appointments WHERE practitioner_id = %s"
        " AND status IN ('booked', 'checked_in', 'completed') GROUP BY 1, 2",
        clinic.race_prac,
    )
    assert winners and all(w["n"] == 1 for w in winners)

    # --- nobody is ever in two places at once (every status that occupies time)
    for who in ("practitioner_id", "patient_id"):
        overlaps = fetch(
            scratch_db,
            f"SELECT a.id AS a, b.id AS b FROM appointments a JOIN appointments b ON a.{who} = b.{who}"
            " AND a.id < b.id AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)"
            " WHERE a.status IN ('booked', 'checked_in', 'completed')"
            " AND b.status IN ('booked', 'checked_in', 'completed')",
        )
        assert overlaps == [], (who, overlaps)

    # --- every due email received exactly once; every received message is a sent row
    rows = fetch(
        scratch_db,
        "SELECT r.id, r.kind, r.seq, r.status, r.reason, r.due_at, r.attempts, r.message_id, r.session_id,"
        " r.appointment_id, r.patient_id, p.email,"
        # the consent rule (scheduler.domain.consent): no "stop all emails", and a re-treatment
        # reminder needs the consent of its treatment's kind
        " (NOT EXISTS (SELECT 1 FROM consents c WHERE c.patient_id = p.id AND c.topic = 'emails' AND NOT c.given)"
        "  AND (r.kind <> 'retreatment' OR EXISTS (SELECT 1 FROM consents c JOIN treatments t ON t.kind = c.topic"
        "   WHERE c.patient_id = p.id AND t.id = r.treatment_id AND c.given))) AS allowed"
        " FROM reminders r JOIN patients p ON p.id = r.patient_id ORDER BY r.id",
    )
    counts = Counter(m.message_id for m in received)
    duplicates = {mid: n for mid, n in counts.items() if n > 1}
    assert not duplicates, f"messages received more than once: {duplicates}"
    sent = {r["message_id"]: r for r in rows if r["status"] == "sent"}
    assert set(counts) == set(sent), (
        f"received but not sent: {set(counts) - set(sent)}; sent but not received: {set(sent) - set(counts)}"
    )
    due = [r for r in rows if r["due_at"] <= cutoff and r["status"] != "cancelled"]
    assert due and {r["status"] for r in due} <= {"sent", "skipped"}, Counter(r["status"] for r in due)
    assert all(r["attempts"] == 1 for r in sent.values())
    for r in rows:
        if r["status"] == "skipped":
            assert r["reason"].startswith("superseded by the newer reminder") or (
                r["reason"] == "the patient has no email address"
            ), r
    for m in received:
        row = sent[m.message_id]
        assert m.rcpt_tos == [row["email"]] and row["allowed"], (m, row)
        assert not any(word in m.subject.lower() for word in PRIVATE_WORDS), m.subject
        assert m.list_unsubscribe.startswith(f"<{BASE_URL}/") and m.list_unsubscribe_post, m
    kinds = Counter(sent[m.message_id]["kind"] for m in received)
    assert kinds["confirmation"] > 0 and kinds["retreatment"] > 0, kinds

    # --- every appointment still booked has had its (latest) confirmation
    latest = {}
    for r in rows:
        if r["kind"] == "confirmation" and r["seq"] >= latest.get(r["appointment_id"], {"seq": -1})["seq"]:
            latest[r["appointment_id"]] = r
    still_booked = [a["id"] for a in fetch(scratch_db, "SELECT id FROM appointments WHERE status = 'booked'")]
    assert still_booked and all(latest[a]["status"] == "sent" for a in still_booked), [
        (a, latest.get(a)) for a in still_booked if latest.get(a, {}).get("status") != "sent"
    ]

    # --- re-treatment catch-up (rule 4): of each track, only the newest due reminder goes out
    # (collected here, asserted last, so that every other check has had its say when this fails)
    tracks: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "retreatment":
            tracks[r["session_id"]].append(r)
    catch_up_violations = []
    for session_id, track in sorted(tracks.items()):
        due_rows = sorted((r for r in track if r["due_at"] <= cutoff), key=lambda r: r["seq"])
        if any(r["status"] == "sent" for r in due_rows[:-1]):
            catch_up_violations.append(
                f"session {session_id}: " + ", ".join(f"seq {r['seq']} {r['status']}" for r in due_rows)
            )
    by_patient = defaultdict(list)
    for session_id, (patient, _key) in load.sessions.items():
        by_patient[patient].append(session_id)
    for patient in clinic.groups["catch_up"]:
        (session_id,) = by_patient[patient]
        due_rows = sorted((r for r in tracks[session_id] if r["due_at"] <= cutoff), key=lambda r: r["seq"])
        assert len(due_rows) >= 2, due_rows  # several due at once: the catch-up case
        assert due_rows[-1]["status"] == "sent", due_rows  # the newest always goes
    for patient in clinic.groups["one_due"]:
        (session_id,) = by_patient[patient]
        assert [r["status"] for r in tracks[session_id] if r["due_at"] <= cutoff] == ["sent"]
    for patient in clinic.groups["stale"]:
        assert all(r["status"] != "sent" for s in by_patient[patient] for r in tracks.get(s, []))
    for patient in clinic.groups["opted_out"] + clinic.groups["no_email"]:
        assert all(r["status"] != "sent" for r in rows if r["patient_id"] == patient)
    (nobody,) = clinic.groups["no_email"]
    assert any(r["reason"] == "the patient has no email address" for r in rows if r["patient_id"] == nobody)

    # --- the deployment really was two schedulers and four gunicorn workers
    sweepers = {r["worker"] for r in fetch(scratch_db, "SELECT DISTINCT worker FROM sweep_runs")}
    assert {w.rsplit(":", 1)[1] for w in sweepers} >= {str(s.popen.pid) for s in schedulers}, sweepers
    web_out, web_err = web.output()
    assert (web_out + web_err).count("Booting worker with pid") == WORKERS
    for proc in [web, *schedulers]:
        out, err = proc.output()
        assert "Traceback" not in out + err, f"{proc.name}:\n{err[-4000:]}"

    print(
        f"\ndeployment test: {len(calls)} API calls in {load_seconds:.1f} s of load "
        f"({dict(sorted(statuses.items()))}), {len(load.booked)} bookings, {len(received)} emails "
        f"({dict(kinds)}), {sum(r['status'] == 'skipped' for r in rows)} skipped; "
        f"total {time.monotonic() - started:.1f} s"
    )
    assert not catch_up_violations, (
        "docs/rules.md rule 4: an older due re-treatment reminder of a track was sent beside the newest one:\n"
        + "\n".join(catch_up_violations)
    )
