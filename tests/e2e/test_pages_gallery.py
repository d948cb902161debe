"""Every reception page opens in the browser without a script error or a CSP violation; screenshots."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler import seed_recall
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, Treatment, TreatmentSession
from tests.e2e.conftest import TABLET, shot, sign_in

pytestmark = pytest.mark.e2e


def _recall_data() -> Patient:
    """A few patients whose re-treatment windows are open or closed."""
    treatments = db.session.scalars(select(Treatment).order_by(Treatment.id)).all()
    names = [
        ("Eleanor", "Marsh"),
        ("Kwame", "Asante"),
        ("Ines", "Duarte"),
        ("Farah", "Siddiqui"),
        ("Callum", "Reid"),
        ("Yuki", "Tanaka"),
    ]
    patients = [
        Patient(
            first_name=first,
            last_name=last,
            email=f"{first}.{last}@example.net".lower(),
            phone=f"07700 9111{i:02d}",
            reminders_opt_in=i != 2,
        )
        for i, (first, last) in enumerate(names)
    ]
    db.session.add_all(patients)
    db.session.flush()
    days = [
        date(2026, 11, 20),
        date(2026, 12, 1),
        date(2026, 10, 2),
        date(2026, 8, 10),
        date(2026, 11, 30),
        date(2026, 11, 28),
    ]
    for i, (patient, day) in enumerate(zip(patients, days, strict=True)):
        db.session.add(
            TreatmentSession(
                patient_id=patient.id,
                treatment_id=treatments[i % len(treatments)].id,
                performed_on=day,
                product=treatments[i % len(treatments)].product,
                units=100,
                lot_number=f"C90{i}C1",
                external=i == 3,
            )
        )
    db.session.commit()
    return patients[0]


def test_reception_pages(page, demo):
    patient = _recall_data()
    sign_in(page, "reception@example.com", demo["reception@example.com"])
    page.locator(".cal-col h2 a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dr Amelia Hart")
    shot(page, "week-view")

    checked_in = db.session.scalar(select(Appointment).where(Appointment.status == "checked_in"))
    page.goto(f"/appointments/{checked_in.id}")
    expect(page.get_by_role("heading", name="Complete and record the session")).to_be_visible()
    shot(page, "appointment-checked-in")

    page.goto("/patients?q=smith")
    expect(page.locator("table.list tbody tr").first).to_be_visible()
    shot(page, "patients-search")

    page.goto("/patients/new")
    page.get_by_label("Phone", exact=True).fill("call me")
    page.get_by_label("Date of birth").fill("2099-01-01")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_text("The date of birth cannot be in the future.")).to_be_visible()
    shot(page, "patient-form-errors")

    page.goto(f"/patients/{patient.id}/sessions/new")
    shot(page, "past-session-form")

    page.goto(f"/patients/{patient.id}")
    shot(page, "patient-with-history")

    page.goto("/recall")
    expect(page.locator("table.list tbody tr")).to_have_count(6 + len(seed_recall.DUE))  # the demo's own too
    shot(page, "recall-list")

    page.goto("/nowhere")
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find that page")
    shot(page, "not-found", full_page=False)

    page.goto("/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")


def test_admin_override_on_the_booking_form(page, demo):
    patient = db.session.scalar(
        select(Patient).join(TreatmentSession, TreatmentSession.patient_id == Patient.id).order_by(Patient.id)
    )
    last = db.session.scalar(select(TreatmentSession).where(TreatmentSession.patient_id == patient.id))
    sign_in(page, "admin@example.com", demo["admin@example.com"])
    page.goto(f"/book?patient_id={patient.id}&treatment_id={last.treatment_id}&date=2027-03-04")
    expect(page.locator(".note-warn")).to_contain_text("too soon")
    page.locator("label.slot").first.click()
    page.get_by_label("Override reason (admins only)").fill("")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("the earliest safe date is")
    expect(page.get_by_role("alert")).to_contain_text("give an override reason")
    shot(page, "booking-too-soon-admin")
    page.locator("label.slot").first.click()
    page.get_by_label("Override reason (admins only)").fill("Consultant asked for an early top-up")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Booked {patient.full_name}")
    expect(page.get_by_text("Consultant asked for an early top-up")).to_be_visible()
    page.set_viewport_size(TABLET)
    page.goto(f"/book?patient_id={patient.id}&treatment_id={last.treatment_id}&date=2027-03-05")
    shot(page, "booking-form-tablet")
