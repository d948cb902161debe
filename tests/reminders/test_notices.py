"""Cancellation and move notices: from the one reconcile, through the sweep, once, with the right .ics."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from icalendar import Calendar

from scheduler.booking import operations, visits
from scheduler.extensions import db
from scheduler.models import Patient
from scheduler.patients import consents
from tests.conftest import csrf_from, london
from tests.reminders.conftest import book, free_port, rows, run_sweep
from tests.reminders.test_sweep import TREATMENT_WORDS

SEND = date(2027, 3, 1)


def calendar_of(msg):
    """(METHOD, UID, SEQUENCE, STATUS, DTSTART) of a message's .ics."""
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "appointment.ics"
    cal = Calendar.from_ical(part.get_content())
    [event] = cal.walk("VEVENT")
    return str(cal["METHOD"]), str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"]), event.decoded("DTSTART")


def words(msg) -> str:
    return " ".join(
        [str(msg["Subject"]), msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()]
    )


def confirmed(clinic, smtp, travel, when=None):
    """Olivia books, the sweep sends her confirmation; returns the appointment."""
    appt = book(clinic, when or london(date(2027, 3, 10), 10))
    travel.move_to(london(SEND, 9, 30))
    assert [o.kind for o in run_sweep().outcomes] == ["confirmation"]
    return appt


def test_a_cancellation_takes_the_event_out_of_the_calendar(clinic, smtp, travel):
    appt = confirmed(clinic, smtp, travel)
    visits.change_status(appt.id, "cancelled", actor=None, reason="patient rang")
    db.session.commit()
    report = run_sweep()
    assert [(o.kind, o.result) for o in report.outcomes] == [("cancellation", "sent")]
    first, notice = smtp.messages
    method, uid, seq, _status, _start = calendar_of(first)
    c_method, c_uid, c_seq, c_status, c_start = calendar_of(notice)
    assert (method, c_method, c_status) == ("REQUEST", "CANCEL", "CANCELLED")
    assert c_uid == uid and c_seq > seq and c_start == appt.starts_at
    assert notice["Subject"] == "Your appointment at Harbour Lane Clinic on Wednesday 10 March at 10:00 is cancelled"
    assert "Wednesday 10 March 2027 at 10:00 (GMT)" in notice.get_body(("plain",)).get_content()
    assert not any(w in words(notice).lower() for w in TREATMENT_WORDS)
    assert notice["List-Unsubscribe"] and notice["Message-ID"] == rows(kind="cancellation")[0].message_id
    assert run_sweep().outcomes == [] and len(smtp.messages) == 2  # once


def test_no_notice_for_an_appointment_the_patient_never_heard_of(clinic, smtp, travel):
    appt = book(clinic, london(date(2027, 3, 10), 10))
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    travel.move_to(london(SEND, 9, 30))
    run_sweep()
    assert smtp.messages == [] and rows(kind="cancellation") == []
    assert [r.status for r in rows(kind="confirmation")] == ["cancelled"]


def test_no_notice_for_a_patient_who_opted_out(clinic, smtp, travel):
    appt = confirmed(clinic, smtp, travel)
    patient = db.session.get(Patient, clinic.olivia)
    consents.record(patient, {"emails": False}, via="desk", actor=None)  # "stop all emails"
    db.session.commit()
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    run_sweep()
    assert [str(m["Subject"]) for m in smtp.messages][1:] == [] and rows(kind="cancellation") == []


def test_cancelling_through_the_api_and_the_desk_both_send_the_notice(
    clinic, smtp, travel, reception_api, client, sign_in
):
    by_api = confirmed(clinic, smtp, travel)
    by_desk = book(clinic, london(date(2027, 3, 11), 10), patient=clinic.noah)
    run_sweep()
    assert reception_api.post(f"/appointments/{by_api.id}/cancel", json={"reason": "rang"}).status_code == 200
    sign_in()
    token = csrf_from(client.get(f"/appointments/{by_desk.id}").get_data(as_text=True))
    resp = client.post(f"/appointments/{by_desk.id}/cancel", data={"reason": "rang", "csrf_token": token})
    assert resp.status_code in (200, 302)
    run_sweep()
    notices = [m for m in smtp.messages if calendar_of(m)[0] == "CANCEL"]
    assert sorted(str(m["To"]) for m in notices) == [
        "Noah Jones <noah@example.org>",
        "Olivia Smith <olivia@example.net>",
    ]


def test_a_notice_waits_out_a_mail_server_that_is_down(app, clinic, smtp, travel):
    appt = confirmed(clinic, smtp, travel)
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nobody listens: the server is down
    assert [o.result for o in run_sweep().outcomes] == ["retry"]
    [row] = rows(kind="cancellation")
    assert row.status == "pending" and row.next_attempt_at is not None
    app.config["MAIL_PORT"] = port
    travel.move_to(row.next_attempt_at + timedelta(seconds=1))
    assert [o.result for o in run_sweep().outcomes] == ["sent"]
    assert run_sweep().outcomes == []
    assert Counter(calendar_of(m)[0] for m in smtp.messages) == {"REQUEST": 1, "CANCEL": 1}


def test_a_move_says_from_when_to_when_with_the_same_event(clinic, smtp, travel):
    appt = confirmed(clinic, smtp, travel)
    new_start = london(date(2027, 3, 12), 14)
    operations.reschedule(appt.id, new_start, actor=None)
    db.session.commit()
    assert [o.kind for o in run_sweep().outcomes] == ["confirmation"]
    first, moved = smtp.messages
    assert moved["Subject"] == "Your appointment at Harbour Lane Clinic has moved to Friday 12 March at 14:00"
    text = moved.get_body(("plain",)).get_content()
    assert "Thank you for booking" not in text
    assert text.index("Wednesday 10 March 2027 at 10:00 (GMT)") < text.index("Friday 12 March 2027 at 14:00 (GMT)")
    assert "no longer on" in text and "moved" in moved.get_body(("html",)).get_content()
    assert not any(w in words(moved).lower() for w in TREATMENT_WORDS)
    m1, uid1, seq1, _s, _d = calendar_of(first)
    m2, uid2, seq2, status, start = calendar_of(moved)
    assert (m1, m2, status) == ("REQUEST", "REQUEST", "CONFIRMED")
    assert uid2 == uid1 and seq2 > seq1 and start == new_start
    # and a cancellation after the move outranks both
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    run_sweep()
    assert calendar_of(smtp.messages[-1])[0] == "CANCEL" and calendar_of(smtp.messages[-1])[2] > seq2


def test_two_moves_before_the_sweep_say_from_the_start_the_patient_knows(clinic, smtp, travel):
    appt = confirmed(clinic, smtp, travel)
    operations.reschedule(appt.id, london(date(2027, 3, 12), 14), actor=None)
    db.session.commit()
    operations.reschedule(appt.id, london(date(2027, 3, 15), 11), actor=None)
    db.session.commit()
    run_sweep()
    assert len(smtp.messages) == 2
    text = smtp.messages[1].get_body(("plain",)).get_content()
    assert "Wednesday 10 March 2027 at 10:00" in text and "Monday 15 March 2027 at 11:00" in text
    assert "12 March" not in text


def test_a_move_before_the_first_confirmation_went_is_a_plain_confirmation(clinic, smtp, travel):
    appt = book(clinic, london(date(2027, 3, 10), 10))
    operations.reschedule(appt.id, london(date(2027, 3, 12), 14), actor=None)
    db.session.commit()
    travel.move_to(london(SEND, 9, 30))
    run_sweep()
    [msg] = smtp.messages
    assert "Thank you for booking" in msg.get_body(("plain",)).get_content()
    assert "moved" not in str(msg["Subject"])
