"""How requests use database transactions (scheduler/db.py)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from scheduler.extensions import db
from scheduler.models import Patient


def test_sqlite_reads_keep_their_snapshot(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite")
    with app.app_context(), app.test_request_context("/patients", method="GET"):
        db.session.execute(select(Patient.id).limit(1)).all()
        assert db.session.connection().connection.dbapi_connection.in_transaction
        db.session.remove()


def _terminate_pooled_connection(app) -> int:
    """Uses a pooled connection, gives it back, and has the server drop it; returns its backend pid."""
    with app.app_context():
        with db.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        killer = create_engine(db.engine.url, poolclass=NullPool)  # a connection outside the pool
        with killer.begin() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        killer.dispose()
        return pid


def test_a_connection_the_server_dropped_is_replaced(app):
    """After a server restart (here: the backend killed), the next use gets a working connection
    (the pool pings a connection before handing it out)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: an SQLite file cannot drop a connection")
    with app.app_context():
        db.engine.dispose()
    dead = _terminate_pooled_connection(app)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != dead


def test_after_fork_leaves_the_parents_connections_open_and_unused(app):
    """A gunicorn worker of the preloaded app starts with an empty pool; the master's pooled
    connections stay open for the master, never shared by two processes."""
    from scheduler.db import after_fork

    with db.engine.connect() as conn:
        inherited = conn.connection.dbapi_connection
        conn.execute(text("SELECT 1"))
    assert db.engine.pool.checkedin() == 1
    after_fork(app)
    assert db.engine.pool.checkedin() == 0
    with db.engine.connect() as conn:
        assert conn.connection.dbapi_connection is not inherited
    if db.engine.dialect.name == "postgresql":
        assert not inherited.closed
    else:
        inherited.execute("SELECT 1")  # still usable: it was not closed
    inherited.close()


def test_sqlite_a_read_transaction_becomes_a_writer(app, make_patient):
    """begin_write after reads: the read transaction ends and a BEGIN IMMEDIATE one holds the lock."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite")
    from scheduler.db import IMMEDIATE, begin_write

    patient = make_patient()
    with app.test_request_context("/patients", method="GET"):
        db.session.execute(select(Patient.id).limit(1)).all()
        begin_write()
        assert db.session.connection().get_execution_options().get(IMMEDIATE)
        other = sqlite3.connect(db.engine.url.database, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        db.session.get(Patient, patient.id).first_name = "Written"
        db.session.commit()
        begin_write()
        db.session.remove()
