"""What the patients' pages share: the page and error answers, reading a time, a week, an id."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app, render_template

from scheduler.extensions import db
from scheduler.selfservice import links
from scheduler.services import clock
from scheduler.web.patient_links import bp

#: banners a page may show after a redirect (anything else in `done` is ignored)
DONE = {
    "booked": "Your appointment is booked. A confirmation is on its way by email.",
    "moved": "Your appointment has been moved. A new confirmation is on its way by email.",
    "cancelled": "Your appointment has been cancelled.",
    "waitlisted": "You are on our waitlist. If a time frees up on those days, we will email you a link to take it.",
}


@bp.app_template_filter("local_day")
def local_day(instant: datetime) -> str:
    """ "Mon 8 Mar": an instant's clinic day, short."""
    day = clock.local_date(instant)
    return f"{day:%a} {day.day} {day:%b}"


def page(template: str, status: int = 200, **ctx):
    """A patient page with the clinic's phone number."""
    return render_template(template, phone=current_app.config.get("CLINIC_PHONE"), **ctx), status


def bad_link(exc: links.BadLink):
    """400 for a forged or foreign link, 410 for one that has run out; nothing is changed."""
    db.session.rollback()
    status = 410 if exc.expired else 400
    title = "This link has expired" if exc.expired else "This link is not valid"
    return page("public/selfservice/problem.html", status, title=title, message=str(exc), expired=exc.expired)


def invalid_time():
    """400 for a time that is not one the pages offer (malformed, no offset, absurd)."""
    db.session.rollback()
    return page(
        "public/selfservice/problem.html",
        400,
        title="That time is not valid",
        message="Please go back and pick one of the times offered.",
    )


def when(value: str | None) -> datetime | None:
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


def day(value: str | None) -> date | None:
    """A week asked for (YYYY-MM-DD); None when absent or malformed."""
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def ident(value: str | None) -> int | None:
    """A practitioner id from the query or form; None unless a plausible one."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None
