"""Every reminder plan rebuilt from the sessions and appointments (`flask reminders replan-all`).

For a reminders table that lost rows (a downgrade past revision 0002 and back up): the reconcile
every clinic event runs, here for everything. Each treatment's sessions go through the bulk
re-plan (re-treatment and follow-up emails), and each appointment that can still have emails
(booked and ahead, or with a pending one) through the appointment reconcile (pre-visit
reminders; no new confirmations: a booking's confirmation goes at booking time only). Sent,
skipped, failed and in-flight rows are never touched. A second run finds nothing to change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from sqlalchemy import select

from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import Appointment, Reminder, Treatment
from scheduler.models.reminder import APPOINTMENT_KINDS
from scheduler.reminders import replan
from scheduler.reminders.planning import reconcile_appointment
from scheduler.services import clock

#: the statuses the plan may write (anything else is settled)
OPEN = ("pending", "cancelled")

#: an open row as the snapshot keeps it: id -> (kind, status, due_at)
Snapshot = dict[int, tuple[str, str, object]]


def replan_all() -> Counter[tuple[str, str, str]]:
    """Re-plans every session and appointment; counts the changes by (change, kind, status).

    A change is "created", "cancelled", "revived" (cancelled back to pending) or "re-dated".
    Flushes; the caller commits.
    """
    begin_write()
    before = _open_rows()
    for treatment in db.session.scalars(select(Treatment).order_by(Treatment.id)).all():
        replan.replan_treatment(treatment)
    for appt in _appointments_with_emails():
        reconcile_appointment(appt, new_confirmation=False)
    db.session.flush()
    return changes(before, _open_rows())


def _appointments_with_emails() -> Iterator[Appointment]:
    """Appointments booked from now on, and those with a pending confirmation or pre-visit email."""
    pending = select(Reminder.appointment_id).where(
        Reminder.appointment_id.is_not(None), Reminder.kind.in_(APPOINTMENT_KINDS), Reminder.status == "pending"
    )
    ahead = (Appointment.status == "booked") & (Appointment.starts_at > clock.now())
    query = select(Appointment.id).where(ahead | Appointment.id.in_(pending)).order_by(Appointment.id)
    for appointment_id in db.session.scalars(query).all():
        yield db.session.get(Appointment, appointment_id)


def _open_rows() -> Snapshot:
    """Every pending or cancelled reminder, the rows a re-plan may create or change."""
    rows = db.session.execute(
        select(Reminder.id, Reminder.kind, Reminder.status, Reminder.due_at).where(Reminder.status.in_(OPEN))
    )
    return {r.id: (r.kind, r.status, r.due_at) for r in rows}


def changes(before: Snapshot, after: Snapshot) -> Counter[tuple[str, str, str]]:
    """What turned the open rows `before` into `after`, counted by (change, kind, status)."""
    counted: Counter[tuple[str, str, str]] = Counter()
    for rid, (kind, status, due_at) in after.items():
        old = before.get(rid)
        if old is None:
            counted["created", kind, status] += 1
        elif old[1] != status:
            counted["cancelled" if status == "cancelled" else "revived", kind, status] += 1
        elif old[2] != due_at:
            counted["re-dated", kind, status] += 1
    return counted


def report(counted: Counter[tuple[str, str, str]]) -> list[str]:
    """The command's lines: one per (change, kind, status), then the totals."""
    lines = [f"{change:<9} {n:>7}  {kind:<12} {status}" for (change, kind, status), n in sorted(counted.items())]
    totals: Counter[str] = Counter()
    for (change, _kind, _status), n in counted.items():
        totals[change] += n
    if not totals:
        return ["Re-plan done: nothing to change."]
    done = ", ".join(f"{totals[change]} {change}" for change in ("created", "cancelled", "revived", "re-dated"))
    return [*lines, f"Re-plan done: {done}."]
