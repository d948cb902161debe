"""Erasing a patient's personal details (GDPR article 17) while keeping the clinical record.

What goes: name (replaced by "Erased patient #id"), email, phone, date of birth, the unsubscribe
key, free text typed about them (session notes, booking override and cancel reasons, notes on their
own re-treatment window), their words in the audit log (any of their name, email or phone inside an
event's details becomes "[erased]"), and the email bodies the local outbox kept. Every consent is
withdrawn (via "erasure") and every pending email cancelled. What stays: the patient row (by id),
appointments, sessions with product, units and lot (lot search then shows "Erased patient #id"),
email metadata and the audit events, for the clinic's retention duty and product recalls.

Refused with 409 while the patient holds a booked or checked-in appointment that has not ended:
cancel it first.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Text, cast, func, or_, select, update

from scheduler.db import begin_write
from scheduler.domain.consent import TOPICS
from scheduler.domain.reconcile import HOLDING
from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Patient, Reminder, TreatmentSession, User
from scheduler.models.patient_interval import PatientInterval
from scheduler.models.recall_contact import RecallContact
from scheduler.models.waitlist import WaitlistEntry
from scheduler.patients import consents, records
from scheduler.records.export import audit_about
from scheduler.reminders import mail
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict

ERASED = "[erased]"
CANCELLED = "the patient's record was erased"


def _scrub(value: Any, secrets: list[str]) -> Any:
    """The value with every secret (case aside) inside its strings replaced by ERASED."""
    if isinstance(value, str):
        lowered = value.lower()
        return ERASED if any(s.lower() in lowered for s in secrets) else value
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    return value


def _secrets(patient: Patient) -> list[str]:
    """The patient's identifying strings, as they may appear in text."""
    found = [patient.first_name, patient.last_name, patient.full_name, patient.email or "", patient.phone or ""]
    return sorted({s.strip() for s in found if s and len(s.strip()) >= 2}, key=len, reverse=True)


def erase(patient_id: int, reason: str, *, actor: User | None) -> Patient:
    """Erases the patient's personal details (see the module's notes); flushes, the caller commits."""
    begin_write()
    patient = records.get(patient_id)
    if patient.erased_at is not None:
        raise Conflict(f"Patient #{patient_id} was already erased.", code="already_erased")
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.patient_id == patient_id, Appointment.status.in_(HOLDING), Appointment.ends_at > clock.now())
    )
    if ahead:
        raise Conflict(
            f"Patient #{patient_id} has {ahead} appointment{'s' if ahead != 1 else ''} still ahead: cancel "
            f"{'them' if ahead != 1 else 'it'} first.",
            code="future_appointment",
        )
    secrets = _secrets(patient)
    consents.record(patient, dict.fromkeys(TOPICS, False), via="erasure", actor=actor, action=None)
    db.session.execute(
        update(Reminder)
        .where(Reminder.patient_id == patient_id, Reminder.status == "pending")
        .values(status="cancelled", reason=CANCELLED, updated_at=clock.now())
    )
    appt_ids = list(db.session.scalars(select(Appointment.id).where(Appointment.patient_id == patient_id)))
    session_ids = list(db.session.scalars(select(TreatmentSession.id).where(TreatmentSession.patient_id == patient_id)))
    _free_text(patient_id)
    _audit_log(patient_id, appt_ids, session_ids, secrets)
    _outbox(patient_id)
    patient.first_name, patient.last_name = "Erased", f"patient #{patient_id}"
    patient.email = patient.phone = patient.date_of_birth = patient.unsubscribe_key = None
    patient.erased_at = clock.now()
    db.session.flush()
    audit.record("patient.erased", "patient", patient_id, actor, {"reason": _scrub(reason, secrets)})
    return patient


def _free_text(patient_id: int) -> None:
    """Typed text about the patient becomes ERASED (nulls stay null); their waitlist entries end, so
    no offer goes to them."""
    db.session.execute(update(TreatmentSession).where(TreatmentSession.patient_id == patient_id).values(notes=None))
    for model, column in (
        (Appointment, Appointment.override_reason),
        (Appointment, Appointment.cancel_reason),
        (TreatmentSession, TreatmentSession.override_reason),
        (TreatmentSession, TreatmentSession.void_reason),
    ):
        db.session.execute(
            update(model).where(model.patient_id == patient_id, column.is_not(None)).values({column.key: ERASED})
        )
    db.session.execute(
        update(RecallContact)
        .where(RecallContact.patient_id == patient_id, RecallContact.note != "")
        .values(note=ERASED)
    )
    db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.patient_id == patient_id, WaitlistEntry.status == "waiting")
        .values(status="removed", updated_at=clock.now())
    )
    db.session.execute(update(PatientInterval).where(PatientInterval.patient_id == patient_id).values(note=ERASED))


def _audit_log(patient_id: int, appt_ids: list[int], session_ids: list[int], secrets: list[str]) -> None:
    """The patient's name, email and phone inside audit details become ERASED: in the events about them
    and in any other event whose details spell one of them."""
    text = cast(AuditEvent.details, Text)
    spelled = [text.ilike(f"%{json.dumps(s)[1:-1]}%") for s in secrets]
    events = list(db.session.scalars(audit_about(patient_id, appt_ids, session_ids)))
    if spelled:
        events += db.session.scalars(select(AuditEvent).where(or_(*spelled)))
    for event in {e.id: e for e in events}.values():
        scrubbed = _scrub(event.details or {}, secrets)
        if scrubbed != event.details:
            event.details = scrubbed


def _outbox(patient_id: int) -> None:
    """Deletes the email files the local outbox kept for the patient (they carry name and address)."""
    for message_id in db.session.scalars(select(Reminder.message_id).where(Reminder.patient_id == patient_id)):
        mail.remove_outbox(message_id)
