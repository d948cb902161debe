"""Reconcile: every clinic event leaves the stored reminders matching the plan (docs/rules.md rule 3, other emails)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update

from scheduler.booking import operations, visits
from scheduler.catalog import operations as catalog
from scheduler.domain.plan import Clinic, Intervals, retreatment_plan
from scheduler.extensions import db
from scheduler.models import Patient, Reminder, TreatmentSession
from scheduler.patients import records as patients
from scheduler.reminders import planning
from tests.conftest import london
from tests.reminders.conftest import book, complete, record, rows, statuses

BOOKED_AGAIN = "the patient booked again"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def track(session_id: int) -> list[tuple[int, str, datetime]]:
    """(seq, status, due_at) of a session's re-treatment reminders."""
    return [(r.seq, r.status, r.due_at) for r in rows(session_id=session_id, kind="retreatment")]


def test_completing_a_session_plans_its_track_and_follow_up(clinic, travel):
    appt = book(clinic, london(date(2027, 3, 2), 10), treatment=clinic.cosmetic)
    assert statuses(appointment_id=appt.id) == [("confirmation", 0, "pending"), ("pre_visit", 0, "pending")]
    travel.move_to(london(date(2027, 3, 2), 10, 5))
    session = complete(appt.id)
    # P3M -> P6M after 2 Mar 2027: 2 Jun, 18 Jul (46-day step), 2 Sep; 09:00 BST
    assert track(session.id) == [
        (1, "pending", utc(2027, 6, 2, 8)),
        (2, "pending", utc(2027, 7, 18, 8)),
        (3, "pending", utc(2027, 9, 2, 8)),
    ]
    [follow] = rows(session_id=session.id, kind="follow_up")
    assert (follow.status, follow.due_at, follow.appointment_id) == ("pending", utc(2027, 3, 16, 9), appt.id)
    # the visit happened: its unsent confirmation and pre-visit reminder are not sent any more
    by_kind = {r.kind: r for r in rows(appointment_id=appt.id) if r.kind != "follow_up"}
    assert by_kind["confirmation"].status == "cancelled"
    assert by_kind["pre_visit"].status == "cancelled" and by_kind["pre_visit"].reason == "the patient checked in"


def test_a_recorded_session_plans_a_track_but_no_follow_up(clinic, travel):
    session = record(clinic, date(2027, 1, 4), treatment=clinic.cosmetic)
    assert [s for _q, s, _d in track(session.id)] == ["pending"] * 3
    assert rows(session_id=session.id, kind="follow_up") == []
    assert all(
        r.message_id.startswith("<reminder.") and r.message_id.endswith("@example.com>")
        for r in rows(session_id=session.id)
    )
    assert len({r.message_id for r in rows()}) == len(rows())


def test_booking_ends_the_track_and_cancelling_it_revives_what_is_still_ahead(clinic, travel):
    session = record(clinic, date(2027, 1, 4))  # migraine: 29 Mar, 16 May, 4 Jul
    assert [d for _q, _s, d in track(session.id)] == [utc(2027, 3, 29, 8), utc(2027, 5, 16, 8), utc(2027, 7, 4, 8)]
    appt = book(clinic, london(date(2027, 4, 6), 10))
    reminders = rows(session_id=session.id, kind="retreatment")
    assert {r.status for r in reminders} == {"cancelled"}
    assert all(r.reason.startswith(BOOKED_AGAIN) and f"#{appt.id}" in r.reason for r in reminders)

    travel.move_to(london(date(2027, 4, 1), 9))  # the first reminder's day has passed
    visits.change_status(appt.id, "cancelled", actor=None, reason="patient unwell")
    db.session.commit()
    assert [(q, s) for q, s, _d in track(session.id)] == [(1, "cancelled"), (2, "pending"), (3, "pending")]
    assert [r.reason for r in rows(session_id=session.id, kind="retreatment")][1:] == [None, None]


def test_a_missed_booking_revives_the_track(clinic, travel):
    session = record(clinic, date(2027, 1, 4))
    travel.move_to(london(date(2027, 4, 1), 9))
    appt = book(clinic, london(date(2027, 4, 6), 10))
    assert {s for _q, s, _d in track(session.id)} == {"cancelled"}
    travel.move_to(london(date(2027, 4, 6), 12))
    visits.change_status(appt.id, "no_show", actor=None)
    db.session.commit()
    assert [(q, s) for q, s, _d in track(session.id)] == [(1, "cancelled"), (2, "pending"), (3, "pending")]
    assert [s for _k, _q, s in statuses(appointment_id=appt.id)] == ["cancelled", "cancelled"]


def test_an_existing_booking_keeps_a_new_track_closed_until_it_is_cancelled(clinic, travel):
    first = book(clinic, london(date(2027, 3, 2), 10))
    follow_on = book(clinic, london(date(2027, 6, 1), 10))  # the next visit, booked at the same time
    travel.move_to(london(date(2027, 3, 2), 10, 5))
    session = complete(first.id)
    reminders = rows(session_id=session.id, kind="retreatment")
    assert len(reminders) == 3 and {r.status for r in reminders} == {"cancelled"}
    assert all(f"#{follow_on.id}" in r.reason for r in reminders)
    visits.change_status(follow_on.id, "cancelled", actor=None)
    db.session.commit()
    assert {s for _q, s, _d in track(session.id)} == {"pending"}


def test_a_later_session_ends_the_older_track_for_good(clinic, travel):
    old = record(clinic, date(2027, 1, 4))
    travel.move_to(london(date(2027, 4, 1), 9))
    new = record(clinic, date(2027, 4, 1))
    old_rows = rows(session_id=old.id, kind="retreatment")
    assert {r.status for r in old_rows} == {"cancelled"}
    assert all(r.reason == f"a later session (#{new.id} on 2027-04-01) was recorded" for r in old_rows)
    assert {s for _q, s, _d in track(new.id)} == {"pending"}
    appt = book(clinic, london(date(2027, 7, 1), 10))
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    assert {r.status for r in rows(session_id=old.id, kind="retreatment")} == {"cancelled"}
    assert {s for _q, s, _d in track(new.id)} == {"pending"}


def test_opting_out_ends_everything_and_opting_in_revives_what_is_ahead(clinic, travel):
    session = record(clinic, date(2027, 1, 4))
    appt = book(clinic, london(date(2027, 3, 3), 10), treatment=clinic.cosmetic)
    # no re-treatment reminders: the track ends, the booking's service emails stay
    patients.update(clinic.olivia, {"reminders_opt_in": False}, actor=None)
    db.session.commit()
    assert {s for _q, s, _d in track(session.id)} == {"cancelled"}
    assert statuses(appointment_id=appt.id) == [("confirmation", 0, "pending"), ("pre_visit", 0, "pending")]
    # stop all emails: everything ends
    patients.update(clinic.olivia, {"consents": {"emails": False}}, actor=None)
    db.session.commit()
    every = rows(patient_id=clinic.olivia)
    assert len(every) == 5 and {r.status for r in every} == {"cancelled"}
    assert {r.reason for r in every if r.appointment_id} == {"the patient asked for no emails"}

    travel.move_to(london(date(2027, 3, 1), 12))
    patients.update(clinic.olivia, {"reminders_opt_in": True}, actor=None)
    db.session.commit()
    assert {s for _q, s, _d in track(session.id)} == {"pending"}
    assert statuses(appointment_id=appt.id) == [("confirmation", 0, "cancelled"), ("pre_visit", 0, "pending")]


def test_booking_for_an_opted_out_patient_plans_nothing_to_send(clinic, travel):
    db.session.get(Patient, clinic.noah).reminders_opt_in = False  # as migration 0008 carries "off": no emails
    db.session.commit()
    appt = book(clinic, london(date(2027, 3, 3), 10), patient=clinic.noah)
    assert statuses(appointment_id=appt.id) == [("confirmation", 0, "cancelled")]


def test_rescheduling_confirms_again_and_moves_the_pre_visit_reminder(clinic, travel):
    appt = book(clinic, london(date(2027, 3, 3), 10))
    [pre] = rows(appointment_id=appt.id, kind="pre_visit")
    assert pre.due_at == utc(2027, 3, 2, 10)
    operations.reschedule(appt.id, london(date(2027, 3, 4), 11), actor=None)
    db.session.commit()
    confirmations = rows(appointment_id=appt.id, kind="confirmation")
    assert [(r.seq, r.status) for r in confirmations] == [(0, "cancelled"), (1, "pending")]
    assert confirmations[0].reason == "superseded: the appointment was moved"
    assert confirmations[1].expires_at == utc(2027, 3, 4, 11)
    [moved] = rows(appointment_id=appt.id, kind="pre_visit")
    assert (moved.id, moved.status, moved.due_at, moved.expires_at) == (
        pre.id,
        "pending",
        utc(2027, 3, 3, 11),
        utc(2027, 3, 4, 11),
    )


def test_moving_after_the_pre_visit_reminder_went_plans_a_new_one(clinic, travel):
    appt = book(clinic, london(date(2027, 3, 3), 10))
    db.session.execute(
        update(Reminder).where(Reminder.appointment_id == appt.id).values(status="sent", sent_at=utc(2027, 3, 2, 10))
    )
    db.session.commit()
    travel.move_to(london(date(2027, 3, 2), 12))
    operations.reschedule(appt.id, london(date(2027, 3, 5), 10), actor=None)
    db.session.commit()
    assert statuses(appointment_id=appt.id) == [
        ("confirmation", 0, "sent"),
        ("confirmation", 1, "pending"),
        ("pre_visit", 0, "sent"),
        ("pre_visit", 1, "pending"),
    ]
    assert rows(appointment_id=appt.id, kind="pre_visit")[1].due_at == utc(2027, 3, 4, 10)


def test_moving_inside_the_lead_time_cancels_the_pre_visit_reminder(clinic, travel):
    appt = book(clinic, london(date(2027, 3, 4), 10))
    travel.move_to(london(date(2027, 3, 2), 9))
    operations.reschedule(appt.id, london(date(2027, 3, 2), 15), actor=None)
    db.session.commit()
    [pre] = rows(appointment_id=appt.id, kind="pre_visit")
    assert (pre.status, pre.reason) == ("cancelled", "the appointment moved inside the pre-visit lead time")


def test_no_pre_visit_reminder_for_a_booking_made_inside_its_lead_time(clinic, travel):
    soon = book(clinic, london(date(2027, 3, 1), 15))  # 7 hours ahead
    later = book(clinic, london(date(2027, 3, 2), 9))  # 25 hours ahead
    assert statuses(appointment_id=soon.id) == [("confirmation", 0, "pending")]
    assert statuses(appointment_id=later.id) == [("confirmation", 0, "pending"), ("pre_visit", 0, "pending")]


def test_cancelling_or_checking_in_ends_the_appointment_emails(clinic, travel):
    appt = book(clinic, london(date(2027, 3, 3), 10))
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    assert {(r.status, r.reason) for r in rows(appointment_id=appt.id)} == {
        ("cancelled", "the appointment was cancelled")
    }
    other = book(clinic, london(date(2027, 3, 4), 10))
    travel.move_to(london(date(2027, 3, 4), 9, 55))
    visits.change_status(other.id, "checked_in", actor=None)
    db.session.commit()
    assert {r.reason for r in rows(appointment_id=other.id)} == {"the patient checked in"}


def test_reconcile_is_idempotent(clinic, travel):
    session = record(clinic, date(2027, 1, 4))
    appt = book(clinic, london(date(2027, 3, 3), 10), treatment=clinic.cosmetic)
    before = [(r.id, r.status, r.due_at, r.reason) for r in rows()]
    for _ in range(3):
        planning.reconcile_tracks(clinic.olivia, clinic.migraine)
        planning.reconcile_appointment(db.session.get(type(appt), appt.id), new_confirmation=False)
        planning.session_recorded(db.session.get(TreatmentSession, session.id))
    db.session.commit()
    assert [(r.id, r.status, r.due_at, r.reason) for r in rows()] == before


# --- interval changes (rule 5) -------------------------------------------------------------


def _expected(performed_on: date, iv: Intervals) -> list[datetime]:
    return [p.due_at for p in retreatment_plan(performed_on, iv, Clinic.parse("Europe/London", "09:00-18:00"))]


def test_changing_intervals_replans_pending_reminders_and_leaves_sent_ones(clinic, travel):
    s1 = record(clinic, date(2027, 1, 4))
    s2 = record(clinic, date(2027, 2, 1), patient=clinic.noah)
    first = rows(session_id=s1.id, kind="retreatment")[0]
    db.session.execute(update(Reminder).where(Reminder.id == first.id).values(status="sent", sent_at=first.due_at))
    db.session.commit()
    _t, moved = catalog.update_treatment(clinic.migraine, {"remind_from": "P13W"}, actor=None)
    db.session.commit()
    # the first and middle dates move; the last (D + P6M) stays: s1's middle one, s2's first and middle
    assert moved == 3
    iv = Intervals.parse("P13W", "P6M", 3)
    assert track(s1.id)[0] == (1, "sent", first.due_at)
    assert [d for _q, _s, d in track(s1.id)][1:] == _expected(date(2027, 1, 4), iv)[1:]
    assert [d for _q, _s, d in track(s2.id)] == _expected(date(2027, 2, 1), iv)


def test_lowering_and_raising_the_count(clinic, travel):
    s1 = record(clinic, date(2027, 1, 4))
    _t, moved = catalog.update_treatment(clinic.migraine, {"reminder_count": 2}, actor=None)
    db.session.commit()
    assert moved == 2  # the middle one moved to the end, the last one dropped
    assert [(q, s) for q, s, _d in track(s1.id)] == [(1, "pending"), (2, "pending"), (3, "cancelled")]
    assert rows(session_id=s1.id, seq=3)[0].reason == "no longer in the plan"
    catalog.update_treatment(clinic.migraine, {"reminder_count": 4}, actor=None)
    db.session.commit()
    iv = Intervals.parse("P12W", "P6M", 4)
    # the dropped one is back in the plan, and still ahead: it is revived
    assert [(q, s) for q, s, _d in track(s1.id)] == [(1, "pending"), (2, "pending"), (3, "pending"), (4, "pending")]
    assert [d for _q, _s, d in track(s1.id)] == _expected(date(2027, 1, 4), iv)


def test_follow_up_removed_and_added(clinic, travel):
    appt = book(clinic, london(date(2027, 3, 2), 10), treatment=clinic.cosmetic)
    travel.move_to(london(date(2027, 3, 2), 10, 5))
    session = complete(appt.id)
    catalog.update_treatment(clinic.cosmetic, {"follow_up_after": None}, actor=None)
    db.session.commit()
    [follow] = rows(session_id=session.id, kind="follow_up")
    assert (follow.status, follow.reason) == ("cancelled", "no longer in the plan")
    _t, moved = catalog.update_treatment(clinic.cosmetic, {"follow_up_after": "P4W"}, actor=None)
    db.session.commit()
    [follow] = rows(session_id=session.id, kind="follow_up")
    assert (follow.status, follow.due_at) == ("pending", utc(2027, 3, 30, 8))


def test_bulk_replan_matches_the_per_track_reconcile(clinic, travel, make_patient):
    people = [make_patient() for _ in range(6)]
    for n, p in enumerate(people):
        record(clinic, date(2026, 10, 1 + 4 * n), patient=p.id)
    book(clinic, london(date(2027, 3, 3), 10), patient=people[0].id)  # closes one track
    catalog.update_treatment(
        clinic.migraine, {"remind_from": "P14W", "remind_until": "P7M", "reminder_count": 4}, actor=None
    )
    db.session.commit()
    bulk = [(r.id, r.seq, r.status, r.due_at, r.expires_at) for r in rows(kind="retreatment")]
    for p in people:
        planning.reconcile_tracks(p.id, clinic.migraine)
    db.session.commit()
    assert [(r.id, r.seq, r.status, r.due_at, r.expires_at) for r in rows(kind="retreatment")] == bulk
