"""Statements of the hottest paths, run on the driver's cursor of the session's connection.

SQLAlchemy's Core execution (an execution context, the compiled cache's look-up, parameter
construction, a result object) costs a PostgreSQL statement about as much worker CPU as the
driver's own round trip: 0.22 against 0.10 ms for the booking's facts. Every API request reads
its token, every staff page its signed-in user, every look at the day calendar its rows, and
every booking its facts and its conflicts before one insert, so those few statements are
compiled once per dialect here and run on the driver's cursor, in the session's transaction
(the SQLite write lock and the PostgreSQL transaction are the session's own). On psycopg the
cursor is a `RawCursor` and the SQL has PostgreSQL's own numbered parameters (`_numbered`).

What is kept of SQLAlchemy's execution: pending ORM changes are flushed first, values go
through their types' bind processors and come back through their result processors, the
engine's `before_cursor_execute` and `after_cursor_execute` listeners see the statement (tests,
tracing; their context is a plain object with the statement and its parameters, not
SQLAlchemy's execution context), and a driver error is raised as SQLAlchemy's wrapped one,
invalidating the connection when it was a disconnect. What is not: the engine's echo log, and
`handle_error` listeners.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.exc import DBAPIError

from scheduler.extensions import db


class DriverStatement:
    """A statement built once by `build`, compiled once per dialect, run with `rows(params)`.

    Its parameters are the statement's named bind parameters; bound constants (a `literal`, an
    `IN` list of fixed values) are part of the compiled form. With `raw`, rows come as the driver
    returns them, without the columns' result processors (for readers that convert values once
    per distinct value themselves, as `driver_rows` does).
    """

    def __init__(self, build: Callable[[], Any], *, raw: bool = False):
        self._build = build
        self._raw = raw
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, params: Mapping[str, Any]) -> list[tuple]:
        """The statement's rows (an empty list when it returns none), as plain tuples."""
        session = db.session()
        session.flush()
        conn = session.connection()
        compiled = self._compiled.get(conn.dialect.name)
        if compiled is None:
            compiled = self._compiled[conn.dialect.name] = _Compiled(self._build(), conn.dialect, self._raw)
        return compiled.run(conn, params)

    def first(self, params: Mapping[str, Any]) -> tuple | None:
        """The first row, or None."""
        found = self.rows(params)
        return found[0] if found else None

    def scalar(self, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        found = self.rows(params)
        return found[0][0] if found else None


class _Run:
    """What cursor listeners get as the execution context: the statement and its parameters, and
    room for what a listener keeps between before and after (a tracing span, a start time)."""

    def __init__(self, statement: str, parameters: Any):
        self.statement = statement
        self.parameters = parameters


class _Compiled:
    """One statement's SQL for one dialect, its parameters' order and processing, and its columns'."""

    def __init__(self, stmt, dialect, raw: bool = False):
        self.dialect = dialect
        if isinstance(stmt, Insert) and not stmt.exported_columns:
            stmt = stmt.inline()  # no implicit RETURNING of the new row's key: nobody reads it
        compiled = stmt.compile(dialect=dialect)
        self.names = {bind.key for bind in compiled.binds.values() if bind.required}
        escaped = sorted(n for n in self.names if n not in compiled.bind_names.values())
        if escaped:
            raise ValueError(f"parameter names the dialect would rename: {escaped}")
        # The expanded form: constant IN lists become one parameter per value, with their values.
        state = compiled.construct_expanded_state(dict.fromkeys(self.names))
        self.sql = state.statement
        self.order = state.positiontup  # positional drivers (SQLite); None for named ones
        self.cursor_class = None  # the connection's own
        if self.order is None and dialect.driver == "psycopg":
            import psycopg

            self.sql, self.order = _numbered(self.sql)
            self.cursor_class = psycopg.RawCursor
        processors: dict[str, Callable] = {}
        for bind in compiled.binds.values():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[compiled.bind_names[bind]] = process
        expanded = set(state.parameters) - set(compiled.bind_names.values())
        for name in expanded:  # an IN list's values: processed as their list's type would
            base = name.rsplit("_", 1)[0]
            if base in processors:
                processors[name] = processors[base]
        # constants are processed once, the caller's values at each run
        self.constants = {
            name: processors[name](value) if name in processors else value
            for name, value in state.parameters.items()
            if name not in self.names
        }
        self.processors = [(name, processors[name]) for name in self.names if name in processors]
        self.types = [column.type for column in stmt.exported_columns]
        # from the first run's cursor description; none at all for raw rows
        self.results: list[Callable | None] | None = [] if raw else None
        self.error = dialect.loaded_dbapi.Error

    def run(self, conn, params: Mapping[str, Any]) -> list[tuple]:
        if params.keys() != self.names:
            raise TypeError(f"parameters {sorted(params)} given, {sorted(self.names)} expected")
        values = self.constants | params
        for name, process in self.processors:
            values[name] = process(values[name])
        args = values if self.order is None else [values[name] for name in self.order]
        dbapi_conn = conn.connection.dbapi_connection
        cursor = dbapi_conn.cursor() if self.cursor_class is None else self.cursor_class(dbapi_conn)
        try:
            context = None
            if conn.dispatch.before_cursor_execute:
                context = _Run(self.sql, args)
                conn.dispatch.before_cursor_execute(conn, cursor, self.sql, args, context, False)
            cursor.execute(self.sql, args)
            # a statement without columns returns no rows; the description (which psycopg makes
            # anew at each look) is read once, for the result processors
            found = cursor.fetchall() if self.types else []
            if conn.dispatch.after_cursor_execute:
                context = context or _Run(self.sql, args)
                conn.dispatch.after_cursor_execute(conn, cursor, self.sql, args, context, False)
            if self.results is None and self.types:
                self.results = self._result_processors(cursor.description)
        except self.error as exc:
            invalidated = self.dialect.is_disconnect(exc, dbapi_conn, cursor)
            if invalidated:
                conn.invalidate(exc)
            raise DBAPIError.instance(
                self.sql, args, exc, self.error, connection_invalidated=invalidated, dialect=self.dialect
            ) from exc
        finally:
            cursor.close()
        if self.results:
            results = self.results
            return [tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True)) for row in found]
        return found

    def _result_processors(self, description) -> list[Callable | None]:
        """Each column's result processor as its type reads the driver's values; [] when none has one."""
        processors = [
            type_.dialect_impl(self.dialect).result_processor(self.dialect, column[1])
            for type_, column in zip(self.types, description, strict=True)
        ]
        return processors if any(processors) else []


#: a named parameter of SQLAlchemy's pyformat SQL, or a percent sign it doubled
_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")


def _numbered(sql: str) -> tuple[str, list[str]]:
    """Pyformat SQL as PostgreSQL's own numbered parameters (`$1`, a name used twice keeping its
    number), and the names in the order of their numbers.

    Run on psycopg's `RawCursor`, the statement goes to the server as it is. psycopg otherwise
    parses the placeholders of every statement at each run, and caches that only for statements
    under 4 KB and 50 parameters: a booking's insert is over both.
    """
    numbers: dict[str, int] = {}

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in numbers:
            numbers[name] = len(numbers) + 1
        return f"${numbers[name]}"

    return _PYFORMAT.sub(number, sql), list(numbers)
