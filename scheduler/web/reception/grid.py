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

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache, partial
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import Response, current_app, get_template_attribute, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import Text, and_, bindparam, cast, literal_column, null, select, union_all

from scheduler.db import ConvertOnce, driver_rows, plan_opaque, raw_instant
from scheduler.domain import slots
from scheduler.driver import DriverStatement
from scheduler.extensions import db
from scheduler.models import OCCUPYING, Appointment, Practitioner, TimeOff, Treatment
from scheduler.models.appointment import MAX_LENGTH, overlapping
from scheduler.models.base import UTCDateTime
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
A, TR = Appointment.__table__, Treatment.__table__


def _window() -> tuple:
    """The [start, end) bounds the calendar's statements take as parameters (planned without
    their values: `plan_opaque`)."""
    return plan_opaque(bindparam("start", type_=UTCDateTime())), plan_opaque(bindparam("end", type_=UTCDateTime()))


class Shown(NamedTuple):
    """What a calendar draws: practitioners by name, their time off, and the appointments by start."""

    staff: tuple[Staff, ...]
    offs: tuple[Off, ...]
    appts: tuple[Booked, ...]


#: the kinds of rows of the calendar's statement (its first column)
STAFF, APPT, TREATMENT = 0, 1, 2


@cache
def _shown_statement(by_ids: bool):
    """The statement shown_between runs, built once (parameters: start, end, scan_from, and ids).

    One round trip for three kinds of rows, told apart by their first column: practitioners with
    their time off overlapping [start, end), the appointments overlapping it with their patient's
    name (the appointment's own copy, `patient_name`: a join to the patients cost an index probe
    per appointment, most of the statement's work), and the treatments' names. The treatments are
    rows of their own rather than joined to each appointment, where the database re-read them
    once per appointment. The rows are put in order by `_shown`, once per distinct set: sorting a
    compound SELECT cost SQLite more than the rest of the statement. The times are `raw_instant`s
    (integers on PostgreSQL, converted once per distinct value). Each part puts its values in the
    same twelve columns, typed alike:

        kind, name, id, starts_at, id2, ends_at, practitioner_id, treatment_id, text1, text2, text3, active
        STAFF      practitioner   time off        -               -             reason  hours  -      active
        APPT       -    -   appointment           practitioner    treatment     status  patient -     -
        TREATMENT  -    id  -                     -               -             name    -      -      -
    """
    P, T = Practitioner.__table__, TimeOff.__table__
    start, end = _window()
    staff = select(
        literal_column(str(STAFF)),
        P.c.name,
        P.c.id,
        raw_instant(T.c.starts_at),
        T.c.id,
        raw_instant(T.c.ends_at),
        null(),
        null(),
        T.c.reason,
        cast(P.c.working_hours, Text),
        null(),
        P.c.active,
    ).outerjoin(T, and_(T.c.practitioner_id == P.c.id, T.c.starts_at < end, T.c.ends_at > start))
    appts = (
        select(literal_column(str(APPT)), null(), null(), raw_instant(A.c.starts_at), A.c.id, raw_instant(A.c.ends_at))
        .add_columns(A.c.practitioner_id, A.c.treatment_id, A.c.status, A.c.patient_name, null(), null())
        .where(overlapping(start, end, plan_opaque(bindparam("scan_from", type_=UTCDateTime()))))
    )
    treatments = select(literal_column(str(TREATMENT)), null(), TR.c.id, *[null()] * 5, TR.c.name, *[null()] * 3)
    if by_ids:
        staff = staff.where(P.c.id.in_(bindparam("ids", expanding=True)))
        appts = appts.where(A.c.practitioner_id.in_(bindparam("ids", expanding=True)))
    return union_all(staff, appts, treatments)


def shown_between(start: datetime, end: datetime, practitioner_ids: Sequence[int] | None = None) -> Shown:
    """The practitioners (those ids, or everyone), their time off and their appointments (any
    status) overlapping [start, end): one statement."""
    params: dict = {"start": start, "end": end, "scan_from": start - MAX_LENGTH}
    if practitioner_ids is None:  # the day calendar: on the driver's cursor
        rows = _SHOWN_EVERYONE.rows(params)
    else:  # a week: its list of ids is expanded at each run by SQLAlchemy
        rows = driver_rows(_shown_statement(True), {**params, "ids": list(practitioner_ids)})
    return _shown(tuple(rows), db.session.connection().dialect)


#: every look at the day calendar runs this one (raw rows: `_shown` converts each distinct value once)
_SHOWN_EVERYONE = DriverStatement(partial(_shown_statement, False), raw=True)


@lru_cache(maxsize=RENDERED)
def _shown(rows: tuple[tuple, ...], dialect) -> Shown:
    """The driver's rows as what the calendar draws, made once per distinct set of rows.

    The rows are read on every look, but while nothing changes they are the same rows: comparing
    them costs a fraction of converting each (its times, the patient's name) again.
    """
    instant = ConvertOnce(raw_instant(A.c.starts_at), dialect)  # a busy day's starts repeat
    staff: dict[int, Staff] = {}
    offs: list[tuple] = []
    appts: list[tuple] = []
    treatments: dict[int, str] = {}
    for kind, name, key, starts, key2, ends, practitioner_id, treatment_id, text1, text2, _text3, active in rows:
        if kind == APPT:
            appts.append(
                # the stored "first last", stripped as full_name() strips it
                (instant[starts], key2, practitioner_id, instant[ends], text1, text2.strip(), treatment_id)
            )
        elif kind == STAFF:
            staff.setdefault(key, Staff(key, name, bool(active), text2 or "{}"))
            if starts is not None:
                offs.append((key, instant[starts], key2, instant[ends], text1))
        else:
            treatments[key] = text1
    # Practitioners by name (then id), their time off in that order and by start; appointments by start.
    people = sorted(staff.values(), key=lambda p: (p.name, p.id))
    place = {p.id: i for i, p in enumerate(people)}
    offs.sort(key=lambda o: (place[o[0]], o[1], o[2]))
    appts.sort(key=lambda a: (a[0], a[1]))
    return Shown(
        tuple(people),
        tuple(Off(pid, starts, ends, reason) for pid, starts, _id, ends, reason in offs),
        tuple(
            Booked(aid, pid, starts, ends, status, who, treatments[t])
            for starts, aid, pid, ends, status, who, t in appts
        ),
    )


def calendar_html(cells: Sequence[Cell], appts: Sequence[Booked], offs: Sequence[Off], label: str) -> RenderedGrid:
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


class RenderedGrid(Markup):
    """A rendered grid and its UTF-8 bytes, encoded once (`page_with_grid`)."""

    utf8: bytes


@lru_cache(maxsize=RENDERED)
def _render(facts: Facts) -> RenderedGrid:
    """Lays out and renders a grid; a pure function of its facts (and the app's templates)."""
    macro = get_template_attribute("reception/_grid.html", "calendar_grid")
    grid = RenderedGrid(macro(build_grid(facts), facts.label))
    grid.utf8 = grid.encode()
    return grid


#: where `page_with_grid` puts the grid's bytes (a comment: what pages show is escaped, so it
#: cannot come from their data)
_GRID_HERE = Markup("<!-- the grid -->")


def page_with_grid(template: str, grid: RenderedGrid | None, **context) -> Response:
    """A calendar page: its template rendered around a rendered grid.

    The grid is most of the page (150 KB for a busy day) and its text has dashes and dots beyond
    ASCII, which makes encoding it as UTF-8 a character-by-character walk: 0.13 ms at each look,
    5% of a busy day's. So the page's own text is encoded at each request and the grid's bytes,
    kept with it, once per rendered grid.
    """
    if grid is None:
        return current_app.make_response(render_template(template, grid=None, **context))
    head, here, tail = render_template(template, grid=_GRID_HERE, **context).partition(_GRID_HERE)
    if not here:
        raise LookupError(f"{template} does not show its grid")
    return current_app.response_class(b"".join((head.encode(), grid.utf8, tail.encode())), mimetype="text/html")


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
        hours = slots.stored_working_hours(practitioner.hours_json)
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
