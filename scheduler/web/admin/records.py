"""Admin: the audit log and the lot search (product recalls)."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, render_template, request, url_for

from scheduler.domain.audit_text import Part
from scheduler.models import TreatmentSession
from scheduler.patients import sessions
from scheduler.services import audit, audit_view
from scheduler.web.admin import bp
from scheduler.web.args import text_arg
from scheduler.web.csv_export import csv_response
from scheduler.web.reception.filters import local_when

PAGE = 100
#: the page of each kind of record an audit sentence links to
_PAGES = {
    "patient": ("reception.patient", "patient_id"),
    "appointment": ("reception.appointment", "appointment_id"),
    "treatment": ("admin.treatment_edit", "treatment_id"),
    "practitioner": ("admin.practitioner_edit", "practitioner_id"),
    "user": ("admin.staff_user", "user_id"),
}


def _linked(parts: list[Part]) -> list[tuple[str, str | None]]:
    """A sentence as (text, link or None) pieces."""
    out: list[tuple[str, str | None]] = []
    for part in parts:
        if isinstance(part, str):
            out.append((part, None))
        else:
            page = _PAGES.get(part.kind)
            out.append((part.label, url_for(page[0], **{page[1]: part.id}) if page else None))
    return out


def _date_arg(name: str) -> date | None:
    """An optional YYYY-MM-DD query argument between the years 1900 and 2200; anything else is a 400."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name} must be a date (YYYY-MM-DD).")
    if not 1900 <= day.year <= 2200:
        abort(400, description=f"{name} must be a date between the years 1900 and 2200.")
    return day


@bp.get("/audit")
def audit_log():
    """The audit log, newest first, filtered by action, actor, entity and dates."""
    action, actor, entity = text_arg("action", 60), text_arg("actor", 254), text_arg("entity", 40)
    since, until = _date_arg("from"), _date_arg("to")
    page = request.args.get("page", "1")
    page_no = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    rows = audit.search(
        action=action,
        actor=actor,
        entity=entity,
        since=since,
        until=until,
        limit=PAGE + 1,
        offset=(page_no - 1) * PAGE,
    )
    return render_template(
        "admin/audit.html",
        events=list(zip(rows[:PAGE], [_linked(x) for x in audit_view.sentences(rows[:PAGE], local_when)], strict=True)),
        has_more=len(rows) > PAGE,
        page=page_no,
        filters={
            "action": action,
            "actor": actor,
            "entity": entity,
            "from": since.isoformat() if since else "",
            "to": until.isoformat() if until else "",
        },
    )


@bp.get("/lots")
def lots():
    """Every patient who received a lot, with dates and units; ?format=csv downloads it."""
    lot = text_arg("lot", 64, label="lot number")
    found: list[TreatmentSession] = []
    if lot:
        found = sessions.patients_by_lot(lot)
    if lot and request.args.get("format") == "csv":
        return _csv(lot, found)
    return render_template("admin/lots.html", lot=lot, sessions=found)


def _csv(lot: str, found: list[TreatmentSession]) -> Response:
    """The recall list as CSV."""
    header = [
        "lot_number",
        "performed_on",
        "patient_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "product",
        "units",
        "lot_expiry",
        "treatment",
        "external",
    ]
    rows = (
        [
            s.lot_number,
            s.performed_on.isoformat(),
            s.patient.id,
            s.patient.first_name,
            s.patient.last_name,
            s.patient.email or "",
            s.patient.phone or "",
            s.product,
            "" if s.units is None else f"{s.units:g}",
            s.lot_expiry.isoformat() if s.lot_expiry else "",
            s.treatment.name,
            "yes" if s.external else "no",
        ]
        for s in found
    )
    safe = "".join(ch for ch in lot if ch.isalnum() or ch in "-_") or "lot"
    return csv_response(f"lot-{safe}.csv", header, rows)
