"""API: patients and their sessions."""

from __future__ import annotations

from scheduler.patients import corrections, sessions
from scheduler.patients import records as patients
from scheduler.records import erasure, export
from scheduler.web.api.appointment_schemas import SessionIn, SessionOut, SessionPatch, VoidIn
from scheduler.web.api.consent_schemas import EraseIn
from scheduler.web.api.core import endpoint
from scheduler.web.api.schemas import PatientIn, PatientOut, PatientPatch, PatientQuery


@endpoint("GET", "/patients", query=PatientQuery, response=PatientOut, many=True)
def list_patients(user, query: PatientQuery):
    """Finds patients by name, email, phone or date of birth (`q`)."""
    return patients.search(query.q, limit=query.limit, offset=query.offset)


@endpoint("POST", "/patients", body=PatientIn, response=PatientOut, status=201)
def create_patient(user, body: PatientIn):
    """Registers a patient."""
    return patients.create(body.model_dump(), actor=user, via="api")


@endpoint("GET", "/patients/{patient_id}", response=PatientOut, errors=(404,))
def get_patient(user, patient_id: int):
    """One patient."""
    return patients.get(patient_id)


@endpoint("PATCH", "/patients/{patient_id}", body=PatientPatch, response=PatientOut, errors=(404,))
def update_patient(user, patient_id: int, body: PatientPatch):
    """Edits a patient; a withdrawn consent (`consents`, `reminders_opt_in: false`) ends the emails it covered."""
    return patients.update(patient_id, body.model_dump(exclude_unset=True), actor=user, via="api")


@endpoint("GET", "/patients/{patient_id}/sessions", response=SessionOut, many=True, errors=(404,))
def list_sessions(user, patient_id: int):
    """A patient's sessions, newest first."""
    return sessions.list_for_patient(patient_id)


@endpoint(
    "POST",
    "/patients/{patient_id}/sessions",
    body=SessionIn,
    response=SessionOut,
    status=201,
    errors=(403, 404, 422),
)
def record_session(user, patient_id: int, body: SessionIn):
    """Records a session done earlier or elsewhere."""
    return sessions.record_past(patient_id, actor=user, **body.model_dump())


@endpoint("GET", "/patients/{patient_id}/export", role="admin", errors=(404,))
def export_patient(user, patient_id: int):
    """Every row about the patient (details, consents, appointments, sessions, emails, audit events)."""
    return export.collect(patient_id)


@endpoint("POST", "/patients/{patient_id}/erase", role="admin", body=EraseIn, response=PatientOut, errors=(404, 409))
def erase_patient(user, patient_id: int, body: EraseIn):
    """Erases the patient's personal details (`reason`, `confirm: true`); 409 `future_appointment`."""
    return erasure.erase(patient_id, body.reason, actor=user)


@endpoint("PATCH", "/sessions/{session_id}", body=SessionPatch, response=SessionOut, errors=(403, 404, 409, 422))
def correct_session(user, session_id: int, body: SessionPatch):
    """Corrects units, lot, expiry, sites or notes of a session (audited; 409 voided)."""
    changes = body.model_dump(exclude_unset=True)
    reason = changes.pop("override_reason", None)
    return corrections.edit(session_id, changes, actor=user, override_reason=reason)


@endpoint("POST", "/sessions/{session_id}/void", body=VoidIn, response=SessionOut, errors=(404, 409))
def void_session(user, session_id: int, body: VoidIn):
    """Voids a session recorded in error, with a reason: it no longer counts anywhere."""
    return corrections.void(session_id, actor=user, reason=body.reason)
