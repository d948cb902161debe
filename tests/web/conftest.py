"""Fixtures for the page tests: a frozen clinic clock, a small clinic, signed-in staff, form posts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Patient, Practitioner, Treatment, TreatmentSession
from tests.conftest import COSMETIC, NOW, TODAY, TUESDAY, csrf_from  # noqa: F401  (re-exported for the tests here)


@dataclass
class Clinic:
    """A small clinic: two BOTOX treatments and a cosmetic one, two practitioners, two patients."""

    migraine: Treatment
    dystonia: Treatment
    cosmetic: Treatment
    hart: Practitioner
    mehta: Practitioner
    olivia: Patient
    noah: Patient


@pytest.fixture
def clinic(frozen, make_treatment, make_practitioner, make_patient) -> Clinic:
    """The clinic the page tests work in (Mon-Fri 09:00-17:00)."""
    migraine = make_treatment(name="Chronic migraine")
    dystonia = make_treatment(name="Cervical dystonia (torticollis)", follow_up_after="P4W")
    cosmetic = make_treatment(**COSMETIC)
    hart, mehta = make_practitioner(name="Dr Amelia Hart"), make_practitioner(name="Dr Rohan Mehta")
    olivia = make_patient(
        first_name="Olivia",
        last_name="Smith",
        email="olivia.smith@example.net",
        phone="07700 900123",
        date_of_birth=date(1980, 5, 17),
    )
    noah = make_patient(
        first_name="Noah",
        last_name="Jones",
        email="noah@example.org",
        phone="+44 20 7946 0958",
        date_of_birth=date(1975, 11, 2),
    )
    return Clinic(migraine, dystonia, cosmetic, hart, mehta, olivia, noah)


@pytest.fixture
def reception(client, sign_in, clinic):
    """A receptionist signed in on `client`."""
    return sign_in("receptionist")


@pytest.fixture
def admin(client, sign_in, clinic):
    """An admin signed in on `client`."""
    return sign_in("admin")


def post_form(client, url: str, data: dict[str, Any], *, page: str | None = None):
    """Posts a form with the CSRF token taken from a page (the form's own page by default)."""
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def make_appointment(
    patient: Patient, practitioner: Practitioner, treatment: Treatment, starts_at: datetime, status: str = "booked"
) -> Appointment:
    """An appointment row written directly (no booking rules: past days and odd statuses are fine)."""
    appt = Appointment(
        patient_id=patient.id,
        practitioner_id=practitioner.id,
        treatment_id=treatment.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=treatment.duration_minutes),
        status=status,
    )
    db.session.add(appt)
    db.session.commit()
    return appt


def add_session(patient: Patient, treatment: Treatment, performed_on: date, **fields: Any) -> TreatmentSession:
    """Records a past session row directly."""
    values = {"product": treatment.product, "units": 100.0, "lot_number": "C1000C1", "external": False} | fields
    session = TreatmentSession(patient_id=patient.id, treatment_id=treatment.id, performed_on=performed_on, **values)
    db.session.add(session)
    db.session.commit()
    return session


MODELS = (Appointment, AuditEvent, Patient, TreatmentSession)


def counts() -> dict[str, int]:
    """Rows per table, read afresh (to prove a refused request changed nothing)."""
    db.session.rollback()
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) or 0 for m in MODELS}


def text_of(resp) -> str:
    """The page's text with tags removed and whitespace collapsed (for message checks)."""
    html = resp.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(strong|em|b|i|a|span|code|time)\b[^>]*>", "", html)  # inline: no word break
    text = re.sub(r"<[^>]+>", " ", html)
    text = (
        text.replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("&quot;", '"')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
    )
    return re.sub(r"\s+", " ", text).strip()


def fresh(obj):
    """Reloads a row after requests changed it."""
    db.session.rollback()
    return db.session.get(type(obj), obj.id)
