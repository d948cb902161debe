"""Errors raised by services; the API turns them into JSON, the pages into messages."""

from __future__ import annotations


class ServiceError(Exception):
    """A request refused for a reason the client can act on."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class Invalid(ServiceError):
    """Malformed input (400)."""

    status = 400
    code = "invalid"


class Forbidden(ServiceError):
    """The signed-in role may not do this (403)."""

    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    """No such resource (404)."""

    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The request conflicts with the current state (409)."""

    status = 409
    code = "conflict"


class Rejected(ServiceError):
    """Well-formed input refused by a clinic rule (422)."""

    status = 422
    code = "rejected"
