"""Fixtures for the API tests: a frozen clinic clock and a small clinic ("world") to book in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Patient, Practitioner, Treatment, TreatmentSession
from tests.conftest import COSMETIC, NOW, TODAY, TUESDAY  # noqa: F401  (re-exported for the tests here)


@dataclass
class World:
    """Ids of a small clinic: two BOTOX treatments, a cosmetic one, two practitioners, two patients."""

    migraine: int
    dystonia: int
    cosmetic: int
    prac: int
    prac2: int
    patient: int
    patient2: int


@pytest.fixture
def world(frozen, make_treatment, make_practitioner, make_patient) -> World:
    """The clinic the API tests book in (Mon-Fri 09:00-17:00 practitioners)."""
    migraine = make_treatment(name="Chronic migraine")
    dystonia = make_treatment(name="Cervical dystonia", follow_up_after="P4W")
    cosmetic = make_treatment(**COSMETIC)
    prac, prac2 = make_practitioner(name="Dr Hart"), make_practitioner(name="Dr Mehta")
    patient = make_patient(
        first_name="Olivia",
        last_name="Smith",
        email="olivia.smith@example.net",
        phone="07700 900123",
        date_of_birth=date(1980, 5, 17),
    )
    patient2 = make_patient(
        first_name="Noah",
        last_name="Jones",
        email="noah@example.org",
        phone="+44 20 7946 0958",
        date_of_birth=date(1975, 11, 2),
    )
    return World(migraine.id, dystonia.id, cosmetic.id, prac.id, prac2.id, patient.id, patient2.id)


def booking(world: World, starts_at: datetime | str, **overrides: Any) -> dict[str, Any]:
    """A POST /appointments body for the world's patient with its first practitioner (migraine)."""
    body = {
        "patient_id": world.patient,
        "practitioner_id": world.prac,
        "treatment_id": world.migraine,
        "starts_at": starts_at if isinstance(starts_at, str) else starts_at.isoformat(),
    }
    return body | overrides


def book(api, world: World, starts_at: datetime | str, **overrides: Any) -> dict[str, Any]:
    """Books and returns the appointment, failing the test unless the API answered 201."""
    r = api.post("/appointments", json=booking(world, starts_at, **overrides))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def assert_error(resp, status: int, code: str | None = None) -> dict[str, Any]:
    """Checks the error shape of CONTRACT §4 and returns the error object."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "fields"}, err
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["fields"], dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in err["fields"].items())
    if code is not None:
        assert err["code"] == code, err
    return err


MODELS = (Appointment, AuditEvent, Patient, Practitioner, Treatment, TreatmentSession)


def row_counts() -> dict[str, int]:
    """How many rows each clinic table holds (to prove a refused request wrote nothing)."""
    db.session.rollback()
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) or 0 for m in MODELS}


def audit_actions(entity_type: str | None = None, entity_id: int | None = None) -> list[str]:
    """The audit log's actions, oldest first, optionally for one entity."""
    stmt = select(AuditEvent.action).order_by(AuditEvent.id)
    if entity_type is not None:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    db.session.rollback()
    return list(db.session.scalars(stmt))
