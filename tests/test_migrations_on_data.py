"""Migrations on a database that already has data. 0006: existing patients get distinct random
unsubscribe keys, existing users session version 0, existing tokens no expiry; and back down.
0007: the copied patient name goes, and comes back filled on the way down.

SQLite always runs (a temp file); PostgreSQL when TEST_DATABASE_URL names a server, in a database
of its own named after the suite's (so parallel runs on one server do not meet).
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator

import pytest
from alembic import command
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from scheduler import create_app
from scheduler.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> Iterator[str]:
    """The URL of a new, empty database of the given kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm0006.db'}"
        return
    server = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not server.startswith("postgresql"):
        pytest.skip("PostgreSQL runs only when TEST_DATABASE_URL names a server")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = f"{make_url(server).database}_m0006{'_' + worker if worker else ''}"
    target = make_url(server).set(database=name)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield target.render_as_string(hide_password=False)
    finally:
        gc.collect()  # a connection a test left open is reported here, against that test
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def test_0006_fills_existing_rows_and_goes_back_down(empty_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO patients (first_name, last_name, reminders_opt_in, created_at, updated_at) "
                    "VALUES ('A', 'One', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                    "('B', 'Two', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                    "('C', 'Three', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO users (email, name, role, password_hash, active, failed_logins, created_at) "
                    "VALUES ('a@example.com', 'A', 'admin', 'x', true, 0, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO api_tokens (user_id, token_hash, prefix, created_at) "
                    "VALUES (1, 'digest', 'csk_abcdefgh', CURRENT_TIMESTAMP)"
                )
            )
        upgrade(revision="0006")
        with db.engine.connect() as conn:
            keys = conn.execute(text("SELECT unsubscribe_key FROM patients")).scalars().all()
            versions = conn.execute(text("SELECT session_version FROM users")).scalars().all()
            expiries = conn.execute(text("SELECT expires_at FROM api_tokens")).scalars().all()
        assert len(keys) == 3 and len(set(keys)) == 3
        assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys), keys
        assert versions == [0] and expiries == [None]
        downgrade(revision="0005")
        assert "unsubscribe_key" not in _columns("patients") and "session_version" not in _columns("users")
        assert "expires_at" not in _columns("api_tokens")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM patients")).scalar() == 3
        db.engine.dispose()


def test_0007_drops_the_copied_patient_name_and_its_downgrade_restores_it_filled(empty_url):
    """0005's copy of the patient's name goes with its triggers; going back down brings both back,
    with every existing appointment's name filled in and kept up to date again."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade(revision="0007")
        assert "patient_name" not in _columns("appointments")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO patients (first_name, last_name, reminders_opt_in, unsubscribe_key, "
                    "created_at, updated_at) VALUES ('Ada', 'Lovelace', true, 'k1', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO practitioners (name, active, working_hours, created_at) "
                    "VALUES ('Dr A', true, '{}', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO treatments (name, kind, product, duration_minutes, min_interval_days, "
                    "remind_from, remind_until, reminder_count, active, created_at) VALUES ('T', 'cosmetic', "
                    "'P', 20, 90, 'P3M', 'P6M', 3, true, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO appointments (patient_id, practitioner_id, treatment_id, starts_at, ends_at, "
                    "status, created_at, updated_at) VALUES (1, 1, 1, '2027-03-01 09:00:00', "
                    "'2027-03-01 09:20:00', 'booked', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        downgrade(revision="0006")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT patient_name FROM appointments")).scalar() == "Ada Lovelace"
            conn.execute(text("UPDATE patients SET last_name = 'King'"))
            assert conn.execute(text("SELECT patient_name FROM appointments")).scalar() == "Ada King"
        upgrade(revision="0007")
        assert "patient_name" not in _columns("appointments")
        db.engine.dispose()


def _consents(conn) -> set[tuple[int, str, bool, str]]:
    return {tuple(r) for r in conn.execute(text("SELECT patient_id, topic, given, via FROM consents"))}


def test_0008_carries_every_patients_choice_into_the_consents_and_back(empty_url):
    """Opted in: both kinds of reminder agreed to (emails flowing); opted out: every consent withdrawn,
    as the flag stopped every email. Down again, each patient has their flag back; a patient whose
    answers the flag cannot hold (one kind only) makes the downgrade refuse unless confirmed, and then
    reads as opted out."""
    from alembic import command
    from flask import current_app

    from migrations.guard import DataLossRefused

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            for i, opt_in in enumerate([True, False, True, False, True], start=1):
                conn.execute(
                    text(
                        "INSERT INTO patients (first_name, last_name, reminders_opt_in, unsubscribe_key, "
                        "created_at, updated_at) VALUES ('P', :last, :opt, :key, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"last": f"L{i}", "opt": opt_in, "key": f"k{i}"},
                )
        flags = {1: True, 2: False, 3: True, 4: False, 5: True}
        upgrade(revision="0008")
        assert "reminders_opt_in" not in _columns("patients") and "erased_at" in _columns("patients")
        with db.engine.connect() as conn:
            got = _consents(conn)
        expected = set()
        for pid, opt_in in flags.items():
            topics = ("therapeutic", "cosmetic") if opt_in else ("therapeutic", "cosmetic", "emails")
            expected |= {(pid, topic, opt_in, "migration") for topic in topics}
        assert {(p, t, bool(g), v) for p, t, g, v in got} == expected

        downgrade(revision="0007")  # every choice fits the flag: no confirmation needed
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT id, reminders_opt_in FROM patients")).all())
        assert {p: bool(v) for p, v in back.items()} == flags

        upgrade(revision="0008")
        with db.engine.begin() as conn:
            # patient 1 withdraws cosmetic reminders only: the flag cannot say that
            conn.execute(
                text("UPDATE consents SET given = false, via = 'link' WHERE patient_id = 1 AND topic = 'cosmetic'")
            )
        config = current_app.extensions["migrate"].migrate.get_config()
        with pytest.raises(DataLossRefused, match=r"1 patient has consents"):
            command.downgrade(config, "0007")
        assert "consents" in inspect(db.engine).get_table_names()  # nothing changed
        command.downgrade(current_app.extensions["migrate"].migrate.get_config(x_arg=["force=1"]), "0007")
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT id, reminders_opt_in FROM patients")).all())
        assert {p: bool(v) for p, v in back.items()} == flags | {1: False}
        db.engine.dispose()


def test_0011_keeps_reminders_through_the_table_copy_and_its_downgrade_refuses_to_lose_notices(empty_url, monkeypatch):
    """0011 widens the reminder kinds (SQLite copies the table): rows survive both ways; the downgrade
    refuses while waitlist entries or notices exist, and with the loss confirmed removes just those."""
    from migrations.guard import ALLOW_DATA_LOSS

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO patients (first_name, last_name, unsubscribe_key, created_at, "
                "updated_at) VALUES ('Ada', 'Lovelace', 'k1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO practitioners (name, active, working_hours, created_at) "
                "VALUES ('Dr A', true, '{}', CURRENT_TIMESTAMP)",
                "INSERT INTO treatments (name, kind, product, duration_minutes, min_interval_days, remind_from, "
                "remind_until, reminder_count, active, created_at) VALUES ('T', 'cosmetic', 'P', 20, 90, 'P3M', "
                "'P6M', 3, true, CURRENT_TIMESTAMP)",
                "INSERT INTO appointments (patient_id, practitioner_id, treatment_id, starts_at, ends_at, held_until, "
                "status, created_at, updated_at) VALUES (1, 1, 1, '2027-03-01 09:00:00', '2027-03-01 09:20:00', "
                "'2027-03-01 09:20:00', 'cancelled', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO waitlist_entries (patient_id, treatment_id, from_date, until_date, status, "
                "created_at, updated_at) VALUES (1, 1, '2027-03-01', '2027-03-31', 'waiting', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)",
            ):
                conn.execute(text(statement))
            for kind, seq, moved in (("confirmation", 1, "'2027-02-28 10:00:00'"), ("cancellation", 0, "NULL")):
                conn.execute(
                    text(
                        "INSERT INTO reminders (patient_id, treatment_id, kind, appointment_id, seq, due_at, status, "
                        f"attempts, message_id, moved_from, created_at, updated_at) VALUES (1, 1, '{kind}', 1, {seq}, "
                        f"'2027-02-01 09:00:00', 'sent', 1, '<{kind}@x>', {moved}, CURRENT_TIMESTAMP, "
                        "CURRENT_TIMESTAMP)".replace("'sent', 1", "'pending', 0")
                    )
                )
        with pytest.raises(SystemExit):  # flask-migrate's way of saying DataLossRefused
            downgrade(revision="-1")
        db.engine.dispose()  # the refused downgrade's connection
        assert "waitlist_entries" in inspect(db.engine).get_table_names()  # nothing changed
        monkeypatch.setenv(ALLOW_DATA_LOSS, "1")
        downgrade(revision="-1")
        assert (
            "moved_from" not in _columns("reminders") and "waitlist_entries" not in inspect(db.engine).get_table_names()
        )
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT kind, message_id FROM reminders")).all() == [
                ("confirmation", "<confirmation@x>")
            ]
            with pytest.raises(Exception, match="(?i)check"), conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO reminders (patient_id, treatment_id, kind, appointment_id, seq, due_at, "
                        "status, attempts, message_id, created_at, updated_at) VALUES (1, 1, 'cancellation', 1, "
                        "0, '2027-02-01 09:00:00', 'pending', 0, '<again@x>', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    )
                )
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT kind FROM reminders")).scalars().all() == ["confirmation"]
        db.engine.dispose()


def test_0012_recall_contacts_keep_their_rules_and_refuse_a_lossy_downgrade(empty_url):
    from migrations.guard import DataLossRefused

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO patients (first_name, last_name, unsubscribe_key, created_at, "
                    "updated_at) VALUES ('Ada', 'Lovelace', 'k1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO recall_contacts (patient_id, at, outcome, call_back_on, note) "
                    "VALUES (1, CURRENT_TIMESTAMP, 'call_back', '2027-03-01', 'after school run')"
                )
            )
        for outcome, day in (("call_back", "NULL"), ("no_answer", "'2027-03-01'"), ("maybe", "NULL")):
            with pytest.raises(Exception, match="(?i)check"), db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO recall_contacts (patient_id, at, outcome, call_back_on, note) "
                        f"VALUES (1, CURRENT_TIMESTAMP, '{outcome}', {day}, '')"
                    )
                )
        config = app.extensions["migrate"].migrate.get_config()
        with pytest.raises(DataLossRefused, match=r"recall_contacts \(1 row\)"):
            command.downgrade(config, "-1")
        assert "recall_contacts" in inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM recall_contacts"))
        downgrade(revision="-1")
        assert "recall_contacts" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_0009_names_each_treatments_toxin_keeps_related_rows_and_guards_voided_sessions(empty_url):
    """0009: existing treatments get their product's toxin; no row of a related table is lost on
    the way up or down (no table copy); a downgrade that would forget a void refuses."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO patients (first_name, last_name, reminders_opt_in, unsubscribe_key, "
                    "created_at, updated_at) VALUES ('Ada', 'Lovelace', true, 'k1', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            for name, product in (("A", "BOTOX Cosmetic"), ("B", "Dysport"), ("C", "NewTox")):
                conn.execute(
                    text(
                        "INSERT INTO treatments (name, kind, product, duration_minutes, min_interval_days, "
                        "remind_from, remind_until, reminder_count, active, created_at) VALUES "
                        f"('{name}', 'cosmetic', '{product}', 20, 90, 'P3M', 'P6M', 3, true, CURRENT_TIMESTAMP)"
                    )
                )
            conn.execute(
                text(
                    "INSERT INTO patient_intervals (patient_id, treatment_id, remind_from, remind_until, note, "
                    "updated_at) VALUES (1, 1, 'P12W', 'P5M', 'early', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO sessions (patient_id, treatment_id, performed_on, product, external, created_at) "
                    "VALUES (1, 1, '2027-01-04', 'BOTOX Cosmetic', false, CURRENT_TIMESTAMP)"
                )
            )
        upgrade(revision="0009")
        with db.engine.begin() as conn:
            toxins = conn.execute(text("SELECT product, toxin FROM treatments ORDER BY id")).all()
            assert [tuple(r) for r in toxins] == [
                ("BOTOX Cosmetic", "onabotulinumtoxinA"),
                ("Dysport", "abobotulinumtoxinA"),
                ("NewTox", "NewTox"),
            ]
            assert conn.execute(text("SELECT count(*) FROM patient_intervals")).scalar() == 1
            conn.execute(text("UPDATE sessions SET voided_at = CURRENT_TIMESTAMP, void_reason = 'wrong patient'"))
        with pytest.raises(SystemExit):  # flask-migrate reports the refusal and exits 1
            downgrade(revision="0012")  # the revision before 0009
        db.engine.dispose()
        assert "voided_at" in _columns("sessions")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE sessions SET voided_at = NULL"))
        downgrade(revision="0012")  # the revision before 0009
        assert "toxin" not in _columns("treatments") and "voided_at" not in _columns("sessions")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM patient_intervals")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM sessions")).scalar() == 1
        db.engine.dispose()
