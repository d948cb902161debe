"""The calendar grid: columns of 5-minute tracks with working time, free cells and appointments.

Columns are CSS grids of 5-minute tracks (15-minute lines drawn by the stylesheet); items are
placed with the row classes `r<start>` and `s<span>` of calendar-grid.css, because the
Content-Security-Policy forbids inline styles. Times are clinic wall-clock times. The grid is
laid out from what the calendar service read (`scheduler.booking.calendar`); nothing here reads
the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import get_template_attribute, request, url_for
from markupsafe import Markup

from scheduler.booking.calendar import Booked, Off, Staff
from scheduler.domain import slots
from scheduler.models import OCCUPYING
from scheduler.services import clock

TICK = 5  # minutes per grid track
FREE_STEP = 15  # minutes per clickable free cell
MAX_LANES = 3
DEFAULT_HOURS = (8 * 60, 18 * 60)
#: document order of items starting on the same track (the stylesheet's z-index does the stacking)
KIND_ORDER = {"work": 0, "off": 1, "buffer": 2, "free": 3, "appt": 4, "now": 5}
#: rendered grids kept per process (a busy day is about 200 KB)
RENDERED = 24


class Cell(NamedTuple):
    """A column to draw: whose, which day, its heading and where the heading links."""

    staff: Staff
    day: date
    title: str
    link: str


@dataclass
class Item:
    """Something placed in a column: working time, time off, a buffer after an appointment, a free
    cell, an appointment, now."""

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


def build_grid(
    cells: Sequence[Cell],
    appts: Sequence[Booked],
    offs_shown: Sequence[Off],
    now: datetime,
    fit: timedelta | None = None,
) -> Grid:
    """Lays out the columns with their appointments, their buffers, time off and free cells.

    A free cell is offered only where `fit` (the shortest treatment with its buffer,
    booking.calendar.shortest_hold) fits before the next held time, time off or the end of
    working hours; without `fit`, where one cell's length does.
    """
    tz = clock.clinic_tz()
    today = now.astimezone(tz).date()
    days = sorted({c.day for c in cells})
    offs: dict[int, list[Off]] = defaultdict(list)
    for off in offs_shown:
        offs[off.practitioner_id].append(off)
    by_key: dict[tuple[int, date], list[Booked]] = defaultdict(list)
    for a in appts:
        by_key[(a.practitioner_id, a.starts_at.astimezone(tz).date())].append(a)

    raw = []
    lo, hi = 24 * 60, 0
    for practitioner, day, title, link in cells:
        hours = practitioner.working_hours()
        working = slots.working_intervals(day, hours, tz)
        day_start, day_end = clock.day_bounds(day)
        offs_today = [t for t in offs.get(practitioner.id, []) if t.starts_at < day_end and t.ends_at > day_start]
        mine = by_key.get((practitioner.id, day), [])
        busy = [(a.starts_at, a.held_until) for a in mine if a.status in OCCUPYING]
        busy += [(t.starts_at, t.ends_at) for t in offs_today]
        free = []
        if practitioner.active:
            step = timedelta(minutes=FREE_STEP)
            free = slots.free_slots(day, hours, tz, fit or step, busy, now, step)
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
        # one url_for per column, completed per free cell
        book = url_for("reception.book", practitioner_id=practitioner.id, date=day.isoformat())
        for start in free:
            sm = _minute(start, day, tz)
            hm = f"{sm // 60:02d}:{sm % 60:02d}"
            col.items.append(
                Item("free", row(sm), span(sm, sm + FREE_STEP), start=start, label=hm, href=f"{book}&time={hm}")
            )
        lane_of, col.lanes = _lanes(mine)
        for a in mine:
            if a.status in OCCUPYING and a.held_until > a.ends_at:
                sm, em = _minute(a.ends_at, day, tz), _minute(a.held_until, day, tz)
                if em > sm:
                    col.items.append(Item("buffer", row(sm), span(sm, em), start=a.ends_at, lane=lane_of[a.id]))
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


def calendar_html(
    cells: Sequence[Cell], appts: Sequence[Booked], offs: Sequence[Off], label: str, fit: timedelta | None = None
) -> Markup:
    """The rendered grid of these columns, appointments and time off.

    Laying out and rendering a busy day (20 columns, hundreds of appointments and free cells)
    costs several times reading it, and reception keeps the day open on several screens: the
    grid is a pure function of what it shows and of the minute, so a grid is rendered once per
    distinct set of those and kept (the last RENDERED of them per process). Any change to an
    appointment, a name, working hours or time off gives new facts and so a fresh grid.
    """
    facts = (
        tuple(cells),
        tuple(appts),
        tuple(offs),
        clock.now().replace(second=0, microsecond=0),
        label,
        fit,
        clock.clinic_tz().key,
        request.script_root,
    )
    return _render(facts)


@lru_cache(maxsize=RENDERED)
def _render(facts: tuple) -> Markup:
    """Lays out and renders a grid (see calendar_html): a pure function of its facts and the templates."""
    cells, appts, offs, now, label, fit, _zone, _root = facts
    macro = get_template_attribute("reception/_grid.html", "calendar_grid")
    return Markup(macro(build_grid(cells, appts, offs, now, fit), label))
