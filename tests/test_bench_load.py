"""The benchmark: its bulk loader (the busy day it measures is a full clinic day at any size), and
its reminder workloads, run small so that they keep up with the code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench import load
from scheduler.extensions import db
from scheduler.models import Appointment

TZ = ZoneInfo("Europe/London")


def _per_day() -> dict[date, int]:
    days: dict[date, int] = {}
    for (starts,) in db.session.execute(select(Appointment.starts_at)):
        day = starts.astimezone(TZ).date()
        days[day] = days.get(day, 0) + 1
    return days


def test_the_busy_day_is_full_and_the_oldest_day_takes_the_rest(app):
    busy = date(2026, 3, 30)  # a Monday, the day before British Summer Time's first weekday
    now = datetime(2026, 3, 27, 12, tzinfo=UTC)
    with db.engine.begin() as conn:
        counts = load.load(conn, 1_000, busy, TZ, now)
    assert counts["appointments"] == 1_000
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1_000
    days = _per_day()
    full = load.PRACTITIONERS * load.SLOTS_PER_DAY
    # ~300 of 400 slots booked on the busy day (three quarters), as on every day but the oldest
    assert 0.6 * full <= days[busy] <= full
    assert max(days) == busy
    oldest = min(days)
    assert all(0.6 * full <= n <= full for d, n in days.items() if d != oldest)
    assert all(d.weekday() < 5 for d in days)
    assert sorted(days)[-2] == busy - timedelta(days=3)  # the Friday before: weekends are skipped


def test_the_reminder_benchmarks_run_on_their_own_databases():
    """bench/run.py's re-plan and dispatch figures at a tiny size: the benchmark keeps up with the
    code it measures (a renamed function had broken it unnoticed)."""
    from bench import reminder_work

    replanned = reminder_work.replan("sqlite", count=90)
    assert replanned["pending"] == 90 and replanned["moved"] > 0
    sent = reminder_work.dispatch("sqlite", count=20, rounds=1)
    assert sent["sweep_per_s"] > 0 and sent["raw_per_s"] > 0
