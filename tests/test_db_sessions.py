"""How requests use database transactions (scheduler/db.py)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

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


def test_a_connection_the_server_dropped_is_replaced_before_it_is_handed_out(app):
    """After a server restart (here: the backend killed), the next user of the pool gets a working
    connection: the pool pings each one on its way out (`pool_pre_ping`)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: an SQLite file cannot drop a connection")
    with app.app_context():
        db.engine.dispose()
    dead = _terminate_pooled_connection(app)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != dead


def test_sqlite_writers_queue_while_one_writes_and_not_after(app):
    """A writer holds the writers' lock file from BEGIN IMMEDIATE until its connection is back in
    the pool after the commit; other processes' writers wait on it instead of SQLite's sleeps."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite")
    import fcntl
    import os

    from scheduler.db import begin_write

    with app.app_context():
        path = os.path.abspath(db.engine.url.database) + "-writers"
        begin_write()
        db.session.execute(select(Patient.id).limit(1)).all()
        other = os.open(path, os.O_RDWR)  # as another process would
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            db.session.commit()
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once the writer is done
            fcntl.flock(other, fcntl.LOCK_UN)
        finally:
            os.close(other)
        db.session.remove()


def test_raw_instants_read_back_the_stored_instants_exactly(app, make_practitioner):
    """`raw_instant` columns, converted once by ConvertOnce, are the instants the ORM stored:
    microseconds, a time on each side of a clock change, the epoch, and no time at all."""
    from datetime import UTC, datetime, timedelta

    from scheduler.db import ConvertOnce, driver_rows, raw_instant
    from scheduler.models import TimeOff

    instants = [
        datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC),  # London's last BST second
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2099, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    ]
    with app.app_context():
        prac = make_practitioner()
        for at in instants:
            db.session.add(TimeOff(practitioner_id=prac.id, starts_at=at, ends_at=at + timedelta(hours=1), reason="x"))
        db.session.commit()
        T = TimeOff.__table__
        rows = driver_rows(select(raw_instant(T.c.starts_at)).order_by(T.c.starts_at))
        convert = ConvertOnce(raw_instant(T.c.starts_at), db.session.connection().dialect)
        assert [convert[r[0]] for r in rows] == sorted(instants)
        assert all(convert[r[0]].utcoffset().total_seconds() == 0 for r in rows)
        assert convert[None] is None
        if db.engine.dialect.name == "postgresql":  # integers: no timestamp parsing in the driver
            assert all(type(r[0]) is int for r in rows)
        db.session.remove()


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


def test_core_flushes_pending_changes_first_as_the_session_would(app, make_patient):
    """db.core runs a statement without the ORM layer, after writing what the session holds."""
    from sqlalchemy import func

    from scheduler.db import core

    make_patient()
    db.session.add(Patient(first_name="Una", last_name="Flushed"))  # pending, not yet written
    assert core(select(func.count()).select_from(Patient)).scalar_one() == 2
    assert core(select(Patient.last_name).where(Patient.first_name == "Una")).scalar_one() == "Flushed"
    db.session.rollback()


def test_sqlite_a_read_transaction_becomes_the_writer_in_place(app, make_patient):
    """begin_write after reads: the same connection ends its read transaction and begins
    IMMEDIATE (holding the writers' turn), what was loaded is read again, and once the commit
    gives the connection back the next transaction reads without the lock again."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite")
    from sqlalchemy import inspect

    from scheduler import db as sessions
    from scheduler.db import begin_write

    patient = make_patient()
    patient = db.session.get(Patient, patient.id)  # loaded in a read transaction
    conn = db.session.connection()
    dbapi_conn = conn.connection.dbapi_connection
    assert dbapi_conn.in_transaction and not conn.connection.info.get(sessions.WRITING)
    begin_write()
    assert db.session.connection().connection.dbapi_connection is dbapi_conn
    assert inspect(patient).expired  # read again under the lock
    assert conn.connection.info[sessions.WRITING] and conn.connection.info[sessions.QUEUE_HELD]
    begin_write()  # a second call changes nothing
    with pytest.raises(sqlite3.OperationalError, match="locked"):  # another writer must wait
        other = sqlite3.connect(db.engine.url.database, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    patient.last_name = "Written"
    db.session.commit()
    assert db.session.get(Patient, patient.id).last_name == "Written"
    conn = db.session.connection()
    assert not conn.connection.info.get(sessions.WRITING) and not conn.connection.info.get(sessions.QUEUE_HELD)
    db.session.rollback()
