"""The patients' own pages: booking from a re-treatment reminder's link, moving and cancelling by link.

The clock is frozen on Monday 1 March 2027, 08:00 London; the practitioners work Mon-Fri 09:00-17:00.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from scheduler.booking import operations
from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, LinkUse, Reminder
from scheduler.patients import sessions
from scheduler.selfservice import links
from tests.conftest import london
from tests.web.conftest import counts, csrf_from, fresh, text_of

PHONE = "020 7946 0000"


@pytest.fixture(autouse=True)
def _phone(app):
    app.config["CLINIC_PHONE"] = PHONE


def track(clinic, performed_on: date, patient=None, treatment=None):
    """Records a session through the real path (its reminders planned) and returns it."""
    session = sessions.record_past(
        (patient or clinic.olivia).id,
        actor=None,
        treatment_id=(treatment or clinic.migraine).id,
        performed_on=performed_on,
    )
    db.session.commit()
    return session


def retreatment(session_id: int) -> list[Reminder]:
    db.session.rollback()
    stmt = select(Reminder).where(Reminder.session_id == session_id, Reminder.kind == "retreatment")
    return list(db.session.scalars(stmt.order_by(Reminder.seq)))


def book_path(session) -> str:
    reminder = retreatment(session.id)[0]
    return urlsplit(links.booking_link_for(reminder, reminder.patient)).path


def offered(html: str, name: str = "book/") -> list[tuple[str, str]]:
    """(practitioner id, start) of every time the page offers."""
    found = []
    for href in re.findall(r'href="([^"]*/confirm\?[^"]*|[^"]*/move\?[^"]*)"', html):
        query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
        found.append((query.get("pr", [""])[0], unquote(query["at"][0])))
    return found


def book_form(client, path: str, pr: int, at: str):
    page = client.get(f"{path}/confirm", query_string={"pr": pr, "at": at})
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path, data={"pr": pr, "at": at, "csrf_token": csrf_from(page.get_data(as_text=True))})


def test_the_page_offers_only_safe_days_starting_with_the_last_practitioner(client, clinic):
    # last BOTOX session 1 January: the earliest safe day is 26 March (84 days), a Friday
    session = track(clinic, date(2027, 1, 1))
    appt = Appointment(
        patient_id=clinic.olivia.id,
        practitioner_id=clinic.mehta.id,
        treatment_id=clinic.migraine.id,
        starts_at=london(date(2026, 12, 1), 10),
        ends_at=london(date(2026, 12, 1), 10, 30),
        status="completed",
    )
    db.session.add(appt)
    db.session.commit()
    resp = client.get(book_path(session))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    times = offered(html)
    assert times and {pr for pr, _ in times} == {str(clinic.mehta.id)}  # the practitioner seen last
    assert min(at for _, at in times) >= london(date(2027, 3, 26), 9).isoformat()
    assert "Week of 22 March" in text_of(resp) and "Not yet" in text_of(resp)
    assert "Chronic migraine" not in html  # the page names no treatment (a link can be forwarded)
    nxt = client.get(book_path(session), query_string={"pr": clinic.hart.id, "week": "2027-03-29"})
    assert "Week of 29 March" in text_of(nxt) and str(clinic.hart.id) in {
        pr for pr, _ in offered(nxt.get_data(as_text=True))
    }
    early = client.get(book_path(session), query_string={"week": "2027-03-01"})  # kept at the first bookable week
    assert "Week of 22 March" in text_of(early)


def test_booking_by_link_closes_the_track_and_is_audited_as_the_patient(client, clinic):
    session = track(clinic, date(2026, 12, 1))
    path = book_path(session)
    pr, at = offered(client.get(path).get_data(as_text=True))[0]
    token = csrf_from(client.get(f"{path}/confirm", query_string={"pr": pr, "at": at}).get_data(as_text=True))
    resp = book_form(client, path, int(pr), at)
    assert resp.status_code == 303
    appt = db.session.scalars(select(Appointment).where(Appointment.patient_id == clinic.olivia.id)).one()
    assert appt.starts_at.isoformat() == at and appt.booked_by_id is None
    assert {r.status for r in retreatment(session.id)} <= {"cancelled", "sent", "skipped"}
    kinds = {r.kind: r.status for r in db.session.scalars(select(Reminder).where(Reminder.appointment_id == appt.id))}
    assert kinds["confirmation"] == "pending"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "appointment.booked")).one()
    assert event.actor == "patient via link" and event.actor_id is None
    again = client.get(resp.headers["Location"])
    assert "You have booked your next appointment" in text_of(again) and "Change or cancel" in text_of(again)
    # the booked link shows the appointment; posting again books nothing more
    assert client.post(path, data={"pr": pr, "at": at, "csrf_token": token}).status_code == 409
    assert len(db.session.scalars(select(Appointment)).all()) == 1


def test_a_time_just_taken_gets_the_nearest_free_ones(client, clinic):
    session = track(clinic, date(2026, 12, 1))
    path = book_path(session)
    pr, at = offered(client.get(path).get_data(as_text=True))[2]
    page = client.get(f"{path}/confirm", query_string={"pr": pr, "at": at})
    # someone at the desk takes the time meanwhile
    operations.book(
        patient_id=clinic.noah.id,
        practitioner_id=int(pr),
        treatment_id=clinic.migraine.id,
        starts_at=fresh_start(at),
        actor=None,
    )
    db.session.commit()
    before = counts()
    resp = client.post(path, data={"pr": pr, "at": at, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 409
    assert "just been taken" in text_of(resp) and "nearest free times" in text_of(resp)
    assert at not in {a for _, a in offered(resp.get_data(as_text=True))}
    assert counts() == before


def fresh_start(at: str):
    from datetime import datetime

    return datetime.fromisoformat(at)


@pytest.mark.parametrize(
    ("at", "status", "words"),
    [
        (london(date(2027, 2, 26), 10).isoformat(), 422, "in the past"),
        (london(date(2027, 3, 6), 10).isoformat(), 422, "outside"),  # a Saturday
        (london(date(2027, 3, 2), 10).isoformat(), 422, "earliest safe date"),  # too soon: not offered, refused
        ("2027-03-02T10:00:00", 400, "not valid"),  # no offset
        ("2027-03-02\x00T10:00", 400, "not valid"),
        ("x" * 100_000, 400, "not valid"),
    ],
)
def test_refused_times_get_a_message_and_change_nothing(client, clinic, at, status, words):
    session = track(clinic, date(2027, 1, 1))
    path = book_path(session)
    token = csrf_from(
        client.get(
            f"{path}/confirm", query_string={"pr": clinic.hart.id, "at": london(date(2027, 4, 1), 10).isoformat()}
        ).get_data(as_text=True)
    )
    before = counts()
    resp = client.post(path, data={"pr": clinic.hart.id, "at": at, "csrf_token": token})
    assert resp.status_code == status and words in text_of(resp)
    assert counts() == before


def test_a_post_without_csrf_changes_nothing(client, clinic):
    session = track(clinic, date(2026, 12, 1))
    path = book_path(session)
    pr, at = offered(client.get(path).get_data(as_text=True))[0]
    before = counts()
    assert client.post(path, data={"pr": pr, "at": at}).status_code == 400
    assert counts() == before


def test_forged_foreign_and_wrong_purpose_links_get_400_and_expired_ones_410(client, clinic, frozen):
    session = track(clinic, date(2026, 12, 1))
    path = book_path(session)
    token = path.rsplit("/", 1)[1]
    noah = track(clinic, date(2026, 12, 1), patient=clinic.noah)
    reminder = retreatment(session.id)[0]
    foreign = links.booking_token(fresh(clinic.noah), session.id, reminder.expires_at)  # Noah's key, Olivia's track
    appt = Appointment(
        patient_id=clinic.olivia.id,
        practitioner_id=clinic.hart.id,
        treatment_id=clinic.cosmetic.id,
        starts_at=london(date(2027, 3, 10), 10),
        ends_at=london(date(2027, 3, 10), 10, 20),
        status="booked",
    )
    db.session.add(appt)
    db.session.commit()
    manage = links.appointment_token(appt, fresh(clinic.olivia))
    for bad in (token[:-2] + "xx", foreign, manage, "%00", "a" * 5000):
        resp = client.get(f"/p/book/{bad}")
        assert resp.status_code in (400, 404), bad
    assert client.get(f"/p/appointment/{token}").status_code == 400  # a booking token is no appointment token
    assert client.get(f"/p/book/{foreign}").status_code == 400 and PHONE in text_of(client.get(f"/p/book/{foreign}"))
    assert noah is not None
    # the window closed (D + P6M = 1 June) 14 days ago: 410 with the phone number
    frozen.move_to(reminder.expires_at + timedelta(minutes=1))
    resp = client.get(path)
    assert resp.status_code == 410 and "expired" in text_of(resp) and PHONE in text_of(resp)
    frozen.move_to(reminder.expires_at - timedelta(minutes=1))
    assert client.get(path).status_code == 200


def appointment_link(clinic, day: date, hour: int = 10):
    appt = operations.book(
        patient_id=clinic.olivia.id,
        practitioner_id=clinic.hart.id,
        treatment_id=clinic.migraine.id,
        starts_at=london(day, hour),
        actor=None,
    )
    db.session.commit()
    return appt, urlsplit(links.appointment_link_for(appt, fresh(clinic.olivia))).path


def test_moving_by_link_goes_through_reschedule_and_keeps_the_reminders_right(client, clinic):
    appt, path = appointment_link(clinic, date(2027, 3, 10))
    page = client.get(path)
    assert page.status_code == 200 and "Cancel this appointment" in text_of(page)
    target = london(date(2027, 3, 11), 14).isoformat()
    assert ("", target) in offered(page.get_data(as_text=True))
    confirm = client.get(f"{path}/move", query_string={"at": target})
    assert "Move your appointment" in text_of(confirm)
    resp = client.post(f"{path}/move", data={"at": target, "csrf_token": csrf_from(confirm.get_data(as_text=True))})
    assert resp.status_code == 303
    moved = fresh(appt)
    assert moved.starts_at.isoformat() == target
    pre = [
        r
        for r in db.session.scalars(
            select(Reminder).where(Reminder.appointment_id == appt.id, Reminder.kind == "pre_visit")
        )
    ]
    assert [r.due_at for r in pre if r.status == "pending"] == [london(date(2027, 3, 10), 14)]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "appointment.rescheduled")).one()
    assert event.actor == "patient via link"
    assert "has been moved" in text_of(client.get(resp.headers["Location"]))


def test_cancelling_by_link_asks_once_then_brings_the_track_back(client, clinic):
    session = track(clinic, date(2026, 12, 1))
    appt, path = appointment_link(clinic, date(2027, 3, 10))
    assert {r.status for r in retreatment(session.id)} == {"cancelled"}
    ask = client.get(f"{path}/cancel")
    assert "Cancel your appointment?" in text_of(ask) and fresh(appt).status == "booked"
    resp = client.post(f"{path}/cancel", data={"csrf_token": csrf_from(ask.get_data(as_text=True))})
    assert resp.status_code == 303 and fresh(appt).status == "cancelled"
    assert "pending" in {r.status for r in retreatment(session.id)}
    assert {
        r.status
        for r in db.session.scalars(
            select(Reminder).where(Reminder.appointment_id == appt.id, Reminder.kind == "pre_visit")
        )
    } == {"cancelled"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "appointment.cancelled")).one()
    assert event.actor == "patient via link"
    page = client.get(resp.headers["Location"])
    assert "Cancelled appointment" in text_of(page) and "Cancel this appointment" not in text_of(page)
    again = client.post(f"{path}/cancel", data={"csrf_token": csrf_from(ask.get_data(as_text=True))})
    assert again.status_code == 409


def test_after_the_cut_off_the_page_says_to_call(client, clinic, frozen):
    appt, path = appointment_link(clinic, date(2027, 3, 2), 9)  # tomorrow 09:00: 25 hours ahead
    token = csrf_from(client.get(f"{path}/cancel").get_data(as_text=True))
    frozen.move_to(london(date(2027, 3, 1), 9, 30))  # 23.5 hours before
    page = client.get(path)
    assert page.status_code == 200 and "call us" in text_of(page) and PHONE in text_of(page)
    assert "Cancel this appointment" not in text_of(page)
    before = counts()
    assert client.post(f"{path}/cancel", data={"csrf_token": token}).status_code == 422
    moved = client.post(f"{path}/move", data={"at": london(date(2027, 3, 4), 10).isoformat(), "csrf_token": token})
    assert moved.status_code == 422 and "please call us" in text_of(moved)
    assert counts() == before and fresh(appt).status == "booked"
    frozen.move_to(london(date(2027, 3, 2), 9, 31))  # over: the link has run out
    assert client.get(path).status_code == 410


def test_requests_per_link_are_limited(app, client, clinic):
    app.config["PATIENT_LINK_RATE_PER_MINUTE"] = 3
    session = track(clinic, date(2026, 12, 1))
    path = book_path(session)
    assert [client.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = track(clinic, date(2026, 12, 1), patient=clinic.noah)
    assert client.get(book_path(other)).status_code == 200  # per link, not for everyone
    db.session.rollback()
    assert {u.hits for u in db.session.scalars(select(LinkUse))} == {4, 1}


def test_nothing_suits_the_patient_joins_the_waitlist_from_the_page(client, clinic):
    from scheduler.models import WaitlistEntry

    session = track(clinic, date(2027, 1, 1))  # the earliest safe day is Friday 26 March
    path = book_path(session)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert "Nothing suits? Join the waitlist" in html and 'value="2027-03-26"' in html
    token = csrf_from(html)

    def waiting():
        db.session.rollback()
        return list(
            db.session.scalars(
                select(WaitlistEntry).where(WaitlistEntry.patient_id == clinic.olivia.id).order_by(WaitlistEntry.id)
            )
        )

    # refused, with a message and nothing stored: no CSRF, no dates, days before the safety minimum, reversed
    assert client.post(f"{path}/waitlist", data={"from": "2027-04-01", "until": "2027-04-20"}).status_code == 400
    missing = client.post(f"{path}/waitlist", data={"csrf_token": token, "from": "", "until": "2027-04-20"})
    assert missing.status_code == 400 and "choose the first and the last day" in text_of(missing)
    early = client.post(f"{path}/waitlist", data={"csrf_token": token, "from": "2027-03-10", "until": "2027-04-20"})
    assert early.status_code == 422 and "at the earliest" in text_of(early)
    reversed_ = client.post(f"{path}/waitlist", data={"csrf_token": token, "from": "2027-04-20", "until": "2027-04-01"})
    assert reversed_.status_code == 422 and waiting() == []

    joined = client.post(
        f"{path}/waitlist", data={"csrf_token": token, "from": "2027-04-01", "until": "2027-04-20", "pr": ""}
    )
    assert joined.status_code == 303
    assert "You are on our waitlist" in text_of(client.get(joined.headers["Location"]))
    [entry] = waiting()
    assert (entry.treatment_id, entry.practitioner_id, entry.status) == (clinic.migraine.id, None, "waiting")
    assert (entry.from_date, entry.until_date) == (date(2027, 4, 1), date(2027, 4, 20))
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "waitlist.added")).one()
    assert event.actor == "patient via link"

    # asking again changes the dates: still one waiting entry
    again = {"csrf_token": token, "from": "2027-04-05", "until": "2027-05-05", "pr": str(clinic.hart.id)}
    assert client.post(f"{path}/waitlist", data=again).status_code == 303
    assert [(e.status, e.from_date, e.practitioner_id) for e in waiting()] == [
        ("removed", date(2027, 4, 1), None),
        ("waiting", date(2027, 4, 5), clinic.hart.id),
    ]
    forged = client.post("/p/book/eyJrIjoiZm9yZ2VkIn0.forged/waitlist", data={"csrf_token": token, **again})
    assert forged.status_code == 400
