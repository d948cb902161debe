"""Corrections to a recorded session: edit what was recorded, or void it, with the reminders kept true.

Both are audited with what changed. An edit keeps the session's date and treatment; its new
units and lot expiry meet the same safety rules as a new session (the toxin's dose limit, an
expired lot), which an admin may set aside with a reason. A voided session stays on record, marked
with who voided it, when and why, but no longer counts: it drives no reminders, and neither the
safety interval nor the dose limit sees it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from scheduler.booking import clinical
from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import TreatmentSession, User
from scheduler.reminders import planning
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict, NotFound, Rejected

#: what an edit may change
EDITABLE = ("units", "lot_number", "lot_expiry", "sites", "notes")


def get_session(session_id: int, *, for_update: bool = False) -> TreatmentSession:
    """Loads a session or raises NotFound."""
    stmt = select(TreatmentSession).where(TreatmentSession.id == session_id)
    if for_update:
        stmt = stmt.with_for_update()
    session = db.session.scalars(stmt).first()
    if session is None:
        raise NotFound(f"There is no session with id {session_id}.")
    return session


def _open(session_id: int) -> TreatmentSession:
    """A session that may still be corrected (not voided), locked for the change."""
    session = get_session(session_id, for_update=True)
    if session.voided_at is not None:
        raise Conflict("This session was voided; it can no longer be changed.", code="voided")
    return session


def _plain(value: Any) -> Any:
    """A value as the audit log's JSON keeps it."""
    return value.isoformat() if isinstance(value, date) else value


def edit(
    session_id: int, changes: dict[str, Any], *, actor: User | None, override_reason: str | None = None
) -> TreatmentSession:
    """Corrects units, lot number, lot expiry, sites or notes of a session (audited, before and after)."""
    begin_write()
    overrides = clinical.Overrides(actor, override_reason)
    session = _open(session_id)
    changes = {k: v for k, v in changes.items() if k in EDITABLE}
    changed = {k: v for k, v in changes.items() if getattr(session, k) != v}
    if not changed:
        return session
    if "units" in changed:
        clinical.check_dose(
            overrides,
            session.patient_id,
            session.treatment,
            session.performed_on,
            changed["units"],
            exclude_session_id=session.id,
        )
    if "lot_expiry" in changed:
        clinical.check_lot(overrides, changed["lot_expiry"], session.performed_on)
    before = {k: _plain(getattr(session, k)) for k in changed}
    for key, value in changed.items():
        setattr(session, key, value)
    if overrides.used:
        session.override_reason = override_reason
    db.session.flush()
    audit.record(
        "session.corrected",
        "session",
        session.id,
        actor,
        {"patient_id": session.patient_id, "changed": {k: [before[k], _plain(v)] for k, v in changed.items()}},
    )
    overrides.record("session", session.id)
    planning.session_recorded(session)
    return session


def void(session_id: int, *, actor: User | None, reason: str) -> TreatmentSession:
    """Voids a session recorded in error, saying why: its pending reminders are cancelled and the
    tracks of the patient's other sessions of that treatment re-planned."""
    begin_write()
    if not (reason or "").strip():
        raise Rejected("Say why the session is voided.", code="reason_required", fields={"reason": "required"})
    session = _open(session_id)
    session.voided_at = clock.now()
    session.void_reason = reason.strip()
    db.session.flush()
    audit.record(
        "session.voided",
        "session",
        session.id,
        actor,
        {
            "patient_id": session.patient_id,
            "performed_on": session.performed_on.isoformat(),
            "lot_number": session.lot_number,
            "units": session.units,
            "reason": session.void_reason,
        },
    )
    planning.session_recorded(session)
    return session
