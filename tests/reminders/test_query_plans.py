"""The reminder lookups a booking makes use an index however much history the table holds.

On SQLite, ANALYZE counts the NULL appointment_id of every re-treatment row as one value; with only
the unique (appointment_id, kind, seq) index the planner then preferred a full scan for "this
appointment's emails", and every booking slowed down as the history grew (migration 0004).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, text

from scheduler.extensions import db
from scheduler.models import Reminder, TreatmentSession
from scheduler.models.reminder import APPOINTMENT_KINDS
from scheduler.reminders import claims
from scheduler.reminders.rows import load_rows, rows_query


def _plan(stmt) -> str:
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return " / ".join(str(r[-1]) for r in rows)


def _a_session(make_patient, make_treatment, now: datetime):
    """A patient, a treatment and a session of it on `now`'s day (flushed)."""
    patient, treatment = make_patient(), make_treatment()
    session = TreatmentSession(
        patient_id=patient.id, treatment_id=treatment.id, performed_on=now.date(), product="BOTOX"
    )
    db.session.add(session)
    db.session.flush()
    return patient, treatment, session


def test_an_appointments_emails_are_found_by_index_after_analyze(app, is_postgres, make_patient, make_treatment):
    if is_postgres:
        pytest.skip("SQLite's planner statistics; PostgreSQL keeps a null fraction per column")
    now = datetime(2027, 3, 1, tzinfo=UTC)
    patient, treatment, session = _a_session(make_patient, make_treatment, now)
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


def test_a_claim_finds_its_own_rows_by_index(app, is_postgres, make_patient, make_treatment):
    """The claim's third step (the claimed patients' other due re-treatment reminders) looks its
    rows up by claim token: by the partial index, never by reading every reminder ever planned (at
    a million appointments that read made a claim of 1,000 rows twelve times slower)."""
    if is_postgres:
        pytest.skip("SQLite's planner; PostgreSQL plans a seq scan of a table this small whatever the indexes")
    now = datetime(2027, 3, 1, tzinfo=UTC)
    patient, treatment, session = _a_session(make_patient, make_treatment, now)
    db.session.add(
        Reminder(
            patient_id=patient.id,
            treatment_id=treatment.id,
            kind="retreatment",
            session_id=session.id,
            seq=1,
            due_at=now - timedelta(hours=1),
            status="pending",
            attempts=0,
            message_id="<due@example.com>",
        )
    )
    db.session.commit()
    sent: list[tuple[str, tuple]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        if " mine" in statement:
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        _token, claimed = claims.claim(10, timedelta(minutes=10), now)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert len(claimed) == 1 and len(sent) == 1
    statement, parameters = sent[0]
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    plan = " / ".join(str(r[-1]) for r in rows)
    db.session.rollback()
    assert "ix_reminders_claim_token" in plan, plan
    assert "SCAN mine" not in plan, plan
