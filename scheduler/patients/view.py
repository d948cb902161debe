"""Read-only views of one patient for the patient page: appointments and re-treatment status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from scheduler.booking import clinical
from scheduler.domain import safety, toxins
from scheduler.domain.plan import retreatment_window
from scheduler.extensions import db
from scheduler.models import Appointment, Reminder, Treatment, TreatmentSession
from scheduler.patients import intervals
from scheduler.reminders import planning
from scheduler.services import clock

#: statuses of an appointment that is still to happen
PENDING = ("booked", "checked_in")


@dataclass
class ReminderLine:
    """One planned re-treatment reminder, as the patient page shows it."""

    due_at: datetime | None
    status: str
    sent_at: datetime | None


@dataclass
class Retreatment:
    """Where a patient stands with one treatment: last session, safety date and reminder window."""

    treatment: Treatment
    last_session: TreatmentSession
    #: first day a session of the same product is allowed (the product's latest session + interval)
    earliest_safe: date
    window_opens: date
    window_closes: date
    #: "booked", "not_due", "open" or "overdue"
    state: str
    next_booking: Appointment | None = None
    #: the patient's own window for this treatment, set by a clinician (None: the treatment's)
    own_window: object | None = None
    reminders: list[ReminderLine] = field(default_factory=list)


def appointments(patient_id: int) -> tuple[list[Appointment], list[Appointment]]:
    """The patient's upcoming appointments (soonest first) and the others (newest first)."""
    stmt = (
        select(Appointment)
        .options(joinedload(Appointment.practitioner), joinedload(Appointment.treatment))
        .where(Appointment.patient_id == patient_id)
    )
    rows = list(db.session.scalars(stmt))
    today_start = clock.day_bounds(clock.today())[0]
    upcoming = [a for a in rows if a.status in PENDING and a.ends_at > today_start]
    upcoming.sort(key=lambda a: (a.starts_at, a.id))
    ids = {a.id for a in upcoming}
    past = [a for a in rows if a.id not in ids]
    past.sort(key=lambda a: (a.starts_at, a.id), reverse=True)
    return upcoming, past


def sessions(patient_id: int) -> list[TreatmentSession]:
    """The patient's sessions, newest first, with their treatments loaded."""
    stmt = (
        select(TreatmentSession)
        .options(joinedload(TreatmentSession.treatment))
        .where(TreatmentSession.patient_id == patient_id)
        .order_by(TreatmentSession.performed_on.desc(), TreatmentSession.id.desc())
    )
    return list(db.session.scalars(stmt))


def usual_treatment(patient_id: int) -> Treatment | None:
    """The treatment to offer first when booking the patient: that of their latest session (the
    one their recall entry names), else of their latest appointment; only a treatment still offered."""
    for s in sessions(patient_id):
        if s.treatment.active:
            return s.treatment
    stmt = (
        select(Treatment)
        .join(Appointment, Appointment.treatment_id == Treatment.id)
        .where(Appointment.patient_id == patient_id, Treatment.active.is_(True))
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
    )
    return db.session.scalars(stmt.limit(1)).first()


def retreatment(patient_id: int, today: date | None = None) -> list[Retreatment]:
    """The re-treatment status of every treatment the patient has had, soonest window first."""
    today = today or clock.today()
    history = sessions(patient_id)
    latest: dict[int, TreatmentSession] = {}
    for s in history:  # newest first: the first counted one seen is the latest
        if s.voided_at is None:
            latest.setdefault(s.treatment_id, s)
    upcoming, _ = appointments(patient_id)
    reminders = _reminders_by_session(patient_id, [s.id for s in latest.values()])
    windows = intervals.for_patient(patient_id)  # a clinician's window for this patient, by treatment
    result = []
    for treatment_id, last in latest.items():
        treatment = last.treatment
        own = windows.get(treatment_id)
        window = retreatment_window(last.performed_on, planning.intervals(treatment, own))
        booked = next((a for a in upcoming if a.treatment_id == treatment_id), None)
        last_of_toxin = clinical.last_session_of_toxin(patient_id, treatment.toxin)
        result.append(
            Retreatment(
                treatment=treatment,
                last_session=last,
                earliest_safe=safety.earliest_safe_date(last_of_toxin, treatment.min_interval_days),
                window_opens=window.opens,
                window_closes=window.closes,
                state=window.state(today, booked=booked is not None),
                next_booking=booked,
                own_window=own,
                reminders=reminders.get(last.id, []),
            )
        )
    result.sort(key=lambda r: (r.window_opens, r.treatment.name))
    return result


def last_session_of_toxin(patient_id: int, toxin: str) -> date | None:
    """The patient's latest counted session date of any treatment of one toxin (for the booking form)."""
    return clinical.last_session_of_toxin(patient_id, toxin)


def _reminders_by_session(patient_id: int, session_ids: list[int]) -> dict[int, list[ReminderLine]]:
    """The re-treatment reminders of these sessions, grouped by session."""
    if not session_ids:
        return {}
    stmt = (
        select(Reminder)
        .where(Reminder.patient_id == patient_id, Reminder.kind == "retreatment", Reminder.session_id.in_(session_ids))
        .order_by(Reminder.due_at)
    )
    grouped: dict[int, list[ReminderLine]] = {}
    for row in db.session.scalars(stmt):
        grouped.setdefault(row.session_id, []).append(
            ReminderLine(due_at=row.due_at, status=row.status, sent_at=row.sent_at)
        )
    return grouped


def treatment_sites(treatment: Treatment) -> list[str]:
    """The treatment's usual injection sites, offered as choices when a session is recorded."""
    return toxins.site_list(treatment.usual_sites)


@dataclass(frozen=True)
class DoseStatus:
    """How much of a toxin's rolling limit a patient has received around a day."""

    toxin: str
    units: float
    max_units: float
    period_days: int


def dose_status(patient_id: int, treatment: Treatment, day: date) -> DoseStatus | None:
    """The patient's highest rolling total of the treatment's toxin in windows holding `day`, and
    the limit; None when the toxin has no limit."""
    found = clinical.dose_in_window(patient_id, treatment, day, 0.0)
    if found is None:
        return None
    peak, limit = found
    return DoseStatus(limit.name, peak, float(limit.max_units), int(limit.period_days))
