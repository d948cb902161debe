"""The scheduler-health banner shows on staff pages when the last sweep is over 10 minutes old."""

from datetime import date, timedelta

import time_machine

from scheduler.extensions import db
from scheduler.models.reminder import SweepRun
from tests.conftest import london

NOW = london(date(2027, 3, 1), 10)


def _sweep(at):
    db.session.add(SweepRun(started_at=at, finished_at=at, worker="test"))
    db.session.commit()


def test_banner_when_never_swept_stale_and_not_when_fresh(client, sign_in):
    with time_machine.travel(NOW, tick=False):
        sign_in("receptionist")
        assert "has never run" in client.get("/").get_data(as_text=True)
        _sweep(NOW - timedelta(minutes=25))
        html = client.get("/patients").get_data(as_text=True)
        assert "last ran 25 minutes ago" in html
        _sweep(NOW - timedelta(minutes=2))
        assert "banner-warning" not in client.get("/").get_data(as_text=True)


def test_no_banner_on_the_sign_in_page(client):
    assert "banner-warning" not in client.get("/login").get_data(as_text=True)


def test_a_fresh_sweep_is_remembered_until_it_goes_stale(app, client, sign_in):
    """Pages do not ask for the heartbeat again while the last one they saw is fresh; then they do."""
    from sqlalchemy import event

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with time_machine.travel(NOW, tick=False) as traveller:
        sign_in("receptionist")
        _sweep(NOW - timedelta(minutes=1))
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert "banner-warning" not in client.get("/patients").get_data(as_text=True)
            assert sum("sweep_runs" in s for s in statements) == 1
            traveller.shift(timedelta(minutes=8))  # 9 minutes after the sweep: still healthy, not asked
            assert "banner-warning" not in client.get("/patients").get_data(as_text=True)
            assert sum("sweep_runs" in s for s in statements) == 1
            traveller.shift(timedelta(minutes=3))  # 12 minutes: stale, asked again, and shown
            assert "last ran 12 minutes ago" in client.get("/patients").get_data(as_text=True)
            assert sum("sweep_runs" in s for s in statements) == 2
            _sweep(NOW + timedelta(minutes=11))  # the scheduler is back: the banner goes at once
            assert "banner-warning" not in client.get("/patients").get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
