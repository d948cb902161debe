"""One email per patient per sweep: a patient's due re-treatment reminders of several tracks go out as one
email, every one of them marked sent with it, exactly once, through failures and restarts."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Treatment
from scheduler.patients import sessions
from scheduler.reminders import claims
from scheduler.services import clock
from tests.conftest import london
from tests.reminders.conftest import REFUSED, TRY_LATER, process_env, record, rows, run_sweep
from tests.reminders.test_exactly_once import ROOT
from tests.reminders.test_sweep import TREATMENT_WORDS

SESSION_DAY = date(2026, 11, 20)  # 101 days before 1 March 2027: both tracks' first reminder is due
SENDING = london(date(2027, 3, 1), 9, 30)


@pytest.fixture
def pain(clinic, make_treatment) -> int:
    """A second therapeutic treatment of the clinic (one email per patient and treatment kind: each
    kind has its own consent, and an email's unsubscribe link stops the kind it names)."""
    return make_treatment(name="Chronic pain", product="Dysport").id


def two_tracks(clinic, patient=None):
    """A migraine and a chronic pain session on the same day: two therapeutic tracks, their first
    reminders due together."""
    pain = db.session.scalar(select(Treatment.id).where(Treatment.name == "Chronic pain"))
    return [record(clinic, SESSION_DAY, patient=patient, treatment=t) for t in (clinic.migraine, pain)]


def due(clinic, patient=None):
    return [r for r in rows(kind="retreatment", seq=1) if r.patient_id == (patient or clinic.olivia)]


def test_two_tracks_due_together_go_out_as_one_email(clinic, pain, smtp, travel):
    two_tracks(clinic)
    two_tracks(clinic, patient=clinic.noah)
    travel.move_to(SENDING)
    report = run_sweep()
    assert report.count("sent") == 4 and len(smtp.messages) == 2
    [msg] = smtp.to("olivia@example.net")
    assert msg["Subject"] == "Time to book your next appointments at Harbour Lane Clinic"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert text.count("The appointment after your visit on 20 November 2026") == 2
    assert html.count("Book this appointment") == 2
    assert not any(w in " ".join([msg["Subject"], text, html]).lower() for w in TREATMENT_WORDS)
    olivia = due(clinic)
    assert [r.status for r in olivia] == ["sent", "sent"]
    assert olivia[0].sent_at == olivia[1].sent_at
    assert msg["Message-ID"] in {r.message_id for r in olivia}
    assert run_sweep().outcomes == [] and len(smtp.messages) == 2  # exactly once


def test_a_single_track_still_gets_its_own_email(clinic, pain, smtp, travel):
    record(clinic, SESSION_DAY)
    travel.move_to(SENDING)
    run_sweep()
    [msg] = smtp.messages
    assert msg["Subject"] == "Time to book your next appointment at Harbour Lane Clinic"


def test_the_tracks_stay_together_whatever_the_batch_size(app, clinic, pain, smtp, travel, make_patient):
    app.config["REMINDER_BATCH_SIZE"] = 1
    others = [make_patient().id for _ in range(3)]
    for pid in [clinic.olivia, *others]:
        two_tracks(clinic, patient=pid)
    travel.move_to(SENDING)
    assert run_sweep().count("sent") == 8
    assert len(smtp.messages) == 4
    assert Counter(str(m["To"]).split("<")[1] for m in smtp.messages).most_common(1)[0][1] == 1


def test_a_server_that_says_try_later_retries_the_one_email(clinic, pain, smtp, travel):
    two_tracks(clinic)
    travel.move_to(SENDING)
    smtp.refuse["olivia@example.net"] = TRY_LATER
    report = run_sweep()
    assert [o.result for o in report.outcomes] == ["retry", "retry"]
    first, second = due(clinic)
    assert (first.status, second.status) == ("pending", "pending")
    assert first.attempts == second.attempts == 1
    assert first.next_attempt_at == second.next_attempt_at  # they go together again
    del smtp.refuse["olivia@example.net"]
    travel.move_to(first.next_attempt_at + timedelta(seconds=1))
    assert run_sweep().count("sent") == 2
    assert len(smtp.messages) == 1 and [r.status for r in due(clinic)] == ["sent", "sent"]


def test_a_refused_recipient_fails_both(clinic, pain, smtp, travel):
    two_tracks(clinic)
    travel.move_to(SENDING)
    smtp.refuse["olivia@example.net"] = REFUSED
    assert [o.result for o in run_sweep().outcomes] == ["failed", "failed"]
    assert {r.status for r in due(clinic)} == {"failed"} and smtp.messages == []


def test_a_sweep_that_dies_after_the_send_is_finished_once_with_the_same_message_id(
    app, clinic, pain, smtp, travel, monkeypatch
):
    two_tracks(clinic)
    travel.move_to(SENDING)

    real = claims.record_sent_then_claim

    def crash_on_recording(sent, *args, **kwargs):
        if sent:
            raise SystemExit("killed after the server accepted the message")
        return real(sent, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(claims, "record_sent_many", crash_on_recording)
        m.setattr(claims, "record_sent_then_claim", crash_on_recording)
        with pytest.raises(SystemExit):
            run_sweep()
    db.session.rollback()
    assert len(smtp.messages) == 1 and {r.status for r in due(clinic)} == {"sending"}
    assert run_sweep().outcomes == []  # the lease still holds: nobody sends them
    travel.move_to(SENDING + timedelta(seconds=601))  # restart after the lease ran out
    assert run_sweep().count("sent") == 2
    assert [r.status for r in due(clinic)] == ["sent", "sent"]
    assert len(smtp.messages) == 2 and len(set(smtp.message_ids())) == 1  # the same email again, once


@pytest.mark.slow
def test_a_sweep_process_killed_mid_way_leaves_each_patient_one_email(app, smtp, make_treatment, make_patient):
    app.config["REMINDER_SEND_HOURS"] = "00:00-24:00"
    migraine = make_treatment()
    pain = make_treatment(name="Chronic pain", product="Dysport")  # another toxin: both may be given on one day
    day = clock.today() - timedelta(days=100)
    patients = [make_patient().id for _ in range(20)]
    for pid in patients:
        for t in (migraine.id, pain.id):
            sessions.record_past(pid, actor=None, treatment_id=t, performed_on=day)
        db.session.commit()
    smtp.delay = 0.15
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "sweep"],
        cwd=ROOT,
        env=process_env(app, smtp.port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(smtp.message_ids()) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.communicate(timeout=30)
    assert 6 <= len(smtp.message_ids()) < 20
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=601), tick=False):
        run_sweep()
    first = rows(kind="retreatment", seq=1)
    assert len(first) == 40 and {r.status for r in first} == {"sent"}
    received = Counter(smtp.message_ids())
    per_patient = Counter(str(m["To"]) for m in smtp.messages)
    assert len(received) == 20  # one email per patient ...
    assert (
        max(received.values()) <= 2 and sum(1 for n in received.values() if n > 1) <= 1
    )  # ... the one in flight at most twice
    assert len(per_patient) == 20


def test_tracks_of_two_kinds_go_out_as_two_emails_each_unsubscribing_its_own_kind(clinic, smtp, travel):
    """A migraine and a cosmetic track due together: one email per kind, whose link stops that kind only."""
    for t in (clinic.migraine, clinic.cosmetic):
        record(clinic, SESSION_DAY, treatment=t)
    travel.move_to(SENDING)
    assert run_sweep().count("sent") == 2
    assert len(smtp.to("olivia@example.net")) == 2
    assert len(set(smtp.message_ids())) == 2
