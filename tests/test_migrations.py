"""Migrations: upgrade head, downgrade base, upgrade head again on a fresh database of each kind,
and `flask db check` finds no drift between the models and the migrated schema.

SQLite always runs (a temp file); PostgreSQL runs when TEST_DATABASE_URL points at a server, in a
database of its own (created and dropped here) so the suite's database is never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from scheduler import create_app
from scheduler.extensions import db
from scheduler.models import Base

EXCLUSIONS = {"ex_appointments_practitioner_overlap", "ex_appointments_patient_overlap"}


def _postgres_server() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    return url if url.startswith("postgresql") else None


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path) -> Iterator[str]:
    """The URL of a new, empty database of the given kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    server = _postgres_server()
    if server is None:
        pytest.skip("PostgreSQL runs only when TEST_DATABASE_URL names a server")
    # named after the suite's own database, so that runs against other databases of the server never meet
    name = f"{make_url(server).database}_mig" + (
        f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else ""
    )
    target = make_url(server).set(database=name)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield target.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _revision() -> str | None:
    with db.engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _exclusion_constraints() -> set[str]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT conname FROM pg_constraint WHERE contype = 'x'")).scalars()
        return set(rows)


def test_round_trip(fresh_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_url})
    model_tables = {t.name for t in Base.metadata.sorted_tables}
    with app.app_context():
        assert _tables() == set()
        upgrade()
        head = _revision()
        assert head is not None
        assert _tables() == model_tables
        if db.engine.dialect.name == "postgresql":
            assert _exclusion_constraints() >= EXCLUSIONS
        downgrade(revision="base")
        assert _tables() == set()
        assert _revision() is None
        if db.engine.dialect.name == "postgresql":
            assert not (_exclusion_constraints() & EXCLUSIONS)
        upgrade()
        assert _revision() == head
        assert _tables() == model_tables
        if db.engine.dialect.name == "postgresql":
            assert _exclusion_constraints() >= EXCLUSIONS
        db.engine.dispose()


def test_db_check_finds_no_drift(fresh_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        result = runner.invoke(args=["db", "check"])
        assert result.exit_code == 0, (result.output, result.stderr)
        db.engine.dispose()


def test_db_check_notices_drift(fresh_url):
    """The check is real: on a database one migration short of head it fails."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_appointments_starts_at"))
        result = app.test_cli_runner().invoke(args=["db", "check"])
        assert result.exit_code != 0
        db.engine.dispose()


def test_cli_upgrade_and_downgrade_commands(fresh_url):
    """`flask db upgrade` / `flask db downgrade base` as CONTRACT §3 spells them."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_url})
    runner = app.test_cli_runner()
    with app.app_context():
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert "appointments" in _tables()
        assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
        assert _tables() == set()
        db.engine.dispose()


# --- downgrades that would lose data (migrations/guard.py) -------------------------------------

ALLOW_DATA_LOSS = "MIGRATION_ALLOW_DATA_LOSS"


def _downgrade(revision: str, *, force: bool = False) -> None:
    """Alembic's downgrade, errors raised as they are (Flask-Migrate's would exit instead)."""
    from alembic import command
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config(x_arg=["force=1"] if force else None)
    command.downgrade(config, revision)


def _count(table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _add_patient_interval() -> None:
    """A patient, a treatment and a clinician's own interval for them (the rows 0003's downgrade drops)."""
    from scheduler.models import Patient, PatientInterval, Treatment

    patient = Patient(first_name="Pat", last_name="Ient", reminders_opt_in=True)
    treatment = Treatment(
        name="Chronic migraine",
        kind="therapeutic",
        product="BOTOX",
        duration_minutes=30,
        min_interval_days=84,
        remind_from="P12W",
        remind_until="P6M",
        reminder_count=3,
        active=True,
    )
    db.session.add_all([patient, treatment])
    db.session.flush()
    db.session.add(
        PatientInterval(patient_id=patient.id, treatment_id=treatment.id, remind_from="P10W", remind_until="P5M")
    )
    db.session.commit()
    db.session.remove()


def test_a_downgrade_that_would_delete_rows_refuses_and_changes_nothing(fresh_url, capsys):
    from migrations.guard import DataLossRefused

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade()
        assert "replan-all" not in capsys.readouterr().out  # a new database has nothing to re-plan
        head = _revision()
        _add_patient_interval()
        with pytest.raises(DataLossRefused, match=r"patient_intervals \(1 row\).*-x force=1"):
            _downgrade("0002")
        # the steps before the refusal (0007 to 0004) were undone with it: one transaction
        assert _revision() == head and _count("patient_intervals") == 1
        assert "patient_name" not in {c["name"] for c in inspect(db.engine).get_columns("appointments")}
        assert "ix_reminders_appointment_id" in {i["name"] for i in inspect(db.engine).get_indexes("reminders")}
        result = app.test_cli_runner().invoke(args=["db", "downgrade", "0002"])
        assert result.exit_code == 1 and _revision() == head
        result = app.test_cli_runner().invoke(args=["db", "downgrade", "-x", "force=1", "0002"])
        assert result.exit_code == 0, result.output
        assert _revision() == "0002" and "patient_intervals" not in _tables() and _count("patients") == 1
        db.engine.dispose()


def test_the_initial_downgrade_names_every_table_it_would_empty(fresh_url, monkeypatch):
    from migrations.guard import DataLossRefused

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade()
        _add_patient_interval()
        _downgrade("0002", force=True)
        with pytest.raises(DataLossRefused, match=r"treatments \(1 row\), patients \(1 row\)") as refused:
            _downgrade("base")
        assert "sessions" not in str(refused.value)  # empty tables are no loss
        assert _revision() == "0002" and _count("patients") == 1
        monkeypatch.setenv(ALLOW_DATA_LOSS, "1")
        _downgrade("base")
        assert _revision() is None and _tables() == set()
        db.engine.dispose()


def test_tables_emptied_before_the_downgrade_need_no_confirmation(fresh_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_url})
    with app.app_context():
        upgrade()
        _add_patient_interval()
        with db.engine.begin() as conn:
            for table in ("patient_intervals", "patients", "treatments"):
                conn.execute(text(f"DELETE FROM {table}"))
        _downgrade("base")
        assert _revision() is None and _tables() == set()
        db.engine.dispose()


def _open_reminders() -> set[tuple]:
    """Every pending or cancelled reminder, by what it is for and when it is due."""
    from sqlalchemy import select

    from scheduler.models import Reminder

    db.session.rollback()
    rows = db.session.scalars(select(Reminder).where(Reminder.status.in_(("pending", "cancelled"))))
    found = {
        (r.kind, r.patient_id, r.session_id, r.appointment_id, r.seq, r.due_at, r.expires_at, r.status) for r in rows
    }
    db.session.rollback()  # no read lock left for the downgrade's DROP TABLE to wait on
    return found


def test_replan_all_after_a_downgrade_and_upgrade_recreates_the_reminders(fresh_url, capsys):
    """The demo clinic's reminders, dropped by `downgrade 0001` and back with `replan-all`, as they
    were; a second run changes nothing."""
    import time_machine

    from tests.conftest import london
    from tests.test_cli import SEED_DAY

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_url})
    runner = app.test_cli_runner()
    with time_machine.travel(london(SEED_DAY, 12), tick=False), app.app_context():
        upgrade()
        assert runner.invoke(args=["seed", "demo"]).exit_code == 0
        before = _open_reminders()
        # the demo spaces sessions by toxin (BOTOX and BOTOX Cosmetic together) since revision 0009
        assert sum(1 for r in before if r[-1] == "pending") > 300
        _downgrade("0001", force=True)
        capsys.readouterr()
        upgrade()
        assert "run `flask reminders replan-all`" in capsys.readouterr().out
        assert _open_reminders() == set()
        result = runner.invoke(args=["reminders", "replan-all"])
        assert result.exit_code == 0, (result.output, result.stderr)
        assert f"Re-plan done: {len(before)} created, 0 cancelled, 0 revived, 0 re-dated." in result.output
        assert _open_reminders() == before
        again = runner.invoke(args=["reminders", "replan-all"])
        assert again.exit_code == 0 and again.output.strip() == "Re-plan done: nothing to change."
        assert _open_reminders() == before
        db.session.remove()
        db.engine.dispose()
