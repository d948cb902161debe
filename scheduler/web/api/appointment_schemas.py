"""Pydantic schemas of the appointments and sessions API (the shared types are in schemas.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
)

from scheduler.web.api.schemas import Day, Id, In, Instant, Lot, Notes, Out, OutInstant, Reason, Text80, Units

# --- appointments -------------------------------------------------------------------------


class AvailabilityQuery(In):
    practitioner_id: Id
    treatment_id: Id
    date: Day


class AvailabilityOut(BaseModel):
    slots: list[OutInstant]


class AppointmentQuery(In):
    from_: Day | Instant | None = Field(default=None, alias="from")
    to: Day | Instant | None = None
    practitioner_id: Id | None = None
    patient_id: Id | None = None
    status: Literal["booked", "checked_in", "completed", "cancelled", "no_show"] | None = None
    limit: int = Field(default=500, ge=1, le=5000)


class AppointmentIn(In):
    patient_id: Id
    practitioner_id: Id
    treatment_id: Id
    starts_at: Instant
    override_reason: Reason | None = None


class RescheduleIn(In):
    starts_at: Instant
    override_reason: Reason | None = None


class CancelIn(In):
    reason: Reason | None = None


class OverrideIn(In):
    """An admin's reason for setting a timing or safety rule aside."""

    override_reason: Reason | None = None


class CompleteIn(In):
    override_reason: Reason | None = None
    units: Units
    lot_number: Lot
    product: Text80 | None = None
    lot_expiry: Day | None = None
    sites: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    notes: Notes | None = None


class AppointmentOut(Out):
    id: int
    patient_id: int
    practitioner_id: int
    treatment_id: int
    starts_at: OutInstant
    ends_at: OutInstant
    status: str
    override_reason: str | None = None
    cancel_reason: str | None = None


# --- sessions -----------------------------------------------------------------------------


class SessionIn(In):
    treatment_id: Id
    performed_on: Day
    units: Units | None = None
    lot_number: Lot | None = None
    product: Text80 | None = None
    lot_expiry: Day | None = None
    sites: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    notes: Notes | None = None
    external: bool = False
    override_reason: Reason | None = None


class SessionPatch(In):
    """Only the fields sent are changed (`null` clears an optional one)."""

    units: Units | None = None
    lot_number: Lot | None = None
    lot_expiry: Day | None = None
    sites: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    notes: Notes | None = None
    override_reason: Reason | None = None


class VoidIn(In):
    reason: Reason


class SessionOut(Out):
    id: int
    patient_id: int
    treatment_id: int
    performed_on: date
    appointment_id: int | None
    product: str
    units: float | None
    lot_number: str | None
    lot_expiry: date | None
    sites: str | None
    external: bool
    notes: str | None = None
    override_reason: str | None = None
    voided_at: OutInstant | None = None
    void_reason: str | None = None
