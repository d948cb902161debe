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
    name = "scheduler_mig_test" + (
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
