"""Races on the patients' booking links: threads behind a Barrier post at once; one wins, the
others get the friendly 409 page (never a 500), on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import date
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from scheduler.booking import operations
from scheduler.extensions import db
from scheduler.models import Appointment, Reminder
from scheduler.patients import sessions
from scheduler.selfservice import links
from tests.conftest import london
from tests.web.conftest import csrf_from

THREADS = 10
SLOT = london(date(2027, 3, 3), 10)


@pytest.fixture(autouse=True)
def wide_race_window(monkeypatch):
    """Every booking pauses between its checks and its insert, so the threads really overlap there."""
    check = operations._check_slot

    def slow_check(**kwargs):
        result = check(**kwargs)
        time.sleep(0.03)
        return result

    monkeypatch.setattr(operations, "_check_slot", slow_check)


def booking_path(patient, treatment) -> str:
    session = sessions.record_past(patient.id, actor=None, treatment_id=treatment.id, performed_on=date(2026, 12, 1))
    db.session.commit()
    reminder = db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id, Reminder.kind == "retreatment")
    ).first()
    return urlsplit(links.booking_link_for(reminder, patient)).path


def race(app, posts: list[tuple[str, dict]]) -> list[tuple[int, str]]:
    """Each (path, form) from its own thread and client (CSRF token fetched first), all released together."""
    barrier = threading.Barrier(len(posts))
    results: list = [None] * len(posts)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        path, form = posts[i]
        try:
            with app.app_context():
                client = app.test_client()
                page = client.get(f"{path}/confirm", query_string={"pr": form["pr"], "at": form["at"]})
                token = csrf_from(page.get_data(as_text=True))
                db.session.remove()
                barrier.wait(timeout=30)
                resp = client.post(path, data={**form, "csrf_token": token})
                results[i] = (resp.status_code, resp.get_data(as_text=True))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(posts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def appointments() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Appointment))


def test_ten_patients_taking_the_same_time_one_wins(app, clinic, make_patient):
    patients = [clinic.olivia, clinic.noah] + [make_patient() for _ in range(THREADS - 2)]
    paths = [booking_path(p, clinic.migraine) for p in patients]
    form = {"pr": str(clinic.hart.id), "at": SLOT.isoformat()}
    results = race(app, [(path, form) for path in paths])
    statuses = sorted(status for status, _ in results)
    assert statuses == [303] + [409] * (THREADS - 1), statuses
    assert all("just been taken" in body for status, body in results if status == 409)
    assert appointments() == 1


def test_two_taps_on_one_link_book_once_whatever_the_times(app, clinic):
    path = booking_path(clinic.olivia, clinic.migraine)
    posts = [(path, {"pr": str(clinic.hart.id), "at": london(date(2027, 3, 3), 9 + i).isoformat()}) for i in range(4)]
    statuses = sorted(status for status, _ in race(app, posts))
    assert statuses == [303, 409, 409, 409], statuses
    assert appointments() == 1
