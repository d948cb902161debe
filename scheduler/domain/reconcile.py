"""What to change so a session's stored reminders match its plan (pure; see services.planning).

(An appointment's emails are diffed in scheduler.domain.appointment_plan.)

A re-treatment track (the reminders after one session) ends when a later session of that
treatment is recorded (for good), or while the patient holds a booking of that treatment after
the session or has not agreed to it (scheduler.domain.consent), until that changes: then the
track's reminders come back, except those that would now go out late. docs/rules.md rule 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from scheduler.domain.plan import Planned

#: appointment statuses that hold a booking (a completed one has become a session)
HOLDING = ("booked", "checked_in")
#: statuses the plan never touches again
SETTLED = ("sending", "sent", "skipped", "failed")
ADDED_LATE = "added to the plan after its date"
DROPPED = "no longer in the plan"
VOIDED = "the session was voided"


# The facts and ops are named tuples, not dataclasses: a bulk re-plan makes one per stored row
# (hundreds of thousands), and a tuple is built several times faster than a frozen dataclass.


class SessionFact(NamedTuple):
    """A session as far as the plan cares."""

    id: int
    performed_on: date
    appointment_id: int | None = None
    external: bool = False


class BookingFact(NamedTuple):
    """An appointment of the same patient and treatment."""

    id: int
    starts_on: date
    status: str


@dataclass(frozen=True)
class End:
    """Why a series is not wanted now, and whether that can change back."""

    reason: str
    revivable: bool


class Row(NamedTuple):
    """A stored reminder, as far as the plan cares."""

    id: int
    seq: int
    status: str
    due_at: datetime
    expires_at: datetime | None


class Create(NamedTuple):
    """A row to insert."""

    seq: int
    due_at: datetime
    expires_at: datetime | None
    status: str = "pending"
    reason: str | None = None


class Change(NamedTuple):
    """New values for a stored row (reason None clears it, unless keep_reason)."""

    id: int
    due_at: datetime
    expires_at: datetime | None
    status: str
    reason: str | None
    keep_reason: bool = False


Ops = list[Create | Change]


def later_session(session: SessionFact, others: Iterable[SessionFact]) -> SessionFact | None:
    """The newest session of the same treatment after this one, if any."""
    later = [s for s in others if (s.performed_on, s.id) > (session.performed_on, session.id)]
    return max(later, key=lambda s: (s.performed_on, s.id)) if later else None


def track_end(
    session: SessionFact, sessions: Sequence[SessionFact], bookings: Sequence[BookingFact], refused: str | None
) -> End | None:
    """Rule 3: why the re-treatment track of a session is closed, or None while it is open.

    `refused`: why the patient may not get these reminders (scheduler.domain.consent), or None.
    """
    newer = later_session(session, sessions)
    if newer is not None:
        return End(f"a later session (#{newer.id} on {newer.performed_on.isoformat()}) was recorded", False)
    held = sorted(
        (
            b
            for b in bookings
            if b.status in HOLDING and b.starts_on >= session.performed_on and b.id != session.appointment_id
        ),
        key=lambda b: (b.starts_on, b.id),
    )
    if held:
        return End(f"the patient booked again (appointment #{held[0].id} on {held[0].starts_on.isoformat()})", True)
    if refused:
        return End(refused, True)
    return None


def follow_up_end(session: SessionFact, sessions: Sequence[SessionFact], refused: str | None) -> End | None:
    """Why the follow-up after a session is not wanted (or may not be sent), or None while it is."""
    newer = later_session(session, sessions)
    if newer is not None:
        return End(f"a later session (#{newer.id} on {newer.performed_on.isoformat()}) was recorded", False)
    if refused:
        return End(refused, True)
    return None


def moved(row: Row, plan: Planned) -> bool:
    """Whether a stored row's dates differ from its plan."""
    return row.due_at != plan.due_at or row.expires_at != plan.expires_at


def diff_series(planned: Sequence[Planned], rows: Sequence[Row], end: End | None, now: datetime) -> Ops:
    """The inserts and updates that make a session's series (re-treatment or follow-up) match its plan.

    Open: missing rows are created (none already stale; in a series that already has rows, those
    already due are created cancelled), pending ones re-dated, cancelled ones revived unless they
    would now go out late. Closed: pending rows are cancelled with the reason; when the end can be
    undone, missing rows are created cancelled so that they can come back. Sent, skipped, failed
    and in-flight rows are never touched; pending rows beyond the plan are cancelled.
    """
    ops: Ops = []
    fresh = not rows
    by_seq = {r.seq: r for r in rows}
    for plan in planned:
        row = by_seq.pop(plan.seq, None)
        if row is None:
            if plan.expires_at is not None and plan.expires_at <= now:
                continue  # already stale: it would only be skipped
            if end is None and (fresh or plan.due_at >= now):
                ops.append(Create(plan.seq, plan.due_at, plan.expires_at))
            elif end is None:
                ops.append(Create(plan.seq, plan.due_at, plan.expires_at, "cancelled", ADDED_LATE))
            elif end.revivable:
                ops.append(Create(plan.seq, plan.due_at, plan.expires_at, "cancelled", end.reason))
        elif row.status == "pending":
            if end is not None:
                ops.append(Change(row.id, plan.due_at, plan.expires_at, "cancelled", end.reason))
            elif moved(row, plan):
                ops.append(Change(row.id, plan.due_at, plan.expires_at, "pending", None))
        elif row.status == "cancelled":
            if end is None and plan.due_at >= now:
                ops.append(Change(row.id, plan.due_at, plan.expires_at, "pending", None))
            elif moved(row, plan):
                ops.append(Change(row.id, plan.due_at, plan.expires_at, "cancelled", None, keep_reason=True))
    for row in by_seq.values():
        if row.status == "pending":
            ops.append(Change(row.id, row.due_at, row.expires_at, "cancelled", DROPPED))
    return ops


def diff_session(
    session: SessionFact,
    sessions: Sequence[SessionFact],
    bookings: Sequence[BookingFact],
    retreatment_refused: str | None,
    follow_up_refused: str | None,
    rows: dict[str, Sequence[Row]],
    retreatment: Sequence[Planned],
    follow_up: Planned | None,
    now: datetime,
) -> dict[str, Ops]:
    """The ops for one session's two series: its re-treatment track and (completed here only) its follow-up.

    The refusals say why the patient may not get each series (scheduler.domain.consent), or None.
    """
    end = track_end(session, sessions, bookings, retreatment_refused)
    ops = {"retreatment": diff_series(retreatment, rows.get("retreatment", ()), end, now)}
    follow = follow_up if session.appointment_id is not None else None
    if follow is not None or rows.get("follow_up"):
        ops["follow_up"] = diff_series(
            [follow] if follow else [],
            rows.get("follow_up", ()),
            follow_up_end(session, sessions, follow_up_refused),
            now,
        )
    return ops


def diff_voided(rows: Sequence[Row]) -> Ops:
    """A voided session's series: every pending row is cancelled, for good; nothing else changes."""
    return [Change(r.id, r.due_at, r.expires_at, "cancelled", VOIDED) for r in rows if r.status == "pending"]
