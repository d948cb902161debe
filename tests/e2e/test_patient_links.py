"""Done-when of the patients' links, in Chromium at 390 px, on SQLite and PostgreSQL.

A session recorded 3 months ago -> a sweep sends the re-treatment reminder through a real SMTP
server -> its link -> a week later -> a time just taken at the desk -> one of the nearest -> booked:
the track's other reminders are cancelled and the confirmation (with its .ics) arrives. Then the
confirmation's "Change or cancel" link moves the appointment and cancels it; an appointment inside
the cut-off says to call; a forged and an expired link get their pages. Screenshots of each page
go to tests/screenshots/patient-*.png.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from scheduler.booking import operations
from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Reminder
from scheduler.patients import sessions
from scheduler.reminders import sweep
from scheduler.selfservice import links
from tests.conftest import london
from tests.e2e.conftest import shot
from tests.reminders.conftest import smtp  # noqa: F401 (the real SMTP server fixture)

pytestmark = pytest.mark.e2e

#: Tuesday 2 March 2027, 11:40 in London: inside the send hours
NOW = datetime(2027, 3, 2, 11, 40, tzinfo=ZoneInfo("Europe/London"))
PHONE = "020 7946 0000"
PHONE_SIZE = {"width": 390, "height": 844}
#: answers a test asks for on purpose, which Chromium logs as console errors
EXPECTED = re.compile(r"Failed to load resource: the server responded with a status of (400|409|410)")
LINK = re.compile(r"https?://\S+/p/(?:book|appointment)/[A-Za-z0-9_.-]+")


@pytest.fixture
def world(app, smtp, make_treatment, make_practitioner, make_patient):  # noqa: F811 (smtp is the fixture)
    """A clinic on a ticking clock, served on a free port, sending to the SMTP server."""
    with time_machine.travel(NOW, tick=True):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        app.config.update(BASE_URL=base, CLINIC_PHONE=PHONE)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        clinic = {
            "migraine": make_treatment(name="Chronic migraine"),
            "hart": make_practitioner(name="Dr Amelia Hart"),
            "olivia": make_patient(first_name="Olivia", last_name="Smith", email="olivia@example.net"),
            "noah": make_patient(first_name="Noah", last_name="Jones", email="noah@example.org"),
            "base": base,
            "inbox": smtp,
        }
        try:
            yield clinic
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()


@pytest.fixture
def phone(browser, world) -> Iterator:
    """A 390 px wide page that fails the test on a script error or an unexpected failed request."""
    context = browser.new_context(viewport=PHONE_SIZE, base_url=world["base"], is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda m: m.type == "error" and not EXPECTED.match(m.text) and problems.append(m.text))
    yield pg
    context.close()
    assert not problems, problems


def fits(page, name: str) -> None:
    """Saves the screenshot and checks nothing is wider than the phone."""
    shot(page, f"patient-{name}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SIZE["width"], name


def swept() -> None:
    sweep.run()
    db.session.rollback()


def links_in(msg) -> list[str]:
    return LINK.findall(msg.get_body(("plain",)).get_content())


def calendar_parts(msg) -> list[str]:
    return [p.get_content() for p in msg.walk() if p.get_content_type() == "text/calendar"]


def start_of(href: str) -> datetime:
    return datetime.fromisoformat(unquote(parse_qs(urlsplit(href).query)["at"][0]))


def reminders(**where) -> list[Reminder]:
    db.session.rollback()
    stmt = select(Reminder).where(*(getattr(Reminder, k) == v for k, v in where.items()))
    return list(db.session.scalars(stmt.order_by(Reminder.kind, Reminder.seq, Reminder.id)))


def test_from_the_reminder_to_a_booking_a_move_and_a_cancellation(world, phone):
    inbox, olivia = world["inbox"], world["olivia"]
    session = sessions.record_past(
        olivia.id, actor=None, treatment_id=world["migraine"].id, performed_on=date(2026, 12, 2)
    )
    db.session.commit()
    swept()
    [reminder_mail] = inbox.to("olivia@example.net")
    assert [r.status for r in reminders(session_id=session.id, kind="retreatment")] == ["sent", "pending", "pending"]
    [book_link] = links_in(reminder_mail)
    assert "/p/book/" in book_link and book_link in reminder_mail.get_body(("html",)).get_content()

    # the link: this week first, then a week later
    phone.goto(book_link)
    expect(phone.get_by_role("heading", name="Book your next appointment")).to_be_visible()
    fits(phone, "book-week")
    phone.get_by_text("Nothing suits? Join the waitlist").click()  # the waitlist form opens in place
    expect(phone.get_by_role("button", name="Put me on the waitlist")).to_be_visible()
    fits(phone, "book-waitlist")
    phone.get_by_role("link", name="Later →").click()
    expect(phone.get_by_text("Week of 8 March")).to_be_visible()
    wanted = phone.locator(".day .times a").first
    wanted_at = start_of(wanted.get_attribute("href"))
    assert wanted_at.date() >= date(2027, 3, 8)
    wanted.click()
    expect(phone.get_by_role("heading", name="Confirm your appointment")).to_be_visible()
    fits(phone, "book-confirm")

    # meanwhile the desk gives that time to someone else: one winner, and the nearest times
    operations.book(
        patient_id=world["noah"].id,
        practitioner_id=world["hart"].id,
        treatment_id=world["migraine"].id,
        starts_at=wanted_at,
        actor=None,
    )
    db.session.commit()
    phone.get_by_role("button", name="Book this time").click()
    expect(phone.get_by_text("Sorry, that time has just been taken.")).to_be_visible()
    fits(phone, "book-taken")
    nearest = phone.locator(".alert .times a").first
    booked_at = start_of(nearest.get_attribute("href"))
    assert booked_at != wanted_at and abs(booked_at - wanted_at) <= timedelta(hours=1)
    nearest.click()
    phone.get_by_role("button", name="Book this time").click()
    expect(phone.get_by_role("heading", name="You have booked your next appointment")).to_be_visible()
    fits(phone, "book-done")

    db.session.rollback()
    appt = db.session.scalars(select(Appointment).where(Appointment.patient_id == olivia.id)).one()
    assert appt.starts_at == booked_at and appt.status == "booked"
    assert [r.status for r in reminders(session_id=session.id, kind="retreatment")] == [
        "sent",
        "cancelled",
        "cancelled",
    ]
    booked = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "appointment.booked", AuditEvent.entity_id == appt.id)
    ).one()
    assert booked.actor == "patient via link"

    swept()
    confirmation = inbox.to("olivia@example.net")[-1]
    [ics] = calendar_parts(confirmation)
    assert f"appointment-{appt.id}@" in ics and booked_at.strftime("%Y%m%dT%H%M%SZ") in ics
    [change_link] = links_in(confirmation)
    assert "/p/appointment/" in change_link

    # the same link from a booked track shows the appointment
    phone.goto(book_link)
    expect(phone.get_by_role("heading", name="You have booked your next appointment")).to_be_visible()

    # move it a week later, through the confirmation's link
    phone.goto(change_link)
    expect(phone.get_by_role("heading", name="Your appointment")).to_be_visible()
    fits(phone, "appointment")
    phone.get_by_role("link", name="Later →").click()
    target = phone.locator(".day .times a").nth(3)
    moved_at = start_of(target.get_attribute("href"))
    target.click()
    expect(phone.get_by_role("heading", name="Move your appointment")).to_be_visible()
    fits(phone, "move-confirm")
    phone.get_by_role("button", name="Move to this time").click()
    expect(phone.get_by_text("Your appointment has been moved.")).to_be_visible()
    db.session.rollback()
    assert db.session.get(Appointment, appt.id).starts_at == moved_at
    pre = [r for r in reminders(appointment_id=appt.id, kind="pre_visit") if r.status == "pending"]
    assert [r.due_at for r in pre] == [moved_at - timedelta(hours=24)]
    swept()
    [moved_ics] = calendar_parts(inbox.to("olivia@example.net")[-1])
    assert moved_at.strftime("%Y%m%dT%H%M%SZ") in moved_ics

    # and cancel it: one more tap to confirm
    phone.goto(change_link)
    phone.get_by_role("link", name="Cancel this appointment").click()
    expect(phone.get_by_role("heading", name="Cancel your appointment?")).to_be_visible()
    fits(phone, "cancel-confirm")
    phone.get_by_role("button", name="Yes, cancel it").click()
    expect(phone.get_by_role("heading", name="Cancelled appointment")).to_be_visible()
    fits(phone, "cancelled")
    db.session.rollback()
    assert db.session.get(Appointment, appt.id).status == "cancelled"
    assert {r.status for r in reminders(appointment_id=appt.id, kind="pre_visit")} == {"cancelled"}
    assert "pending" in {r.status for r in reminders(session_id=session.id, kind="retreatment")}  # the track is back
    sent_before = len(inbox.messages)
    swept()
    [notice] = inbox.messages[sent_before:]  # the cancellation notice takes the event out of her calendar
    [cancel_ics] = calendar_parts(notice)
    assert "METHOD:CANCEL" in cancel_ics and f"appointment-{appt.id}@" in cancel_ics


def test_inside_the_cut_off_forged_and_expired_links(world, phone):
    olivia = world["olivia"]
    tomorrow = operations.book(
        patient_id=olivia.id,
        practitioner_id=world["hart"].id,
        treatment_id=world["migraine"].id,
        starts_at=london(date(2027, 3, 3), 9),  # 21 hours ahead
        actor=None,
    )
    db.session.commit()
    phone.goto(links.appointment_link_for(tomorrow, olivia))
    expect(phone.get_by_text("please call us on")).to_be_visible()
    expect(phone.get_by_role("link", name="Cancel this appointment")).to_have_count(0)
    fits(phone, "inside-cut-off")

    resp = phone.goto("/p/book/eyJrIjoiZm9yZ2VkIn0.forged")
    assert resp.status == 400
    expect(phone.get_by_role("heading", name="This link is not valid")).to_be_visible()
    fits(phone, "forged")

    session = sessions.record_past(
        olivia.id, actor=None, treatment_id=world["migraine"].id, performed_on=date(2026, 6, 1)
    )
    db.session.commit()
    expired = links.booking_token(olivia, session.id, london(date(2027, 3, 1), 0))
    resp = phone.goto(f"/p/book/{expired}")
    assert resp.status == 410
    expect(phone.get_by_role("heading", name="This link has expired")).to_be_visible()
    expect(phone.get_by_text(PHONE)).to_be_visible()
    fits(phone, "expired")
