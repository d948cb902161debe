"""Error answers: JSON under /api/v1, the app's own pages elsewhere. Never a raw 500 for bad input.

The 500 and 503 pages read nothing from the database (no signed-in user, no scheduler banner),
so they render even when the database is what failed.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request, session
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from scheduler import reconnect
from scheduler.extensions import db
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.api.core import error_response

log = logging.getLogger(__name__)

CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "rejected",
    429: "too_many_requests",
}
FAILED = "Something went wrong on our side; nothing was changed. Please try again."
UNAVAILABLE = (
    "The clinic's database is not answering just now. Wait a moment and try again; if you were "
    "saving a change, check whether it was saved before making it again."
)
#: seconds a client is asked to wait before trying again after a 503
RETRY_AFTER = "5"


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _rollback() -> None:
    """Ends the request's transaction; a connection that is already gone cannot make that fail."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.warning("rollback after an error failed", exc_info=True)


def _plain_page(status: int, message: str):
    """An error page rendered without the app's context processors, so without the database."""
    html = current_app.jinja_env.get_template("errors/server_error.html").render(
        clinic_name=current_app.config["CLINIC_NAME"],
        status=status,
        message=message,
        now_utc=clock.now(),
        signed_in="_user_id" in session,  # from the session cookie: no user is loaded
    )
    return html, status


def _page(status: int, message: str | None):
    """The error page for a status: the full page for 4xx, the page without the database for 5xx."""
    if status >= 500:
        return _plain_page(status, message or FAILED)
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except SQLAlchemyError as exc:  # the page loads the signed-in user: the database failed there
        return _database_unavailable(exc)


def service_error(exc: ServiceError):
    """A service refused: its status and message."""
    _rollback()
    if _is_api():
        return error_response(exc.status, exc.code, exc.message, exc.fields)
    return _page(exc.status, exc.message)


def http_error(exc: HTTPException):
    """404, 405, 413 and the like."""
    status = exc.code or 500
    if _is_api():
        resp = error_response(status, CODES.get(status, "error"), exc.description or exc.name)
        if status == 405 and exc.get_response().headers.get("Allow"):
            resp.headers["Allow"] = exc.get_response().headers["Allow"]
        return resp
    return _page(status, exc.description)


def database_error(exc: SQLAlchemyError):
    """A dropped connection at the first statement runs the request again; an unreachable database is a 503."""
    if reconnect.may_retry(exc):
        log.warning("database connection dropped on %s %s; running the request again", request.method, request.path)
        return reconnect.run_again()
    if not reconnect.unavailable(exc):
        return unexpected(exc)
    return _database_unavailable(exc)


def _database_unavailable(exc: SQLAlchemyError):
    """503 with a page (or JSON) that says to try again."""
    _rollback()
    reason = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
    log.warning("database unavailable on %s %s: %s", request.method, request.path, reason)
    if _is_api():
        resp = error_response(503, "unavailable", UNAVAILABLE)
    else:
        resp = current_app.make_response(_plain_page(503, UNAVAILABLE))
    resp.headers["Retry-After"] = RETRY_AFTER
    return resp


def unexpected(exc: Exception):
    """Anything else: logged, and a 500 that says nothing was changed."""
    _rollback()
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    if _is_api():
        return error_response(500, "internal", FAILED)
    return _plain_page(500, FAILED)


def register(app: Flask) -> None:
    """Installs the handlers."""
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(SQLAlchemyError, database_error)
    app.register_error_handler(Exception, unexpected)
