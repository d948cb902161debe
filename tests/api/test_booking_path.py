"""The booking path: few statements, the same emails as the planner's reconcile, and the
database's own refusal of an overlap turned into a 409 without a savepoint."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select

from scheduler.extensions import db
from scheduler.models import Appointment, Reminder
from scheduler.services import booking as booking_service
from scheduler.services import planning
from scheduler.services.errors import Conflict
from tests.api.conftest import TUESDAY, book, booking
from tests.conftest import london


def tue(hh: int, mm: int = 0):
    return london(TUESDAY, hh, mm)


def _statements(fn) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement.split(None, 3)[:3] and statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_a_booking_is_a_few_statements(reception_api, world):
    """Token, facts, conflicts, then the appointment, its emails and its audit event: three inserts
    on SQLite (in-process); on PostgreSQL the facts and the conflicts are one statement, and the
    writes another (three round trips in all). No savepoint. The token was used a moment ago, so
    its last use is not written again (that happens at most once a minute)."""
    assert reception_api.get("/treatments").status_code == 200
    seen = _statements(lambda: book(reception_api, world, tue(9)))
    work = [s for s in seen if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    if db.engine.dialect.name == "sqlite":
        expected = ["SELECT", "SELECT", "SELECT", "INSERT", "INSERT", "INSERT"]
    else:
        expected = ["SELECT", "SELECT", "WITH"]
        assert "time_off" in work[1] and "sessions" in work[1] and "appointments" in work[1]
    assert [s.split()[0] for s in work] == expected, work
    assert not any(s.startswith(("SAVEPOINT", "RELEASE")) for s in seen)


def _stored(appt_id: int) -> list[tuple]:
    db.session.rollback()
    return [
        (r.kind, r.seq, r.status, r.due_at, r.expires_at, r.reason)
        for r in db.session.scalars(select(Reminder).where(Reminder.appointment_id == appt_id).order_by(Reminder.id))
    ]


@pytest.mark.parametrize("opted_in", [True, False])
def test_the_emails_of_a_booking_are_what_reconcile_plans(reception_api, world, opted_in):
    """Reconciling a fresh booking changes nothing: its rows are the planner's own."""
    from scheduler.models import Patient

    db.session.get(Patient, world.patient).reminders_opt_in = opted_in
    db.session.commit()
    appt = book(reception_api, world, london(date(2027, 3, 9), 10))
    before = _stored(appt["id"])
    if opted_in:
        assert [(k, status) for k, _, status, *_ in before] == [("confirmation", "pending"), ("pre_visit", "pending")]
    else:  # a confirmation is still sent (it is not a reminder); no pre-visit reminder
        assert [k for k, *_ in before] == ["confirmation"]
    planning.reconcile_appointment(db.session.get(Appointment, appt["id"]), new_confirmation=False)
    db.session.commit()
    assert _stored(appt["id"]) == before


def test_a_booking_holds_back_the_retreatment_reminders_of_earlier_sessions(reception_api, world):
    """A patient with sessions of the treatment: the booking goes through the tracks' reconcile."""
    resp = reception_api.post(
        f"/patients/{world.patient}/sessions",
        json={"treatment_id": world.migraine, "performed_on": "2026-12-01"},
    )
    assert resp.status_code == 201, resp.get_json()
    retreatment = select(Reminder.status, Reminder.reason).where(
        Reminder.patient_id == world.patient, Reminder.kind == "retreatment"
    )
    assert {s for s, _ in db.session.execute(retreatment)} == {"pending"}
    book(reception_api, world, london(date(2027, 3, 9), 10))
    db.session.rollback()
    assert {s for s, _ in db.session.execute(retreatment)} == {"cancelled"}


def test_the_database_has_the_last_word_on_postgresql(reception_api, world, monkeypatch):
    """The check saw nothing (switched off) but the slot is taken: ON CONFLICT DO NOTHING inserts
    nothing, the overlap is read again and named, and the transaction is still usable."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's exclusion constraints; SQLite's write lock makes the check final")
    book(reception_api, world, tue(9))
    calls = []
    real_check, real_overlaps = booking_service._check_slot, booking_service._overlaps

    def blind(**kwargs):  # the slot as read with the facts, with its overlaps unseen
        found = kwargs["facts"].conflicts
        assert found is not None and found.taken  # read with the facts, in one statement
        kwargs["facts"] = kwargs["facts"]._replace(conflicts=found._replace(taken=False, busy=False))
        return real_check(**kwargs)

    monkeypatch.setattr(booking_service, "_check_slot", blind)
    monkeypatch.setattr(booking_service, "_overlaps", lambda *args: calls.append(args) or real_overlaps(*args))
    resp = reception_api.post("/appointments", json=booking(world, tue(9), patient_id=world.patient2))
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "slot_taken"
    assert len(calls) == 1  # read again after the insert did nothing, to name the overlap
    calls.clear()  # the same in one session of the service's caller: it goes on after the 409
    with pytest.raises(Conflict) as refused:
        booking_service.book(
            patient_id=world.patient2,
            practitioner_id=world.prac,
            treatment_id=world.migraine,
            starts_at=tue(9),
            actor=None,
        )
    assert refused.value.code == "slot_taken" and len(calls) == 1
    assert db.session.scalar(select(Appointment.id).where(Appointment.patient_id == world.patient2)) is None
    db.session.rollback()


def test_the_booking_rows_written_in_one_statement_read_back_as_written(reception_api, world):
    """The audit event's details come back as an object (not a JSON string) and the emails whole."""
    from scheduler.models import AuditEvent

    appt = book(reception_api, world, tue(9))
    db.session.rollback()
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "appointment", AuditEvent.entity_id == appt["id"])
    ).one()
    assert event.action == "appointment.booked" and event.actor.startswith("receptionist")
    assert event.details == {
        "patient_id": world.patient,
        "practitioner_id": world.prac,
        "treatment_id": world.migraine,
        "starts_at": "2027-03-02T09:00:00+00:00",
    }
    emails = db.session.scalars(select(Reminder).where(Reminder.appointment_id == appt["id"])).all()
    assert sorted((r.kind, r.patient_id, r.treatment_id, r.attempts) for r in emails) == [
        ("confirmation", world.patient, world.migraine, 0),
        ("pre_visit", world.patient, world.migraine, 0),
    ]
    assert all(r.message_id.startswith("<reminder.") and r.created_at is not None for r in emails)


def test_sqlite_the_rows_are_made_before_the_write_lock_and_the_slot_judged_under_it(reception_api, world, monkeypatch):
    """Writers take turns on SQLite: a turn holds only the slot's read and the writes, not the
    making of the rows (the emails' plan, the audit event)."""
    import os

    from scheduler import db as sessions
    from scheduler.services import audit, reminder_rows

    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no writers' turn")
    path = os.path.abspath(db.engine.url.database) + "-writers"
    held: list[tuple[str, bool]] = []

    def holding() -> bool:
        lock = sessions._in_process.get(path)
        return lock is not None and lock.locked()

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            held.append((name, holding()))
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(reminder_rows, "new_row", spy("email row", reminder_rows.new_row))
    monkeypatch.setattr(audit, "row", spy("audit row", audit.row))
    monkeypatch.setattr(booking_service, "_conflicts", spy("slot read", booking_service._conflicts))
    # the token's last use is written on its first use in a minute, which takes the turn early
    assert reception_api.get("/treatments").status_code == 200
    book(reception_api, world, tue(9))
    assert ("email row", False) in held and ("audit row", False) in held, held
    assert ("slot read", True) in held, held
    assert not any(h for name, h in held if name != "slot read"), held
    assert not holding()  # the turn ended with the commit


def _transaction_at_insert(monkeypatch) -> list[tuple[bool, str]]:
    """Spies, at each booking insert on PostgreSQL, whether the connection is in autocommit and
    its transaction status."""
    seen: list[tuple[bool, str]] = []
    real = booking_service._insert_booking

    def spy(*args):
        dbapi_conn = db.session.connection().connection.dbapi_connection
        seen.append((dbapi_conn.autocommit, dbapi_conn.info.transaction_status.name))
        return real(*args)

    monkeypatch.setattr(booking_service, "_insert_booking", spy)
    return seen


def test_an_api_booking_on_postgresql_is_one_statement_without_begin_or_commit(reception_api, world, monkeypatch):
    """The reads run in autocommit and the insert (appointment, emails, audit event) is a
    transaction of its own: two round trips fewer than BEGIN ... COMMIT."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's transactions are in-process")
    seen = _transaction_at_insert(monkeypatch)
    appt = book(reception_api, world, tue(9))
    assert seen == [(True, "IDLE")]
    db.session.rollback()
    assert db.session.get(Appointment, appt["id"]) is not None
    assert len(_stored(appt["id"])) == 2


def test_a_booking_that_also_reconciles_tracks_is_one_transaction(reception_api, world, monkeypatch):
    """A patient with sessions of the treatment: the insert and the reconcile commit together, so
    a failure in the reconcile leaves no appointment and the re-treatment reminders as they were."""
    resp = reception_api.post(
        f"/patients/{world.patient}/sessions",
        json={"treatment_id": world.migraine, "performed_on": "2026-12-01"},
    )
    assert resp.status_code == 201, resp.get_json()
    seen = _transaction_at_insert(monkeypatch)

    def broken(*_args):
        db.session.flush()
        raise RuntimeError("reconcile failed")

    monkeypatch.setattr(planning, "reconcile_tracks", broken)
    resp = reception_api.post("/appointments", json=booking(world, london(date(2027, 3, 9), 10)))
    assert resp.status_code == 500
    if db.engine.dialect.name == "postgresql":
        assert seen == [(False, "IDLE")]  # not in autocommit: psycopg sends BEGIN with the insert
    db.session.rollback()
    assert db.session.scalar(select(Appointment.id).where(Appointment.patient_id == world.patient)) is None
    retreatment = select(Reminder.status).where(Reminder.patient_id == world.patient, Reminder.kind == "retreatment")
    assert set(db.session.scalars(retreatment)) == {"pending"}
    monkeypatch.undo()
    book(reception_api, world, london(date(2027, 3, 9), 10))  # the connection is usable afterwards


def test_the_conflicts_read_with_the_facts_are_those_read_on_their_own(reception_api, world):
    """On PostgreSQL the facts statement reads the slot's conflicts too, its end from the
    treatment's duration: for starts around time off, appointments of the practitioner and of the
    patient (occupying or not, ending just before, starting just after) and a session, the same
    conflicts as `_conflicts` reads for that slot. On SQLite the facts come alone."""
    from datetime import timedelta

    from scheduler.models import Appointment, TimeOff, Treatment

    duration = timedelta(minutes=db.session.get(Treatment, world.migraine).duration_minutes)
    db.session.add_all(
        [
            TimeOff(practitioner_id=world.prac, starts_at=tue(12), ends_at=tue(13), reason="lunch"),
            TimeOff(practitioner_id=world.prac, starts_at=tue(13), ends_at=tue(13, 30), reason="call"),
            TimeOff(practitioner_id=world.prac2, starts_at=tue(9), ends_at=tue(17), reason="leave"),
        ]
    )
    for patient, prac, at, status in [
        (world.patient2, world.prac, tue(10), "booked"),
        (world.patient, world.prac2, tue(14), "checked_in"),
        (world.patient2, world.prac, tue(15), "cancelled"),
        (world.patient2, world.prac, tue(16), "no_show"),
    ]:
        db.session.add(
            Appointment(
                patient_id=patient,
                practitioner_id=prac,
                treatment_id=world.migraine,
                starts_at=at,
                ends_at=at + duration,
                status=status,
            )
        )
    db.session.commit()
    recorded = reception_api.post(
        f"/patients/{world.patient}/sessions", json={"treatment_id": world.migraine, "performed_on": "2027-01-05"}
    )
    assert recorded.status_code == 201, recorded.get_json()
    starts = [tue(9), tue(10) - duration, tue(10) - duration + timedelta(minutes=5), tue(10), tue(10) + duration]
    starts += [
        tue(11, 45),
        tue(12),
        tue(12, 45),
        tue(13, 15),
        tue(13, 30),
        tue(14) - duration,
        tue(14),
        tue(15),
        tue(16),
    ]
    with_conflicts = []
    for at in starts:
        for patient, treatment in [(world.patient, world.migraine), (world.patient2, world.cosmetic)]:
            facts = booking_service._facts(patient, world.prac, treatment, at.date(), at)
            if db.engine.dialect.name == "sqlite":
                assert facts.conflicts is None
                continue
            ends = at + timedelta(minutes=facts.duration_minutes)
            alone = booking_service._conflicts(world.prac, patient, treatment, at, ends, None)
            assert facts.conflicts == alone, (at, patient, treatment)
            with_conflicts.append(alone)
    db.session.rollback()
    if with_conflicts:  # every kind of conflict was seen, and slots without any
        assert any(c.taken for c in with_conflicts) and any(c.busy for c in with_conflicts)
        assert any(c.time_off for c in with_conflicts) and any(c.has_sessions for c in with_conflicts)
        assert any(not (c.taken or c.busy or c.time_off) for c in with_conflicts)
        assert any(len(c.time_off) == 2 for c in with_conflicts)
