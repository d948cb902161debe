"""`/p/appointment/<token>`: moving or cancelling an appointment from its emails' link, before the cut-off."""

from __future__ import annotations

from datetime import date

from flask import current_app, redirect, request, url_for

from scheduler.extensions import db
from scheduler.selfservice import actions, links, picker
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.patient_links import bp
from scheduler.web.patient_links.common import DONE, bad_link, day, invalid_time, page, when


@bp.get("/appointment/<token>")
def appointment_page(token: str):
    """The appointment, and (before the cut-off) other free times and a cancel button."""
    try:
        appt = links.read_appointment(token)
    except links.BadLink as exc:
        return bad_link(exc)
    return _appointment(token, appt)


def _appointment(token: str, appt, *, status=200, error=None, nearest=(), asked: date | None = None):
    """The change page; the picker opens on the week asked for, else the appointment's own."""
    changeable = actions.changeable(appt)
    week = None
    if changeable:
        asked = asked or day(request.args.get("week")) or clock.local_date(appt.starts_at)
        week = picker.week(appt.patient_id, appt.treatment, appt.practitioner, asked)
    return page(
        "public/selfservice/appointment.html",
        status,
        token=token,
        appt=appt,
        week=week,
        changeable=changeable,
        cutoff=current_app.config["PATIENT_CHANGE_CUTOFF_HOURS"],
        done=DONE.get(request.args.get("done", "")),
        error=error,
        nearest=list(nearest),
    )


@bp.get("/appointment/<token>/move")
def move_confirm(token: str):
    """The summary of a move: from when to when, with the one button that makes it."""
    try:
        appt = links.read_appointment(token)
    except links.BadLink as exc:
        return bad_link(exc)
    starts_at = when(request.args.get("at"))
    if starts_at is None:
        return invalid_time()
    if not actions.changeable(appt):
        return _appointment(token, appt)
    return page("public/selfservice/move.html", token=token, appt=appt, starts_at=starts_at)


@bp.post("/appointment/<token>/move")
def move(token: str):
    """Moves the appointment (booking.operations.reschedule); a refusal shows why."""
    starts_at = when(request.form.get("at"))
    if starts_at is None:
        return invalid_time()
    try:
        actions.move(token, starts_at)
        db.session.commit()
    except links.BadLink as exc:
        return bad_link(exc)
    except ServiceError as exc:
        db.session.rollback()
        appt = links.read_appointment(token)
        nearest: list = []
        if exc.code in ("slot_taken", "patient_busy"):
            starts = picker.nearest(appt.patient_id, appt.treatment, appt.practitioner, starts_at)
            nearest = [(appt.practitioner, s) for s in starts]
        message = "Sorry, that time has just been taken." if exc.code == "slot_taken" else exc.message
        asked = clock.local_date(starts_at)
        return _appointment(token, appt, status=exc.status, error=message, nearest=nearest, asked=asked)
    return redirect(url_for(".appointment_page", token=token, done="moved"), code=303)


@bp.get("/appointment/<token>/cancel")
def cancel_confirm(token: str):
    """Asks once more before cancelling."""
    try:
        appt = links.read_appointment(token)
    except links.BadLink as exc:
        return bad_link(exc)
    if not actions.changeable(appt):
        return _appointment(token, appt)
    return page("public/selfservice/cancel.html", token=token, appt=appt)


@bp.post("/appointment/<token>/cancel")
def cancel(token: str):
    """Cancels the appointment (the status change path); too late or already cancelled: a message."""
    try:
        actions.cancel(token)
        db.session.commit()
    except links.BadLink as exc:
        return bad_link(exc)
    except ServiceError as exc:
        db.session.rollback()
        return _appointment(token, links.read_appointment(token), status=exc.status, error=exc.message)
    return redirect(url_for(".appointment_page", token=token, done="cancelled"), code=303)
