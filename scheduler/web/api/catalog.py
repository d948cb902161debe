"""API: treatments and practitioners."""

from __future__ import annotations

from scheduler.catalog import operations as catalog
from scheduler.web.api.core import endpoint
from scheduler.web.api.schemas import (
    PractitionerIn,
    PractitionerOut,
    PractitionerPatch,
    TreatmentIn,
    TreatmentOut,
    TreatmentPatch,
    TreatmentPatched,
)


@endpoint("GET", "/treatments", response=TreatmentOut, many=True)
def list_treatments(user):
    """The treatment catalogue."""
    return catalog.list_treatments()


@endpoint("GET", "/treatments/{treatment_id}", response=TreatmentOut, errors=(404,))
def get_treatment(user, treatment_id: int):
    """One treatment."""
    return catalog.get_treatment(treatment_id)


@endpoint("POST", "/treatments", role="admin", body=TreatmentIn, response=TreatmentOut, status=201, errors=(409, 422))
def create_treatment(user, body: TreatmentIn):
    """Adds a catalogue entry (admin); interval fields validated as docs/rules.md says."""
    return catalog.create_treatment(body.model_dump(), actor=user)


@endpoint(
    "PATCH",
    "/treatments/{treatment_id}",
    role="admin",
    body=TreatmentPatch,
    response=TreatmentPatched,
    errors=(404, 409, 422),
)
def update_treatment(user, treatment_id: int, body: TreatmentPatch):
    """Edits a treatment (admin); new interval fields re-plan its pending reminders, and the
    answer says how many (`reminders_replanned`)."""
    treatment, moved = catalog.update_treatment(treatment_id, body.model_dump(exclude_unset=True), actor=user)
    return TreatmentOut.model_validate(treatment).model_dump() | {"reminders_replanned": moved}


@endpoint("GET", "/practitioners", response=PractitionerOut, many=True)
def list_practitioners(user):
    """Practitioners with their working hours."""
    return catalog.list_practitioners()


@endpoint("GET", "/practitioners/{practitioner_id}", response=PractitionerOut, errors=(404,))
def get_practitioner(user, practitioner_id: int):
    """One practitioner."""
    return catalog.get_practitioner(practitioner_id)


@endpoint(
    "POST", "/practitioners", role="admin", body=PractitionerIn, response=PractitionerOut, status=201, errors=(422,)
)
def create_practitioner(user, body: PractitionerIn):
    """Adds a practitioner (admin)."""
    return catalog.create_practitioner(body.model_dump(), actor=user)


@endpoint(
    "PATCH",
    "/practitioners/{practitioner_id}",
    role="admin",
    body=PractitionerPatch,
    response=PractitionerOut,
    errors=(404, 422),
)
def update_practitioner(user, practitioner_id: int, body: PractitionerPatch):
    """Edits a practitioner's details or working hours (admin)."""
    return catalog.update_practitioner(practitioner_id, body.model_dump(exclude_unset=True), actor=user)
