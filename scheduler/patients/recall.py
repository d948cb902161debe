"""The recall list: patients whose re-treatment window is open or overdue and who have not booked.

A (patient, treatment) pair is due when the re-treatment window of the patient's
latest session of that treatment has opened (the patient's own window when a clinician set one,
else the treatment's), and the patient has no booked or checked-in appointment of that treatment
from today on.

It is a work queue: each item carries the latest call to the patient (scheduler.patients.contacts);
those to call now come first, then those waiting for their call-back day, then those who said they
would book, then those who declined (scheduler.domain.recall_calls.queue_rank).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from scheduler.domain import recall_calls
from scheduler.domain.plan import retreatment_window
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, PatientInterval, RecallContact, Treatment, TreatmentSession
from scheduler.patients import contacts
from scheduler.reminders import planning
from scheduler.services import clock


@dataclass
class RecallItem:
    """One patient due for one treatment."""

    patient: Patient
    treatment: Treatment
    last_session_on: date
    due_on: date
    closes_on: date
    #: the day the list was made for
    as_of: date
    #: the latest call to the patient, if any
    last_call: RecallContact | None = field(default=None)

    @property
    def overdue(self) -> bool:
        """Whether the reminder window has closed (last session + remind_until is past)."""
        return self.closes_on < self.as_of

    @property
    def days_since_due(self) -> int:
        """How many days ago the window opened."""
        return (self.as_of - self.due_on).days

    @property
    def next_call_back(self) -> date | None:
        """The day to call again, when the latest call asked for one."""
        return self.last_call.call_back_on if self.last_call is not None else None

    @property
    def rank(self) -> int:
        """The item's place in the queue (recall_calls.CALL_NOW first)."""
        call = self.last_call
        return recall_calls.queue_rank(call.outcome if call else None, self.next_call_back, self.as_of)


def due_list(today: date | None = None, *, treatment_id: int | None = None, limit: int = 500) -> list[RecallItem]:
    """Who is due, soonest due date first (then by name)."""
    today = today or clock.today()
    last = (
        select(
            TreatmentSession.patient_id,
            TreatmentSession.treatment_id,
            func.max(TreatmentSession.performed_on).label("last_on"),
        )
        .where(TreatmentSession.performed_on <= today, TreatmentSession.counts())
        .group_by(TreatmentSession.patient_id, TreatmentSession.treatment_id)
        .subquery()
    )
    stmt = (
        select(Patient, Treatment, last.c.last_on)
        .join(last, last.c.patient_id == Patient.id)
        .join(Treatment, Treatment.id == last.c.treatment_id)
        .where(Treatment.active.is_(True), Patient.erased_at.is_(None))  # an erased patient has no one to call
    )
    if treatment_id is not None:
        stmt = stmt.where(Treatment.id == treatment_id)
    booked = _booked_pairs(today)
    own = {(w.patient_id, w.treatment_id): w for w in db.session.scalars(select(PatientInterval))}
    items = []
    for patient, treatment, last_on in db.session.execute(stmt):
        if (patient.id, treatment.id) in booked:
            continue
        window = retreatment_window(last_on, planning.intervals(treatment, own.get((patient.id, treatment.id))))
        if window.opens > today:
            continue
        items.append(RecallItem(patient, treatment, last_on, window.opens, window.closes, today))
    calls = contacts.latest(i.patient.id for i in items)
    for item in items:
        item.last_call = calls.get(item.patient.id)
    items.sort(
        key=lambda i: (i.rank, i.due_on, i.patient.last_name.lower(), i.patient.first_name.lower(), i.patient.id)
    )
    return items[:limit]


def _booked_pairs(today: date) -> set[tuple[int, int]]:
    """(patient, treatment) pairs with a booked or checked-in appointment from today on."""
    start = clock.day_bounds(today)[0]
    stmt = select(Appointment.patient_id, Appointment.treatment_id).where(
        Appointment.status.in_(("booked", "checked_in")), Appointment.starts_at >= start
    )
    return {(p, t) for p, t in db.session.execute(stmt)}
