"""`flask reminders sweep`, `flask scheduler run`, and where the embedded scheduler may (not) start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import click
import pytest
from flask.cli import run_command
from sqlalchemy import select

from scheduler import create_app, jobs
from scheduler.extensions import db
from scheduler.models import SweepRun
from tests.conftest import london
from tests.reminders.conftest import book, due_tracks, free_port, process_env, rows

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def wait_for(predicate, timeout: float = 20.0) -> bool:
    """Polls until predicate() is true or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def heartbeats() -> list[SweepRun]:
    db.session.rollback()
    return list(db.session.scalars(select(SweepRun).order_by(SweepRun.id)))


def test_reminders_sweep_prints_what_it_sent_skipped_and_failed(clinic, smtp, travel, runner, make_patient):
    book(clinic, london(date(2027, 3, 3), 10))
    nobody = make_patient(first_name="Ann", email=None)
    book(clinic, london(date(2027, 3, 3), 11), patient=nobody.id)
    travel.move_to(london(date(2027, 3, 1), 10))
    result = runner.invoke(args=["reminders", "sweep"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("sent") and "confirmation" in line and "olivia@example.net" in line for line in lines)
    assert any(line.startswith("skipped") and "the patient has no email address" in line for line in lines)
    assert lines[-1] == "Sweep done: 1 sent, 1 skipped, 0 failed, 0 to retry, 0 cancelled."


def test_reminders_sweep_outside_send_hours_says_so(clinic, runner, travel):
    book(clinic, london(date(2027, 3, 3), 10))
    result = runner.invoke(args=["reminders", "sweep"])
    assert result.exit_code == 0
    assert result.output.strip() == (
        "Sweep done: 0 sent, 0 skipped, 0 failed, 0 to retry, 0 cancelled. Note: outside send hours (09:00-18:00)."
    )


def test_reminders_sweep_without_a_database_fails_with_one_line(app, tmp_path):
    env = process_env(app, free_port(), DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/x.db")
    done = subprocess.run([*FLASK, "reminders", "sweep"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: database unavailable:") and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_scheduler_run_sends_then_stops_cleanly_on_a_signal(app, smtp, make_treatment, make_patient, sig):
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 3)
    env = process_env(app, smtp.port, REMINDER_SWEEP_SECONDS="1")
    proc = subprocess.Popen(
        [*FLASK, "scheduler", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert wait_for(lambda: len(smtp.messages) == 3), "the scheduler sent nothing"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Reminder scheduler running" in out and out.rstrip().endswith("Reminder scheduler stopped.")
    assert len(set(smtp.message_ids())) == 3


# --- the embedded scheduler's guards ------------------------------------------------------------


def test_embedded_scheduler_never_starts_under_test(app):
    app.config["SCHEDULER_EMBEDDED"] = True
    assert jobs.start_embedded(app) is None  # TESTING


def test_reloader_parent_and_other_commands_are_refused(monkeypatch):
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    assert jobs._in_reloader_parent_or_other_command() is False  # no command: a WSGI server imported the app
    with click.Context(run_command) as ctx:
        ctx.params = {"reload": True}
        assert jobs._in_reloader_parent_or_other_command() is True  # the parent that only watches files
        ctx.params = {"reload": False}
        assert jobs._in_reloader_parent_or_other_command() is False
        ctx.params = {"reload": None}
        monkeypatch.setenv("FLASK_DEBUG", "1")
        assert jobs._in_reloader_parent_or_other_command() is True  # --debug turns the reloader on
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
        assert jobs._in_reloader_parent_or_other_command() is False  # the serving child
    monkeypatch.delenv("WERKZEUG_RUN_MAIN")
    with click.Context(click.Command("upgrade")):
        assert jobs._in_reloader_parent_or_other_command() is True
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    assert jobs.under_gunicorn() is True


def test_embedded_scheduler_starts_once_per_process(database_url, monkeypatch):
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    app = create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SCHEDULER_EMBEDDED": True,
            "REMINDER_SWEEP_SECONDS": 3600,
            "MAIL_SERVER": None,
        },
    )
    scheduler = jobs._embedded
    try:
        assert scheduler is not None and scheduler.running
        job = scheduler.get_job(jobs.SWEEP_JOB_ID)
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        assert job.trigger.interval.total_seconds() == 3600
        assert jobs.start_embedded(app) is None  # a second app in the same process does not start another
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        jobs._embedded = None
        with app.app_context():
            db.engine.dispose()


def _serve(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _stop(proc: subprocess.Popen) -> str:
    """Stops a server's whole process group; returns what it wrote on standard error."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        return proc.communicate(timeout=20)[1]
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate(timeout=20)[1]


@pytest.mark.slow
def test_the_run_command_sweeps_in_the_web_process(app, smtp, make_treatment, make_patient):
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 2)
    env = process_env(app, smtp.port, SCHEDULER_EMBEDDED="on", REMINDER_SWEEP_SECONDS="1")
    proc = _serve([*FLASK, "run", "--port", str(free_port()), "--no-reload"], env)
    try:
        assert wait_for(lambda: len(smtp.messages) == 2), "no sweep in the web process"
    finally:
        _stop(proc)
    assert {b.worker.rsplit(":", 1)[1] for b in heartbeats()} == {str(proc.pid)}


@pytest.mark.slow
def test_under_the_reloader_only_the_serving_child_sweeps(app, smtp, make_treatment, make_patient):
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 2)
    env = process_env(app, smtp.port, SCHEDULER_EMBEDDED="on", REMINDER_SWEEP_SECONDS="1")
    proc = _serve([*FLASK, "run", "--port", str(free_port()), "--reload"], env)
    try:
        assert wait_for(lambda: len(smtp.messages) == 2)
        assert wait_for(lambda: len(heartbeats()) >= 3)
    finally:
        _stop(proc)
    workers = {b.worker for b in heartbeats()}
    assert len(workers) == 1 and not workers.pop().endswith(f":{proc.pid}")  # one process, not the parent
    assert len(set(smtp.message_ids())) == 2 == len(smtp.messages)


@pytest.mark.slow
def test_never_under_gunicorn(app, smtp, make_treatment, make_patient):
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 1)
    env = process_env(app, smtp.port, SCHEDULER_EMBEDDED="on", REMINDER_SWEEP_SECONDS="1")
    port = free_port()
    proc = _serve(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"], env
    )
    try:
        import urllib.request

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                return False

        assert wait_for(up, 30), "gunicorn did not start"
        time.sleep(2.5)  # two and a half sweep intervals
    finally:
        _stop(proc)
    assert heartbeats() == [] and smtp.messages == []
    assert {r.status for r in rows(seq=1)} == {"pending"}
