"""Demo data: the catalogue of docs/rules.md, practitioners, patients and four weeks of appointments."""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from scheduler import seed_recall
from scheduler.domain import slots
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, Practitioner, Toxin, Treatment, TreatmentSession
from scheduler.reminders import planning
from scheduler.services import clock
from scheduler.staff import users

CATALOGUE = [
    dict(
        name="Chronic migraine",
        usual_sites="corrugator\nprocerus\nfrontalis\ntemporalis\noccipitalis\ncervical paraspinal\ntrapezius",
        kind="therapeutic",
        product="BOTOX",
        toxin="onabotulinumtoxinA",
        duration_minutes=30,
        min_interval_days=84,
        remind_from="P12W",
        remind_until="P6M",
        reminder_count=3,
        follow_up_after=None,
        buffer_minutes=10,
    ),
    dict(
        name="Cervical dystonia (torticollis)",
        usual_sites="sternocleidomastoid\nsplenius capitis\ntrapezius\nlevator scapulae\nscalenes",
        kind="therapeutic",
        product="BOTOX",
        toxin="onabotulinumtoxinA",
        duration_minutes=30,
        min_interval_days=84,
        remind_from="P12W",
        remind_until="P6M",
        reminder_count=3,
        follow_up_after="P4W",
        buffer_minutes=10,
    ),
    dict(
        name="Chronic pain (back, neck, neuropathic)",
        usual_sites="paraspinal\ntrapezius\nquadratus lumborum\ngluteus medius\nintradermal (painful area)",
        kind="therapeutic",
        product="BOTOX",
        toxin="onabotulinumtoxinA",
        duration_minutes=30,
        min_interval_days=84,
        remind_from="P3M",
        remind_until="P6M",
        reminder_count=3,
        follow_up_after="P4W",
        buffer_minutes=10,
    ),
    dict(
        name="Cosmetic lines (glabellar, forehead, crow's feet)",
        usual_sites="glabella (procerus and corrugators)\nfrontalis\nlateral canthal lines (crow's feet)",
        kind="cosmetic",
        product="BOTOX Cosmetic",
        toxin="onabotulinumtoxinA",  # the same toxin as BOTOX: one safety interval, one dose limit
        duration_minutes=20,
        min_interval_days=90,
        remind_from="P3M",
        remind_until="P6M",
        reminder_count=3,
        follow_up_after="P14D",
        buffer_minutes=0,
    ),
]
#: the demo's toxin limits (docs/rules.md): onabotulinumtoxinA at most 400 U in any 90 days
TOXINS = [dict(name="onabotulinumtoxinA", max_units=400, period_days=90)]

#: enough patients to fill four weeks while keeping each one's sessions of a toxin 12+ weeks apart
PATIENTS = 245
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
PRACTITIONERS = [
    ("Dr Amelia Hart", "a.hart@example.com", WEEKDAYS),
    ("Dr Rohan Mehta", "r.mehta@example.com", {**WEEKDAYS, "fri": [["09:00", "13:00"]]}),
    (
        "Nurse Grace Okafor",
        "g.okafor@example.com",
        {d: [["10:00", "18:00"]] for d in ("mon", "tue", "thu", "fri", "sat")},
    ),
    (
        "Dr Lucas Moreau",
        "l.moreau@example.com",
        {d: [["08:30", "12:30"], ["13:30", "17:30"]] for d in ("tue", "wed", "thu")},
    ),
]
FIRST = (  # noqa: SIM905 (one name list, kept short)
    "Olivia Amelia Isla Ava Mia Ivy Lily Freya Sophie Grace Noah Oliver George Arthur Leo "
    "Harry Oscar Archie Henry Theo Priya Aisha Wei Sven Maria Chloe Daniel Samuel Hannah "
    "Zara"
).split()
LAST = (  # noqa: SIM905
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson "
    "Evans Walker White Roberts Green Hall Wood Jackson Clarke Khan Lewis Harris Martin "
    "Cooper King Lee Baker Turner Hughes Edwards"
).split()


def is_empty() -> bool:
    """Whether the database has no clinic data yet."""
    return (db.session.scalar(select(func.count()).select_from(Treatment)) or 0) == 0


def seed_demo(seed: int = 7) -> dict[str, str]:
    """Loads the demo clinic; returns the demo users' passwords. The caller commits."""
    rng = random.Random(seed)
    treatments = [Treatment(active=True, **row) for row in CATALOGUE]
    db.session.add_all(Toxin(**row) for row in TOXINS)
    practitioners = [Practitioner(name=n, email=e, working_hours=h, active=True) for n, e, h in PRACTITIONERS]
    db.session.add_all(treatments + practitioners)
    passwords = {}
    for email, role in (("admin@example.com", "admin"), ("reception@example.com", "receptionist")):
        passwords[email] = secrets.token_urlsafe(12)
        users.create(email, role, passwords[email], name=role.title(), actor_label="seed")
    patients = []
    for i in range(PATIENTS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        patients.append(
            Patient(
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{i}@example.net".lower(),
                phone=f"07700 9{i:05d}",
                date_of_birth=date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50)),
                reminders_opt_in=rng.random() > 0.05,
            )
        )
    db.session.add_all(patients)
    db.session.flush()
    _appointments(rng, treatments, practitioners, patients)
    seed_recall.seed_due_patients(rng, treatments, clock.today())
    return passwords


def _appointments(rng, treatments, practitioners, patients) -> None:
    """Two weeks back and two weeks ahead, about two thirds of each day booked.

    Patients are picked so that the demo keeps the clinic's own rules: nobody in two places at
    once, and no two sessions of one toxin closer than the treatment's minimum interval.
    """
    tz = clock.clinic_tz()
    today = clock.today()
    now = clock.now()
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    product_days: dict[tuple[int, str], list[date]] = {}
    positions = []
    for offset in range(-14, 15):
        day = today + timedelta(days=offset)
        for prac in practitioners:
            for start, end in slots.working_intervals(day, slots.parse_working_hours(prac.working_hours), tz):
                cursor = start
                while cursor + timedelta(minutes=30) <= end:
                    positions.append((day, prac, cursor, end))
                    cursor += timedelta(minutes=30)
    # Today first, so the demo's "today" is a full day; the rest in random order, so that the
    # patients are shared out evenly between the past and the coming fortnight.
    todays = [p for p in positions if p[0] == today]
    others = [p for p in positions if p[0] != today]
    rng.shuffle(others)
    for day, prac, cursor, end in todays + others:
        treatment = rng.choice(treatments)
        length = timedelta(minutes=treatment.duration_minutes)
        if rng.random() >= 0.35 and cursor + length <= end:
            patient = _free_patient(rng, patients, busy, product_days, treatment, cursor, length, day)
            if patient is not None:
                busy.setdefault(patient.id, []).append((cursor, cursor + length))
                product_days.setdefault((patient.id, treatment.toxin), []).append(day)
                _one(rng, patient, prac, treatment, cursor, length, now, today)
    _history(rng, treatments, [p for p in patients if p.id not in busy], today)


def _free_patient(rng, patients, busy, product_days, treatment, start, length, day):
    """A random patient free at that time and not treated with that toxin too recently."""
    for _ in range(30):
        patient = rng.choice(patients)
        if any(s < start + length and start < e for s, e in busy.get(patient.id, [])):
            continue
        days = product_days.get((patient.id, treatment.toxin), [])
        if all(abs((day - d).days) >= treatment.min_interval_days for d in days):
            return patient
    return None


def _history(rng, treatments, patients, today: date) -> None:
    """Earlier sessions (some at other clinics) for patients not seen in the four weeks.

    They give the recall list and the re-treatment reminders something to work on.
    """
    for patient in patients:
        if rng.random() < 0.3:
            continue
        treatment = rng.choice(treatments)
        session = TreatmentSession(
            patient_id=patient.id,
            treatment_id=treatment.id,
            appointment_id=None,
            performed_on=today - timedelta(days=rng.randint(30, 200)),
            product=treatment.product,
            units=float(rng.choice([20, 50, 100, 155])),
            lot_number=f"C{rng.randint(900, 999)}C1",
            external=rng.random() < 0.2,
            sites="per protocol",
        )
        db.session.add(session)
        db.session.flush()
        planning.session_recorded(session)


def _one(rng, patient, prac, treatment, start, length, now, today) -> None:
    """One demo appointment, completed with a session when it is in the past."""
    status = "booked"
    if clock.local_date(start) == today and start <= now < start + length + timedelta(minutes=45):
        status = "checked_in"  # in the chair now, or done but not yet completed at the desk
    elif start + length <= now:
        status = rng.choices(["completed", "cancelled", "no_show"], weights=[85, 10, 5])[0]
    appt = Appointment(
        patient=patient, practitioner=prac, treatment=treatment, starts_at=start, ends_at=start + length, status=status
    )
    db.session.add(appt)
    db.session.flush()
    if status == "completed":
        session = TreatmentSession(
            patient_id=patient.id,
            treatment_id=treatment.id,
            appointment_id=appt.id,
            performed_on=clock.local_date(start),
            product=treatment.product,
            units=float(rng.choice([20, 25, 40, 50, 100, 155, 195])),
            lot_number=f"C{rng.randint(1000, 1009)}C{rng.randint(1, 3)}",
            lot_expiry=today + timedelta(days=rng.randint(60, 500)),
            sites="per protocol",
        )
        db.session.add(session)
        db.session.flush()
        planning.appointment_changed("completed", appt, session)
    elif status in ("booked", "checked_in"):
        planning.appointment_changed("seeded", appt)  # booked long ago: no confirmation now
