"""Pages patients reach from links in their emails (no sign-in).

`/p/unsubscribe/<token>`: GET shows a confirmation page with one button (link scanners that
follow GETs change nothing); POST unsubscribes. The POST also serves RFC 8058 one-click
unsubscribe from mail providers, which cannot carry a CSRF token: the view is CSRF-exempt, and
the signed token in the URL is what authorises it. A forged or expired link gets a 4xx page and
changes nothing.
"""

from __future__ import annotations

from email.utils import parseaddr

from flask import Blueprint, current_app, render_template

from scheduler.extensions import csrf, db
from scheduler.reminders import unsubscribe as links

bp = Blueprint("public", __name__, url_prefix="/p")


def _bad_link(exc: links.BadToken):
    """The page for a forged (400) or expired (410) link."""
    status = 410 if exc.expired else 400
    return render_template("public/link_error.html", message=str(exc), expired=exc.expired, status=status), status


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """Asks the patient to confirm they want no more reminder emails."""
    try:
        patient = links.patient_for(token)
    except links.BadToken as exc:
        return _bad_link(exc)
    return render_template("public/unsubscribe.html", token=token, already=not patient.reminders_opt_in)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """Unsubscribes the patient (one click, RFC 8058): every pending reminder of theirs ends."""
    try:
        links.unsubscribe(token)
        db.session.commit()
    except links.BadToken as exc:
        db.session.rollback()
        return _bad_link(exc)
    return render_template("public/unsubscribed.html")


@bp.get("/book")
def book():
    """How to book the next appointment (the call to action of every email)."""
    cfg = current_app.config
    reply_to = parseaddr(cfg["MAIL_DEFAULT_SENDER"])[1]
    return render_template("public/book.html", phone=cfg.get("CLINIC_PHONE"), reply_to=reply_to)
