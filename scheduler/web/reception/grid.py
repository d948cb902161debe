"""The calendar grid: columns of 5-minute tracks with working time, free cells and appointments.

Columns are CSS grids of 5-minute tracks (15-minute lines drawn by the stylesheet); items are
placed with the row classes `r<start>` and `s<span>` of calendar-grid.css, because the
Content-Security-Policy forbids inline styles. Times are clinic wall-clock times.

The grid is a pure function of plain facts read on every request (the appointments with their
patient and treatment names, the practitioners, their time off, the minute): `calendar_html`
reads those facts and renders the grid once per distinct set of them, keeping the last
RENDERED grids per process. A change to any appointment, name, working hours or time off gives
new facts and so a fresh grid on the next request; the clock only matters to the minute. A busy
day is 20 columns of ~400 appointments and ~600 free cells (200 KB of HTML): reading its facts
costs a fraction of laying it out and rendering it, which reception pages (several screens on
the same day) otherwise repeat on every look.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import get_template_attribute, request, url_for
from markupsafe import Markup
from sqlalchemy import String, Text, and_, bindparam, cast, select, type_coerce

from scheduler.db import ConvertOnce, driver_rows
from scheduler.domain import slots
from scheduler.extensions import db
from scheduler.models import OCCUPYING, Appointment, Patient, Practitioner, TimeOff, Treatment
from scheduler.models.appointment import MAX_LENGTH, overlapping
from scheduler.models.base import UTCDateTime
from scheduler.models.patient import full_name
from scheduler.services import booking, clock

TICK = 5  # minutes per grid track
FREE_STEP = 15  # minutes per clickable free cell
MAX_LANES = 3
DEFAULT_HOURS = (8 * 60, 18 * 60)
#: document order of items starting on the same track (the stylesheet's z-index does the stacking)
KIND_ORDER = {"work": 0, "off": 1, "free": 2, "appt": 3, "now": 4}
#: rendered grids kept per process (a busy day is ~200 KB)
RENDERED = 24


class Booked(NamedTuple):
    """An appointment as the calendar draws it."""

    id: int
    practitioner_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    patient_name: str
    treatment_name: str


class Staff(NamedTuple):
    """A practitioner as the calendar draws them (working hours as their stored JSON text: hashable)."""

    id: int
    name: str
    active: bool
    hours_json: str


class Off(NamedTuple):
    """Time off as the calendar draws it."""

    practitioner_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str | None


class Cell(NamedTuple):
    """A column to draw: whose, which day, its heading and where the heading links."""

    staff: Staff
    day: date
    title: str
    link: str


@dataclass(frozen=True)
class Facts:
    """Everything a rendered grid depends on (hashable: it is the render's cache key)."""

    cells: tuple[Cell, ...]
    appts: tuple[Booked, ...]
    offs: tuple[Off, ...]
    now: datetime
    label: str
    zone: str
    script_root: str


@dataclass
class Item:
    """Something placed in a column: working time, time off, a free cell, an appointment, now."""

    kind: str
    row: int
    span: int
    start: datetime | None = None
    appt: Booked | None = None
    lane: int = 0
    label: str = ""
    #: a cancelled or missed appointment over a free cell: drawn aside so the cell stays clickable
    beside_free: bool = False
    #: a free cell's booking link
    href: str = ""


@dataclass
class Column:
    """One practitioner on one day."""

    practitioner: Staff
    day: date
    title: str
    subtitle: str
    link: str
    items: list[Item] = field(default_factory=list)
    lanes: int = 1
    count: int = 0


@dataclass
class Grid:
    """The columns and the shared time axis."""

    columns: list[Column]
    rows: int
    hours: list[tuple[str, int]]
    now_row: int | None = None
    now_label: str = ""


def _minute(instant: datetime, day: date, tz: ZoneInfo) -> int:
    """Clinic wall-clock minutes after midnight of `day` (clamped to the day)."""
    local = instant.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def _hours_text(intervals: list[tuple[datetime, datetime]]) -> str:
    """ "09:00–17:00" or "Not working"."""
    if not intervals:
        return "Not working"
    return ", ".join(f"{clock.local(s):%H:%M}–{clock.local(e):%H:%M}" for s, e in intervals)


def _lanes(appts: list[Booked]) -> tuple[dict[int, int], int]:
    """Side-by-side lanes for overlapping appointments (0 = the full width); and the lane count."""
    lane_of: dict[int, int] = {}
    ordered = sorted(appts, key=lambda a: (a.starts_at, -(a.ends_at - a.starts_at).total_seconds(), a.id))
    ends: list[datetime] = []
    for a in ordered:
        overlapping = any(b.id != a.id and b.starts_at < a.ends_at and a.starts_at < b.ends_at for b in appts)
        if not overlapping:
            lane_of[a.id] = 0
            continue
        for i, end in enumerate(ends):
            if end <= a.starts_at:
                ends[i] = a.ends_at
                lane_of[a.id] = i + 1
                break
        else:
            ends.append(a.ends_at)
            lane_of[a.id] = len(ends)
        lane_of[a.id] = min(lane_of[a.id], MAX_LANES)
    return lane_of, max(1, min(len(ends), MAX_LANES))


# The readers below are Core statements on the tables (no ORM entities): they run on every look
# at a calendar, and the ORM's per-statement work would be most of their cost.
A, PT, TR = Appointment.__table__, Patient.__table__, Treatment.__table__


def _window() -> tuple:
    """The [start, end) bounds the calendar's statements take as parameters."""
    return bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())


@cache
def _staff_statement(by_ids: bool):
    """The statement staff_and_time_off runs, built once (parameters: start, end, and ids)."""
    P, T = Practitioner.__table__, TimeOff.__table__
    start, end = _window()
    stmt = (
        select(P.c.id, P.c.name, P.c.active, cast(P.c.working_hours, Text), T.c.starts_at, T.c.ends_at, T.c.reason)
        .outerjoin(T, and_(T.c.practitioner_id == P.c.id, T.c.starts_at < end, T.c.ends_at > start))
        .order_by(P.c.name, P.c.id, T.c.starts_at, T.c.id)
    )
    if by_ids:
        stmt = stmt.where(P.c.id.in_(bindparam("ids", expanding=True)))
    return stmt


def staff_and_time_off(
    start: datetime, end: datetime, practitioner_ids: Sequence[int] | None = None
) -> tuple[list[Staff], tuple[Off, ...]]:
    """Practitioners by name (those ids, or everyone) and their time off overlapping [start, end)."""
    params: dict = {"start": start, "end": end}
    if practitioner_ids is not None:
        params["ids"] = list(practitioner_ids)
    staff: dict[int, Staff] = {}
    offs: list[Off] = []
    rows = db.session.connection().execute(_staff_statement(practitioner_ids is not None), params)
    for pid, name, active, hours, off_start, off_end, reason in rows:
        staff.setdefault(pid, Staff(pid, name, bool(active), hours or "{}"))
        if off_start is not None:
            offs.append(Off(pid, off_start, off_end, reason))
    return list(staff.values()), tuple(offs)


@cache
def _booked_statement(by_ids: bool):
    """The statement booked_between runs, built once (parameters: start, end, scan_from, and ids)."""
    start, end = _window()
    stmt = (
        select(A.c.id, A.c.practitioner_id, type_coerce(A.c.starts_at, String), type_coerce(A.c.ends_at, String))
        .add_columns(A.c.status, PT.c.first_name, PT.c.last_name, TR.c.name)
        .join_from(A, PT, PT.c.id == A.c.patient_id)
        .join(TR, TR.c.id == A.c.treatment_id)
        .where(overlapping(start, end, bindparam("scan_from", type_=UTCDateTime())))
        .order_by(A.c.starts_at, A.c.id)
    )
    if by_ids:
        stmt = stmt.where(A.c.practitioner_id.in_(bindparam("ids", expanding=True)))
    return stmt


def booked_between(practitioner_ids: list[int] | None, start: datetime, end: datetime) -> list[Booked]:
    """Every appointment (any status) overlapping [start, end), by start."""
    params: dict = {"start": start, "end": end, "scan_from": start - MAX_LENGTH}
    if practitioner_ids is not None:
        params["ids"] = list(practitioner_ids)
    statement = _booked_statement(practitioner_ids is not None)
    instant = ConvertOnce(A.c.starts_at, db.session.connection().dialect)  # a busy day's starts repeat
    return [
        Booked(aid, pid, instant[starts], instant[ends], status, full_name(first, last), treatment)
        for aid, pid, starts, ends, status, first, last, treatment in driver_rows(statement, params)
    ]


def calendar_html(cells: Sequence[Cell], appts: Sequence[Booked], offs: Sequence[Off], label: str) -> Markup:
    """The rendered grid of these columns, appointments and time off (cached per process while unchanged)."""
    shown = {c.staff.id for c in cells}
    facts = Facts(
        cells=tuple(cells),
        appts=tuple(appts),
        offs=tuple(o for o in offs if o.practitioner_id in shown),
        now=clock.now().replace(second=0, microsecond=0),
        label=label,
        zone=clock.clinic_tz().key,
        script_root=request.script_root,
    )
    return _render(facts)


@lru_cache(maxsize=RENDERED)
def _render(facts: Facts) -> Markup:
    """Lays out and renders a grid; a pure function of its facts (and the app's templates)."""
    macro = get_template_attribute("reception/_grid.html", "calendar_grid")
    return Markup(macro(build_grid(facts), facts.label))


def build_grid(facts: Facts) -> Grid:
    """Lays out the columns of the facts with their appointments, time off and free cells."""
    tz = ZoneInfo(facts.zone)
    now = facts.now
    today = now.astimezone(tz).date()
    days = sorted({c.day for c in facts.cells})
    offs: dict[int, list[Off]] = defaultdict(list)
    for off in facts.offs:
        offs[off.practitioner_id].append(off)
    by_key: dict[tuple[int, date], list[Booked]] = defaultdict(list)
    for a in facts.appts:
        by_key[(a.practitioner_id, a.starts_at.astimezone(tz).date())].append(a)

    raw = []
    lo, hi = 24 * 60, 0
    for practitioner, day, title, link in facts.cells:
        hours = slots.parse_working_hours(json.loads(practitioner.hours_json))
        working = slots.working_intervals(day, hours, tz)
        day_start, day_end = booking.day_bounds(day)
        offs_today = [t for t in offs.get(practitioner.id, []) if t.starts_at < day_end and t.ends_at > day_start]
        mine = by_key.get((practitioner.id, day), [])
        busy = [(a.starts_at, a.ends_at) for a in mine if a.status in OCCUPYING]
        busy += [(t.starts_at, t.ends_at) for t in offs_today]
        free = []
        if practitioner.active:
            step = timedelta(minutes=FREE_STEP)
            free = slots.free_slots(day, hours, tz, step, busy, now, step)
        spans = [(_minute(s, day, tz), _minute(e, day, tz)) for s, e in working]
        spans += [(_minute(a.starts_at, day, tz), _minute(a.ends_at, day, tz)) for a in mine]
        for s, e in spans:
            lo, hi = min(lo, s), max(hi, e)
        raw.append((practitioner, day, title, link, working, offs_today, mine, free))

    if lo >= hi:
        lo, hi = DEFAULT_HOURS
    lo = lo // 60 * 60
    hi = min(24 * 60, -(-hi // 60) * 60)
    rows = (hi - lo) // TICK

    def row(minute: int) -> int:
        return max(0, min(minute, hi) - lo) // TICK + 1

    def span(start_min: int, end_min: int) -> int:
        return max(1, -(-(min(end_min, hi) - max(start_min, lo)) // TICK))

    columns = []
    for practitioner, day, title, link, working, offs_today, mine, free in raw:
        col = Column(practitioner, day, title, _hours_text(working), link, count=len(mine))
        for s, e in working:
            sm, em = _minute(s, day, tz), _minute(e, day, tz)
            col.items.append(Item("work", row(sm), span(sm, em)))
        for t in offs_today:
            sm, em = _minute(t.starts_at, day, tz), _minute(t.ends_at, day, tz)
            col.items.append(Item("off", row(sm), span(sm, em), start=t.starts_at, label=t.reason or "Time off"))
        # One url_for per column: a busy day has hundreds of free cells, and building each link
        # through the URL map was a third of the page's time.
        book = url_for("reception.book", practitioner_id=practitioner.id, date=day.isoformat())
        for start in free:
            sm = _minute(start, day, tz)
            hm = f"{sm // 60:02d}:{sm % 60:02d}"
            col.items.append(
                Item("free", row(sm), span(sm, sm + FREE_STEP), start=start, label=hm, href=f"{book}&time={hm}")
            )
        lane_of, col.lanes = _lanes(mine)
        for a in mine:
            sm, em = _minute(a.starts_at, day, tz), _minute(a.ends_at, day, tz)
            aside = a.status not in OCCUPYING and any(a.starts_at <= f < a.ends_at for f in free)
            col.items.append(
                Item("appt", row(sm), span(sm, em), start=a.starts_at, appt=a, lane=lane_of[a.id], beside_free=aside)
            )
        columns.append(col)

    for col in columns:
        col.items.sort(key=lambda it: (it.row, KIND_ORDER[it.kind], it.start or now))
    grid = Grid(columns=columns, rows=rows, hours=[(f"{m // 60:02d}:00", row(m)) for m in range(lo, hi, 60)])
    now_minute = _minute(now, today, tz)
    if today in days and lo <= now_minute < hi:
        grid.now_row = row(now_minute)
        grid.now_label = clock.local(now).strftime("%H:%M")
        for col in columns:
            if col.day == today:
                col.items.append(Item("now", grid.now_row, 1))
    return grid
