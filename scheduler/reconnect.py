"""A request whose first statement met a dropped database connection runs once more.

The pool pings every connection before handing it out (`pool_pre_ping`), so a connection the
server dropped while it sat in the pool never reaches a request. One dropped between the ping
and the request's first statement (a server restart, an operator terminating the backends)
fails that statement: nothing has been written or read yet, so the request is run again, once,
on a new connection. A drop later in a request is not retried (something may have been written,
or the request's body already consumed); it answers 503 (scheduler.web.errors).
"""

from __future__ import annotations

from flask import current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from scheduler.extensions import db


@event.listens_for(Engine, "before_cursor_execute")
def _count_statement(_conn, _cursor, _statement, _parameters, _context, _executemany) -> None:
    """Counts the request's statements (scheduler.driver's statements are counted too)."""
    if has_request_context():
        g.db_statements = g.get("db_statements", 0) + 1


def unavailable(exc: BaseException) -> bool:
    """Whether a database error means the database cannot be reached or dropped the connection."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout)


def may_retry(exc: BaseException) -> bool:
    """A dropped connection at the request's first statement, a SELECT, and no retry yet."""
    return (
        isinstance(exc, DBAPIError)
        and exc.connection_invalidated
        and not g.get("db_retried")
        and g.get("db_statements") == 1
        and (exc.statement or "").lstrip().upper().startswith("SELECT")
    )


def run_again():
    """Rolls back (giving the dead connection back) and runs the request's hooks and view again.

    Called from the error handler, so the request's `after_request` hooks run once, on the answer
    of the second run; an error of the second run is handled as any other.
    """
    db.session.rollback()
    g.db_retried, g.db_statements = True, 0
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        answer = app.preprocess_request()
        if answer is None:
            answer = app.dispatch_request()
        return answer
    except Exception as exc:  # handled as the first run's errors are
        return app.handle_user_exception(exc)
