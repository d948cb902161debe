"""Shared by the reception pages: query arguments and service errors."""

from __future__ import annotations

from datetime import date

from flask import abort, request
from flask_wtf import FlaskForm

from scheduler.domain import daytext
from scheduler.extensions import db
from scheduler.services import clock
from scheduler.services.errors import ServiceError


def actor():
    """The signed-in user as a plain object, for services that record who acted."""
    from flask_login import current_user

    return current_user._get_current_object()


def day_arg(name: str = "date") -> date:
    """The YYYY-MM-DD query argument `name`, today when absent; a bad one is a 400."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return clock.today()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{raw[:40]!r} is not a date; use YYYY-MM-DD.")
    if not 2000 <= day.year <= 2100:
        abort(400, description="Pick a date between 2000 and 2100.")
    return day


def id_arg(name: str, source=None) -> int | None:
    """A positive integer id from the query (or the given mapping); anything else is None."""
    raw = (source if source is not None else request.args).get(name, "")
    raw = raw.strip() if isinstance(raw, str) else ""
    if raw.isdigit() and 0 < int(raw) < 2**31:
        return int(raw)
    return None


def show_service_error(form: FlaskForm | None, exc: ServiceError, fields: dict[str, str] | None = None) -> int:
    """Rolls back, puts the service's field reasons on the form's fields, returns the status to answer."""
    db.session.rollback()
    if form is not None:
        for service_field, reason in exc.fields.items():
            name = (fields or {}).get(service_field, service_field)
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                reason = daytext.dates_in_words(reason)
                field.errors = [*list(field.errors or []), reason[:1].upper() + reason[1:] + "."]
    return exc.status
