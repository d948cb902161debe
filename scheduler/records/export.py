"""One patient's data, for a subject-access or portability request (GDPR articles 15 and 20).

`collect` gathers every row about the patient: details, consents, appointments, sessions (product,
units, lots), emails (metadata, and bodies where the local outbox keeps them) and the audit events
about the patient, their appointments and sessions, the recall calls and waitlist entries. The
admin page and the API serve it as a JSON file and as a printable HTML summary.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select

from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Consent, Patient, Reminder, Treatment, TreatmentSession
from scheduler.models.patient_interval import PatientInterval
from scheduler.models.recall_contact import RecallContact
from scheduler.models.waitlist import WaitlistEntry
from scheduler.patients import records
from scheduler.reminders import mail
from scheduler.services import clock

PATIENT_FIELDS = ("id", "first_name", "last_name", "email", "phone", "date_of_birth", "created_at", "updated_at")


def _plain(value: Any) -> Any:
    """A JSON-friendly value: instants and dates as ISO 8601 text."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def _body(message_id: str) -> dict[str, str] | None:
    """The stored text and HTML of an email, if the local outbox still holds it."""
    msg = mail.read_outbox(message_id)
    if msg is None:
        return None
    out = {"subject": str(msg["Subject"] or "")}
    for subtype in ("plain", "html"):
        part = msg.get_body((subtype,))
        out["text" if subtype == "plain" else "html"] = part.get_content() if part is not None else ""
    return out


def audit_about(patient_id: int, appointment_ids: list[int], session_ids: list[int]):
    """The SELECT of audit events about the patient, their appointments and their sessions (one read,
    also used by erasure)."""
    about = [and_(AuditEvent.entity_type == "patient", AuditEvent.entity_id == patient_id)]
    if appointment_ids:
        about.append(and_(AuditEvent.entity_type == "appointment", AuditEvent.entity_id.in_(appointment_ids)))
    if session_ids:
        about.append(and_(AuditEvent.entity_type == "session", AuditEvent.entity_id.in_(session_ids)))
    return select(AuditEvent).where(or_(*about)).order_by(AuditEvent.at, AuditEvent.id)


def collect(patient_id: int) -> dict[str, Any]:
    """Every row about one patient, as JSON-ready data; NotFound for an unknown id."""
    patient: Patient = records.get(patient_id)
    kinds = dict(db.session.execute(select(Treatment.id, Treatment.name)).all())
    appts = list(
        db.session.scalars(
            select(Appointment).where(Appointment.patient_id == patient_id).order_by(Appointment.starts_at)
        )
    )
    sessions = list(
        db.session.scalars(
            select(TreatmentSession)
            .where(TreatmentSession.patient_id == patient_id)
            .order_by(TreatmentSession.performed_on, TreatmentSession.id)
        )
    )
    emails = list(db.session.scalars(select(Reminder).where(Reminder.patient_id == patient_id).order_by(Reminder.id)))
    windows = list(db.session.scalars(select(PatientInterval).where(PatientInterval.patient_id == patient_id)))
    calls = db.session.scalars(select(RecallContact).where(RecallContact.patient_id == patient_id))
    wishes = db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.patient_id == patient_id))
    events = list(db.session.scalars(audit_about(patient_id, [a.id for a in appts], [s.id for s in sessions])))
    return {
        "exported_at": clock.now().isoformat(),
        "patient": _row(patient, PATIENT_FIELDS) | {"erased_at": _plain(patient.erased_at)},
        "consents": [
            _row(c, ("topic", "given", "recorded_at", "via"))
            for c in db.session.scalars(select(Consent).where(Consent.patient_id == patient_id).order_by(Consent.topic))
        ],
        "appointments": [
            _row(a, ("id", "starts_at", "ends_at", "status", "override_reason", "cancel_reason", "created_at"))
            | {"treatment": kinds.get(a.treatment_id), "practitioner": a.practitioner.name}
            for a in appts
        ],
        "sessions": [
            _row(
                s,
                (
                    *("id", "performed_on", "product", "units", "lot_number", "lot_expiry", "sites", "notes"),
                    *("external", "override_reason", "voided_at", "void_reason"),
                ),
            )
            | {"treatment": kinds.get(s.treatment_id), "appointment_id": s.appointment_id}
            for s in sessions
        ],
        "own_windows": [_row(w, ("remind_from", "remind_until", "note", "updated_at")) for w in windows],
        "calls": [_row(c, ("id", "at", "outcome", "call_back_on", "note")) for c in calls],
        "waitlist": [
            _row(w, ("id", "treatment_id", "practitioner_id", "from_date", "until_date", "status", "created_at"))
            for w in wishes
        ],
        "emails": [
            _row(
                r, ("id", "kind", "status", "due_at", "sent_at", "reason", "message_id", "appointment_id", "session_id")
            )
            | {"body": _body(r.message_id) if r.status == "sent" else None}
            for r in emails
        ],
        "audit_events": [
            _row(e, ("id", "at", "actor", "action", "entity_type", "entity_id", "details")) for e in events
        ],
    }
