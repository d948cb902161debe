"""Booking from a calendar cell through the panel in Chromium: type-ahead, the treatment pre-filled
from the last session, only the times that fit, Enter to book, and a new patient inline; at most
two page loads from the cell to the confirmation. Screenshots at 1366 and 390 px."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Appointment, Patient, Treatment, TreatmentSession
from scheduler.services import clock
from tests.e2e.conftest import refresh, shot, sign_in

pytestmark = pytest.mark.e2e

RECEPTION = "reception@example.com"
PHONE = {"width": 390, "height": 844}
#: a copy of this test's screenshots, to look at
LOOK = Path("/tmp/slots-shots")


def _shot(page, name: str, *, full_page: bool = False) -> None:
    path = shot(page, name, full_page=full_page)
    LOOK.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, LOOK / path.name)


def _fitting_cell(page, column: int, minutes: int) -> str:
    """A free cell's time after which `minutes` stay free (consecutive free cells cover them)."""
    texts = page.locator(".cal-col").nth(column).locator("a.free").all_inner_texts()
    free = {re.search(r"\d\d:\d\d", t).group(0) for t in texts}
    for t in sorted(free):
        start = datetime.strptime(t, "%H:%M")
        if all((start + timedelta(minutes=m)).strftime("%H:%M") in free for m in range(15, minutes, 15)):
            return t
    raise AssertionError(f"no {minutes}-minute gap in column {column}: {sorted(free)}")


def _navigations(page) -> list[str]:
    """The main frame's page loads from now on."""
    loads: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and loads.append(frame.url))
    return loads


def test_book_an_existing_patient_from_a_cell_in_one_panel(page, demo):
    migraine = db.session.scalar(select(Treatment).where(Treatment.name == "Chronic migraine"))
    patient = Patient(first_name="Nadia", last_name="Okonjo", phone="07700 555012", date_of_birth=date(1968, 2, 9))
    db.session.add(patient)
    db.session.flush()
    db.session.add(
        TreatmentSession(
            patient_id=patient.id,
            treatment_id=migraine.id,
            performed_on=clock.today() - timedelta(days=120),
            product="BOTOX",
            units=155,
            lot_number="C1001C1",
            external=True,
        )
    )
    db.session.commit()
    sign_in(page, RECEPTION, demo[RECEPTION])
    expect(page.locator("html[data-booking-panel=ready]")).to_have_count(1)
    when = _fitting_cell(page, 1, 45)  # migraine: 30 minutes and a 10-minute buffer
    practitioner = page.locator(".cal-col").nth(1).locator("h2").inner_text()
    loads = _navigations(page)

    page.locator(".cal-col").nth(1).locator("a.free", has_text=when).click()
    panel = page.get_by_role("dialog", name="Book an appointment")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(f"{practitioner}, Tuesday 2 March 2027 at {when}")
    search = panel.get_by_role("combobox", name="Find the patient")
    expect(search).to_be_focused()
    search.fill("Okonjo, Nadia")
    matches = panel.get_by_role("listbox", name="Matching patients").get_by_role("option")
    expect(matches).to_have_count(1)
    expect(matches.first).to_contain_text("born Fri 9 Feb 1968")
    search.press("Enter")  # chooses the highlighted patient
    expect(panel.locator("[data-bp-chosen-name]")).to_have_text("Nadia Okonjo (born Fri 9 Feb 1968)")
    treatment = panel.get_by_label("Treatment", exact=True)
    expect(treatment).to_have_value(str(migraine.id))  # from her last session
    expect(treatment.locator("option:checked")).to_have_text("Chronic migraine (30 min + 10 min buffer)")
    expect(panel.get_by_role("radio", name=when)).to_be_checked()
    _shot(page, "panel-desktop-1366")
    page.keyboard.press("Enter")  # the Book button has the focus: Enter books

    expect(page.get_by_role("status")).to_contain_text(f"Booked Nadia Okonjo for Chronic migraine with {practitioner}")
    expect(page).to_have_url(re.compile(r"/appointments/\d+$"))
    assert len(loads) <= 2, loads
    assert len(loads) == 1  # the confirmation page only
    _shot(page, "panel-confirmation-1366")
    refresh()
    appt = db.session.scalar(select(Appointment).where(Appointment.patient_id == patient.id))
    assert clock.local(appt.starts_at).strftime("%H:%M") == when
    assert appt.held_until - appt.ends_at == timedelta(minutes=10)
    page.goto("/calendar")
    buffer = page.locator(".cal-col").nth(1).locator(".buffer")
    expect(buffer).to_have_count(1)  # drawn after the new booking
    buffer.scroll_into_view_if_needed()
    _shot(page, "calendar-buffer-1366")


def test_register_and_book_a_new_patient_from_a_cell_on_a_phone(page, demo):
    cosmetic = db.session.scalar(select(Treatment).where(Treatment.kind == "cosmetic"))
    sign_in(page, RECEPTION, demo[RECEPTION])
    page.set_viewport_size(PHONE)
    expect(page.locator("html[data-booking-panel=ready]")).to_have_count(1)
    when = _fitting_cell(page, 2, 30)
    practitioner = page.locator(".cal-col").nth(2).locator("h2").inner_text()
    loads = _navigations(page)

    page.locator(".cal-col").nth(2).locator("a.free", has_text=when).click()
    panel = page.get_by_role("dialog", name="Book an appointment")
    search = panel.get_by_role("combobox", name="Find the patient")
    search.fill("Achebe, Imani")
    panel.get_by_role("button", name="Register a new patient here").click()
    expect(panel.get_by_label("First name")).to_have_value("Imani")
    expect(panel.get_by_label("Last name")).to_have_value("Achebe")
    panel.get_by_label("Date of birth").fill("1990-06-01")
    panel.get_by_label("Phone", exact=True).fill("+44 7700 900118")
    panel.get_by_label("Treatment", exact=True).select_option(str(cosmetic.id))
    expect(panel.get_by_role("radio", name=when)).to_be_checked()  # the cell's slot is kept
    _shot(page, "panel-new-patient-390", full_page=False)
    panel.get_by_label("Phone", exact=True).press("Enter")

    expect(page.get_by_role("status")).to_contain_text(f"Booked Imani Achebe for {cosmetic.name} with {practitioner}")
    assert len(loads) <= 2, loads
    _shot(page, "panel-confirmation-390", full_page=False)
    refresh()
    patient = db.session.scalar(select(Patient).where(Patient.last_name == "Achebe", Patient.first_name == "Imani"))
    appt = db.session.scalar(select(Appointment).where(Appointment.patient_id == patient.id))
    assert clock.local(appt.starts_at).strftime("%H:%M") == when and patient.phone_digits == "07700900118"


def test_a_refusal_shows_in_the_panel_and_keeps_what_was_typed(page, demo):
    sign_in(page, RECEPTION, demo[RECEPTION])
    when = _fitting_cell(page, 0, 15)  # any offered cell fits the cosmetic treatment (the shortest)
    page.locator(".cal-col").nth(0).locator("a.free", has_text=when).click()
    panel = page.get_by_role("dialog", name="Book an appointment")
    panel.get_by_role("button", name="Register a new patient here").click()
    panel.get_by_label("First name").fill("Olu")
    panel.get_by_label("Last name").fill("Bankole")
    panel.get_by_label("Email", exact=True).fill("not-an-email")
    cosmetic = db.session.scalar(select(Treatment).where(Treatment.kind == "cosmetic"))
    with page.expect_response(lambda r: "/book/panel/times" in r.url):  # the times of that treatment
        panel.get_by_label("Treatment", exact=True).select_option(str(cosmetic.id))
    expect(panel.get_by_role("radio", name=when)).to_be_checked()  # the cell's time is kept
    panel.get_by_role("button", name="Book", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("Enter an email address like name@example.com.")
    expect(panel.get_by_label("First name")).to_have_value("Olu")
    expect(panel.get_by_role("radio", name=when)).to_be_checked()
    _shot(page, "panel-refusal-1366")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
