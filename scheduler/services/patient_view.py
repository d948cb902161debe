"""Read-only views of one patient for the patient page: appointments and re-treatment status.

Nothing here writes. The reminders part works whether or not the reminders table exists yet:
the model is imported lazily and a missing module or table just means "no reminder data".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload

from scheduler.booking import availability
from scheduler.domain import durations, safety
from scheduler.extensions import db
from scheduler.models import Appointment, Treatment, TreatmentSession
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
    #: None when the reminders are not available (no reminders table yet)
    reminders: list[ReminderLine] | None = field(default=None)


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


def retreatment(patient_id: int, today: date | None = None) -> list[Retreatment]:
    """The re-treatment status of every treatment the patient has had, soonest window first."""
    today = today or clock.today()
    history = sessions(patient_id)
    latest: dict[int, TreatmentSession] = {}
    last_of_product: dict[str, date] = {}
    for s in history:  # newest first: the first one seen is the latest
        latest.setdefault(s.treatment_id, s)
        product = s.treatment.product
        if product not in last_of_product or s.performed_on > last_of_product[product]:
            last_of_product[product] = s.performed_on
    upcoming, _ = appointments(patient_id)
    reminders = _reminders_by_session(patient_id, [s.id for s in latest.values()])
    from scheduler.services.patient_intervals import for_patient

    own = for_patient(patient_id)
    result = []
    for treatment_id, last in latest.items():
        treatment = last.treatment
        window = own.get(treatment_id) or treatment  # a clinician's window for this patient, if any
        opens = _add(last.performed_on, window.remind_from)
        closes = _add(last.performed_on, window.remind_until)
        booked = next((a for a in upcoming if a.treatment_id == treatment_id), None)
        if booked is not None:
            state = "booked"
        elif today < opens:
            state = "not_due"
        elif today <= closes:
            state = "open"
        else:
            state = "overdue"
        result.append(
            Retreatment(
                treatment=treatment,
                last_session=last,
                earliest_safe=safety.earliest_safe_date(
                    last_of_product[treatment.product], treatment.min_interval_days
                ),
                window_opens=opens,
                window_closes=closes,
                state=state,
                next_booking=booked,
                own_window=own.get(treatment_id),
                reminders=None if reminders is None else reminders.get(last.id, []),
            )
        )
    result.sort(key=lambda r: (r.window_opens, r.treatment.name))
    return result


def last_session_of_product(patient_id: int, product: str) -> date | None:
    """The patient's latest session date of any treatment of one product (for the booking form)."""
    return availability.last_session_of_product(patient_id, product, date.max)


def _add(day: date, duration_text: str) -> date:
    """A local date plus an ISO 8601 duration, as the reminder plan computes it."""
    return durations.add_duration(day, durations.parse_duration(duration_text))


def _reminder_model() -> Any | None:
    """The Reminder model when both it and its table exist; None before the reminders feature lands."""
    try:
        from scheduler.models.reminder import Reminder  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        if not inspect(db.session.connection()).has_table(Reminder.__tablename__):
            return None
    except Exception:  # noqa: BLE001 -- an unreadable catalogue just means "no reminder data"
        return None
    return Reminder


def _reminders_by_session(patient_id: int, session_ids: list[int]) -> dict[int, list[ReminderLine]] | None:
    """The re-treatment reminders of these sessions, grouped by session; None when unavailable."""
    model = _reminder_model()
    if model is None:
        return None
    if not session_ids:
        return {}
    stmt = (
        select(model)
        .where(model.patient_id == patient_id, model.kind == "retreatment", model.session_id.in_(session_ids))
        .order_by(model.due_at)
    )
    grouped: dict[int, list[ReminderLine]] = {}
    for row in db.session.scalars(stmt):
        grouped.setdefault(row.session_id, []).append(
            ReminderLine(due_at=row.due_at, status=row.status, sent_at=getattr(row, "sent_at", None))
        )
    return grouped
