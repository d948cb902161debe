"""Pages patients reach from links in their emails (no sign-in).

`/p/unsubscribe/<token>`: GET shows a confirmation page (link scanners that follow GETs change
nothing): from a re-treatment reminder, "stop these reminders" (that treatment kind only) and
"stop all emails" as a second choice; from any other email, "stop all emails". POST unsubscribes
(`choice=all` stops all emails; without it, what the email's link stands for). The POST also
serves RFC 8058 one-click unsubscribe from mail providers, which cannot carry a CSRF token: the
view is CSRF-exempt, and the signed token in the URL is what authorises it. A forged or expired
link gets a 4xx page and changes nothing.
"""

from __future__ import annotations

from email.utils import parseaddr

from flask import Blueprint, current_app, render_template, request

from scheduler.extensions import csrf, db
from scheduler.reminders import unsubscribe as links

bp = Blueprint("public", __name__, url_prefix="/p")


def _bad_link(exc: links.BadLink):
    """The page for a forged (400) or expired (410) link."""
    status = 410 if exc.expired else 400
    return render_template("public/link_error.html", message=str(exc), expired=exc.expired, status=status), status


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """Asks the patient to confirm what to stop: these reminders, or all emails."""
    try:
        scope = links.scope_for(token)
    except links.BadLink as exc:
        return _bad_link(exc)
    return render_template(
        "public/unsubscribe.html",
        token=token,
        scope=scope,
        already=scope.already(False),
        all_stopped=scope.already(True),
    )


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token: str):
    """Unsubscribes the patient (one click, RFC 8058, or the page's buttons); the pending emails it covered end."""
    stop_all = request.form.get("choice") == "all"
    try:
        scope = links.unsubscribe(token, stop_all=stop_all)
        db.session.commit()
    except links.BadLink as exc:
        db.session.rollback()
        return _bad_link(exc)
    kind_only = not stop_all and scope.email_kind == "retreatment" and scope.treatment_kind is not None
    return render_template("public/unsubscribed.html", token=token, scope=scope, kind_only=kind_only)


@bp.get("/book")
def book():
    """How to book the next appointment (the call to action of every email)."""
    cfg = current_app.config
    reply_to = parseaddr(cfg["MAIL_DEFAULT_SENDER"])[1]
    return render_template("public/book.html", phone=cfg.get("CLINIC_PHONE"), reply_to=reply_to)
