"""Per-patient re-treatment windows: a clinician notes that a patient's effect wears off sooner or later."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.catalog import operations as catalog
from scheduler.db import begin_write
from scheduler.domain import durations
from scheduler.extensions import db
from scheduler.models import PatientInterval, User
from scheduler.patients import records as patients
from scheduler.reminders import planning
from scheduler.services import audit
from scheduler.services.errors import Rejected


def for_patient(patient_id: int) -> dict[int, PatientInterval]:
    """The patient's own windows, by treatment id."""
    rows = db.session.scalars(select(PatientInterval).where(PatientInterval.patient_id == patient_id))
    return {r.treatment_id: r for r in rows}


def set_window(
    patient_id: int, treatment_id: int, remind_from: str, remind_until: str, note: str, *, actor: User | None
) -> PatientInterval:
    """Sets the patient's window for a treatment (never below its safety minimum) and re-plans their reminders."""
    begin_write()
    patient = patients.get(patient_id)
    treatment = catalog.get_treatment(treatment_id)
    problems = durations.validate_interval(
        min_interval_days=treatment.min_interval_days,
        remind_from=remind_from,
        remind_until=remind_until,
        reminder_count=treatment.reminder_count,
        follow_up_after=None,
    )
    if problems:
        raise Rejected("That window is not allowed.", code="invalid_interval", fields=problems)
    remind_from, remind_until = remind_from.strip(), remind_until.strip()
    row = for_patient(patient.id).get(treatment.id)
    before = (row.remind_from, row.remind_until) if row else (treatment.remind_from, treatment.remind_until)
    if row is None:
        row = PatientInterval(patient_id=patient.id, treatment_id=treatment.id)
        db.session.add(row)
    row.remind_from, row.remind_until, row.note = remind_from, remind_until, note.strip()[:2000]
    row.set_by_id = actor.id if actor else None
    db.session.flush()
    audit.record(
        "patient.interval_set",
        "patient",
        patient.id,
        actor,
        {"treatment_id": treatment.id, "from": list(before), "to": [remind_from, remind_until], "note": row.note},
    )
    planning.reconcile_tracks(patient.id, treatment.id)
    return row


def clear_window(patient_id: int, treatment_id: int, *, actor: User | None) -> None:
    """Returns the patient to the treatment's usual window and re-plans their reminders."""
    begin_write()
    row = for_patient(patient_id).get(treatment_id)
    if row is None:
        return
    audit.record(
        "patient.interval_cleared",
        "patient",
        patient_id,
        actor,
        {"treatment_id": treatment_id, "was": [row.remind_from, row.remind_until]},
    )
    db.session.delete(row)
    db.session.flush()
    planning.reconcile_tracks(patient_id, treatment_id)
