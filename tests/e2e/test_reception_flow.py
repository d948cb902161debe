"""The receptionist's day in a real browser: sign in, register, book, check in, complete, conflicts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler.booking import operations
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, Practitioner, Treatment, TreatmentSession
from tests.e2e.conftest import TABLET, enhanced, refresh, shot, sign_in

pytestmark = pytest.mark.e2e

RECEPTION = "reception@example.com"


def _new_patient(first: str, last: str) -> Patient:
    """A patient with no history (the demo patients may be inside the safety interval)."""
    patient = Patient(
        first_name=first,
        last_name=last,
        email=f"{first}.{last}@example.net".lower(),
        phone="07700 123456",
        reminders_opt_in=True,
    )
    db.session.add(patient)
    db.session.commit()
    return patient


def _bookable_cell(page, column: int) -> str:
    """The time of a free calendar cell in a column whose next two quarters are free too (fits 30
    minutes and the demo's 10-minute buffer: a cell is offered where the 20-minute treatment fits)."""
    texts = page.locator(".cal-col").nth(column).locator("a.free").all_inner_texts()
    times = [re.search(r"\d\d:\d\d", t).group(0) for t in texts]
    free = set(times)
    for t in times:
        later = [(datetime.strptime(t, "%H:%M") + timedelta(minutes=m)).strftime("%H:%M") for m in (15, 30)]
        if all(nxt in free for nxt in later):
            return t
    raise AssertionError(f"no 40-minute gap in column {column}: {times}")


def test_busy_day_calendar(page, demo):
    sign_in(page, RECEPTION, demo[RECEPTION])
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tuesday 2 March 2027")
    expect(page.locator(".cal-col")).to_have_count(4)
    expect(page.locator(".cal .now")).to_have_count(4)
    assert page.locator("a.appt").count() > 20
    shot(page, "day-calendar")
    page.set_viewport_size(TABLET)
    shot(page, "day-calendar-tablet")
    page.get_by_role("link", name="Next day").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wednesday 3 March 2027")
    expect(page.locator(".cal .now")).to_have_count(0)


def test_register_a_patient(page, demo):
    page.goto("/calendar")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    shot(page, "sign-in", full_page=False)
    sign_in(page, RECEPTION, demo[RECEPTION])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_text("Enter the first name.")).to_be_visible()
    expect(page.get_by_text("Enter an email address like name@example.com.")).to_be_visible()
    page.get_by_label("First name").fill("Imogen")
    page.get_by_label("Last name").fill("Carter-Bell")
    page.get_by_label("Date of birth").fill("1979-11-30")
    page.get_by_label("Phone", exact=True).fill("+44 7700 900123")
    page.get_by_label("Email", exact=True).fill("imogen@example.net")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imogen Carter-Bell")
    expect(page.get_by_role("status")).to_contain_text("Registered Imogen Carter-Bell.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Find a patient").fill("carter")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Carter-Bell, Imogen")).to_be_visible()


def test_book_from_the_calendar_then_check_in_and_complete(page, demo):
    patient = _new_patient("Nadia", "Okonjo")
    sign_in(page, RECEPTION, demo[RECEPTION])
    when = _bookable_cell(page, 1)
    practitioner = page.locator(".cal-col").nth(1).locator("h2").inner_text()
    # The plain booking form a cell links to (a click opens the booking panel: test_booking_panel.py)
    page.goto(page.locator(".cal-col").nth(1).locator("a.free", has_text=when).get_attribute("href"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Book an appointment")
    page.get_by_label("Find the patient").fill("okonjo")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Choose Nadia Okonjo").click()
    expect(page).to_have_url(re.compile(rf"patient_id={patient.id}\b"))
    enhanced(page)
    page.get_by_label("Treatment", exact=True).select_option(
        label="Chronic migraine (30 min)"
    )  # the page refreshes itself
    expect(page.get_by_label("Practitioner", exact=True)).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_role("radio", name=when)).to_be_checked()
    shot(page, "booking-form")
    page.get_by_role("button", name="Book", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text(f"Booked Nadia Okonjo for Chronic migraine with {practitioner}")
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("status")).to_contain_text("Nadia Okonjo checked in.")
    page.get_by_role("button", name="Complete session").click()
    expect(page.get_by_text("Enter the units given.")).to_be_visible()
    page.get_by_label("Units").fill("155")
    page.get_by_label("Lot number").fill("C7777C2")
    page.get_by_label("Lot expiry").fill("2027-12-31")
    page.get_by_label("Injection sites").fill("31 sites per PREEMPT protocol")
    page.get_by_role("button", name="Complete session").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia Okonjo")
    sessions = page.get_by_role("region", name="Sessions")
    expect(sessions).to_contain_text("C7777C2")
    expect(sessions).to_contain_text("155")
    retreatment = page.get_by_role("region", name="Re-treatment")
    expect(retreatment).to_contain_text("Chronic migraine")
    expect(retreatment).to_contain_text("Not yet due")
    shot(page, "patient-page")
    refresh()
    session = db.session.scalar(select(TreatmentSession).where(TreatmentSession.patient_id == patient.id))
    assert session is not None and session.lot_number == "C7777C2" and session.units == 155


def test_conflict_when_the_slot_is_taken_meanwhile(page, demo):
    patient = _new_patient("Tomasz", "Wrona")
    rival = _new_patient("Rita", "Quick")
    practitioner = db.session.scalar(select(Practitioner).where(Practitioner.name == "Dr Rohan Mehta"))
    treatment = db.session.scalar(select(Treatment).where(Treatment.name == "Chronic migraine"))
    sign_in(page, RECEPTION, demo[RECEPTION])
    page.goto(
        f"/book?patient_id={patient.id}&treatment_id={treatment.id}&practitioner_id={practitioner.id}&date=2027-03-03"
    )
    first = page.locator("label.slot").first
    when = first.inner_text().strip()
    first.click()
    # Meanwhile, at the other desk, someone books that very time.
    value = first.locator("input").get_attribute("value")
    starts_at = datetime.fromisoformat(value.split("|", 1)[1])
    operations.book(
        patient_id=rival.id, practitioner_id=practitioner.id, treatment_id=treatment.id, starts_at=starts_at, actor=None
    )
    db.session.commit()
    page.get_by_role("button", name="Book", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The practitioner is already booked at that time.")
    expect(page.get_by_role("radio", name=when)).to_have_count(0)
    shot(page, "booking-conflict")
    refresh()
    assert db.session.scalar(select(Appointment).where(Appointment.patient_id == patient.id)) is None
