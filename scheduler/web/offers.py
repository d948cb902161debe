"""The offer page of the waitlist: `/p/offer/<token>` (from the email; no sign-in).

GET shows the offered time and one button (link scanners that follow GETs change nothing);
the POST (with its CSRF token) books it through the one booking path. A forged link gets a 400
page, one whose time has started a 410 page with the clinic's phone number; neither changes
anything. Someone faster gets the time: the page says so and the patient stays on the list.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for

from scheduler.extensions import db
from scheduler.services.errors import Conflict, ServiceError
from scheduler.services.signed_links import BadLink
from scheduler.waitlist import offers
from scheduler.web.patient_links import rate_limit

bp = Blueprint("offers", __name__, url_prefix="/p/offer")
bp.before_request(rate_limit)  # PATIENT_LINK_RATE_PER_MINUTE requests per link, as for every patient link


def _bad_link(exc: BadLink):
    """The page for a forged (400) or expired (410) offer link."""
    status = 410 if exc.expired else 400
    return (
        render_template(
            "public/offer_error.html",
            message=str(exc),
            expired=exc.expired,
            status=status,
            phone=current_app.config.get("CLINIC_PHONE"),
        ),
        status,
    )


def _page(token: str, offer: offers.Offer, status: int = 200, problem: str | None = None):
    return (
        render_template(
            "public/offer.html", offer=offer, token=token, problem=problem, phone=current_app.config.get("CLINIC_PHONE")
        ),
        status,
    )


@bp.get("/<token>")
def offer(token: str):
    """The offered time, and a button to take it."""
    try:
        return _page(token, offers.read(token))
    except BadLink as exc:
        return _bad_link(exc)


@bp.post("/<token>")
def take(token: str):
    """Takes the offered time (first come, first served)."""
    try:
        offers.take(token)
        db.session.commit()
    except BadLink as exc:
        db.session.rollback()
        return _bad_link(exc)
    except ServiceError as exc:
        db.session.rollback()
        try:
            offer = offers.read(token)
        except BadLink as bad:
            return _bad_link(bad)
        taken = isinstance(exc, Conflict) and exc.code in ("taken", "slot_taken")
        return _page(token, offer, exc.status, None if taken else exc.message)
    return redirect(url_for("offers.offer", token=token), 303)
