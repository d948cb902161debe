"""Staff work the waitlist: add a patient (treatment, practitioner or any, a date range), list, remove.

Each operation flushes and is audited; the caller commits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from scheduler.domain import waitlist as rules
from scheduler.extensions import db
from scheduler.models import Patient, Practitioner, Treatment, User, WaitlistEntry
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict, NotFound, Rejected


def _exists(model, ident: int | None, field: str, label: str):
    """The referenced row, or a 422 naming the field."""
    row = db.session.get(model, ident) if ident is not None else None
    if row is None:
        raise Rejected(
            f"There is no {label} with id {ident}.", code="invalid_reference", fields={field: f"no such {label}"}
        )
    return row


def add(
    *,
    patient_id: int,
    treatment_id: int,
    practitioner_id: int | None,
    from_date: date,
    until_date: date,
    actor: User | None,
    actor_label: str | None = None,
) -> WaitlistEntry:
    """Puts a patient on the waitlist for a treatment, a practitioner (None: any) and local dates (both
    included); `actor_label` names a non-staff actor in the audit log (the patient, by link)."""
    _exists(Patient, patient_id, "patient_id", "patient")
    treatment = _exists(Treatment, treatment_id, "treatment_id", "treatment")
    if not treatment.active:
        raise Rejected("That treatment is no longer offered.", code="inactive", fields={"treatment_id": "inactive"})
    if practitioner_id is not None:
        _exists(Practitioner, practitioner_id, "practitioner_id", "practitioner")
    problems = rules.wish_problems(from_date, until_date, clock.today())
    if problems:
        why = "; ".join(f"the {'last' if k == 'until_date' else 'first'} date is {v}" for k, v in problems.items())
        raise Rejected(f"Those dates cannot be used: {why}.", code="bad_dates", fields=problems)
    entry = WaitlistEntry(
        patient_id=patient_id,
        treatment_id=treatment_id,
        practitioner_id=practitioner_id,
        from_date=from_date,
        until_date=until_date,
        status="waiting",
        created_by_id=actor.id if actor else None,
        created_at=clock.now(),
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "waitlist.added",
        "waitlist_entry",
        entry.id,
        actor,
        {
            "patient_id": patient_id,
            "treatment_id": treatment_id,
            "practitioner_id": practitioner_id,
            "from": from_date.isoformat(),
            "until": until_date.isoformat(),
        },
        actor_label=actor_label,
    )
    return entry


def get(entry_id: int) -> WaitlistEntry:
    """One entry, or NotFound."""
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None:
        raise NotFound(f"There is no waitlist entry with id {entry_id}.")
    return entry


def listing(
    *, patient_id: int | None = None, treatment_id: int | None = None, status: str | None = "waiting", limit: int = 500
) -> list[WaitlistEntry]:
    """Entries in the order offers go out (who joined first), with their patient, treatment and practitioner."""
    stmt = select(WaitlistEntry).options(
        joinedload(WaitlistEntry.patient), joinedload(WaitlistEntry.treatment), joinedload(WaitlistEntry.practitioner)
    )
    if status is not None:
        stmt = stmt.where(WaitlistEntry.status == status)
    if patient_id is not None:
        stmt = stmt.where(WaitlistEntry.patient_id == patient_id)
    if treatment_id is not None:
        stmt = stmt.where(WaitlistEntry.treatment_id == treatment_id)
    return list(db.session.scalars(stmt.order_by(WaitlistEntry.created_at, WaitlistEntry.id).limit(limit)))


def remove(entry_id: int, *, actor: User | None, actor_label: str | None = None) -> WaitlistEntry:
    """Takes a waiting patient off the list (409 if they are no longer waiting)."""
    entry = get(entry_id)
    if entry.status != "waiting":
        raise Conflict(f"That entry is no longer waiting (it is {entry.status}).", code="bad_transition")
    entry.status = "removed"
    db.session.flush()
    audit.record(
        "waitlist.removed", "waitlist_entry", entry.id, actor, {"patient_id": entry.patient_id}, actor_label=actor_label
    )
    return entry
