"""The reminder lookups a booking makes use an index however much history the table holds.

On SQLite, ANALYZE counts the NULL appointment_id of every re-treatment row as one value; with only
the unique (appointment_id, kind, seq) index the planner then preferred a full scan for "this
appointment's emails", and every booking slowed down as the history grew (migration 0004).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from scheduler.extensions import db
from scheduler.models import Reminder, TreatmentSession
from scheduler.models.reminder import APPOINTMENT_KINDS
from scheduler.reminders.rows import load_rows, rows_query


def _plan(stmt) -> str:
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return " / ".join(str(r[-1]) for r in rows)


def test_an_appointments_emails_are_found_by_index_after_analyze(app, is_postgres, make_patient, make_treatment):
    if is_postgres:
        pytest.skip("SQLite's planner statistics; PostgreSQL keeps a null fraction per column")
    patient, treatment = make_patient(), make_treatment()
    now = datetime(2027, 3, 1, tzinfo=UTC)
    session = TreatmentSession(
        patient_id=patient.id, treatment_id=treatment.id, performed_on=now.date(), product="BOTOX"
    )
    db.session.add(session)
    db.session.flush()
    db.session.execute(
        insert(Reminder),
        [
            dict(
                patient_id=patient.id,
                treatment_id=treatment.id,
                kind="retreatment",
                session_id=session.id,
                seq=i,
                due_at=now + timedelta(days=i),
                status="cancelled",
                attempts=0,
                message_id=f"<r{i}@example.com>",
                created_at=now,
                updated_at=now,
            )
            for i in range(2000)
        ],
    )
    db.session.commit()
    try:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        where = (Reminder.appointment_id == 1, Reminder.kind.in_(APPOINTMENT_KINDS))
        assert load_rows(*where) == []
        plan = _plan(rows_query(*where))
    finally:
        # The statistics outlive the test (tables are only emptied) and would mislead the planner in
        # later tests on this database: drop them (a schema change, so every connection forgets them).
        db.session.rollback()
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        db.session.commit()
    assert "USING" in plan and "INDEX" in plan, plan
    assert "SCAN reminders" not in plan, plan
