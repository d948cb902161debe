"""Bulk loading of a scratch clinic database for the benchmarks (Core inserts in chunks).

N appointments over as many years as it takes: 20 practitioners working weekdays 08:00-18:00
in 30-minute slots, three quarters of the slots booked, back from a busy day (BUSY_DAY) at the
end. Past appointments are completed with a session, and each session has its re-treatment
reminders as the planner writes them: sent once due, pending after now (so history grows the
table of sent rows, and the sessions of the last months keep hundreds of thousands pending).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, literal, select, true

from scheduler.domain.plan import retreatment_plan
from scheduler.models import (
    Appointment,
    Consent,
    Patient,
    Practitioner,
    Reminder,
    Treatment,
    TreatmentSession,
    UTCDateTime,
)
from scheduler.reminders import planning
from scheduler.reminders.rows import clinic, new_message_id
from scheduler.seed import CATALOGUE

PRACTITIONERS = 20
SLOTS_PER_DAY = 20  # 08:00-18:00 in 30-minute slots
FILL = 0.75
CHUNK = 10_000
HOURS = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def working_days_back(last: date) -> Iterator[date]:
    """Weekdays from `last` back, newest first, for as long as the caller takes them."""
    day = last
    while True:
        if day.weekday() < 5:
            yield day
        day -= timedelta(days=1)


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
    # More patients than a day has slots: a day's appointments never share a patient (see below).
    patients = max(PRACTITIONERS * SLOTS_PER_DAY + 1, size // 5)
    for chunk in _chunks(
        dict(
            first_name=f"First{i}",
            last_name=f"Last{i % 5000}",
            email=f"patient{i}@example.net",
            phone=f"0770{i:07d}",
            date_of_birth=date(1950, 1, 1) + timedelta(days=i % 18000),
            created_at=now,
            updated_at=now,
        )
        for i in range(patients)
    ):
        conn.execute(insert(Patient), chunk)
    # every patient agreed to both kinds of re-treatment reminder (as migration 0008 carries "opted in")
    for topic in ("therapeutic", "cosmetic"):
        conn.execute(
            insert(Consent).from_select(
                ["patient_id", "topic", "given", "via", "recorded_at"],
                select(Patient.id, literal(topic), true(), literal("migration"), literal(now, UTCDateTime)),
            )
        )
    # Newest day first: the busy day is always a full one, the oldest day takes what is left.
    days = working_days_back(busy_day)
    counts = {"patients": patients, "appointments": 0, "sessions": 0, "reminders": 0, "pending": 0}
    appt_rows, session_rows, reminder_rows = [], [], []
    appt_id = 0
    plans = _Plans(now)
    for day in days:
        if appt_id >= size:
            break
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
                            id=appt_id,
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
                    reminder_rows.extend(plans.rows(appt_id, patient, treatment, day))
                if len(appt_rows) >= CHUNK:
                    counts["appointments"] += _flush(conn, Appointment, appt_rows)
                    counts["sessions"] += _flush(conn, TreatmentSession, session_rows)
                    counts["pending"] += sum(1 for r in reminder_rows if r["status"] == "pending")
                    counts["reminders"] += _flush(conn, Reminder, reminder_rows)
    counts["appointments"] += _flush(conn, Appointment, appt_rows)
    counts["sessions"] += _flush(conn, TreatmentSession, session_rows)
    counts["pending"] += sum(1 for r in reminder_rows if r["status"] == "pending")
    counts["reminders"] += _flush(conn, Reminder, reminder_rows)
    return counts


class _Plans:
    """Re-treatment reminder rows of a session, the plan computed once per treatment and day."""

    def __init__(self, now: datetime):
        self.now = now
        self.settings = clinic()
        self.intervals = {i + 1: planning.intervals(Treatment(**row)) for i, row in enumerate(CATALOGUE)}
        self.cache: dict[tuple[int, date], list] = {}

    def rows(self, session_id: int, patient_id: int, treatment_id: int, day: date) -> list[dict]:
        key = (treatment_id, day)
        if key not in self.cache:
            self.cache[key] = retreatment_plan(day, self.intervals[treatment_id], self.settings)
        rows = []
        for p in self.cache[key]:
            sent = p.due_at <= self.now
            rows.append(
                dict(
                    patient_id=patient_id,
                    treatment_id=treatment_id,
                    kind="retreatment",
                    session_id=session_id,
                    seq=p.seq,
                    due_at=p.due_at,
                    expires_at=p.expires_at,
                    status="sent" if sent else "pending",
                    sent_at=p.due_at if sent else None,
                    attempts=1 if sent else 0,
                    message_id=new_message_id("bench.example"),
                    created_at=self.now,
                    updated_at=self.now,
                )
            )
        return rows


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
