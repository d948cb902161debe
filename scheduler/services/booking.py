"""Booking operations: free slots, book, reschedule and the appointment lifecycle.

Every operation flushes and leaves the commit to its caller (one request, one commit).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache, partial
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Interval,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, make_transient_to_detached

from scheduler.db import begin_write, is_sqlite, one_transaction, plan_opaque
from scheduler.domain import lifecycle, safety, slots
from scheduler.driver import DriverStatement
from scheduler.extensions import db
from scheduler.models import (
    OCCUPYING,
    Appointment,
    AuditEvent,
    Patient,
    Practitioner,
    Reminder,
    TimeOff,
    Treatment,
    TreatmentSession,
    User,
)
from scheduler.models.appointment import DATABASE_KEPT, MAX_LENGTH, overlapping
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.services import audit, clock
from scheduler.services.errors import Conflict, Forbidden, NotFound, Rejected
from scheduler.services.users import Caller

#: names of the PostgreSQL exclusion constraints (see the migration) and their API codes
OVERLAP_CONSTRAINTS = {
    "ex_appointments_practitioner_overlap": ("slot_taken", "The practitioner is already booked at that time."),
    "ex_appointments_patient_overlap": ("patient_busy", "The patient already has an appointment at that time."),
}


def _get(model, ident: int, field: str, label: str):
    """Loads a referenced row or refuses the request naming the field."""
    row = db.session.get(model, ident)
    if row is None:
        raise Rejected(
            f"There is no {label} with id {ident}.", code="invalid_reference", fields={field: f"no such {label}"}
        )
    return row


def get_appointment(appointment_id: int, *, for_update: bool = False) -> Appointment:
    """Loads an appointment or raises NotFound."""
    stmt = select(Appointment).where(Appointment.id == appointment_id)
    if for_update:
        stmt = stmt.with_for_update()
    appt = db.session.scalars(stmt).first()
    if appt is None:
        raise NotFound(f"There is no appointment with id {appointment_id}.")
    return appt


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a local clinic day starts and ends."""
    tz = clock.clinic_tz()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(clock.UTC), end.astimezone(clock.UTC)


def busy_intervals(practitioner_id: int, start: datetime, end: datetime, exclude_id: int | None = None):
    """The practitioner's occupied appointments and time off overlapping [start, end)."""
    appts = select(Appointment.starts_at, Appointment.ends_at).where(
        Appointment.practitioner_id == practitioner_id,
        Appointment.status.in_(OCCUPYING),
        overlapping(start, end),
    )
    if exclude_id is not None:
        appts = appts.where(Appointment.id != exclude_id)
    off = select(TimeOff.starts_at, TimeOff.ends_at).where(
        TimeOff.practitioner_id == practitioner_id, TimeOff.starts_at < end, TimeOff.ends_at > start
    )
    return [tuple(r) for r in db.session.execute(appts)] + [tuple(r) for r in db.session.execute(off)]


def free_slots(practitioner: Practitioner, treatment: Treatment, day: date) -> list[datetime]:
    """Free starts for the treatment with the practitioner on a local day."""
    if not practitioner.active or not treatment.active:
        return []
    hours = slots.parse_working_hours(practitioner.working_hours or {})
    start, end = day_bounds(day)
    # An appointment that started the evening before can reach into this day.
    busy = busy_intervals(practitioner.id, start - timedelta(hours=12), end + timedelta(hours=12))
    step = timedelta(minutes=_step_minutes())
    return slots.free_slots(
        day, hours, clock.clinic_tz(), timedelta(minutes=treatment.duration_minutes), busy, clock.now(), step
    )


def _step_minutes() -> int:
    from flask import current_app

    return int(current_app.config["SLOT_STEP_MINUTES"])


def last_session_of_product(patient_id: int, product: str, on_or_before: date) -> date | None:
    """The date of the patient's latest session of any treatment of this product up to a day."""
    stmt = (
        select(func.max(TreatmentSession.performed_on))
        .join(Treatment, Treatment.id == TreatmentSession.treatment_id)
        .where(
            TreatmentSession.patient_id == patient_id,
            Treatment.product == product,
            TreatmentSession.performed_on <= on_or_before,
        )
    )
    return db.session.scalar(stmt)


class Facts(NamedTuple):
    """What a booking of a patient with a practitioner for a treatment on a day is checked against."""

    opted_in: bool
    practitioner_active: bool
    #: the practitioner's working hours as stored (JSON text), or None
    working_hours: str | None
    treatment_active: bool
    duration_minutes: int
    product: str
    min_interval_days: int
    #: the patient's latest session of the treatment's product up to the day
    last_of_product: date | None
    #: the slot's conflicts, where they were read with the facts (`_facts` given a start)
    conflicts: Conflicts | None = None


def _facts_statement():
    """The statement `_facts` runs (parameters: patient_id, practitioner_id, treatment_id, day)."""
    same_product = aliased(Treatment)
    last = (
        select(func.max(TreatmentSession.performed_on))
        .join(same_product, same_product.id == TreatmentSession.treatment_id)
        .where(
            TreatmentSession.patient_id == Patient.id,
            same_product.product == Treatment.product,
            TreatmentSession.performed_on <= bindparam("day", type_=Date()),
        )
        .scalar_subquery()
    )
    return (
        select(
            Patient.reminders_opt_in,
            Practitioner.active,
            cast(Practitioner.working_hours, Text),  # parsed once per text (slots.stored_working_hours)
            Treatment.active,
            Treatment.duration_minutes,
            Treatment.product,
            Treatment.min_interval_days,
            last,
        )
        .join_from(Patient, Practitioner, true())
        .join(Treatment, true())
        .where(
            Patient.id == bindparam("patient_id"),
            Practitioner.id == bindparam("practitioner_id"),
            Treatment.id == bindparam("treatment_id"),
        )
    )


def _facts_and_conflicts_statement():
    """PostgreSQL: the facts and, after them, the slot's conflicts as `_conflicts` reads them, with
    the end computed from the treatment's duration (parameters: those of the facts, starts_at and
    scan_from = starts_at - MAX_LENGTH). Columns: the facts', the starts and the ends of the time
    off (two arrays in one order), whether an occupying appointment overlaps for the practitioner
    and for the patient, and whether the patient has sessions of the treatment.

    One round trip where booking had two; the slot is not read under any lock on PostgreSQL
    (its exclusion constraints have the last word at the insert), so reading it with the facts
    loses nothing.
    """
    starts = plan_opaque(bindparam("starts_at", type_=UTCDateTime()))
    ends = starts + Treatment.duration_minutes * literal_column("interval '1 minute'", Interval())
    off = (
        select(TimeOff.starts_at)
        .where(TimeOff.practitioner_id == Practitioner.id, TimeOff.starts_at < ends, TimeOff.ends_at > starts)
        .order_by(TimeOff.starts_at, TimeOff.id)
    )
    occupying = and_(
        Appointment.status.in_(OCCUPYING),
        overlapping(starts, ends, plan_opaque(bindparam("scan_from", type_=UTCDateTime()))),
    )
    instants = postgresql.ARRAY(UTCDateTime())
    return _facts_statement().add_columns(
        type_coerce(func.array(off.scalar_subquery()), instants),
        type_coerce(func.array(off.with_only_columns(TimeOff.ends_at).scalar_subquery()), instants),
        exists().where(Appointment.practitioner_id == Practitioner.id, occupying),
        exists().where(Appointment.patient_id == Patient.id, occupying),
        exists().where(TreatmentSession.patient_id == Patient.id, TreatmentSession.treatment_id == Treatment.id),
    )


def _facts(
    patient_id: int, practitioner_id: int, treatment_id: int, day: date, starts_at: datetime | None = None
) -> Facts:
    """The booking's facts in one statement, or a 422 naming the first reference that does not exist.

    Given a start on PostgreSQL, the same statement reads the slot's conflicts too
    (`_facts_and_conflicts_statement`); `_check_slot` then judges those.
    """
    params = {"patient_id": patient_id, "practitioner_id": practitioner_id, "treatment_id": treatment_id, "day": day}
    with_conflicts = starts_at is not None and not is_sqlite()
    if with_conflicts:
        params |= {"starts_at": starts_at, "scan_from": starts_at - MAX_LENGTH}
    found = (_FACTS_AND_CONFLICTS if with_conflicts else _FACTS).first(params)
    if found is None:  # say which one is missing, in the order of the fields
        _get(Patient, patient_id, "patient_id", "patient")
        _get(Practitioner, practitioner_id, "practitioner_id", "practitioner")
        _get(Treatment, treatment_id, "treatment_id", "treatment")
    if not with_conflicts:
        return Facts(*found)
    *facts, off_starts, off_ends, taken, busy, has_sessions = found
    return Facts(*facts, Conflicts(list(zip(off_starts, off_ends, strict=True)), taken, busy, has_sessions))


def _conflicts_statement(excluding: bool):
    """The statement `_conflicts` runs (parameters: practitioner_id, patient_id,
    starts_at, ends_at, scan_from = starts_at - MAX_LENGTH, and exclude_id when excluding)."""
    # planned once per connection, not at each booking (`plan_opaque`)
    starts_at = plan_opaque(bindparam("starts_at", type_=UTCDateTime()))
    ends_at = plan_opaque(bindparam("ends_at", type_=UTCDateTime()))
    off = select(literal(0).label("appointment"), null(), null(), TimeOff.starts_at, TimeOff.ends_at).where(
        TimeOff.practitioner_id == bindparam("practitioner_id"),
        TimeOff.starts_at < ends_at,
        TimeOff.ends_at > starts_at,
    )
    appts = select(
        literal(1), Appointment.practitioner_id, Appointment.patient_id, Appointment.starts_at, Appointment.ends_at
    ).where(
        or_(
            Appointment.practitioner_id == bindparam("practitioner_id"),
            Appointment.patient_id == bindparam("patient_id"),
        ),
        Appointment.status.in_(OCCUPYING),
        overlapping(starts_at, ends_at, plan_opaque(bindparam("scan_from", type_=UTCDateTime()))),
    )
    if excluding:
        appts = appts.where(Appointment.id != bindparam("exclude_id"))
    # one row if the patient has sessions of the treatment (a booking holds back their re-treatment emails)
    sessions = select(literal(2), null(), null(), null(), null()).where(
        exists().where(
            TreatmentSession.patient_id == bindparam("patient_id"),
            TreatmentSession.treatment_id == bindparam("treatment_id"),
        )
    )
    return union_all(off, appts, sessions)


#: the booking's reads, on the driver's cursor: every booking runs the facts and the conflicts,
#: on PostgreSQL as one statement
_FACTS = DriverStatement(_facts_statement)
_FACTS_AND_CONFLICTS = DriverStatement(_facts_and_conflicts_statement)
_CONFLICTS = {excluding: DriverStatement(partial(_conflicts_statement, excluding)) for excluding in (False, True)}


class Conflicts(NamedTuple):
    """What stands in a proposed slot's way, read under the write lock."""

    time_off: list[tuple[datetime, datetime]]
    #: an occupying appointment of the practitioner overlaps
    taken: bool
    #: an occupying appointment of the patient overlaps
    busy: bool
    #: the patient has sessions of the treatment
    has_sessions: bool


def _conflicts(
    practitioner_id: int,
    patient_id: int,
    treatment_id: int,
    starts_at: datetime,
    ends_at: datetime,
    exclude_id: int | None,
) -> Conflicts:
    """The practitioner's time off overlapping [starts_at, ends_at), whether an occupying
    appointment overlaps it for the practitioner and for the patient, and whether the patient
    has sessions of the treatment: one statement.

    Each part is an index range scan (time off by practitioner, appointments by who and start,
    sessions by patient).
    """
    params = dict(
        practitioner_id=practitioner_id,
        patient_id=patient_id,
        treatment_id=treatment_id,
        starts_at=starts_at,
        ends_at=ends_at,
        scan_from=starts_at - MAX_LENGTH,
    )
    if exclude_id is not None:
        params["exclude_id"] = exclude_id
    rows = _CONFLICTS[exclude_id is not None].rows(params)
    taken, busy = _overlaps([r for r in rows if r[0] == 1], practitioner_id, patient_id)
    return Conflicts([(r[3], r[4]) for r in rows if r[0] == 0], taken, busy, any(r[0] == 2 for r in rows))


def _overlaps(rows, practitioner_id: int, patient_id: int) -> tuple[bool, bool]:
    """Whether the overlapping appointments include one of the practitioner's, and one of the patient's."""
    return any(r[1] == practitioner_id for r in rows), any(r[2] == patient_id for r in rows)


class Screened(NamedTuple):
    """A proposed start that passed the checks needing only the facts."""

    ends_at: datetime
    hours: Any
    #: inside the product's safety interval (allowed only with an admin's override reason)
    too_soon: bool


def _screen(*, facts: Facts, starts_at: datetime, actor: User | Who | None, override_reason: str | None) -> Screened:
    """The rules that need only the facts: who may override, active records, not in the past.

    Pure work, done before any write lock; the slot itself is judged by `_check_slot`.
    """
    if override_reason is not None and (actor is None or not actor.is_admin):
        raise Forbidden("Only an admin may book inside the safety interval.", code="override_forbidden")
    if not facts.treatment_active:
        raise Rejected("That treatment is no longer offered.", code="inactive", fields={"treatment_id": "inactive"})
    if not facts.practitioner_active:
        raise Rejected(
            "That practitioner is not taking bookings.", code="inactive", fields={"practitioner_id": "inactive"}
        )
    if starts_at < clock.now():
        raise Rejected("The start time is in the past.", code="in_past", fields={"starts_at": "in the past"})
    too_soon = safety.is_too_soon(facts.last_of_product, clock.local_date(starts_at), facts.min_interval_days)
    return Screened(
        starts_at + timedelta(minutes=facts.duration_minutes),
        slots.stored_working_hours(facts.working_hours),
        too_soon,
    )


def _check_slot(
    *,
    facts: Facts,
    screened: Screened,
    patient_id: int,
    practitioner_id: int,
    treatment_id: int,
    starts_at: datetime,
    override_reason: str | None,
    exclude_id: int | None = None,
) -> Conflicts:
    """Judges the slot of a screened start (under the write lock on SQLite): working hours and
    time off, overlaps, then the safety interval. Returns what was read of the slot (with the
    facts on PostgreSQL, here otherwise)."""
    found = facts.conflicts
    if found is None:
        found = _conflicts(practitioner_id, patient_id, treatment_id, starts_at, screened.ends_at, exclude_id)
    if not slots.within_working_hours(starts_at, screened.ends_at, screened.hours, clock.clinic_tz(), found.time_off):
        raise Rejected(
            "That time is outside the practitioner's working hours.",
            code="outside_hours",
            fields={"starts_at": "outside working hours"},
        )
    _refuse_overlap(found.taken, found.busy)
    if screened.too_soon and override_reason is None:
        last = facts.last_of_product
        earliest = safety.earliest_safe_date(last, facts.min_interval_days)
        raise Rejected(
            f"The patient's last {facts.product} session was on {last.isoformat()}; "
            f"the earliest safe date is {earliest.isoformat()}.",
            code="too_soon",
            fields={"starts_at": f"earliest safe date is {earliest.isoformat()}"},
        )
    return found


def _refuse_overlap(taken: bool, busy: bool) -> None:
    if taken:
        raise Conflict("The practitioner is already booked at that time.", code="slot_taken")
    if busy:
        raise Conflict("The patient already has an appointment at that time.", code="patient_busy")


def _flush_guarded() -> None:
    """Flushes inside a savepoint, turning the PostgreSQL overlap constraints into 409s.

    SQLite has no such constraints (the write lock taken at the start of the request makes the
    check above final), so there it is a plain flush.
    """
    if is_sqlite():
        db.session.flush()
        return
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        name = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if name in OVERLAP_CONSTRAINTS:
            code, message = OVERLAP_CONSTRAINTS[name]
            raise Conflict(message, code=code) from None
        raise


class Who(NamedTuple):
    """The acting user's fields a booking needs, read before the write lock (which ends the read
    transaction and so expires the user object)."""

    id: int
    email: str
    is_admin: bool


#: the columns of a booking's emails (reminder_rows.new_row) and audit events (audit.row) but the
#: appointment's id, which the insert supplies
_EMAIL_COLUMNS = (
    "patient_id", "treatment_id", "kind", "session_id", "seq", "due_at", "expires_at", "status", "reason",
    "attempts", "message_id", "created_at", "updated_at",
)  # fmt: skip
_EVENT_COLUMNS = ("at", "action", "entity_type", "actor_id", "actor", "details")
#: what each table's rows are: parameter prefix, the column linking to the appointment, the others
_ROWS = {
    "r": (Reminder.__table__, "appointment_id", _EMAIL_COLUMNS),
    "e": (AuditEvent.__table__, "entity_id", _EVENT_COLUMNS),
}


def _param(prefix: str, column, *, cast_: bool = False) -> Any:
    """The parameter `<prefix><column name>` of the column's type; cast to it in SQL where a NULL
    would otherwise have no type (PostgreSQL's UNION of SELECTs)."""
    value = bindparam(f"{prefix}{column.name}", type_=column.type)
    return cast(value, column.type) if cast_ else value


def _appointment_columns() -> list:
    table = Appointment.__table__
    return [c for c in table.c if c.name != "id" and c.name not in DATABASE_KEPT]


def _sqlite_appointment_statement():
    """INSERT INTO appointments ... RETURNING id (parameters a_<column>)."""
    table = Appointment.__table__
    return insert(table).values({c.name: _param("a_", c) for c in _appointment_columns()}).returning(table.c.id)


def _sqlite_rows_statement(prefix: str, count: int):
    """INSERT INTO reminders or audit_events ... VALUES (...), ... of `count` rows of one appointment
    (parameters: appointment_id, and <prefix><i>_<column>)."""
    table, link, names = _ROWS[prefix]
    rows = [
        {link: bindparam("appointment_id", type_=table.c[link].type)}
        | {n: _param(f"{prefix}{i}_", table.c[n]) for n in names}
        for i in range(count)
    ]
    return insert(table).values(rows)


_SQLITE_APPOINTMENT = DriverStatement(_sqlite_appointment_statement)


@cache
def _sqlite_rows(prefix: str, count: int) -> DriverStatement:
    return DriverStatement(partial(_sqlite_rows_statement, prefix, count))


def _postgresql_insert_statement(emails: int, events: int):
    """The appointment, its emails and its audit events in one statement (one round trip):

        WITH a AS (INSERT INTO appointments ... ON CONFLICT DO NOTHING RETURNING id),
             r AS (INSERT INTO reminders (appointment_id, ...) SELECT a.id, ... FROM a UNION ALL ...),
             e AS (INSERT INTO audit_events (entity_id, ...) SELECT a.id, ... FROM a ...)
        SELECT id FROM a

    When the overlap constraints refuse the appointment, `a` is empty and so are the others.
    Parameters: a_<column>, r<i>_<column> and e<i>_<column>.
    """
    table = Appointment.__table__
    a = (
        pg_insert(table)
        .values({c.name: _param("a_", c, cast_=True) for c in _appointment_columns()})
        .on_conflict_do_nothing()
        .returning(table.c.id)
        .cte("a")
    )

    def rows_from_a(prefix: str, count: int):
        target, link, names = _ROWS[prefix]
        selects = [
            select(a.c.id, *(_param(f"{prefix}{i}_", target.c[n], cast_=True) for n in names)) for i in range(count)
        ]
        source = selects[0] if count == 1 else union_all(*selects)
        return insert(target).from_select([link, *names], source, include_defaults=False)

    stmt = select(a.c.id)
    if emails:
        stmt = stmt.add_cte(rows_from_a("r", emails).cte("r"))
    if events:
        stmt = stmt.add_cte(rows_from_a("e", events).cte("e"))
    return stmt


@cache
def _postgresql_insert(emails: int, events: int) -> DriverStatement:
    return DriverStatement(partial(_postgresql_insert_statement, emails, events))


def _row_params(prefix: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows of emails or audit events as the insert statements' parameters."""
    names = _ROWS[prefix][2]
    params = {}
    for i, row in enumerate(rows):
        assert len(row) == len(names) + 1, "a column the booking's insert does not know"
        params.update({f"{prefix}{i}_{n}": row[n] for n in names})
    return params


def _insert_booking(values: dict[str, Any], emails: list[dict[str, Any]], events: list[dict[str, Any]]) -> int:
    """Inserts an appointment with its emails and audit events; returns its id, or raises the 409
    of the booking that got there first.

    On PostgreSQL the exclusion constraints have the last word: a booking committed (or committing)
    since the check above makes the insert do nothing (`ON CONFLICT DO NOTHING` waits for it), and
    the overlap is read again to say which one. No savepoint, and the caller's transaction stays
    usable. On SQLite the write lock held since the check makes it final.
    """
    appointment = {f"a_{k}": v for k, v in values.items()}
    if is_sqlite():
        new_id = _SQLITE_APPOINTMENT.scalar(appointment)
        for prefix, rows in (("r", emails), ("e", events)):
            if rows:
                _sqlite_rows(prefix, len(rows)).rows({"appointment_id": new_id} | _row_params(prefix, rows))
        return new_id
    params = appointment | _row_params("r", emails) | _row_params("e", events)
    new_id = _postgresql_insert(len(emails), len(events)).scalar(params)
    if new_id is None:
        found = _conflicts(
            values["practitioner_id"],
            values["patient_id"],
            values["treatment_id"],
            values["starts_at"],
            values["ends_at"],
            None,
        )
        _refuse_overlap(found.taken, found.busy)
        raise Conflict("That time was taken by another booking a moment ago.", code="slot_taken")
    return new_id


class Booked(NamedTuple):
    """A new appointment's row, as `book_row` returns it."""

    id: int
    patient_id: int
    practitioner_id: int
    treatment_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    override_reason: str | None
    cancel_reason: str | None
    booked_by_id: int | None
    created_at: datetime
    updated_at: datetime


def book(
    *,
    patient_id: int,
    practitioner_id: int,
    treatment_id: int,
    starts_at: datetime,
    actor: User | None,
    override_reason: str | None = None,
) -> Appointment:
    """`book_row`, returning the appointment attached to the session as if it had been loaded
    (for pages that go on to its patient, treatment and practitioner)."""
    row = book_row(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        treatment_id=treatment_id,
        starts_at=starts_at,
        actor=actor,
        override_reason=override_reason,
    )
    appt = Appointment(**row._asdict())
    make_transient_to_detached(appt)
    db.session.add(appt)
    return appt


def book_row(
    *,
    patient_id: int,
    practitioner_id: int,
    treatment_id: int,
    starts_at: datetime,
    actor: User | Caller | None,
    override_reason: str | None = None,
) -> Booked:
    """Books an appointment after checking hours, overlaps and the safety interval.

    Every API and desk booking comes here, so it is written as a few Core statements: the facts,
    the conflicts, the appointment, its emails and its audit events, in that order. The API
    answers with the returned row, without making an ORM object of it.

    From the API on PostgreSQL (`ONE_STATEMENT_WRITE`), the reads run in autocommit and the
    one-statement insert is a transaction of its own; a patient with sessions of the treatment
    also has their tracks reconciled, so the insert and that are made one transaction first.
    """
    from scheduler.services import planning, reminder_rows

    who = Who(actor.id, actor.email, actor.is_admin) if actor is not None else None
    facts = _facts(patient_id, practitioner_id, treatment_id, clock.local_date(starts_at), starts_at)
    screened = _screen(facts=facts, starts_at=starts_at, actor=who, override_reason=override_reason)
    overridden = screened.too_soon  # _check_slot refuses it below unless there is a reason
    # The rows to write are pure work on the facts: made before the write lock, not while holding it.
    stamp, now = utcnow(), clock.now()
    values = dict(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        treatment_id=treatment_id,
        starts_at=starts_at,
        ends_at=screened.ends_at,
        status="booked",
        override_reason=override_reason if overridden else None,
        cancel_reason=None,
        booked_by_id=who.id if who else None,
        created_at=stamp,
        updated_at=stamp,
    )
    ops = planning.appointment_ops(
        [], starts_at, "booked", bool(facts.opted_in), new_confirmation=True, now=now, settings=reminder_rows.clinic()
    )
    domain = reminder_rows.mail_domain()
    emails = [
        reminder_rows.new_row(op, kind, patient_id, treatment_id, None, None, now, domain)
        for kind, kind_ops in ops.items()
        for op in kind_ops  # a new appointment has no emails: every op creates one
    ]
    events = [
        audit.row(
            "appointment.booked",
            "appointment",
            None,
            who,
            {
                "patient_id": patient_id,
                "practitioner_id": practitioner_id,
                "treatment_id": treatment_id,
                "starts_at": starts_at.isoformat(),
            },
        )
    ]
    if overridden:
        events.append(audit.row("appointment.safety_override", "appointment", None, who, {"reason": override_reason}))
    # The write lock (SQLite) from here: the facts above may be a moment old, the slot below not.
    begin_write()
    found = _check_slot(
        facts=facts,
        screened=screened,
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        treatment_id=treatment_id,
        starts_at=starts_at,
        override_reason=override_reason,
    )
    if found.has_sessions:  # the insert and the reconcile below are one transaction
        one_transaction()
    appt_id = _insert_booking(values, emails, events)
    if planning.wakes_the_sender(ops["confirmation"]):
        db.session.info[planning.WAKE_FLAG] = True
    if found.has_sessions:  # a booking holds back the re-treatment reminders of earlier sessions
        planning.reconcile_tracks(patient_id, treatment_id)
    return Booked(appt_id, **values)


def reschedule(
    appointment_id: int, starts_at: datetime, *, actor: User | None, override_reason: str | None = None
) -> Appointment:
    """Moves a booked appointment to a new start under the same rules as booking."""
    begin_write()
    appt = get_appointment(appointment_id, for_update=True)
    if not lifecycle.can_reschedule(appt.status):
        raise Conflict(f"A {appt.status.replace('_', ' ')} appointment cannot be rescheduled.", code="bad_transition")
    old = appt.starts_at
    facts = _facts(appt.patient_id, appt.practitioner_id, appt.treatment_id, clock.local_date(starts_at))
    screened = _screen(facts=facts, starts_at=starts_at, actor=actor, override_reason=override_reason)
    _check_slot(
        facts=facts,
        screened=screened,
        patient_id=appt.patient_id,
        practitioner_id=appt.practitioner_id,
        treatment_id=appt.treatment_id,
        starts_at=starts_at,
        override_reason=override_reason,
        exclude_id=appt.id,
    )
    overridden = screened.too_soon
    appt.starts_at, appt.ends_at = starts_at, screened.ends_at
    if overridden:
        appt.override_reason = override_reason
    _flush_guarded()
    audit.record(
        "appointment.rescheduled", "appointment", appt.id, actor, {"from": old.isoformat(), "to": starts_at.isoformat()}
    )
    if overridden:
        audit.record("appointment.safety_override", "appointment", appt.id, actor, {"reason": override_reason})
    _notify("rescheduled", appt)
    return appt


def change_status(appointment_id: int, target: str, *, actor: User | None, reason: str | None = None) -> Appointment:
    """Checks in, cancels or marks a no-show, refusing transitions the lifecycle forbids."""
    begin_write()
    appt = get_appointment(appointment_id, for_update=True)
    _transition(appt, target)
    if target == "cancelled":
        appt.cancel_reason = reason
    db.session.flush()
    audit.record(f"appointment.{target}", "appointment", appt.id, actor, {"reason": reason} if reason else {})
    _notify(target, appt)
    return appt


def _transition(appt: Appointment, target: str) -> None:
    """Applies a lifecycle transition or raises a 409 bad_transition."""
    try:
        lifecycle.check_transition(appt.status, target)
    except lifecycle.BadTransition as exc:
        raise Conflict(str(exc), code="bad_transition") from None
    appt.status = target


def complete(
    appointment_id: int,
    *,
    actor: User | None,
    units: float,
    lot_number: str,
    product: str | None = None,
    lot_expiry: date | None = None,
    sites: str | None = None,
    notes: str | None = None,
) -> TreatmentSession:
    """Completes a checked-in appointment and records its session."""
    begin_write()
    appt = get_appointment(appointment_id, for_update=True)
    _transition(appt, "completed")
    performed_on = clock.local_date(appt.starts_at)
    if lot_expiry is not None and lot_expiry < performed_on:
        raise Rejected(
            "That lot had expired on the day of the session.",
            code="lot_expired",
            fields={"lot_expiry": "before the session date"},
        )
    session = TreatmentSession(
        patient_id=appt.patient_id,
        treatment_id=appt.treatment_id,
        appointment_id=appt.id,
        performed_on=performed_on,
        product=product or appt.treatment.product,
        units=units,
        lot_number=lot_number,
        lot_expiry=lot_expiry,
        sites=sites,
        notes=notes,
        external=False,
        recorded_by_id=actor.id if actor else None,
    )
    db.session.add(session)
    db.session.flush()
    audit.record("appointment.completed", "appointment", appt.id, actor, {"session_id": session.id})
    audit.record(
        "session.recorded",
        "session",
        session.id,
        actor,
        {"patient_id": appt.patient_id, "lot_number": lot_number, "units": units},
    )
    _notify("completed", appt, session)
    return session


def _notify(event: str, appt: Appointment, session: TreatmentSession | None = None) -> None:
    """Tells the reminder planner that an appointment changed (see services.planning)."""
    from scheduler.services import planning

    planning.appointment_changed(event, appt, session)
