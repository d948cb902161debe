"""The waitlist offer page on a 390 px phone, in Chromium: take the time, "taken" for the next, 400 and 410 pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler.booking import visits
from scheduler.extensions import db
from scheduler.models import Appointment, Patient, WaitlistEntry
from scheduler.services import clock
from scheduler.waitlist import entries, tokens
from tests.e2e.conftest import refresh, sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/notices-shots")


def snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def offered(app, demo):
    """A booked appointment tomorrow is cancelled with two other patients waiting for its treatment; their links."""
    app.config["CLINIC_PHONE"] = "020 7946 0000"
    tomorrow = clock.day_bounds(clock.today() + timedelta(days=1))
    appt = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.status == "booked", Appointment.starts_at >= tomorrow[0], Appointment.starts_at < tomorrow[1]
        )
        .order_by(Appointment.starts_at)
    ).first()
    others = db.session.scalars(select(Patient.id).where(Patient.id != appt.patient_id).order_by(Patient.id)).all()
    ids = []
    for pid in others[:2]:
        ids.append(
            entries.add(
                patient_id=pid,
                treatment_id=appt.treatment_id,
                practitioner_id=None,
                from_date=clock.today(),
                until_date=clock.today() + timedelta(days=14),
                actor=None,
            ).id
        )
        db.session.commit()
    visits.change_status(appt.id, "cancelled", actor=None, reason="rang")
    db.session.commit()
    links = [f"/p/offer/{tokens.make_token(i, appt.id, appt.starts_at)}" for i in ids]
    expired = f"/p/offer/{tokens.make_token(ids[0], appt.id, clock.now() - timedelta(minutes=1))}"
    return appt, ids, links, expired


def test_the_offer_on_a_phone(browser, live_server, offered, demo):
    appt, ids, links, expired = offered
    context = browser.new_context(viewport=PHONE, base_url=live_server, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto(links[0])
        expect(page.get_by_role("heading", name="A time has come free")).to_be_visible()
        snap(page, "offer-open-390")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("button", name="Book this time").tap()
        expect(page.get_by_role("heading", name="It’s yours")).to_be_visible()
        snap(page, "offer-yours-390")
        page.goto(links[1])
        expect(page.get_by_role("heading", name="Sorry, this time has been taken")).to_be_visible()
        snap(page, "offer-taken-390")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.goto(links[0][:-4] + "AAAA").status == 400
        expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
        snap(page, "offer-forged-390")
        assert page.goto(expired).status == 410
        expect(page.get_by_role("link", name="020 7946 0000")).to_be_visible()
        snap(page, "offer-expired-390")
    finally:
        context.close()
    assert not problems, problems
    refresh()
    assert db.session.get(WaitlistEntry, ids[0]).status == "booked"
    assert db.session.get(WaitlistEntry, ids[1]).status == "waiting"


def test_reception_sees_the_waitlist(page, offered, demo):
    sign_in(page, "reception@example.com", demo["reception@example.com"])
    page.get_by_role("link", name="Waitlist").click()
    expect(page.get_by_role("heading", name="Waiting")).to_be_visible()
    assert page.locator("table.list tbody tr").count() == 2
    snap(page, "reception-waitlist")
