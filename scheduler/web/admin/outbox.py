"""Admin: the outbox of reminder emails, one email's real rendering, and sending a failed one again."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import escape

from scheduler.extensions import db
from scheduler.models import REMINDER_KINDS, REMINDER_STATUSES
from scheduler.patients import records as patients
from scheduler.reminders import heartbeat
from scheduler.reminders import outbox as reminders
from scheduler.services.errors import ServiceError
from scheduler.web.admin import bp
from scheduler.web.args import text_arg

PAGE = 100
#: a patient filter typed as a name covers at most this many matching patients
MATCHED_PATIENTS = 50
#: the email's own HTML, framed by the detail page: no scripts, no network, its own origin
EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    """An optional filter that must be one of the allowed values; anything else is a 400."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        abort(400, description=f"{name} must be one of: {', '.join(allowed)}.")
    return value


@bp.get("/outbox")
def outbox():
    """Every email with kind, patient, due time, status, attempts, next attempt and reason; filters."""
    status, kind = _choice("status", REMINDER_STATUSES), _choice("kind", REMINDER_KINDS)
    patient = text_arg("patient", 120, label="patient")
    matched = None
    if patient.isdigit() and not 0 < int(patient) < 2**31:
        abort(400, description="A patient id must be between 1 and 2147483647.")
    if patient and not patient.isdigit():
        matched = patients.search(patient, limit=MATCHED_PATIENTS)
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    filters = dict(
        status=status,
        kind=kind,
        patient_id=int(patient) if patient.isdigit() else None,
        patient_ids=[p.id for p in matched] if matched is not None else None,
    )
    rows = reminders.search(limit=PAGE + 1, offset=(page_no - 1) * PAGE, newest_first=True, **filters)
    args = {k: v for k, v in (("status", status), ("kind", kind), ("patient", patient)) if v}
    return render_template(
        "admin/outbox.html",
        rows=rows[:PAGE],
        has_more=len(rows) > PAGE,
        page=page_no,
        args=args,
        matched=matched,
        total=reminders.count(**filters),
        counts=reminders.status_counts(),
        kinds=REMINDER_KINDS,
        statuses=REMINDER_STATUSES,
        last_sweep=heartbeat.last(),
        sweeps=heartbeat.recent(5),
    )


@bp.get("/outbox/<int:reminder_id>")
def outbox_message(reminder_id: int):
    """One email: its state, headers, text, HTML (framed, sandboxed) and attachments."""
    reminder = _get(reminder_id)
    return render_template("admin/outbox_message.html", r=reminder, **reminders.shown(reminder))


@bp.get("/outbox/<int:reminder_id>/html")
def outbox_html(reminder_id: int):
    """The email's HTML part alone, for the detail page's sandboxed frame (or why there is none)."""
    view = reminders.shown(_get(reminder_id))
    resp = make_response(view["html"] if view["problem"] is None else f"<p>{escape(view['problem'])}</p>")
    resp.headers["Content-Type"] = "text/html; charset=utf-8"
    resp.headers["Content-Security-Policy"] = EMAIL_CSP
    return resp


@bp.post("/outbox/<int:reminder_id>/resend")
def outbox_resend(reminder_id: int):
    """Queues a failed email again; the next sweep inside send hours sends it."""
    try:
        reminders.resend(reminder_id, actor=current_user)
        db.session.commit()
        flash("Queued again: the next sweep inside send hours sends it.", "success")
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
    return redirect(url_for("admin.outbox_message", reminder_id=reminder_id))


def _get(reminder_id: int):
    """The reminder or a 404 page."""
    try:
        return reminders.get(reminder_id)
    except ServiceError:
        abort(404, description="There is no such email.")
