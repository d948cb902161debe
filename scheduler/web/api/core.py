"""The JSON API's machinery: one `endpoint` decorator that authenticates, validates with the
pydantic schemas, commits once, serialises, and records the route for openapi.json."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ValidationError

from scheduler.extensions import csrf, db
from scheduler.models import User
from scheduler.services.errors import Forbidden, Invalid, ServiceError
from scheduler.staff import tokens

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens, no cookies: nothing for a cross-site form to ride on


@dataclass
class Route:
    """One API operation, as openapi.json describes it."""

    method: str
    path: str
    name: str
    summary: str
    role: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    many: bool
    errors: tuple[int, ...] = field(default=())
    body_required: bool = True


ROUTES: list[Route] = []


class Unauthorized(ServiceError):
    """No token, or one that is unknown or revoked (401)."""

    status = 401
    code = "unauthorized"


def _authenticate(role: str | None) -> User | None:
    """The user behind the bearer token, checked against the route's role."""
    if role is None:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    try:
        user = tokens.user_for_token(token.strip())
    except tokens.TokenExpired as exc:
        when = exc.expired_at.strftime("%Y-%m-%d %H:%M UTC")
        message = f"The API token expired on {when}; ask an admin for a new one."
        raise Unauthorized(message, code="token_expired") from None
    if user is None:
        raise Unauthorized("The API token is unknown or revoked.")
    if role == "admin" and not user.is_admin:
        raise Forbidden("This needs an admin.")
    g.api_user = user
    return user


def _validation_fields(exc: ValidationError) -> dict[str, str]:
    """Pydantic errors as {"field": "why"}."""
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"] if p not in ("function-after",)) or "body"
        fields.setdefault(loc, err["msg"])
    return fields


def _parse_body(model: type[BaseModel], required: bool = True) -> BaseModel:
    """Validates the JSON body strictly (no "1" for 1, no naive times); an optional one may be empty."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        if not required:
            return model()
        raise Invalid("A JSON object is required as the request body.", code="malformed", fields={"body": "missing"})
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        fields = _validation_fields(exc)
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise Invalid("The body is not valid JSON.", code="malformed", fields={"body": "invalid JSON"}) from None
        raise Invalid("Some fields are missing or malformed.", code="invalid", fields=fields) from None


def _parse_query(model: type[BaseModel]) -> BaseModel:
    """Validates the query string."""
    try:
        return model.model_validate({k: request.args.get(k) for k in request.args})
    except ValidationError as exc:
        raise Invalid(
            "Some query parameters are missing or malformed.", code="invalid", fields=_validation_fields(exc)
        ) from None


def _dump(result: Any, response: type[BaseModel] | None, many: bool) -> Any:
    """Serialises a view's result through its response schema."""
    if response is None:
        return result
    if many:
        return {"items": [response.model_validate(r).model_dump(mode="json") for r in result]}
    return response.model_validate(result).model_dump(mode="json")


def endpoint(
    method: str,
    path: str,
    *,
    role: str | None = "staff",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    many: bool = False,
    errors: tuple[int, ...] = (),
    body_required: bool = True,
) -> Callable:
    """Registers an API operation; the view gets `user`, path ids, and `body` / `query` models."""

    def decorate(fn: Callable) -> Callable:
        flask_path = re.sub(r"\{(\w+)\}", r"<int:\1>", path)

        @wraps(fn)
        def view(**ids: int):
            kwargs: dict[str, Any] = dict(ids)
            kwargs["user"] = _authenticate(role)
            if query is not None:
                kwargs["query"] = _parse_query(query)
            if body is not None:
                kwargs["body"] = _parse_body(body, body_required)
            try:
                payload = _dump(fn(**kwargs), response, many)
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
            return jsonify(payload), status

        bp.add_url_rule(flask_path, endpoint=fn.__name__, view_func=view, methods=[method])
        ROUTES.append(
            Route(
                method.lower(),
                path,
                fn.__name__,
                (fn.__doc__ or "").strip().splitlines()[0],
                role,
                body,
                query,
                response,
                status,
                many,
                errors,
                body_required,
            )
        )
        return view

    return decorate


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None):
    """The API's error shape."""
    resp = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return resp
