"""Backup and restore (scheduler.records.backup, `flask backup`): a backup taken while threads book
appointments through the API, restored into a new empty database, holds every
appointment, session and reminder committed before the backup began, and nothing half-written; a
restore into a database that has tables is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from scheduler import create_app
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, Reminder, TreatmentSession
from scheduler.patients import sessions
from scheduler.records import backup
from scheduler.services import clock
from scheduler.staff import tokens
from tests.conftest import london

THREADS = 4
PER_THREAD = 40


@pytest.fixture
def empty_target(app, tmp_path):
    """The URL of a new database with no tables, of the same kind as the test database."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"{url.database}_restore{'_' + worker if worker else ''}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def slots(n: int, first_day: date):
    """n distinct (day, hour, minute) weekday starts, 09:00-16:30 every 30 minutes."""
    out, day = [], first_day
    while len(out) < n:
        if day.weekday() < 5:
            out += [(day, 9 + m // 60, m % 60) for m in range(0, 8 * 60, 30)]
        day += timedelta(days=1)
    return out[:n]


def test_backup_under_booking_load_restores_everything_committed(
    app, tmp_path, empty_target, make_treatment, make_practitioner, make_patient, make_user
):
    treatment = make_treatment(name="Chronic migraine")
    pracs = [make_practitioner().id for _ in range(THREADS)]
    people = [make_patient().id for _ in range(THREADS * PER_THREAD)]
    for pid in people[:20]:  # sessions with re-treatment reminders
        sessions.record_past(
            pid, actor=None, treatment_id=treatment.id, performed_on=clock.today() - timedelta(days=120)
        )
    db.session.commit()
    starts = slots(PER_THREAD, clock.today() + timedelta(days=7))
    committed: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    user = make_user("receptionist")
    token = tokens.issue_token(user, actor_label="test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    treatment_id = treatment.id  # read here: the threads must not load from the test's session

    def booker(i: int) -> None:
        try:
            with app.app_context():
                client = app.test_client()
                for j, (day, hh, mm) in enumerate(starts):
                    body = {
                        "patient_id": people[i * PER_THREAD + j],
                        "practitioner_id": pracs[i],
                        "treatment_id": treatment_id,
                        "starts_at": london(day, hh, mm).isoformat(),
                    }
                    resp = client.post("/api/v1/appointments", json=body, headers=headers)
                    assert resp.status_code == 201, resp.get_json()
                    with lock:
                        committed.append(resp.get_json()["id"])
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=booker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    while len(committed) < THREADS * PER_THREAD // 4 and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    with lock:
        before = set(committed)
    path = tmp_path / "clinic.backup"
    started = time.perf_counter()
    backup.create(path)
    took = time.perf_counter() - started
    during = len(committed) - len(before)
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(before) < THREADS * PER_THREAD  # the backup began while the threads were still booking
    db.session.rollback()
    source_reminders = {
        r.id: (r.kind, r.status, r.appointment_id, r.session_id) for r in db.session.scalars(select(Reminder))
    }
    source_sessions = set(db.session.scalars(select(TreatmentSession.id)))

    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(path)  # the live database has tables

    target = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_target})
    with target.app_context():
        backup.restore(path)
        restored = set(db.session.scalars(select(Appointment.id)))
        restored_reminders = {
            r.id: (r.kind, r.status, r.appointment_id, r.session_id) for r in db.session.scalars(select(Reminder))
        }
        assert before <= restored <= set(committed)
        assert set(db.session.scalars(select(TreatmentSession.id))) == source_sessions
        assert db.session.scalar(select(db.func.count()).select_from(Patient)) == len(people)
        # every reminder of what the backup holds, as committed: none half-written (a status may have
        # changed since: a booking after the backup ends the re-treatment track it belongs to)
        for rid, (kind, _status, appt_id, session_id) in restored_reminders.items():
            assert source_reminders[rid][0::2] == (kind, appt_id) and source_reminders[rid][3] == session_id
        wanted = {rid for rid, (_k, _s, a, s) in source_reminders.items() if a in restored or (a is None and s)}
        assert wanted <= set(restored_reminders)
        assert {a for _k, _s, a, _x in restored_reminders.values() if a} == restored
        db.session.remove()
        db.engine.dispose()
    print(f"\n  backup of {len(before)}+ appointments took {took:.3f} s with {during} bookings committed meanwhile")


def test_backup_commands(app, tmp_path, make_patient, monkeypatch):
    make_patient()
    runner = app.test_cli_runner()
    path = tmp_path / "one.backup"
    result = runner.invoke(args=["backup", "create", str(path)])
    assert result.exit_code == 0 and path.is_file(), (result.output, result.stderr)
    again = runner.invoke(args=["backup", "create", str(path)])
    assert again.exit_code == 1 and "exists already" in again.stderr
    refused = runner.invoke(args=["backup", "restore", str(path)])
    assert refused.exit_code == 1 and "not empty" in refused.stderr
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello")
    assert "is not" in runner.invoke(args=["backup", "restore", str(junk)]).stderr
    if db.engine.dialect.name == "postgresql":
        monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
        missing = runner.invoke(args=["backup", "create", str(tmp_path / "two.backup")])
        assert missing.exit_code == 1 and "pg_dump was not found" in missing.stderr
