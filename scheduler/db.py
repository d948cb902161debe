"""Database sessions: SQLite's connection settings and its write transactions.

The one thing that differs by database here is how a check-then-write is made safe. SQLite lets
one writer in at a time, so a request that may write begins with `BEGIN IMMEDIATE` and holds the
write lock from its first statement to its commit (WAL lets readers go on meanwhile; the busy
timeout makes other writers wait their turn). PostgreSQL needs nothing here: its constraints and
row locks do that job (see `scheduler.booking.operations._flush_guarded` and the sweep's claim).
"""

from __future__ import annotations

import sqlite3

from flask import request
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from scheduler.extensions import db

#: execution option asking the SQLite begin hook for BEGIN IMMEDIATE
IMMEDIATE = "sqlite_begin_immediate"
#: request methods that only read
READING = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_conn, _record) -> None:
    """WAL, a busy timeout and foreign keys on every SQLite connection; we issue BEGIN ourselves."""
    if not isinstance(dbapi_conn, sqlite3.Connection):
        return
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin(conn) -> None:
    """SQLite: BEGIN explicitly, IMMEDIATE (the write lock) when a writer asked for it."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN")


def after_fork(app) -> None:
    """In a forked process (a gunicorn worker of a preloaded app): forgets the pooled connections
    inherited from the parent without closing them (they are the parent's), so this process opens
    its own."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def ping() -> None:
    """One trivial statement: raises if the database does not answer."""
    db.session.execute(text("SELECT 1"))


def is_sqlite() -> bool:
    """Whether the app runs on the embedded SQLite database."""
    return db.engine.dialect.name == "sqlite"


def begin_write() -> None:
    """Makes the session's transaction a writer that holds SQLite's write lock from its start.

    On SQLite a check-then-insert (a free slot, then the booking) is only safe when no other
    writer can commit in between, so the transaction begins with BEGIN IMMEDIATE. A read-only
    transaction already open is ended first (what it read is read again, under the lock). On
    PostgreSQL this does nothing.
    """
    if not is_sqlite():
        return
    session = db.session()
    if session.in_transaction():
        if session.connection().get_execution_options().get(IMMEDIATE):
            return
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() must be called before any change is made")
        session.rollback()
    session.connection(execution_options={IMMEDIATE: True})


def register(app) -> None:
    """On SQLite, every request that may write holds the write lock from its first statement.

    A transaction that reads and then writes cannot wait for the lock once another writer has
    committed in between (SQLite answers "database is locked" at once), so POST, PUT, PATCH and
    DELETE requests begin with BEGIN IMMEDIATE; GET requests read without blocking anyone (WAL).
    """

    @app.before_request
    def _writers_take_the_lock() -> None:
        if request.method not in READING and is_sqlite():
            begin_write()
