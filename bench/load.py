"""Bulk loading of a scratch clinic database for the benchmarks (Core inserts in chunks).

N appointments over as many years as it takes: 20 practitioners working weekdays 08:00-18:00
in 30-minute slots, three quarters of the slots booked, back from a busy day (BUSY_DAY) at the
end. Past appointments are completed with a session; reminders are added in proportion.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from scheduler.models import Appointment, Patient, Practitioner, Treatment, TreatmentSession
from scheduler.seed import CATALOGUE

PRACTITIONERS = 20
SLOTS_PER_DAY = 20  # 08:00-18:00 in 30-minute slots
FILL = 0.75
CHUNK = 10_000
HOURS = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def working_days_back(last: date, count: int) -> list[date]:
    """`count` weekdays ending at `last`, oldest first."""
    days, day = [], last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def load(conn, size: int, busy_day: date, tz: ZoneInfo, now: datetime, seed: int = 1) -> dict[str, int]:
    """Fills an empty, migrated database; returns row counts."""
    rng = random.Random(seed)
    conn.execute(insert(Treatment), [dict(row, active=True, created_at=now) for row in CATALOGUE])
    conn.execute(
        insert(Practitioner),
        [
            dict(
                name=f"Practitioner {i + 1}",
                email=f"p{i + 1}@example.com",
                active=True,
                working_hours=HOURS,
                created_at=now,
            )
            for i in range(PRACTITIONERS)
        ],
    )
    patients = max(200, size // 5)
    for chunk in _chunks(
        dict(
            first_name=f"First{i}",
            last_name=f"Last{i % 5000}",
            email=f"patient{i}@example.net",
            phone=f"0770{i:07d}",
            date_of_birth=date(1950, 1, 1) + timedelta(days=i % 18000),
            reminders_opt_in=True,
            created_at=now,
            updated_at=now,
        )
        for i in range(patients)
    ):
        conn.execute(insert(Patient), chunk)
    per_day = int(PRACTITIONERS * SLOTS_PER_DAY * FILL)
    days = working_days_back(busy_day, -(-size // per_day))
    counts = {"patients": patients, "appointments": 0, "sessions": 0}
    appt_rows, session_rows = [], []
    appt_id = 0
    for day in days:
        for prac in range(1, PRACTITIONERS + 1):
            for slot in range(SLOTS_PER_DAY):
                if appt_id >= size:
                    break
                if rng.random() > FILL:
                    continue
                appt_id += 1
                start = datetime.combine(day, time(8), tzinfo=tz).astimezone(UTC) + timedelta(minutes=30 * slot)
                treatment = 1 + (appt_id % 4)
                # one patient per (day, practitioner, slot) stripe: never in two places at once
                patient = 1 + ((appt_id * 7919) % patients)
                past = start + timedelta(minutes=30) <= now
                status = "completed" if past else "booked"
                appt_rows.append(
                    dict(
                        id=appt_id,
                        patient_id=patient,
                        practitioner_id=prac,
                        treatment_id=treatment,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=20 if treatment == 4 else 30),
                        status=status,
                        created_at=now,
                        updated_at=now,
                    )
                )
                if past:
                    session_rows.append(
                        dict(
                            patient_id=patient,
                            treatment_id=treatment,
                            appointment_id=appt_id,
                            performed_on=day,
                            product="BOTOX",
                            units=100.0,
                            lot_number=f"L{appt_id % 997}",
                            external=False,
                            created_at=now,
                        )
                    )
                if len(appt_rows) >= CHUNK:
                    counts["appointments"] += _flush(conn, Appointment, appt_rows)
                    counts["sessions"] += _flush(conn, TreatmentSession, session_rows)
    counts["appointments"] += _flush(conn, Appointment, appt_rows)
    counts["sessions"] += _flush(conn, TreatmentSession, session_rows)
    return counts


def _flush(conn, model, rows: list[dict]) -> int:
    """Inserts and empties a buffer of rows."""
    if not rows:
        return 0
    conn.execute(insert(model), rows)
    n = len(rows)
    rows.clear()
    return n


def _chunks(rows: Iterator[dict]) -> Iterator[list[dict]]:
    """Groups rows into lists of CHUNK."""
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
