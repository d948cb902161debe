"""The day calendar (every practitioner) and the week view (one practitioner); layout in grid.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from flask import abort, render_template, request, url_for

from scheduler.booking.calendar import Booked, shortest_hold, shown_between
from scheduler.catalog import operations as catalog
from scheduler.domain import slots
from scheduler.services import clock
from scheduler.web.reception import bp
from scheduler.web.reception.common import day_arg, id_arg
from scheduler.web.reception.filters import long_date, short_date
from scheduler.web.reception.grid import Cell, calendar_html


def _counts(appts: Sequence[Booked]) -> dict[str, int]:
    """How many appointments are in each status."""
    counts: dict[str, int] = defaultdict(int)
    for a in appts:
        counts[a.status] += 1
    return dict(counts)


@bp.get("/")
@bp.get("/calendar")
def day():
    """Every practitioner's appointments on one clinic day (today by default)."""
    the_day = day_arg()
    start, end = clock.day_bounds(the_day)
    everyone, offs, appts = shown_between(start, end)
    # The active practitioners, then inactive ones who still have appointments that day.
    booked_with = {a.practitioner_id for a in appts}
    practitioners = [p for p in everyone if p.active] + [p for p in everyone if not p.active and p.id in booked_with]
    week = url_for("reception.week", date=the_day.isoformat())
    cells = [Cell(p, the_day, p.name, f"{week}&practitioner_id={p.id}") for p in practitioners]
    label = f"Appointments on {long_date(the_day)}"
    grid = calendar_html(cells, appts, offs, label, shortest_hold()) if cells else None
    return render_template(
        "reception/day.html",
        grid=grid,
        day=the_day,
        today=clock.today(),
        prev_day=the_day - timedelta(days=1),
        next_day=the_day + timedelta(days=1),
        counts=_counts([a for a in appts if start <= a.starts_at < end]),  # those starting that day
        total=len(appts),
    )


@bp.get("/calendar/week")
def week():
    """One practitioner's week (Monday to Sunday) around ?date=."""
    the_day = day_arg()
    practitioners = catalog.list_practitioners(include_inactive=True)
    if not practitioners:
        abort(404, description="There are no practitioners yet.")
    pid = id_arg("practitioner_id")
    if request.args.get("practitioner_id") and pid is None:
        abort(400, description="practitioner_id must be a practitioner's number.")
    practitioner = next((p for p in practitioners if p.id == pid), None) if pid else None
    if pid and practitioner is None:
        abort(404, description=f"There is no practitioner with id {pid}.")
    practitioner = practitioner or next((p for p in practitioners if p.active), practitioners[0])
    monday = the_day - timedelta(days=the_day.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    start, end = clock.day_bounds(days[0])[0], clock.day_bounds(days[-1])[1]
    (staff,), offs, appts = shown_between(start, end, [practitioner.id])
    hours = staff.working_hours()
    busy_days = {clock.local_date(a.starts_at) for a in appts}
    shown = [d for d in days if hours.get(slots.DAYS[d.weekday()]) or d in busy_days]
    hidden = [d for d in days if d not in shown]
    cells = [Cell(staff, d, f"{d:%a} {d.day} {d:%b}", url_for("reception.day", date=d.isoformat())) for d in shown]
    label = f"{practitioner.name}, week of {short_date(monday)}"
    grid = calendar_html(cells, appts, offs, label, shortest_hold()) if cells else None
    return render_template(
        "reception/week.html",
        grid=grid,
        practitioner=practitioner,
        practitioners=practitioners,
        day=the_day,
        monday=monday,
        sunday=days[-1],
        today=clock.today(),
        prev_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        hidden=hidden,
    )
