"""Calls to patients on the recall list: log one with its outcome, read the latest per patient."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select

from scheduler.catalog import operations as catalog
from scheduler.db import begin_write
from scheduler.domain import recall_calls
from scheduler.extensions import db
from scheduler.models import RecallContact, User
from scheduler.patients import records as patients
from scheduler.services import audit, clock
from scheduler.services.errors import Rejected


def log_call(
    patient_id: int,
    outcome: str,
    *,
    treatment_id: int | None = None,
    call_back_on: date | None = None,
    note: str = "",
    actor: User | None,
) -> RecallContact:
    """Records a call to a patient who is due and what came of it (audited)."""
    begin_write()
    patient = patients.get(patient_id)
    treatment = catalog.get_treatment(treatment_id) if treatment_id is not None else None
    problems = recall_calls.check(outcome, call_back_on, clock.today())
    if problems:
        raise Rejected("That call cannot be recorded.", code="invalid_call", fields=problems)
    row = RecallContact(
        patient_id=patient.id,
        treatment_id=treatment.id if treatment else None,
        outcome=outcome,
        call_back_on=call_back_on,
        note=note.strip()[: recall_calls.NOTE_MAX],
        by_id=actor.id if actor else None,
    )
    db.session.add(row)
    db.session.flush()
    details = {"outcome": outcome, "treatment_id": row.treatment_id, "note": row.note}
    if call_back_on:
        details["call_back_on"] = call_back_on.isoformat()
    audit.record("patient.called", "patient", patient.id, actor, details)
    return row


def of_patient(patient_id: int, limit: int = 20) -> list[RecallContact]:
    """A patient's calls, newest first."""
    stmt = (
        select(RecallContact)
        .where(RecallContact.patient_id == patient_id)
        .order_by(RecallContact.at.desc(), RecallContact.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def latest(patient_ids: Iterable[int]) -> dict[int, RecallContact]:
    """The latest call to each of these patients (those never called are absent)."""
    ids = set(patient_ids)
    if not ids:
        return {}
    newest = (
        select(func.max(RecallContact.id))
        .where(RecallContact.patient_id.in_(ids))
        .group_by(RecallContact.patient_id)
        .scalar_subquery()
    )
    return {r.patient_id: r for r in db.session.scalars(select(RecallContact).where(RecallContact.id.in_(newest)))}
