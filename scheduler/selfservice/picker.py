"""The week picker of the patients' pages: free times, a week at a time, in clinic local time.

Shared by the self-booking page and the change page (and any other patient page that offers
times). It reads free starts through the booking room's `free_slots` and hides every day before
the safety minimum after the patient's last session of the toxin, so a time it offers is one
the booking rules accept unless someone takes it first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from scheduler.booking.availability import free_slots
from scheduler.booking.clinical import last_session_of_toxin
from scheduler.domain import safety
from scheduler.domain import selfservice as rules
from scheduler.extensions import db
from scheduler.models import Appointment, Practitioner, Treatment
from scheduler.services import clock

#: how many days around a wanted time are searched for the nearest free ones
NEAREST_DAYS = 3


@dataclass(frozen=True)
class Day:
    """One local day of the week shown: its free starts, none on a day gone by (`past`) or before
    the safety minimum (`too_soon`)."""

    day: date
    starts: list[datetime]
    past: bool
    too_soon: bool


@dataclass(frozen=True)
class Week:
    """A week of free times with one practitioner, and where the picker may go from it."""

    monday: date
    days: list[Day]
    prev: date | None
    next: date | None
    first: date
    practitioner: Practitioner

    @property
    def empty(self) -> bool:
        """Whether the week has no free time at all."""
        return not any(d.starts for d in self.days)


def first_day(patient_id: int, treatment: Treatment) -> date:
    """The first day the patient may book this treatment: today, or the safety minimum after
    their last session of the same toxin (the booking rule's own dates)."""
    today = clock.today()
    last = last_session_of_toxin(patient_id, treatment.toxin, today)
    earliest = safety.earliest_safe_date(last, treatment.min_interval_days) if last is not None else None
    return rules.first_day(today, earliest)


def week(patient_id: int, treatment: Treatment, practitioner: Practitioner, asked: date | None) -> Week:
    """The week to show (the one asked for, kept within the bookable range) and its free starts."""
    first = first_day(patient_id, treatment)
    monday = rules.shown_week(asked, first)
    prev, nxt = rules.neighbours(monday, first)
    today, days = clock.today(), []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        bookable = day >= first
        days.append(Day(day, free_slots(practitioner, treatment, day) if bookable else [], day < today, not bookable))
    return Week(monday, days, prev, nxt, first, practitioner)


def nearest(patient_id: int, treatment: Treatment, practitioner: Practitioner, around: datetime) -> list[datetime]:
    """The free starts nearest a wanted one (it was just taken): a few days either side."""
    first = first_day(patient_id, treatment)
    wanted = clock.local_date(around)
    starts: list[datetime] = []
    for offset in range(-NEAREST_DAYS, NEAREST_DAYS + 1):
        day = wanted + timedelta(days=offset)
        if day >= first:
            starts.extend(free_slots(practitioner, treatment, day))
    return rules.nearest(starts, around)


def practitioners() -> list[Practitioner]:
    """The practitioners a patient may choose, by name."""
    return list(
        db.session.scalars(select(Practitioner).where(Practitioner.active.is_(True)).order_by(Practitioner.name))
    )


def last_seen(patient_id: int, treatment_id: int) -> int | None:
    """The practitioner of the patient's latest completed appointment of a treatment (or of any)."""
    base = select(Appointment.practitioner_id).where(
        Appointment.patient_id == patient_id, Appointment.status == "completed"
    )
    order = (Appointment.starts_at.desc(), Appointment.id.desc())
    same = db.session.scalar(base.where(Appointment.treatment_id == treatment_id).order_by(*order).limit(1))
    return same if same is not None else db.session.scalar(base.order_by(*order).limit(1))


def choose(choices: list[Practitioner], asked: int | None, patient_id: int, treatment_id: int) -> Practitioner | None:
    """The practitioner whose week to show: the one asked for, else the one the patient saw last,
    else the first by name (None when nobody takes bookings)."""
    by_id = {p.id: p for p in choices}
    for wanted in (asked, last_seen(patient_id, treatment_id)):
        if wanted in by_id:
            return by_id[wanted]
    return choices[0] if choices else None
