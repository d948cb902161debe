"""What to change so an appointment's emails (confirmations, pre-visit reminder) match it (pure).

A confirmation goes at booking and at each reschedule; a pre-visit reminder PRE_VISIT_HOURS
before the start, none for a booking made later than that, re-dated when the appointment moves
(a new one when the old one already went); both end with the appointment (cancelled, missed,
checked in, completed) or when the patient asked for no emails (`refused`, the reason from
scheduler.domain.consent; None when the email may go).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from scheduler.domain.plan import Planned
from scheduler.domain.reconcile import Change, Create, Ops, Row, moved

STATUS_REASONS = {
    "cancelled": "the appointment was cancelled",
    "no_show": "the patient did not attend",
    "checked_in": "the patient checked in",
    "completed": "the appointment took place",
}


def diff_confirmations(rows: Sequence[Row], plan: Planned | None, status: str, refused: str | None) -> Ops:
    """Confirmations of one appointment: a new one when asked (booked, moved), older pending ones end."""
    ops: Ops = []
    for row in rows:
        if row.status != "pending":
            continue
        if status != "booked":
            ops.append(Change(row.id, row.due_at, row.expires_at, "cancelled", STATUS_REASONS.get(status, status)))
        elif refused:
            ops.append(Change(row.id, row.due_at, row.expires_at, "cancelled", refused))
        elif plan is not None:
            ops.append(Change(row.id, row.due_at, row.expires_at, "cancelled", "superseded: the appointment was moved"))
    if plan is not None and status == "booked":
        if refused:
            ops.append(Create(plan.seq, plan.due_at, plan.expires_at, "cancelled", refused))
        else:
            ops.append(Create(plan.seq, plan.due_at, plan.expires_at))
    return ops


def diff_pre_visit(rows: Sequence[Row], plan: Planned, status: str, refused: str | None, now: datetime) -> Ops:
    """The pre-visit reminder of one appointment: none inside its lead time, re-dated when moved."""
    current = max(rows, key=lambda r: r.seq, default=None)
    if status != "booked" or refused:
        if current is not None and current.status == "pending":
            reason = STATUS_REASONS.get(status, status) if status != "booked" else refused
            return [Change(current.id, current.due_at, current.expires_at, "cancelled", reason)]
        return []
    if current is None:
        return [Create(0, plan.due_at, plan.expires_at)] if plan.due_at >= now else []
    if current.status == "pending":
        if not moved(current, plan):
            return []
        if plan.due_at >= now:
            return [Change(current.id, plan.due_at, plan.expires_at, "pending", None)]
        return [
            Change(
                current.id,
                plan.due_at,
                plan.expires_at,
                "cancelled",
                "the appointment moved inside the pre-visit lead time",
            )
        ]
    if current.status == "cancelled":
        if plan.due_at >= now:
            return [Change(current.id, plan.due_at, plan.expires_at, "pending", None)]
        return []
    if moved(current, plan) and plan.due_at >= now:
        return [Create(current.seq + 1, plan.due_at, plan.expires_at)]
    return []


#: statuses of an email that reached the patient (or is reaching them now)
DELIVERED = ("sent", "sending")


def diff_cancellation(
    notices: Sequence[Row], told: Sequence[Row], opted_in: bool, starts_at: datetime, now: datetime
) -> Ops:
    """The notice to the patient of an appointment that was just cancelled (docs/waitlist.md).

    One, and only if an email carrying the appointment's .ics reached them (`told`: its
    confirmations and pre-visit reminders) and it has not started: its .ics METHOD:CANCEL takes the
    event out of their calendar. None for a patient who opted out of emails.
    """
    if notices or not opted_in or starts_at <= now or not any(r.status in DELIVERED for r in told):
        return []
    return [Create(0, now, starts_at)]


def last_known_start(newest: tuple[str, datetime | None] | None, old_start: datetime) -> datetime | None:
    """The start a patient last heard of, for the confirmation of a move: the email says "moved from" it.

    `newest` is (status, moved_from) of the appointment's newest confirmation. If it reached the
    patient, they know the start it was moved from (`old_start`); if not, they know what that one
    would have said it moved from (None: they never heard of the appointment, a plain confirmation).
    """
    if newest is None:
        return None
    status, moved_from = newest
    return old_start if status in DELIVERED else moved_from
