"""Double booking under concurrent requests: a dozen threads behind a Barrier book at once.

Each thread has its own app context, test client and so database connection; SQLite serialises
them with BEGIN IMMEDIATE, PostgreSQL with the exclusion constraints.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from scheduler.booking import operations
from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent
from scheduler.staff import tokens
from tests.conftest import london

THREADS = 12
TUESDAY = date(2027, 3, 2)


@pytest.fixture
def frozen():
    with time_machine.travel(london(date(2027, 3, 1), 8), tick=False):
        yield


@pytest.fixture(autouse=True)
def wide_race_window(monkeypatch):
    """Every booking pauses between its checks and its insert, so the threads really overlap there."""
    check = operations._check_slot

    def slow_check(**kwargs):
        result = check(**kwargs)
        time.sleep(0.03)
        return result

    monkeypatch.setattr(operations, "_check_slot", slow_check)


@pytest.fixture
def token(app, make_user) -> str:
    user = make_user("receptionist")
    value = tokens.issue_token(user, actor_label="test")
    db.session.commit()
    return value


def _race(app, token: str, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Sends each body from its own thread, all released together; returns (status, json) per thread."""
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, Any] | None] = [None] * len(bodies)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait(timeout=30)
                resp = client.post("/api/v1/appointments", json=bodies[i], headers={"Authorization": f"Bearer {token}"})
                results[i] = (resp.status_code, resp.get_json())
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def _occupying(**where: int) -> int:
    db.session.rollback()
    stmt = select(func.count()).select_from(Appointment).where(Appointment.status == "booked")
    for key, value in where.items():
        stmt = stmt.where(getattr(Appointment, key) == value)
    return db.session.scalar(stmt) or 0


def _outcome(results) -> Counter:
    return Counter((status, (body or {}).get("error", {}).get("code")) for status, body in results)


def test_one_slot_one_winner(app, frozen, token, make_treatment, make_practitioner, make_patient):
    treatment, prac = make_treatment(), make_practitioner()
    patients = [make_patient().id for _ in range(THREADS)]
    start = london(TUESDAY, 10).isoformat()
    bodies = [
        {"patient_id": p, "practitioner_id": prac.id, "treatment_id": treatment.id, "starts_at": start}
        for p in patients
    ]
    results = _race(app, token, bodies)
    assert _outcome(results) == Counter({(201, None): 1, (409, "slot_taken"): THREADS - 1}), results
    assert _occupying(practitioner_id=prac.id) == 1
    winner = next(body for status, body in results if status == 201)
    db.session.rollback()
    booked = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "appointment.booked")).all()
    assert [e.entity_id for e in booked] == [winner["id"]]


def test_overlapping_slots_one_winner(app, frozen, token, make_treatment, make_practitioner, make_patient):
    """Starts 10:00, 10:05, ... 10:25 all overlap a 30-minute 10:00 booking, and one another."""
    treatment, prac = make_treatment(), make_practitioner()
    bodies = [
        {
            "patient_id": make_patient().id,
            "practitioner_id": prac.id,
            "treatment_id": treatment.id,
            "starts_at": london(TUESDAY, 10, 2 * i).isoformat(),
        }
        for i in range(THREADS)
    ]
    results = _race(app, token, bodies)
    assert _outcome(results) == Counter({(201, None): 1, (409, "slot_taken"): THREADS - 1}), results
    assert _occupying(practitioner_id=prac.id) == 1


def test_one_patient_many_practitioners_one_winner(app, frozen, token, make_treatment, make_practitioner, make_patient):
    treatment, patient = make_treatment(), make_patient()
    pracs = [make_practitioner().id for _ in range(THREADS)]
    start = london(TUESDAY, 11).isoformat()
    bodies = [
        {"patient_id": patient.id, "practitioner_id": p, "treatment_id": treatment.id, "starts_at": start}
        for p in pracs
    ]
    results = _race(app, token, bodies)
    assert _outcome(results) == Counter({(201, None): 1, (409, "patient_busy"): THREADS - 1}), results
    assert _occupying(patient_id=patient.id) == 1


def test_independent_bookings_all_succeed(app, frozen, token, make_treatment, make_practitioner, make_patient):
    """No false conflicts, no lock errors: different practitioners and patients all get in."""
    treatment = make_treatment()
    bodies = [
        {
            "patient_id": make_patient().id,
            "practitioner_id": make_practitioner().id,
            "treatment_id": treatment.id,
            "starts_at": london(TUESDAY, 9).isoformat(),
        }
        for _ in range(THREADS)
    ]
    results = _race(app, token, bodies)
    assert _outcome(results) == Counter({(201, None): THREADS}), results
    assert _occupying() == THREADS


def test_the_database_itself_refuses_overlaps(
    app, frozen, token, make_treatment, make_practitioner, make_patient, monkeypatch
):
    """With the application's overlap check switched off, the lock (SQLite) or the exclusion
    constraint (PostgreSQL) still lets exactly one booking in, and the loser gets a 409, not a 500."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("on SQLite the write lock serialises the application's check; there is no constraint")
    monkeypatch.setattr(operations, "_refuse_overlap", lambda **kwargs: None)  # only the database checks
    treatment, prac, patient = make_treatment(), make_practitioner(), make_patient()
    others = [make_patient().id for _ in range(THREADS // 2)]
    pracs = [make_practitioner().id for _ in range(THREADS // 2)]
    start = london(TUESDAY, 10).isoformat()
    bodies = [
        {"patient_id": p, "practitioner_id": prac.id, "treatment_id": treatment.id, "starts_at": start} for p in others
    ] + [
        {"patient_id": patient.id, "practitioner_id": p, "treatment_id": treatment.id, "starts_at": start}
        for p in pracs
    ]
    results = _race(app, token, bodies)
    outcome = _outcome(results)
    assert set(outcome) <= {(201, None), (409, "slot_taken"), (409, "patient_busy")}, results
    assert _occupying(practitioner_id=prac.id) == 1
    assert _occupying(patient_id=patient.id) == 1
    assert outcome[(201, None)] == 2
