"""Demo data for the recall list: patients whose re-treatment is due now, a few of them already called.

The four weeks of demo appointments reach nearly every demo patient, so without these the recall
list of a fresh demo would be empty.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from scheduler.extensions import db
from scheduler.models import Patient, RecallContact, Treatment, TreatmentSession, User
from scheduler.reminders import planning
from scheduler.services import clock

#: (first name, last name, days since the last session, treatment index in the catalogue)
DUE = [
    ("Margaret", "Ellis", 95, 0),
    ("Tomasz", "Nowak", 101, 1),
    ("Fatima", "Rahman", 120, 2),
    ("Eleanor", "Price", 96, 3),
    ("Kwame", "Mensah", 140, 0),
    ("Ines", "Carvalho", 160, 3),
    ("Declan", "Murphy", 110, 1),
    ("Yuki", "Tanaka", 175, 2),
    ("Rosa", "Bianchi", 200, 0),  # window closed: overdue
    ("Callum", "Reid", 215, 3),  # window closed: overdue
]
#: calls already made: (index in DUE, days ago, outcome, call back in days, note)
CALLS = [
    (1, 3, "no_answer", None, "Rang twice, no voicemail"),
    (2, 2, "call_back", 2, "At work until Thursday; call after 5pm"),
    (4, 1, "call_back", 0, "Asked to be called back today"),
    (6, 5, "declined", None, "Moving away; will book elsewhere"),
]


def seed_due_patients(rng: random.Random, treatments: list[Treatment], today: date) -> None:
    """Adds the patients of DUE with their last session (reminders planned) and the calls of CALLS."""
    patients = []
    for i, (first, last, days_ago, which) in enumerate(DUE):
        treatment = treatments[which]
        patient = Patient(
            first_name=first,
            last_name=last,
            email=f"{first}.{last}.recall{i}@example.net".lower(),
            phone=f"07700 8{i:05d}",
            date_of_birth=date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50)),
            reminders_opt_in=True,
        )
        db.session.add(patient)
        db.session.flush()
        session = TreatmentSession(
            patient_id=patient.id,
            treatment_id=treatment.id,
            performed_on=today - timedelta(days=days_ago),
            product=treatment.product,
            units=float(rng.choice([20, 50, 100, 155])),
            lot_number=f"C{rng.randint(900, 999)}C1",
            sites="per protocol",
        )
        db.session.add(session)
        db.session.flush()
        planning.session_recorded(session)
        patients.append((patient, treatment))
    caller = db.session.query(User).filter_by(email="reception@example.com").one_or_none()
    now = clock.now()
    for index, days_ago, outcome, back_in, note in CALLS:
        patient, treatment = patients[index]
        db.session.add(
            RecallContact(
                patient_id=patient.id,
                treatment_id=treatment.id,
                at=now - timedelta(days=days_ago),
                outcome=outcome,
                call_back_on=today + timedelta(days=back_in) if back_in is not None else None,
                note=note,
                by_id=caller.id if caller else None,
            )
        )
    db.session.flush()
