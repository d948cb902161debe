"""Patients' own booking pages, reached from links in their emails (no sign-in; docs/patient-links.md).

- `/p/book/<token>`: the re-treatment reminder's link. A week of free times for the patient's
  treatment (never before the safety minimum), starting with the practitioner they saw last;
  a time opens a summary (`/confirm`), whose button books (POST).
- `/p/appointment/<token>`: the confirmation's and pre-visit reminder's link. The appointment,
  other free times with the same practitioner (`/move` summary, then POST) and a cancel button
  (`/cancel` asks once more, then POST), both until PATIENT_CHANGE_CUTOFF_HOURS before the start.

Every request with a token counts towards that token's rate limit; a forged link gets 400, an
expired one 410, a refused time a message and a 4xx: never a 500. Every POST carries CSRF.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from scheduler.extensions import db
from scheduler.selfservice import actions, links, picker, ratelimit
from scheduler.services import clock
from scheduler.services.errors import ServiceError

bp = Blueprint("selfservice", __name__, url_prefix="/p")
#: banners a page may show after a redirect (anything else in `done` is ignored)
DONE = {
    "booked": "Your appointment is booked. A confirmation is on its way by email.",
    "moved": "Your appointment has been moved. A new confirmation is on its way by email.",
    "cancelled": "Your appointment has been cancelled.",
}


@bp.before_request
def _rate_limit():
    """Counts the request against its link; over the limit, a 429 page and nothing else happens."""
    token = (request.view_args or {}).get("token")
    if token is not None and not ratelimit.hit(token):
        return _page(
            "public/selfservice/problem.html",
            429,
            title="Too many requests",
            message="This link has been used too often in the last minute. Please wait a minute and try again.",
        )
    return None


def _page(template: str, status: int = 200, **ctx):
    phone = current_app.config.get("CLINIC_PHONE")
    return render_template(template, phone=phone, **ctx), status


def _bad_link(exc: links.BadLink):
    """400 for a forged or foreign link, 410 for one that has run out; nothing is changed."""
    db.session.rollback()
    status = 410 if exc.expired else 400
    title = "This link has expired" if exc.expired else "This link is not valid"
    return _page("public/selfservice/problem.html", status, title=title, message=str(exc), expired=exc.expired)


def _when(value: str | None) -> datetime | None:
    """A start from the query or form: ISO 8601 with an offset, in a sane range; else None."""
    if not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or not 2000 <= moment.year <= 2200:
        return None
    return moment.astimezone(UTC)


def _day(value: str | None) -> date | None:
    """A week asked for (YYYY-MM-DD); None when absent or malformed."""
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def _id(value: str | None) -> int | None:
    """A practitioner id from the query or form; None unless a plausible one."""
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _invalid_time():
    return _page(
        "public/selfservice/problem.html",
        400,
        title="That time is not valid",
        message="Please go back and pick one of the times offered.",
    )


# ---- self-booking from a re-treatment reminder -------------------------------------------------


@bp.get("/book/<token>")
def book_page(token: str):
    """The week of free times for the track's treatment, or the appointment that already closed it."""
    try:
        track = links.read_booking(token)
    except links.BadLink as exc:
        return _bad_link(exc)
    return _book_week(token, track)


def _book_week(token: str, track: links.Track, *, status: int = 200, error: str | None = None, nearest=None):
    booked = actions.booked_for(track)
    if booked is not None:
        link = links.appointment_link_for(booked, track.patient)
        return _page(
            "public/selfservice/booked.html",
            status,
            appt=booked,
            manage_url=link,
            done=DONE.get(request.args.get("done", "")),
        )
    choices = picker.practitioners()
    chosen = picker.choose(choices, _id(request.values.get("pr")), track.patient.id, track.treatment.id)
    week = (
        picker.week(track.patient.id, track.treatment, chosen, _day(request.args.get("week")))
        if chosen and track.treatment.active
        else None
    )
    return _page(
        "public/selfservice/book.html",
        status,
        token=token,
        track=track,
        week=week,
        choices=choices,
        error=error,
        nearest=nearest or [],
    )


@bp.get("/book/<token>/confirm")
def book_confirm(token: str):
    """The summary of a chosen time, with the one button that books it."""
    try:
        track = links.read_booking(token)
    except links.BadLink as exc:
        return _bad_link(exc)
    starts_at, chosen = _when(request.args.get("at")), _id(request.args.get("pr"))
    practitioner = next((p for p in picker.practitioners() if p.id == chosen), None)
    if starts_at is None or practitioner is None:
        return _invalid_time()
    if actions.booked_for(track) is not None:
        return _book_week(token, track)
    return _page(
        "public/selfservice/confirm.html", token=token, track=track, practitioner=practitioner, starts_at=starts_at
    )


@bp.post("/book/<token>")
def book(token: str):
    """Books the chosen time through the booking path; a refusal shows why (and nearby free times)."""
    starts_at, chosen = _when(request.form.get("at")), _id(request.form.get("pr"))
    if starts_at is None or chosen is None:
        db.session.rollback()
        return _invalid_time()
    try:
        actions.book(token, chosen, starts_at)
        db.session.commit()
    except links.BadLink as exc:
        return _bad_link(exc)
    except ServiceError as exc:
        db.session.rollback()
        return _book_refused(token, exc, chosen, starts_at)
    return redirect(url_for(".book_page", token=token, done="booked"), code=303)


def _book_refused(token: str, exc: ServiceError, practitioner_id: int, starts_at: datetime):
    """The week again with the reason; a time just taken also lists the nearest free ones."""
    track = links.read_booking(token)
    nearest = []
    if exc.code in ("slot_taken", "patient_busy"):
        practitioner = next((p for p in picker.practitioners() if p.id == practitioner_id), None)
        if practitioner is not None:
            nearest = [
                (practitioner, s) for s in picker.nearest(track.patient.id, track.treatment, practitioner, starts_at)
            ]
    message = "Sorry, that time has just been taken." if exc.code == "slot_taken" else exc.message
    return _book_week(token, track, status=exc.status, error=message, nearest=nearest)


# ---- change or cancel an appointment -----------------------------------------------------------


@bp.get("/appointment/<token>")
def appointment_page(token: str):
    """The appointment, and (before the cut-off) other free times and a cancel button."""
    try:
        appt = links.read_appointment(token)
    except links.BadLink as exc:
        return _bad_link(exc)
    return _appointment(token, appt)


def _appointment(token: str, appt, *, status: int = 200, error: str | None = None, nearest=None):
    changeable = actions.changeable(appt)
    week = None
    if changeable:  # the picker opens on the appointment's own week
        asked = _day(request.args.get("week")) or clock.local_date(appt.starts_at)
        week = picker.week(appt.patient_id, appt.treatment, appt.practitioner, asked)
    done = DONE.get(request.args.get("done", ""))
    cutoff = current_app.config["PATIENT_CHANGE_CUTOFF_HOURS"]
    return _page(
        "public/selfservice/appointment.html",
        status,
        token=token,
        appt=appt,
        week=week,
        changeable=changeable,
        cutoff=cutoff,
        done=done,
        error=error,
        nearest=nearest or [],
    )


@bp.get("/appointment/<token>/move")
def move_confirm(token: str):
    """The summary of a move: from when to when, with the one button that makes it."""
    try:
        appt = links.read_appointment(token)
    except links.BadLink as exc:
        return _bad_link(exc)
    starts_at = _when(request.args.get("at"))
    if starts_at is None:
        return _invalid_time()
    if not actions.changeable(appt):
        return _appointment(token, appt)
    return _page("public/selfservice/move.html", token=token, appt=appt, starts_at=starts_at)


@bp.post("/appointment/<token>/move")
def move(token: str):
    """Moves the appointment (booking.operations.reschedule); a refusal shows why."""
    starts_at = _when(request.form.get("at"))
    if starts_at is None:
        db.session.rollback()
        return _invalid_time()
    try:
        actions.move(token, starts_at)
        db.session.commit()
    except links.BadLink as exc:
        return _bad_link(exc)
    except ServiceError as exc:
        db.session.rollback()
        appt = links.read_appointment(token)
        nearest = []
        if exc.code in ("slot_taken", "patient_busy"):
            nearest = [
                (appt.practitioner, s)
                for s in picker.nearest(appt.patient_id, appt.treatment, appt.practitioner, starts_at)
            ]
        message = "Sorry, that time has just been taken." if exc.code == "slot_taken" else exc.message
        return _appointment(token, appt, status=exc.status, error=message, nearest=nearest)
    return redirect(url_for(".appointment_page", token=token, done="moved"), code=303)


@bp.get("/appointment/<token>/cancel")
def cancel_confirm(token: str):
    """Asks once more before cancelling."""
    try:
        appt = links.read_appointment(token)
    except links.BadLink as exc:
        return _bad_link(exc)
    if not actions.changeable(appt):
        return _appointment(token, appt)
    return _page("public/selfservice/cancel.html", token=token, appt=appt)


@bp.post("/appointment/<token>/cancel")
def cancel(token: str):
    """Cancels the appointment (the status change path); too late or already cancelled: a message."""
    try:
        actions.cancel(token)
        db.session.commit()
    except links.BadLink as exc:
        return _bad_link(exc)
    except ServiceError as exc:
        db.session.rollback()
        return _appointment(token, links.read_appointment(token), status=exc.status, error=exc.message)
    return redirect(url_for(".appointment_page", token=token, done="cancelled"), code=303)
