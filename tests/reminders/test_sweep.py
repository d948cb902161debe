"""The sweep against a real SMTP server: well-formed emails, send hours, catch-up, faults and retries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select, update

from scheduler.extensions import db
from scheduler.models import Appointment, Patient, SweepRun
from scheduler.reminders import outbox as reminders
from tests.conftest import london
from tests.reminders.conftest import TRY_LATER, book, free_port, record, rows, run_sweep, statuses

TREATMENT_WORDS = ("migraine", "cosmetic", "lines", "botox", "dystonia", "pain", "toxin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ics_event(msg):
    """The VEVENT of a message's .ics attachment (and the calendar's METHOD)."""
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "appointment.ics"
    cal = Calendar.from_ical(part.get_content())
    [event] = cal.walk("VEVENT")
    return cal, event


def test_a_confirmation_arrives_well_formed(clinic, smtp, travel):
    appt = book(clinic, london(date(2027, 3, 3), 10), treatment=clinic.cosmetic)
    travel.move_to(london(date(2027, 3, 1), 9, 30))
    report = run_sweep()
    assert [(o.kind, o.result) for o in report.outcomes] == [("confirmation", "sent")]
    [msg] = smtp.messages
    [row] = rows(appointment_id=appt.id, kind="confirmation")
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, utc(2027, 3, 1, 9, 30))
    assert msg["Message-ID"] == row.message_id
    assert msg["To"] == "Olivia Smith <olivia@example.net>"
    assert msg["From"] == "Harbour Lane Clinic <clinic@example.com>"
    assert msg["Subject"] == "Your appointment at Harbour Lane Clinic on Wednesday 3 March at 10:00 is confirmed"
    assert msg["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/p/unsubscribe/")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/mixed"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Wednesday 3 March 2027 at 10:00 (GMT)" in text and "Harbour Lane Clinic" in text
    assert "Wednesday 3 March 2027 at 10:00 (GMT)" in html
    everything = " ".join([msg["Subject"], text, html]).lower()
    assert not any(word in everything for word in TREATMENT_WORDS)
    cal, event = ics_event(msg)
    assert str(cal["METHOD"]) == "REQUEST"  # iTIP: the move and cancel notices update and remove this event
    assert str(event["UID"]) == f"appointment-{appt.id}@example.com"
    assert event.decoded("DTSTART") == utc(2027, 3, 3, 10) and event.decoded("DTEND") == utc(2027, 3, 3, 10, 20)
    assert "DTSTART:20270303T100000Z" in part_text(msg)
    assert int(event["SEQUENCE"]) == 0


def part_text(msg) -> str:
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part.get_content().decode() if isinstance(part.get_content(), bytes) else part.get_content()


def test_ics_times_are_right_on_both_sides_of_the_clock_changes(clinic, smtp, travel):
    spring = book(clinic, london(date(2027, 3, 29), 10))  # BST: 09:00 UTC
    autumn = book(clinic, london(date(2027, 11, 1), 10), patient=clinic.noah)  # GMT again: 10:00 UTC
    travel.move_to(london(date(2027, 3, 1), 10))
    run_sweep()
    [to_olivia] = smtp.to("olivia@example.net")
    [to_noah] = smtp.to("noah@example.org")
    assert ics_event(to_olivia)[1].decoded("DTSTART") == spring.starts_at == utc(2027, 3, 29, 9)
    assert "DTSTART:20270329T090000Z" in part_text(to_olivia)
    assert "Monday 29 March 2027 at 10:00 (BST)" in to_olivia.get_body(("plain",)).get_content()
    assert ics_event(to_noah)[1].decoded("DTSTART") == autumn.starts_at == utc(2027, 11, 1, 10)
    assert "Monday 1 November 2027 at 10:00 (GMT)" in to_noah.get_body(("plain",)).get_content()


def test_pre_visit_reminder_goes_a_day_ahead_with_the_ics(clinic, smtp, travel):
    appt = book(clinic, london(date(2027, 3, 3), 10))
    travel.move_to(london(date(2027, 3, 2), 9, 59))
    run_sweep()
    assert [m["Subject"] for m in smtp.messages] == [
        "Your appointment at Harbour Lane Clinic on Wednesday 3 March at 10:00 is confirmed"
    ]
    travel.move_to(london(date(2027, 3, 2), 10))
    run_sweep()
    assert (
        smtp.messages[-1]["Subject"]
        == "Reminder: your appointment at Harbour Lane Clinic on Wednesday 3 March at 10:00"
    )
    assert str(ics_event(smtp.messages[-1])[1]["UID"]) == f"appointment-{appt.id}@example.com"
    assert statuses(appointment_id=appt.id) == [("confirmation", 0, "sent"), ("pre_visit", 0, "sent")]


def test_nothing_goes_out_outside_send_hours_and_it_is_not_late_later(clinic, smtp, travel):
    book(clinic, london(date(2027, 3, 3), 10))  # booked at 08:00, before the send hours open
    report = run_sweep()
    assert report.outcomes == [] and report.note == "outside send hours (09:00-18:00)"
    travel.move_to(london(date(2027, 3, 1), 18))
    assert run_sweep().outcomes == []
    assert smtp.messages == []
    travel.move_to(london(date(2027, 3, 2), 9))
    assert [o.result for o in run_sweep().outcomes] == ["sent"]
    beats = db.session.scalars(select(SweepRun).order_by(SweepRun.id)).all()
    assert [(b.sent, b.note) for b in beats] == [
        (0, "outside send hours (09:00-18:00)"),
        (0, "outside send hours (09:00-18:00)"),
        (1, None),
    ]
    assert all(b.finished_at is not None and b.worker for b in beats)


def test_send_hours_follow_the_local_clock_in_summer(clinic, smtp, travel, app):
    travel.move_to(london(date(2027, 6, 1), 8))
    book(clinic, london(date(2027, 6, 3), 10))
    travel.move_to(datetime(2027, 6, 1, 7, 59, tzinfo=UTC))  # 08:59 BST
    assert run_sweep().outcomes == []
    travel.move_to(datetime(2027, 6, 1, 8, 0, tzinfo=UTC))  # 09:00 BST
    assert [o.result for o in run_sweep().outcomes] == ["sent"]


def test_after_downtime_only_the_newest_reminder_of_a_track_goes(clinic, smtp, travel):
    travel.move_to(london(date(2026, 7, 1), 12))
    session = record(clinic, date(2026, 6, 1))  # 24 Aug, 12 Oct, 1 Dec 2026
    travel.move_to(london(date(2026, 11, 20), 10))  # the scheduler was down since the summer
    report = run_sweep()
    assert sorted((o.result, o.reason) for o in report.outcomes) == [
        ("sent", None),
        ("skipped", "superseded by the newer reminder 2 of the same track"),
    ]
    assert [(r.seq, r.status) for r in rows(session_id=session.id)] == [(1, "skipped"), (2, "sent"), (3, "pending")]
    assert len(smtp.messages) == 1 and smtp.messages[0]["Message-ID"] == rows(session_id=session.id)[1].message_id


def test_housekeeping_keeps_only_the_newest_due_reminder_of_each_track(clinic, travel):
    """Rule 4 against the rows: all due and pending (the newest stays), one sent then one due
    (that one goes), a newer one being sent (the older is skipped), one alone (it stays)."""
    from sqlalchemy import update

    from scheduler.models import Reminder
    from scheduler.reminders import housekeeping

    travel.move_to(london(date(2026, 7, 1), 12))
    tracks = [record(clinic, date(2026, 6, 1), patient=p).id for p in (clinic.olivia, clinic.noah)]
    tracks.append(record(clinic, date(2026, 6, 1), patient=clinic.olivia, treatment=clinic.cosmetic).id)
    sent_first, in_flight = tracks[1], tracks[2]
    db.session.execute(
        update(Reminder)
        .where(Reminder.session_id == sent_first, Reminder.seq == 1)
        .values(status="sent", sent_at=london(date(2026, 8, 24), 9))
    )
    db.session.execute(
        update(Reminder)
        .where(Reminder.session_id == in_flight, Reminder.seq == 2)
        .values(status="sending", claimed_until=london(date(2026, 10, 20), 10, 10), claim_token="elsewhere")
    )
    db.session.commit()
    now = london(date(2026, 10, 20), 10)  # seq 1 and 2 of each track are due, seq 3 not yet
    skipped = housekeeping.skip_stale_and_superseded(now)
    assert sorted((rows(id=rid)[0].session_id, rows(id=rid)[0].seq) for rid, *_ in skipped) == [
        (tracks[0], 1),
        (tracks[2], 1),
    ]
    assert {reason for *_, reason in skipped} == {"superseded by the newer reminder 2 of the same track"}
    assert [r.status for r in rows(session_id=sent_first)] == ["sent", "pending", "pending"]


def test_a_reminder_is_never_sent_when_its_window_closed_more_than_14_days_ago(clinic, smtp, travel):
    travel.move_to(london(date(2026, 7, 1), 12))
    on_time = record(clinic, date(2026, 6, 1))  # window closes 1 Dec 2026
    late = record(clinic, date(2026, 5, 31), patient=clinic.noah)  # window closes 30 Nov 2026
    travel.move_to(london(date(2026, 12, 15), 10))  # 14 days after 1 Dec, 15 after 30 Nov
    report = run_sweep()
    assert [(r.seq, r.status) for r in rows(session_id=on_time.id)] == [(1, "skipped"), (2, "skipped"), (3, "sent")]
    assert {(r.status, r.reason) for r in rows(session_id=late.id)} == {
        ("skipped", "its re-treatment window closed more than 14 days ago")
    }
    assert [m["To"] for m in smtp.messages] == ["Olivia Smith <olivia@example.net>"]
    assert report.count("skipped") == 5


def test_nothing_is_sent_about_a_cancelled_appointment_even_if_the_planner_missed_it(clinic, smtp, travel):
    appt = book(clinic, london(date(2027, 3, 3), 10))
    db.session.execute(update(Appointment).where(Appointment.id == appt.id).values(status="cancelled"))
    db.session.commit()
    travel.move_to(london(date(2027, 3, 2), 11))
    report = run_sweep()
    assert {(o.result, o.reason) for o in report.outcomes} == {("cancelled", "the appointment was cancelled")}
    assert smtp.messages == []


def test_an_appointment_that_started_gets_no_reminder(clinic, smtp, travel):
    appt = book(clinic, london(date(2027, 3, 2), 9))
    travel.move_to(london(date(2027, 3, 2), 9, 30))  # the scheduler was down until after the start
    run_sweep()
    assert {(r.status, r.reason) for r in rows(appointment_id=appt.id)} == {
        ("skipped", "the appointment had already started")
    }
    assert smtp.messages == []


def test_no_email_address_or_opted_out_is_skipped_with_the_reason(clinic, smtp, travel, make_patient):
    nobody = make_patient(first_name="Ann", last_name="Noemail", email=None)
    book(clinic, london(date(2027, 3, 3), 10), patient=nobody.id)
    book(clinic, london(date(2027, 3, 3), 11), patient=clinic.noah)
    db.session.get(Patient, clinic.noah).reminders_opt_in = False  # written without a re-plan: the sweep's check
    db.session.commit()
    travel.move_to(london(date(2027, 3, 1), 10))
    run_sweep()
    assert {(r.status, r.reason) for r in rows(patient_id=nobody.id, kind="confirmation")} == {
        ("skipped", "the patient has no email address")
    }
    assert {(r.status, r.reason) for r in rows(patient_id=clinic.noah, kind="confirmation")} == {
        ("skipped", "the patient asked for no emails")
    }
    assert smtp.messages == []


def test_mail_server_down_loses_nothing_and_retries_later(clinic, app, travel):
    first = book(clinic, london(date(2027, 3, 3), 10))
    second = book(clinic, london(date(2027, 3, 3), 11), patient=clinic.noah)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT_SECONDS=2)
    travel.move_to(london(date(2027, 3, 1), 10))
    report = run_sweep()
    assert [o.result for o in report.outcomes] == ["retry"]
    assert "unavailable" in report.note
    [tried] = rows(appointment_id=first.id, kind="confirmation")
    [untried] = rows(appointment_id=second.id, kind="confirmation")
    assert (tried.status, tried.attempts) == ("pending", 1)
    assert "mail server 127.0.0.1" in tried.reason and "unavailable" in tried.reason
    assert utc(2027, 3, 1, 10, 2, 30) <= tried.next_attempt_at <= utc(2027, 3, 1, 10, 5)
    assert (untried.status, untried.attempts, untried.next_attempt_at) == ("pending", 0, tried.next_attempt_at)
    assert untried.reason.startswith("not tried: mail server")
    assert db.session.scalars(select(SweepRun)).one().note.startswith("mail server")
    # the server comes back: nothing goes before the retry time, then both go, with their own Message-IDs
    from tests.reminders.conftest import Inbox

    inbox = Inbox()
    from aiosmtpd.controller import Controller

    controller = Controller(inbox, hostname="127.0.0.1", port=app.config["MAIL_PORT"])
    controller.start()
    try:
        assert run_sweep().outcomes == []
        travel.move_to(tried.next_attempt_at)
        assert sorted(o.result for o in run_sweep().outcomes) == ["sent", "sent"]
    finally:
        controller.stop()
    assert sorted(inbox.message_ids()) == sorted([tried.message_id, untried.message_id])
    assert [r.attempts for r in rows(kind="confirmation")] == [2, 1]


def test_a_temporarily_refused_email_is_retried_with_backoff_then_failed_then_sent_again(clinic, smtp, travel, sign_in):
    book(clinic, london(date(2027, 3, 3), 10))
    book(clinic, london(date(2027, 3, 3), 11), patient=clinic.noah)
    smtp.refuse["olivia@example.net"] = TRY_LATER
    travel.move_to(london(date(2027, 3, 1), 10))
    delays = []
    for attempt in range(1, 7):
        report = run_sweep()
        [row] = rows(patient_id=clinic.olivia, kind="confirmation")
        assert row.attempts == attempt and "451 4.3.0 mailbox busy" in row.reason
        if attempt < 6:
            assert (row.status, [o.result for o in report.outcomes if o.patient_id == clinic.olivia]) == (
                "pending",
                ["retry"],
            )
            delays.append(row.next_attempt_at - datetime.now(UTC))
            travel.move_to(row.next_attempt_at)
    assert row.status == "failed" and row.next_attempt_at is None
    assert [d > prev for prev, d in zip(delays, delays[1:], strict=False)] == [True] * 4  # growing
    assert timedelta(minutes=2, seconds=30) <= delays[0] <= timedelta(minutes=5)
    assert smtp.message_ids() == [rows(patient_id=clinic.noah, kind="confirmation")[0].message_id]
    # an admin sends it again once the address works
    smtp.refuse.clear()
    again = reminders.resend(row.id, actor=None)
    db.session.commit()
    assert (again.status, again.attempts) == ("pending", 0)
    run_sweep()
    assert smtp.message_ids()[-1] == row.message_id
    assert rows(patient_id=clinic.olivia, kind="confirmation")[0].status == "sent"


def test_one_connection_serves_a_whole_batch(clinic, smtp, travel, make_patient, app):
    app.config["REMINDER_BATCH_SIZE"] = 7
    people = [make_patient() for _ in range(20)]
    for n, p in enumerate(people):
        record(clinic, date(2026, 12, 1) + timedelta(days=n % 3), patient=p.id)  # first reminders: 23-25 Feb
    travel.move_to(london(date(2027, 3, 1), 10))
    connections = []
    original = smtp.handle_DATA

    async def counting(server, session, envelope):
        connections.append(id(session))
        return await original(server, session, envelope)

    smtp.handle_DATA = counting
    report = run_sweep()
    assert report.count("sent") == 20 and len(set(smtp.message_ids())) == 20
    assert len(set(connections)) == 1


def test_an_email_that_cannot_be_built_fails_alone(clinic, smtp, travel, monkeypatch, caplog):
    from scheduler.reminders import compose

    book(clinic, london(date(2027, 3, 3), 10))
    book(clinic, london(date(2027, 3, 3), 11), patient=clinic.noah)
    real = compose.build

    def broken(reminder, patient, *args, **kwargs):
        if patient.id == clinic.olivia:
            raise KeyError("missing template variable")
        return real(reminder, patient, *args, **kwargs)

    monkeypatch.setattr(compose, "build", broken)
    travel.move_to(london(date(2027, 3, 1), 10))
    report = run_sweep()
    assert sorted(o.result for o in report.outcomes) == ["failed", "sent"]
    [row] = rows(patient_id=clinic.olivia, kind="confirmation")
    assert row.status == "failed" and row.reason.startswith("could not build the email: KeyError")
    assert [m["To"] for m in smtp.messages] == ["Noah Jones <noah@example.org>"]
    assert "could not build reminder" in caplog.text


def test_a_track_recorded_while_a_sweep_runs_still_sends_only_its_newest_reminder(clinic, smtp, travel):
    """Housekeeping runs once at the start of a sweep; a session recorded during its sending loop
    brings its overdue reminders all at once, and the claim itself must pass over the older ones."""
    from scheduler.reminders import claims

    travel.move_to(london(date(2026, 11, 20), 10))
    session = record(clinic, date(2026, 6, 1))  # reminders due 24 Aug and 12 Oct are both overdue
    assert [(r.seq, r.status) for r in rows(session_id=session.id)] == [(1, "pending"), (2, "pending"), (3, "pending")]
    _token, ids = claims.claim(10, timedelta(minutes=10), datetime.now(UTC))
    assert ids == [rows(session_id=session.id)[1].id]  # the newest due one, never reminder 1
    db.session.rollback()
    report = run_sweep()  # the next sweep's housekeeping retires reminder 1
    assert [(r.seq, r.status) for r in rows(session_id=session.id)] == [(1, "skipped"), (2, "sending"), (3, "pending")]
    assert report.count("sent") == 0 and len(smtp.messages) == 0


def test_a_name_that_looks_like_a_mime_boundary_leaves_the_message_whole(clinic, smtp, travel):
    """The generator picks boundaries that occur nowhere in the parts: a patient whose name is a
    boundary line still gets one text part, one HTML part and the .ics."""
    from email import message_from_bytes, policy

    olivia = db.session.get(Patient, clinic.olivia)
    olivia.first_name, olivia.last_name = "--===============0000000000000000000==", "--=_mix_0--"
    db.session.commit()
    book(clinic, london(date(2027, 3, 3), 10), treatment=clinic.cosmetic)
    travel.move_to(london(date(2027, 3, 1), 9, 30))
    assert [o.result for o in run_sweep().outcomes] == ["sent"]
    [raw] = smtp.raw
    again = message_from_bytes(raw, policy=policy.default)
    kinds = [p.get_content_type() for p in again.walk()]
    assert kinds == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]
    assert "Dear --===============0000000000000000000==," in again.get_body(("plain",)).get_content()
    assert again["To"].addresses[0].display_name == "--===============0000000000000000000== --=_mix_0--"
