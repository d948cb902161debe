"""DriverStatement: a statement run on the driver's cursor reads and writes what SQLAlchemy's
execution would, in the session's transaction, and fails as it would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, create_engine, event, func, insert, literal, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from scheduler.db import core
from scheduler.driver import DriverStatement
from scheduler.extensions import db
from scheduler.models import AuditEvent, Patient, Practitioner, TimeOff, Treatment
from scheduler.models.base import UTCDateTime


def _time_off_statement():
    return (
        select(TimeOff.starts_at, TimeOff.ends_at, TimeOff.reason, literal(7).label("seven"))
        .where(TimeOff.practitioner_id == bindparam("practitioner_id"), TimeOff.reason.in_(["leave", "course"]))
        .order_by(TimeOff.starts_at)
    )


def test_rows_are_what_sqlalchemy_reads(app, make_practitioner):
    """Instants (either side of a clock change, with microseconds), constant IN lists and
    literals, and NULLs come back as SQLAlchemy's own execution returns them."""
    prac = make_practitioner()
    starts = [
        datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
    ]
    for at, reason in zip(starts, ["leave", "course", "other"], strict=True):
        db.session.add(TimeOff(practitioner_id=prac.id, starts_at=at, ends_at=at + timedelta(hours=2), reason=reason))
    db.session.commit()
    statement = DriverStatement(_time_off_statement)
    params = {"practitioner_id": prac.id}
    rows = statement.rows(params)
    assert rows == [tuple(r) for r in core(_time_off_statement(), params)]
    assert [r[0] for r in rows] == starts[:2] and all(r[0].tzinfo is not None for r in rows)
    assert [r[2:] for r in rows] == [("leave", 7), ("course", 7)]
    assert statement.rows(params) == rows  # compiled once, the same the second time
    assert statement.rows({"practitioner_id": prac.id + 1}) == []
    db.session.rollback()


def test_booleans_json_and_dates_are_converted_by_their_types(app, make_practitioner, make_treatment):
    """SQLite returns 0/1, JSON text and ISO dates; the types' result processors make them values."""
    prac = make_practitioner()
    make_treatment()
    statement = DriverStatement(
        lambda: select(
            Practitioner.active,
            Practitioner.working_hours,
            func.date(bindparam("day", type_=Treatment.created_at.type)),
        ).where(Practitioner.id == bindparam("id"))
    )
    active, hours, _day = statement.first({"id": prac.id, "day": datetime(2027, 1, 1, tzinfo=UTC)})
    assert active is True
    assert isinstance(hours, dict) and hours == db.session.get(Practitioner, prac.id).working_hours
    dated = DriverStatement(lambda: select(bindparam("d", type_=Patient.date_of_birth.type)))
    assert dated.scalar({"d": date(1980, 2, 29)}) in (date(1980, 2, 29), "1980-02-29")
    db.session.rollback()


def test_raw_rows_are_the_drivers_values(app, make_practitioner):
    """With raw=True the result processors are skipped: SQLite's 0/1 and JSON text stay as the
    driver gives them (the reader converts them itself), while binds are still processed."""
    prac = make_practitioner()
    build = lambda: select(Practitioner.active, Practitioner.working_hours).where(Practitioner.id == bindparam("id"))  # noqa: E731
    raw = DriverStatement(build, raw=True).first({"id": prac.id})
    driver = (
        db.session.connection()
        .exec_driver_sql("SELECT active, working_hours FROM practitioners WHERE id = " + str(prac.id))
        .first()
    )
    assert raw == tuple(driver)
    assert DriverStatement(build).first({"id": prac.id}) == (True, prac.working_hours)
    if db.engine.dialect.name == "sqlite":
        assert raw[0] == 1 and isinstance(raw[1], str)
    db.session.rollback()


def test_binds_go_through_their_types(app):
    """A naive datetime is refused by UTCDateTime's bind processing, as the ORM refuses it."""
    statement = DriverStatement(
        lambda: select(TimeOff.id).where(TimeOff.starts_at < bindparam("at", type_=TimeOff.starts_at.type))
    )
    assert statement.rows({"at": datetime(2027, 1, 1, tzinfo=UTC)}) == []
    with pytest.raises(ValueError, match="naive datetime"):
        statement.rows({"at": datetime(2027, 1, 1)})
    db.session.rollback()


@pytest.mark.parametrize(
    "value",
    [
        datetime(2027, 3, 28, 0, 59, 59, 999999, tzinfo=UTC),  # either side of London's spring change
        datetime(2027, 3, 28, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 30, 0, 5, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2027, 1, 1, 19, 0, tzinfo=timezone(timedelta(hours=-5))),  # the next day in UTC
        datetime(1, 1, 2, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        None,
    ],
)
def test_sqlites_instants_are_bound_as_the_composed_processing_binds_them(value):
    """UTCDateTime's one-step SQLite processor writes the text its own and SQLite's DATETIME
    processing would, so stored instants compare and sort as before."""
    dialect = sqlite.dialect()
    impl = UTCDateTime().dialect_impl(dialect)
    assert impl.bind_processor(dialect)(value) == TypeDecorator.bind_processor(impl, dialect)(value)
    with pytest.raises(ValueError, match="naive datetime"):
        impl.bind_processor(dialect)(datetime(2027, 1, 1))


def test_the_parameters_must_be_the_statements_own(app):
    statement = DriverStatement(lambda: select(Patient.id).where(Patient.id == bindparam("id")))
    with pytest.raises(TypeError, match="expected"):
        statement.rows({"ident": 1})
    with pytest.raises(TypeError, match="expected"):
        statement.rows({"id": 1, "extra": 2})
    db.session.rollback()


def test_writes_join_the_sessions_transaction_after_a_flush(app, make_patient):
    """Pending ORM changes are written first; the statement's own write is rolled back with the session."""
    make_patient()
    db.session.add(Patient(first_name="Una", last_name="Pending"))
    count = DriverStatement(lambda: select(func.count()).select_from(Patient).where(Patient.id > bindparam("after")))
    assert count.scalar({"after": 0}) == 2
    write = DriverStatement(
        lambda: insert(AuditEvent.__table__).values(
            at=bindparam("at", type_=AuditEvent.at.type),
            action=bindparam("action"),
            entity_type="patient",
            actor="test",
            details=bindparam("details", type_=AuditEvent.details.type),
        )
    )
    assert write.rows({"at": datetime.now(UTC), "action": "x.y", "details": {"a": [1, "b"]}}) == []
    assert db.session.scalars(select(AuditEvent.details)).one() == {"a": [1, "b"]}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert db.session.scalar(select(func.count()).select_from(Patient)) == 1


def test_cursor_listeners_see_the_statement(app):
    """Tracing and tests that listen on the engine see these statements too."""
    seen = []

    def record(_conn, _cursor, statement, parameters, context, _many):
        context.started = True  # as a tracer keeps its span on the context
        seen.append((statement, parameters))

    def finish(_conn, _cursor, statement, _parameters, context, _many):
        if statement != "BEGIN":
            assert context.started and context.statement == statement
            finished.append(statement)

    finished: list[str] = []
    statement = DriverStatement(lambda: select(Patient.id).where(Patient.id == bindparam("id")))
    event.listen(db.engine, "before_cursor_execute", record)
    event.listen(db.engine, "after_cursor_execute", finish)
    try:
        statement.rows({"id": 41})
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        event.remove(db.engine, "after_cursor_execute", finish)
    assert len(finished) == 1
    seen = [s for s in seen if s[0] != "BEGIN"]  # SQLite's, issued by the session
    assert len(seen) == 1 and seen[0][0].startswith("SELECT patients.id")
    assert 41 in (seen[0][1].values() if isinstance(seen[0][1], dict) else seen[0][1])
    db.session.rollback()


def test_a_driver_error_is_sqlalchemys_and_the_session_recovers(app):
    """A constraint failure is raised as SQLAlchemy's IntegrityError (what handlers catch)."""
    statement = DriverStatement(
        lambda: insert(TimeOff.__table__).values(
            practitioner_id=bindparam("practitioner_id"),
            starts_at=bindparam("at", type_=TimeOff.starts_at.type),
            ends_at=bindparam("at", type_=TimeOff.starts_at.type),
        )
    )
    with pytest.raises(IntegrityError) as failed:
        statement.rows({"practitioner_id": 999_999, "at": datetime(2027, 1, 1, tzinfo=UTC)})
    assert failed.value.orig is not None and not failed.value.connection_invalidated
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(TimeOff)) == 0


def test_a_dropped_connection_is_invalidated_and_the_next_request_reconnects(app, make_patient):
    """A server that went away during a transaction: the error says the connection was
    invalidated, the pool throws it away, and the next transaction opens a new one."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL backend can be terminated; a SQLite file cannot go away")
    make_patient()
    statement = DriverStatement(lambda: select(Patient.id).where(Patient.id > bindparam("after")))
    assert len(statement.rows({"after": 0})) == 1
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))  # the session keeps its connection
    other = create_engine(db.engine.url, poolclass=NullPool)  # not a connection of the session's pool
    with other.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    with pytest.raises(DBAPIError) as failed:
        statement.rows({"after": 0})
    assert failed.value.connection_invalidated
    db.session.rollback()
    assert len(statement.rows({"after": 0})) == 1
    assert db.session.scalar(text("SELECT pg_backend_pid()")) != pid
    db.session.rollback()


def test_pyformat_becomes_postgresqls_numbered_parameters():
    """psycopg runs DriverStatements on a RawCursor: `$n` placeholders, a name used twice keeps
    its number, percent signs SQLAlchemy doubled are single again."""
    from scheduler.driver import _numbered

    sql, names = _numbered("SELECT %(a)s, %(b_1)s WHERE x LIKE 'a%%' AND y = %(a)s AND z = %(c)s")
    assert sql == "SELECT $1, $2 WHERE x LIKE 'a%' AND y = $1 AND z = $3"
    assert names == ["a", "b_1", "c"]


def test_on_postgresql_the_statement_reaches_the_server_as_compiled(app, make_practitioner):
    """Numbered parameters and a literal percent sign, run on psycopg's RawCursor, read what
    SQLAlchemy's own execution reads."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's RawCursor")
    prac = make_practitioner(name="Dr 100% Hart")
    build = lambda: select(Practitioner.name, literal("50%")).where(  # noqa: E731
        Practitioner.name.like("%100\\%%", escape="\\"),
        Practitioner.id == bindparam("id"),
        Practitioner.id >= bindparam("id"),
    )
    statement = DriverStatement(build)
    assert (
        statement.rows({"id": prac.id})
        == [tuple(r) for r in core(build(), {"id": prac.id})]
        == [("Dr 100% Hart", "50%")]
    )
    compiled = statement._compiled["postgresql"]
    assert "$1" in compiled.sql and "%(" not in compiled.sql and compiled.order.count("id") == 1
    db.session.rollback()
