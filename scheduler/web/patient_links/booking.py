"""`/p/book/<token>`: booking the next appointment from a re-treatment reminder's link."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import redirect, request, url_for

from scheduler.extensions import db
from scheduler.selfservice import actions, links, picker
from scheduler.services import clock
from scheduler.services.errors import ServiceError
from scheduler.web.patient_links import bp
from scheduler.web.patient_links.common import DONE, bad_link, day, ident, invalid_time, page, when


@bp.get("/book/<token>")
def book_page(token: str):
    """The week of free times for the track's treatment, or the appointment that already closed it."""
    try:
        track = links.read_booking(token)
    except links.BadLink as exc:
        return bad_link(exc)
    return _week(token, track)


def _week(
    token: str,
    track: links.Track,
    *,
    status=200,
    error=None,
    nearest=(),
    asked: date | None = None,
    wish: dict | None = None,
):
    """The booking page: the week asked for with the chosen practitioner (or the booked appointment)."""
    booked = actions.booked_for(track)
    if booked is not None:
        done = DONE.get(request.args.get("done", ""))
        manage_url = links.appointment_link_for(booked, track.patient)
        return page("public/selfservice/booked.html", status, appt=booked, manage_url=manage_url, done=done)
    choices = picker.practitioners()
    chosen = picker.choose(choices, ident(request.values.get("pr")), track.patient.id, track.treatment.id)
    week = None
    if chosen is not None and track.treatment.active:
        week = picker.week(track.patient.id, track.treatment, chosen, asked or day(request.args.get("week")))
    first = picker.first_day(track.patient.id, track.treatment)
    return page(
        "public/selfservice/book.html",
        status,
        token=token,
        track=track,
        week=week,
        choices=choices,
        error=error,
        nearest=list(nearest),
        done=DONE.get(request.args.get("done", "")),
        wish=wish or {"from": first.isoformat(), "until": (first + timedelta(days=28)).isoformat(), "pr": ""},
        first=first,
    )


@bp.get("/book/<token>/confirm")
def book_confirm(token: str):
    """The summary of a chosen time, with the one button that books it."""
    try:
        track = links.read_booking(token)
    except links.BadLink as exc:
        return bad_link(exc)
    starts_at, chosen = when(request.args.get("at")), ident(request.args.get("pr"))
    practitioner = next((p for p in picker.practitioners() if p.id == chosen), None)
    if starts_at is None or practitioner is None:
        return invalid_time()
    if actions.booked_for(track) is not None:
        return _week(token, track)
    return page(
        "public/selfservice/confirm.html", token=token, track=track, practitioner=practitioner, starts_at=starts_at
    )


@bp.post("/book/<token>")
def book(token: str):
    """Books the chosen time through the booking path; a refusal shows why (and nearby free times)."""
    starts_at, chosen = when(request.form.get("at")), ident(request.form.get("pr"))
    if starts_at is None or chosen is None:
        return invalid_time()
    try:
        actions.book(token, chosen, starts_at)
        db.session.commit()
    except links.BadLink as exc:
        return bad_link(exc)
    except ServiceError as exc:
        db.session.rollback()
        return _refused(token, exc, chosen, starts_at)
    return redirect(url_for(".book_page", token=token, done="booked"), code=303)


def _refused(token: str, exc: ServiceError, practitioner_id: int, starts_at: datetime):
    """The week of the wanted time again, with the reason; a time just taken also lists the nearest free ones."""
    track = links.read_booking(token)
    nearest: list = []
    practitioner = next((p for p in picker.practitioners() if p.id == practitioner_id), None)
    if exc.code in ("slot_taken", "patient_busy") and practitioner is not None:
        starts = picker.nearest(track.patient.id, track.treatment, practitioner, starts_at)
        nearest = [(practitioner, s) for s in starts]
    message = "Sorry, that time has just been taken." if exc.code == "slot_taken" else exc.message
    asked = clock.local_date(starts_at)
    return _week(token, track, status=exc.status, error=message, nearest=nearest, asked=asked)


@bp.post("/book/<token>/waitlist")
def join_waitlist(token: str):
    """Nothing suits: puts the patient on the waitlist for these dates (and practitioner, or any)."""
    wanted = {k: request.form.get(k, "") for k in ("from", "until", "pr")}
    from_date, until_date = day(wanted["from"]), day(wanted["until"])
    try:
        if from_date is None or until_date is None:
            track = links.read_booking(token)
            return _week(token, track, status=400, error="Please choose the first and the last day.", wish=wanted)
        actions.join_waitlist(token, ident(wanted["pr"]), from_date, until_date)
        db.session.commit()
    except links.BadLink as exc:
        return bad_link(exc)
    except ServiceError as exc:
        db.session.rollback()
        return _week(token, links.read_booking(token), status=exc.status, error=exc.message, wish=wanted)
    return redirect(url_for(".book_page", token=token, done="waitlisted"), code=303)
