"""Sessions recorded afterwards: done earlier, or at another clinic."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from scheduler.booking import clinical
from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import Patient, Treatment, TreatmentSession, User
from scheduler.reminders import planning
from scheduler.services import audit, clock
from scheduler.services.errors import NotFound, Rejected


def list_for_patient(patient_id: int) -> list[TreatmentSession]:
    """A patient's sessions, newest first."""
    if db.session.get(Patient, patient_id) is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    stmt = (
        select(TreatmentSession)
        .where(TreatmentSession.patient_id == patient_id)
        .order_by(TreatmentSession.performed_on.desc(), TreatmentSession.id.desc())
    )
    return list(db.session.scalars(stmt))


def record_past(
    patient_id: int,
    *,
    actor: User | None,
    treatment_id: int,
    performed_on: date,
    units: float | None = None,
    lot_number: str | None = None,
    product: str | None = None,
    lot_expiry: date | None = None,
    sites: str | None = None,
    notes: str | None = None,
    external: bool = False,
    override_reason: str | None = None,
) -> TreatmentSession:
    """Records a session done earlier or elsewhere (never in the future); the safety interval then
    counts it. Inside the toxin's safety interval, over its dose limit or with a lot expired before
    that day it is refused, unless an admin overrides with a reason."""
    begin_write()
    overrides = clinical.Overrides(actor, override_reason)
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    treatment = db.session.get(Treatment, treatment_id)
    if treatment is None:
        raise Rejected(
            f"There is no treatment with id {treatment_id}.",
            code="invalid_reference",
            fields={"treatment_id": "no such treatment"},
        )
    if performed_on > clock.today():
        raise Rejected(
            "A session cannot be recorded for a future date.",
            code="in_future",
            fields={"performed_on": "in the future"},
        )
    session = clinical.new_session(
        overrides,
        treatment,
        patient_id=patient.id,
        performed_on=performed_on,
        units=units,
        lot_number=lot_number,
        lot_expiry=lot_expiry,
        product=product,
        sites=sites,
        notes=notes,
        external=external,
    )
    audit.record(
        "session.recorded",
        "session",
        session.id,
        actor,
        {
            "patient_id": patient.id,
            "treatment_id": treatment.id,
            "performed_on": performed_on.isoformat(),
            "external": external,
            "lot_number": lot_number,
        },
    )
    overrides.record("session", session.id)
    planning.session_recorded(session)
    return session


def patients_by_lot(lot_number: str) -> list[TreatmentSession]:
    """Every session given from a lot (a product recall), oldest first: case aside, and every lot
    starting with what was typed ("c1003" finds C1003C1 and C1003C2), so a recall never gets a
    false zero from how the number was written down."""
    typed = lot_number.strip().upper()
    if not typed:
        return []
    escaped = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = (
        select(TreatmentSession)
        .options(joinedload(TreatmentSession.patient), joinedload(TreatmentSession.treatment))
        .where(func.upper(TreatmentSession.lot_number).like(f"{escaped}%", escape="\\"))
        .order_by(TreatmentSession.performed_on, TreatmentSession.id)
    )
    return list(db.session.scalars(stmt))


def of_appointment(appointment_id: int) -> TreatmentSession | None:
    """The session recorded when an appointment was completed, if it was."""
    return db.session.scalar(select(TreatmentSession).where(TreatmentSession.appointment_id == appointment_id))
