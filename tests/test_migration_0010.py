"""Migration 0010 on a database with data: existing appointments hold their practitioner until
their end, existing phones get their digits, nothing is lost (SQLite adds the columns in place:
no table copy that would cascade to reminders or patient intervals), PostgreSQL's practitioner
constraint covers the buffer; and back down."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from scheduler import create_app
from scheduler.extensions import db
from tests.test_migrations_on_data import empty_url  # noqa: F401  (the fixture, by name)

ROWS = [
    "INSERT INTO patients (first_name, last_name, phone, reminders_opt_in, unsubscribe_key, created_at, updated_at) "
    "VALUES ('Amelia', 'Patel', '+44 7700 900118', true, 'k1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO practitioners (name, active, working_hours, created_at) "
    "VALUES ('Dr A', true, '{}', CURRENT_TIMESTAMP)",
    "INSERT INTO treatments (name, kind, product, duration_minutes, min_interval_days, remind_from, remind_until, "
    "reminder_count, active, created_at) "
    "VALUES ('T', 'cosmetic', 'P', 20, 90, 'P3M', 'P6M', 3, true, CURRENT_TIMESTAMP)",
    "INSERT INTO patient_intervals (patient_id, treatment_id, remind_from, remind_until, note, updated_at) "
    "VALUES (1, 1, 'P4M', 'P6M', '', CURRENT_TIMESTAMP)",
    "INSERT INTO appointments (patient_id, practitioner_id, treatment_id, starts_at, ends_at, status, created_at, "
    "updated_at) VALUES (1, 1, 1, '2027-03-01 09:00:00+00', '2027-03-01 09:20:00+00', 'booked', CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP)",
]


def _count(conn, table: str) -> int:
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def test_0010_on_data_and_back_down(empty_url):  # noqa: F811
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement))
        upgrade(revision="0010")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT held_until = ends_at FROM appointments")).scalar() in (True, 1)
            assert conn.execute(text("SELECT buffer_minutes FROM treatments")).scalar() == 0
            assert conn.execute(text("SELECT phone_digits FROM patients")).scalar() == "07700900118"
            assert _count(conn, "patient_intervals") == 1 and _count(conn, "appointments") == 1
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(IntegrityError, match="ex_appointments_practitioner_overlap"), db.engine.begin() as conn:
                # 09:20-09:40 right after the first: fine; a start at 09:20 held until 09:50 and one at 09:45: not
                conn.execute(
                    text(
                        "INSERT INTO appointments (patient_id, practitioner_id, treatment_id, starts_at, ends_at, "
                        "held_until, status, created_at, updated_at) VALUES "
                        "(1, 1, 1, '2027-03-01 09:20:00+00', '2027-03-01 09:40:00+00', '2027-03-01 09:50:00+00', "
                        "'booked', now(), now()), "
                        "(1, 1, 1, '2027-03-01 09:45:00+00', '2027-03-01 10:05:00+00', '2027-03-01 10:05:00+00', "
                        "'cancelled', now(), now())"
                    )
                )
                conn.execute(text("UPDATE appointments SET status = 'booked' WHERE status = 'cancelled'"))
        downgrade(revision="0008")  # the revision before 0010
        assert "held_until" not in _columns("appointments") and "buffer_minutes" not in _columns("treatments")
        assert "phone_digits" not in _columns("patients")
        with db.engine.begin() as conn:
            assert _count(conn, "patient_intervals") == 1 and _count(conn, "appointments") == 1
        upgrade(revision="0010")
        db.engine.dispose()
