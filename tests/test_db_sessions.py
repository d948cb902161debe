"""How requests use database transactions (scheduler/db.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from scheduler.extensions import db
from scheduler.models import Patient


def _status(app, method: str) -> str:
    """The PostgreSQL transaction status right after a read made during a request of that method."""
    from psycopg.pq import TransactionStatus

    with app.test_request_context("/patients", method=method):
        db.session.execute(select(Patient.id).limit(1)).all()
        status = db.session.connection().connection.dbapi_connection.info.transaction_status
        db.session.remove()
    return TransactionStatus(status).name


def test_postgresql_reads_run_without_a_transaction_and_writes_in_one(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: SQLite keeps one read transaction per page (its snapshot)")
    with app.app_context():
        assert _status(app, "GET") == "IDLE"  # autocommit: no BEGIN, no ROLLBACK round trips
        assert _status(app, "POST") == "INTRANS"
        with db.engine.connect() as conn:  # what the pool hands out next is an ordinary connection
            assert conn.connection.dbapi_connection.autocommit is False
            conn.execute(text("SELECT 1"))
            assert conn.connection.dbapi_connection.info.transaction_status != 0  # not IDLE: in a transaction
        assert _status(app, "GET") == "IDLE"


def test_sqlite_reads_keep_their_snapshot(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite")
    with app.app_context(), app.test_request_context("/patients", method="GET"):
        db.session.execute(select(Patient.id).limit(1)).all()
        assert db.session.connection().connection.dbapi_connection.in_transaction
        db.session.remove()
