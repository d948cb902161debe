"""Database session helpers: SQLite connection settings and write transactions."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import BigInteger, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import Pool
from sqlalchemy.sql.functions import FunctionElement

from scheduler.extensions import db

#: execution option asking the SQLite begin hook for BEGIN IMMEDIATE
IMMEDIATE = "sqlite_begin_immediate"


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


#: marks a pooled PostgreSQL connection a reading request switched to autocommit
READ_AUTOCOMMIT = "read_autocommit"
#: request methods that only read (a GET may stamp one row, e.g. an API token's last use)
READING = frozenset({"GET", "HEAD", "OPTIONS"})


#: attribute of a view whose reads run in autocommit on PostgreSQL and whose write is one
#: statement, a transaction of its own; a write of more statements asks for `one_transaction()`
#: first. Saves the BEGIN and COMMIT round trips of the API's booking.
ONE_STATEMENT_WRITE = "one_statement_write"


@event.listens_for(Engine, "begin")
def _begin(conn) -> None:
    """SQLite: BEGIN explicitly (IMMEDIATE when a writer asked). PostgreSQL: reads skip BEGIN/ROLLBACK.

    PostgreSQL runs at READ COMMITTED, where every statement takes its own snapshot even inside a
    transaction, so a reading request gains nothing from BEGIN ... ROLLBACK but two round trips
    to the server: its statements run in autocommit (each its own transaction). So do those of a
    view marked `ONE_STATEMENT_WRITE` (the API's booking), until it asks for `one_transaction()`.
    Every other transaction (writing requests, the scheduler, commands) is a normal one. SQLite
    keeps its transactions: there a read transaction is one consistent snapshot of the whole page.
    """
    if conn.dialect.name == "sqlite":
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        if immediate:
            _writers_queue(conn)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
    elif conn.dialect.name == "postgresql" and has_request_context() and _reads_in_autocommit():
        dbapi_conn = conn.connection.dbapi_connection
        if not dbapi_conn.autocommit:
            dbapi_conn.autocommit = True
            conn.connection.info[READ_AUTOCOMMIT] = True


def _reads_in_autocommit() -> bool:
    """A reading request, or a view that writes in one statement (`ONE_STATEMENT_WRITE`)."""
    if request.method in READING:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, ONE_STATEMENT_WRITE, False)


def one_transaction() -> None:
    """From here, the session's statements run in one transaction, committed (or rolled back) by
    the session: for a `ONE_STATEMENT_WRITE` view that finds it must write more than one statement.
    Elsewhere, and on SQLite, they already do."""
    conn = db.session().connection()
    if not conn.connection.info.get(READ_AUTOCOMMIT):
        return
    dbapi_conn = conn.connection.dbapi_connection
    if dbapi_conn.autocommit:
        dbapi_conn.autocommit = False  # psycopg sends BEGIN before the next statement


#: how long a writer waits for its turn before giving up as SQLite would ("database is locked")
WRITERS_WAIT_SECONDS = 15.0
#: how often a writer waiting on another process tries the flock again (seconds). A turn lasts about
#: a millisecond: trying every millisecond left the file idle for half of one on average at each
#: hand-over between processes; a try is one system call.
WRITERS_POLL = 0.0002
#: a pooled SQLite connection's place in the writers' queue: its lock file descriptor, and whether it holds it
QUEUE_FD, QUEUE_HELD = "sqlite_writers_fd", "sqlite_writers_held"
#: a pooled SQLite connection whose read transaction `begin_write` made a writer (until checkin)
WRITING = "sqlite_writing"
_in_process: dict[str, threading.Lock] = {}
_in_process_guard = threading.Lock()


def _writers_queue(conn) -> None:
    """Waits for this process's and then every process's turn to write to the SQLite file.

    SQLite lets one writer in at a time and makes the others sleep and retry (1, 2, 5, ... up to
    100 ms between tries): under a burst of bookings the file sat unlocked while every waiter
    slept. Writers queue here instead: a lock per process (threads are woken at once) and an
    flock on `<database>-writers` between processes (tried every millisecond), both let go
    when the connection goes back to the pool after its commit or rollback. SQLite's own lock
    stays the guarantee; this only orders the writers that use BEGIN IMMEDIATE.
    """
    info = conn.connection.info  # the pooled connection's own dict, as the pool events see it
    if info.get(QUEUE_HELD):
        return
    database = conn.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = os.path.abspath(database) + "-writers"
    with _in_process_guard:
        local = _in_process.setdefault(path, threading.Lock())
    deadline = time.monotonic() + WRITERS_WAIT_SECONDS
    if not local.acquire(timeout=WRITERS_WAIT_SECONDS):
        raise sqlite3.OperationalError("database is locked (waited for the other writers of this process)")
    try:
        fd = info.get(QUEUE_FD)
        if fd is None:
            fd = info[QUEUE_FD] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked (other processes are writing)") from None
                time.sleep(WRITERS_POLL)
    except BaseException:
        local.release()
        raise
    info[QUEUE_HELD] = local


def _leave_writers_queue(record) -> None:
    local = record.info.pop(QUEUE_HELD, None)
    if local is not None:
        fcntl.flock(record.info[QUEUE_FD], fcntl.LOCK_UN)
        local.release()


@event.listens_for(Pool, "checkin")
def _writer_done(_dbapi_conn, record) -> None:
    """A writer's turn ends when its connection is back in the pool (after its commit or rollback)."""
    if record is not None:
        record.info.pop(WRITING, None)
        _leave_writers_queue(record)


@event.listens_for(Pool, "close")
def _writer_closed(_dbapi_conn, record) -> None:
    if record is not None:
        record.info.pop(WRITING, None)
        _leave_writers_queue(record)
        fd = record.info.pop(QUEUE_FD, None)
        if fd is not None:
            os.close(fd)


@event.listens_for(Pool, "reset")
def _end_reading(dbapi_conn, record, _reset_state) -> None:
    """A connection a reading request put in autocommit goes back to the pool as it came."""
    if record.info.pop(READ_AUTOCOMMIT, False):
        dbapi_conn.autocommit = False


def after_fork(app) -> None:
    """In a forked process (a gunicorn worker of a preloaded app): forgets the pooled connections
    inherited from the parent without closing them (they are the parent's), so this process opens
    its own."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def is_sqlite() -> bool:
    """Whether the app runs on the embedded SQLite database."""
    return db.engine.dialect.name == "sqlite"


def begin_write() -> None:
    """Makes the current transaction a writer that holds SQLite's write lock from its start.

    On SQLite a check-then-insert (a free slot, then the booking) is only safe when no other
    writer can commit in between, so the transaction begins with BEGIN IMMEDIATE. A read-only
    transaction already open (loading the signed-in user) is ended first. On PostgreSQL this
    does nothing: constraints and row locks do that job there.
    """
    session = db.session()
    if not is_sqlite():
        return
    if not session.in_transaction():
        session.connection(execution_options={IMMEDIATE: True})
        return
    conn = session.connection()
    record = conn.connection
    if conn.get_execution_options().get(IMMEDIATE) or record.info.get(WRITING):
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_write() must be called before any change is made")
    # The read transaction becomes the writer on the same connection, as a rollback and a new
    # transaction of the session would make it, without giving the connection back to the pool
    # and taking it out again: what was read before is read again (expired), under the lock.
    session.expire_all()
    dbapi_conn = record.dbapi_connection
    if dbapi_conn.in_transaction:
        dbapi_conn.execute("ROLLBACK")
    _writers_queue(conn)
    dbapi_conn.execute("BEGIN IMMEDIATE")
    record.info[WRITING] = True


def register(app) -> None:
    """On SQLite, every request that may write holds the write lock from its first statement.

    A transaction that reads and then writes cannot wait for the lock once another writer has
    committed in between (SQLite answers "database is locked" at once), so POST, PUT, PATCH and
    DELETE requests begin with BEGIN IMMEDIATE; GET requests read without blocking anyone (WAL).
    A view marked with `writes_late` takes the lock itself, after the reads its checks do not
    depend on (the API's booking: its token and facts), so writers queue for less time.
    """

    @app.before_request
    def _writers_take_the_lock() -> None:
        if request.method in READING or not is_sqlite():
            return
        view = app.view_functions.get(request.endpoint or "")
        if not getattr(view, WRITES_LATE, False):
            begin_write()


#: attribute of a view that calls begin_write() itself before its first write
WRITES_LATE = "writes_late"


def core(stmt, params=None):
    """Runs a statement on the session's connection as Core, for statements on hot paths that
    read or write plain columns: the same rows as `db.session.execute`, without the ORM's
    per-statement work (which cost a booking as much as its round trips). Pending ORM changes
    are flushed first, as the session's autoflush would (a flush with nothing pending is free)."""
    session = db.session()
    session.flush()
    return session.connection().execute(stmt, params)


def driver_rows(stmt, params: dict | None = None) -> list[tuple]:
    """The statement's rows as the driver returns them, without SQLAlchemy's per-row work.

    For reads where that work would dominate (a re-plan's hundreds of thousands of rows, the
    calendar on every look): values come raw (text timestamps on SQLite, 0/1 booleans), so
    columns needing conversion are selected with `type_coerce(column, String)` and go through
    `ConvertOnce`.
    """
    result = db.session.connection().execute(stmt, params)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


class ConvertOnce(dict):
    """Raw values of a date or time column, converted (as its type would) once per distinct value.

    Sessions share their days, the rows of one session day and seq share their dates, and
    appointments share their start times: a dict look-up each instead of a parse (and a time
    zone) each.
    """

    def __init__(self, column, dialect):
        super().__init__()
        if isinstance(column, raw_instant) and dialect.name == "postgresql":
            self._convert = _from_micros
        else:
            type_ = column.column_type if isinstance(column, raw_instant) else column.type
            self._convert = type_.dialect_impl(dialect).result_processor(dialect, None) or (lambda v: v)

    def __missing__(self, raw):
        value = self[raw] = self._convert(raw)
        return value


class raw_instant(FunctionElement):  # noqa: N801 (used like a SQL function)
    """A UTCDateTime column as `driver_rows` reads it most cheaply, for `ConvertOnce`.

    On PostgreSQL: microseconds since the epoch, an integer. The driver otherwise parses every
    timestamptz into a datetime with a time zone, the larger part of its work on the calendar's
    rows, and such datetimes cost more to hash and compare than integers. On SQLite: the stored
    text, as the column itself.
    """

    name = "raw_instant"
    type = BigInteger()
    inherit_cache = True

    def __init__(self, column):
        super().__init__(column)
        #: the column's own type, which converts the stored value where it is read as stored
        self.column_type = column.type


@compiles(raw_instant, "postgresql")
def _raw_instant_postgresql(element, compiler, **kw) -> str:
    return f"(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) * 1000000)::bigint"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_micros(micros: int | None) -> datetime | None:
    """An aware UTC instant from microseconds since the epoch."""
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


class plan_opaque(FunctionElement):  # noqa: N801 (used like a SQL function)
    """A bound value PostgreSQL plans without looking at: `(SELECT $n)` there, the value elsewhere.

    psycopg prepares a statement run five times on a connection; PostgreSQL then plans each
    execution anew ("custom plans") for as long as its plan with the values in hand looks cheaper
    than one plan for any value ("generic"). For a time window that is always: the estimate from
    the histogram for a day is below the default one for an unknown range. So the calendar and
    the booking's conflicts were planned at every look and every booking, which cost PostgreSQL
    more than running them (0.40 against 0.26 ms of server CPU for a busy day's calendar; 0.13
    against 0.01 ms for the conflicts). A value behind a sub-select is unknown to both kinds of
    plan, their estimates agree, and PostgreSQL settles on the generic plan: the same index range
    scan, planned once per connection. Only for statements whose plan does not depend on the
    values (a window of a day or a week on an indexed time).
    """

    name = "plan_opaque"
    inherit_cache = True

    def __init__(self, value):
        super().__init__(value)
        self.type = value.type


@compiles(raw_instant)
@compiles(plan_opaque)
def _as_the_value(element, compiler, **kw) -> str:
    """Outside PostgreSQL both are the value they wrap."""
    return compiler.process(element.clauses, **kw)


@compiles(plan_opaque, "postgresql")
def _plan_opaque_postgresql(element, compiler, **kw) -> str:
    return f"(SELECT {compiler.process(element.clauses, **kw)})"
