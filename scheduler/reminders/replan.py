"""Bulk re-plan after an admin changes a treatment's intervals (docs/rules.md rule 5), set-based.

The result is exactly what the per-patient reconcile would give (the same pure diff decides),
but computed for the whole treatment at once: the facts (sessions, bookings, consents, stored
rows) are read in a handful of queries, plans are computed once per distinct session date, and
the writes are set-based: re-dates as one UPDATE per (session date, seq) through executemany,
status changes as one executemany by id, new rows as one multi-row INSERT. No ORM object per row.
Sent, skipped, failed and in-flight rows stay as they are.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, String, bindparam, column, insert, or_, select, update, values

from scheduler.domain import consent
from scheduler.domain import reconcile as rules
from scheduler.domain.plan import follow_up_plan, retreatment_plan
from scheduler.extensions import db
from scheduler.models import Appointment, Consent, PatientInterval, Reminder, Treatment, TreatmentSession
from scheduler.models.base import UTCDateTime
from scheduler.models.reminder import SESSION_KINDS
from scheduler.reminders.planning import intervals, reconcile_tracks
from scheduler.reminders.rows import clinic, mail_domain, new_row
from scheduler.services import clock

T = Reminder.__table__
#: rows the plan may change (spelled out: executemany cannot expand an IN list)
OPEN_STATUS = or_(T.c.status == "pending", T.c.status == "cancelled")


def replan_treatment(treatment: Treatment) -> int:
    """Re-plans every reminder of the treatment's sessions; returns how many pending ones moved or ended."""
    with _collector_paused():
        return _replan_treatment(treatment)


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off while the bulk re-plan runs.

    The re-plan of a large treatment makes hundreds of thousands of small tuples that all live
    until it ends, and the collector would walk them again each time their count crossed its
    threshold. Nothing the re-plan makes is cyclic; the collector runs again as usual afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _replan_treatment(treatment: Treatment) -> int:
    """The re-plan itself (see replan_treatment)."""
    db.session.flush()
    iv, settings, now = intervals(treatment), clinic(), clock.now()
    sessions, bookings, consents = _facts(treatment.id)
    # Patients with a window of their own are re-planned one by one, after the bulk.
    own = set(db.session.scalars(own_window(treatment.id)))
    stored = _stored(treatment.id)
    plans: dict[date, tuple[list, Any]] = {}
    redates: dict[tuple[str, date, int], Any] = {}
    changes: list[dict[str, Any]] = []
    creates: list[dict[str, Any]] = []
    moved, domain = 0, mail_domain()
    for patient_id, theirs in sessions.items():
        if patient_id in own:
            continue
        for s in theirs:
            if s.performed_on not in plans:
                plans[s.performed_on] = (
                    retreatment_plan(s.performed_on, iv, settings),
                    follow_up_plan(s.performed_on, iv, settings),
                )
            retreat, follow = plans[s.performed_on]
            rows = stored.get(s.id, {})
            state = consents[patient_id]
            ops = rules.diff_session(
                s,
                theirs,
                bookings.get(patient_id, []),
                consent.refusal("retreatment", treatment.kind, state),
                consent.refusal("follow_up", treatment.kind, state),
                rows,
                retreat,
                follow,
                now,
            )
            for kind, kind_ops in ops.items():
                before = {r.id: r for r in rows.get(kind, [])}
                for op in kind_ops:
                    if isinstance(op, rules.Create):
                        creates.append(_new_row(op, kind, patient_id, treatment.id, s, now, domain))
                        continue
                    row = before[op.id]
                    moved += row.status == "pending"
                    if op.status == row.status:  # a re-date: applied set-based by (kind, session date, seq)
                        redates[(kind, s.performed_on, row.seq)] = op
                    else:
                        changes.append(_change(op, now))
    _apply_redates(treatment.id, redates, now, own)
    if changes:
        db.session.connection().execute(
            update(T)
            .where(T.c.id == bindparam("b_id"), OPEN_STATUS)
            .values(
                due_at=bindparam("b_due"),
                expires_at=bindparam("b_exp"),
                status=bindparam("b_status"),
                reason=bindparam("b_reason"),
                next_attempt_at=None,
                updated_at=now,
            ),
            changes,
        )
    if creates:
        db.session.connection().execute(insert(T), creates)
    return moved + _replan_own(treatment, own)


def own_window(treatment_id: int):
    """SELECT of the patients with a window of their own for the treatment."""
    return select(PatientInterval.patient_id).where(PatientInterval.treatment_id == treatment_id)


def _replan_own(treatment: Treatment, patient_ids: set[int]) -> int:
    """Re-plans the patients who have their own window; returns how many of their pending reminders moved."""
    if not patient_ids:
        return 0
    before = _pending_dates(treatment.id, patient_ids)
    for patient_id in sorted(patient_ids):
        reconcile_tracks(patient_id, treatment.id)
    db.session.flush()
    after = _pending_dates(treatment.id, patient_ids)
    return sum(1 for rid, due in before.items() if after.get(rid) != due)


def _pending_dates(treatment_id: int, patient_ids: set[int]) -> dict[int, Any]:
    """Due times of those patients' pending session reminders of the treatment, by id."""
    rows = db.session.execute(
        select(T.c.id, T.c.due_at).where(
            T.c.treatment_id == treatment_id,
            T.c.patient_id.in_(patient_ids),
            T.c.status == "pending",
            T.c.kind.in_(SESSION_KINDS),
        )
    )
    return dict(rows.all())


def _facts(treatment_id: int):
    """Every session of the treatment by patient, their holding bookings, and their consents."""
    sessions: dict[int, list[rules.SessionFact]] = defaultdict(list)
    S = TreatmentSession.__table__
    for sid, patient_id, performed_on, appointment_id, external in db.session.execute(
        select(S.c.id, S.c.patient_id, S.c.performed_on, S.c.appointment_id, S.c.external).where(
            S.c.treatment_id == treatment_id, S.c.voided_at.is_(None)
        )
    ):
        sessions[patient_id].append(rules.SessionFact(sid, performed_on, appointment_id, external))
    bookings: dict[int, list[rules.BookingFact]] = defaultdict(list)
    for r in db.session.execute(
        select(Appointment.id, Appointment.patient_id, Appointment.starts_at, Appointment.status).where(
            Appointment.treatment_id == treatment_id, Appointment.status.in_(rules.HOLDING)
        )
    ):
        bookings[r.patient_id].append(rules.BookingFact(r.id, clock.local_date(r.starts_at), r.status))
    return sessions, bookings, Consent.states_of(db.session, sessions)


def _stored(treatment_id: int) -> dict[int, dict[str, list[rules.Row]]]:
    """The treatment's session reminders, by session and kind."""
    stored: dict[int, dict[str, list[rules.Row]]] = defaultdict(lambda: defaultdict(list))
    rows = db.session.execute(
        select(T.c.id, T.c.session_id, T.c.kind, T.c.seq, T.c.status, T.c.due_at, T.c.expires_at).where(
            T.c.treatment_id == treatment_id, T.c.kind.in_(SESSION_KINDS)
        )
    )
    for rid, session_id, kind, seq, status, due, expires in rows.all():  # one fetch, not one per row
        stored[session_id][kind].append(rules.Row(rid, seq, status, due, expires))
    return stored


#: SQLite page cache (KiB) while the re-dating statements run
ROOMY_CACHE_KIB = 64 * 1024
#: (kind, session date, seq) groups per re-dating UPDATE: 5 parameters each, well under SQLite's limit
REDATE_CHUNK = 1_000


def _apply_redates(treatment_id: int, redates: dict[tuple[str, date, int], Any], now, skip: set[int]) -> None:
    """Every open row of a (kind, session date, seq) group gets that group's new dates, in one statement.

    The groups' new dates go in as a VALUES list joined to the sessions (`WITH v AS (VALUES ...)
    UPDATE reminders ... FROM sessions, v`), a chunk of REDATE_CHUNK groups per statement: one pass
    over the rows instead of one statement per group.
    """
    if not redates:
        return
    groups = [(day, kind, seq, op.due_at, op.expires_at) for (kind, day, seq), op in redates.items()]
    with _roomy_page_cache():
        _redate_groups(treatment_id, groups, now, skip)


@contextmanager
def _roomy_page_cache():
    """On SQLite, a 64 MiB page cache for this connection while the block runs (then the old size).

    The re-dating join visits the rows of one (session date, seq) group at a time, and a group's
    rows lie all over the table: with the default 2 MiB cache each group reads the table's pages
    again. Only for the bulk statement: a web worker's connections keep their small caches.
    """
    conn = db.session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {-ROOMY_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _redate_groups(treatment_id: int, groups: list[tuple], now, skip: set[int]) -> None:
    """The re-dating statements, a chunk of groups each."""
    sessions = TreatmentSession.__table__
    for at in range(0, len(groups), REDATE_CHUNK):
        v = (
            values(
                column("day", Date),
                column("kind", String),
                column("seq", Integer),
                column("due", UTCDateTime()),
                column("exp", UTCDateTime()),
                name="v",
            )
            .data(groups[at : at + REDATE_CHUNK])
            .cte("v")
        )
        stmt = (
            update(T)
            .where(
                T.c.session_id == sessions.c.id,  # UPDATE ... FROM sessions, v: a join, on both databases
                sessions.c.treatment_id == treatment_id,
                sessions.c.performed_on == v.c.day,
                sessions.c.voided_at.is_(None),
                T.c.kind == v.c.kind,
                T.c.seq == v.c.seq,
                OPEN_STATUS,
                *([T.c.patient_id.not_in(own_window(treatment_id))] if skip else []),
            )
            .values(due_at=v.c.due, expires_at=v.c.exp, updated_at=now)
        )
        db.session.connection().execute(stmt)


def _change(op: rules.Change, now) -> dict[str, Any]:
    """Parameters of a status change by id."""
    return {"b_id": op.id, "b_due": op.due_at, "b_exp": op.expires_at, "b_status": op.status, "b_reason": op.reason}


def _new_row(
    op: rules.Create, kind: str, patient_id: int, treatment_id: int, s: rules.SessionFact, now, domain: str
) -> dict[str, Any]:
    """Column values of a new reminder row of a session."""
    appointment_id = s.appointment_id if kind == "follow_up" else None
    return new_row(op, kind, patient_id, treatment_id, s.id, appointment_id, now, domain)
