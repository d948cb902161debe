"""`flask reminders replan-all`: rows that drifted from the plan come back to it; the rest stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from scheduler.extensions import db
from scheduler.models import Appointment, Reminder
from tests.conftest import TODAY, london
from tests.reminders.conftest import book, record, rows, statuses


def test_replan_all_cancels_re_dates_and_adds_what_the_plan_says(app, runner, clinic):
    appt = book(clinic, london(TODAY + timedelta(days=7), 10), patient=clinic.noah)
    session = record(clinic, TODAY - timedelta(days=30))
    retreatment = rows(session_id=session.id, kind="retreatment")
    planned_due, planned = retreatment[0].due_at, statuses(session_id=session.id, kind="retreatment")
    assert [status for _kind, _seq, status in planned] == ["pending"] * 3
    # drift, as a hand-made fix in the database or a restored backup would leave it
    db.session.execute(update(Appointment).where(Appointment.id == appt.id).values(status="cancelled"))
    db.session.execute(
        update(Reminder).where(Reminder.id == retreatment[0].id).values(due_at=planned_due + timedelta(days=3))
    )
    db.session.execute(Reminder.__table__.delete().where(Reminder.id == retreatment[2].id))
    db.session.commit()

    result = runner.invoke(args=["reminders", "replan-all"])
    assert result.exit_code == 0, (result.output, result.stderr)
    lines = result.output.splitlines()
    assert "cancelled       1  confirmation cancelled" in lines  # not sent yet, and the visit is off
    assert "cancelled       1  pre_visit    cancelled" in lines
    assert "created         1  retreatment  pending" in lines
    assert "re-dated        1  retreatment  pending" in lines
    assert lines[-1] == "Re-plan done: 1 created, 2 cancelled, 0 revived, 1 re-dated."
    assert statuses(appointment_id=appt.id) == [("confirmation", 0, "cancelled"), ("pre_visit", 0, "cancelled")]
    assert rows(id=retreatment[0].id)[0].due_at == planned_due
    assert statuses(session_id=session.id, kind="retreatment") == planned

    again = runner.invoke(args=["reminders", "replan-all"])
    assert again.exit_code == 0 and again.output == "Re-plan done: nothing to change.\n"


def test_replan_all_on_a_database_without_reminders_to_plan(app, runner):
    result = runner.invoke(args=["reminders", "replan-all"])
    assert result.exit_code == 0 and result.output == "Re-plan done: nothing to change.\n"
