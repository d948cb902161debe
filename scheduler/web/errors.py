"""Error answers: JSON under /api/v1, the app's own pages elsewhere. Never a raw 500 for bad input."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from scheduler.extensions import db
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


def _is_api() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    """Installs the handlers."""

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        db.session.rollback()
        if _is_api():
            return error_response(exc.status, exc.code, exc.message, exc.fields)
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if _is_api():
            resp = error_response(status, CODES.get(status, "error"), exc.description or exc.name)
            if status == 405 and exc.get_response().headers.get("Allow"):
                resp.headers["Allow"] = exc.get_response().headers["Allow"]
            return resp
        return render_template("errors/error.html", status=status, message=exc.description), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "Something went wrong on our side; nothing was changed. Please try again."
        if _is_api():
            return error_response(500, "internal", message)
        return render_template("errors/error.html", status=500, message=message), 500
