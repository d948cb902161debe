"""Faults: the database goes away for a while; the scheduler logs it, keeps running and catches up."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import SweepRun
from tests.reminders.conftest import due_tracks, rows


@pytest.fixture
def all_day(app):
    app.config["REMINDER_SEND_HOURS"] = "00:00-24:00"


class Outage:
    """Makes every statement on the app's engine fail, as a dropped database connection does."""

    def __init__(self, engine):
        self.engine = engine
        self.on = False
        self.failed = 0

    def _fail(self, conn, cursor, statement, params, context, executemany):
        if self.on:
            self.failed += 1
            raise OperationalError(statement, params, ConnectionError("server closed the connection unexpectedly"))

    def __enter__(self) -> Outage:
        event.listen(self.engine, "before_cursor_execute", self._fail)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._fail)


def test_a_tick_during_an_outage_is_logged_and_the_next_one_catches_up(
    app, smtp, all_day, make_treatment, make_patient, caplog
):
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 3)
    caplog.set_level(logging.WARNING, logger="scheduler.jobs")
    with Outage(db.engine) as outage:
        outage.on = True
        jobs.sweep_job(app)  # does not raise
        assert outage.failed >= 1
        assert "database unavailable, trying again next tick" in caplog.text
        outage.on = False
        jobs.sweep_job(app)
    assert len(smtp.messages) == 3
    assert {r.status for r in rows(seq=1)} == {"sent"}
    assert db.session.scalars(select(SweepRun.sent)).all() == [3]  # the failed tick left no heartbeat


def test_the_running_scheduler_survives_an_outage(app, smtp, all_day, make_treatment, make_patient):
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 4)
    app.config["REMINDER_SWEEP_SECONDS"] = 1
    with Outage(db.engine) as outage:
        outage.on = True
        scheduler = jobs.build_scheduler(app)
        scheduler.start()
        try:
            deadline = time.monotonic() + 20
            while outage.failed < 2 and time.monotonic() < deadline:  # at least two ticks fail
                time.sleep(0.05)
            assert outage.failed >= 2 and smtp.messages == []
            outage.on = False
            while len(smtp.messages) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert scheduler.running and scheduler.get_job(jobs.SWEEP_JOB_ID) is not None
        finally:
            scheduler.shutdown(wait=True)
    assert len(smtp.messages) == 4 and len(set(smtp.message_ids())) == 4


def test_postgres_refusing_connections_for_a_while(
    app, smtp, all_day, make_treatment, make_patient, is_postgres, caplog
):
    if not is_postgres:
        pytest.skip("a real server outage needs PostgreSQL")
    treatment = make_treatment()
    due_tracks(make_patient, treatment.id, 2)
    name = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    admin = create_engine(
        make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    caplog.set_level(logging.WARNING, logger="scheduler.jobs")
    db.session.remove()  # the test's own connection goes back to the pool, where the outage will kill it
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        jobs.sweep_job(app)
        assert "database unavailable" in caplog.text and smtp.messages == []
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()
    jobs.sweep_job(app)
    assert len(smtp.messages) == 2
