"""API: the waitlist (list, add, remove)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from scheduler.waitlist import entries
from scheduler.web.api.core import endpoint
from scheduler.web.api.schemas import Day, Id, In, Out, OutInstant


class WaitlistQuery(In):
    patient_id: Id | None = None
    treatment_id: Id | None = None
    status: Literal["waiting", "booked", "removed"] = "waiting"
    limit: int = Field(default=500, ge=1, le=5000)


class WaitlistIn(In):
    patient_id: Id
    treatment_id: Id
    #: null: any practitioner
    practitioner_id: Id | None = None
    from_date: Day
    until_date: Day


class WaitlistOut(Out):
    """A patient waiting for a slot of a treatment, with a practitioner (null: any), between two local dates."""

    id: int
    patient_id: int
    treatment_id: int
    practitioner_id: int | None
    from_date: date
    until_date: date
    status: Literal["waiting", "booked", "removed"]
    appointment_id: int | None
    created_at: OutInstant


@endpoint("GET", "/waitlist", query=WaitlistQuery, response=WaitlistOut, many=True)
def list_waitlist(user, query: WaitlistQuery):
    """Waitlist entries in the order offers go out (who joined first); filters by patient, treatment, status."""
    return entries.listing(
        patient_id=query.patient_id, treatment_id=query.treatment_id, status=query.status, limit=query.limit
    )


@endpoint("POST", "/waitlist", body=WaitlistIn, response=WaitlistOut, status=201, errors=(422,))
def add_to_waitlist(user, body: WaitlistIn):
    """Puts a patient on the waitlist; 422 for unknown ids, an inactive treatment or unusable dates."""
    return entries.add(actor=user, **body.model_dump())


@endpoint("GET", "/waitlist/{entry_id}", response=WaitlistOut, errors=(404,))
def get_waitlist_entry(user, entry_id: int):
    """One waitlist entry."""
    return entries.get(entry_id)


@endpoint("POST", "/waitlist/{entry_id}/remove", response=WaitlistOut, errors=(404, 409))
def remove_from_waitlist(user, entry_id: int):
    """Takes a waiting patient off the list; 409 bad_transition if they are no longer waiting."""
    return entries.remove(entry_id, actor=user)
