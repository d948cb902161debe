"""The buffer under concurrent booking: threads behind a Barrier book 10:00 and 10:30 with one
practitioner for a 30-minute treatment with a 10-minute buffer. Without the buffer both times
would win once; with it exactly one booking wins (SQLite: the write lock; PostgreSQL: the
exclusion constraint on [starts_at, held_until))."""

from __future__ import annotations

from collections import Counter

from scheduler.extensions import db
from scheduler.models import Appointment
from tests.conftest import london
from tests.test_concurrency import THREADS, TUESDAY, _occupying, _outcome, _race, frozen, token, wide_race_window  # noqa: F401

__all__ = ["frozen", "token", "wide_race_window"]  # fixtures used by name


def test_one_winner_when_the_buffer_overlaps(app, frozen, token, make_treatment, make_practitioner, make_patient):
    treatment, prac = make_treatment(buffer_minutes=10), make_practitioner()
    starts = [london(TUESDAY, 10), london(TUESDAY, 10, 30)]
    bodies = [
        {
            "patient_id": make_patient().id,
            "practitioner_id": prac.id,
            "treatment_id": treatment.id,
            "starts_at": starts[i % 2].isoformat(),
        }
        for i in range(THREADS)
    ]
    results = _race(app, token, bodies)
    assert _outcome(results) == Counter({(201, None): 1, (409, "slot_taken"): THREADS - 1}), results
    assert _occupying(practitioner_id=prac.id) == 1
    db.session.rollback()
    (held,) = db.session.query(Appointment.held_until).all()
    assert held[0] in (london(TUESDAY, 10, 40), london(TUESDAY, 11, 10))


def test_without_a_buffer_both_times_win_once(app, frozen, token, make_treatment, make_practitioner, make_patient):
    """The control: the same race with no buffer has one winner per time."""
    treatment, prac = make_treatment(buffer_minutes=0), make_practitioner()
    starts = [london(TUESDAY, 10), london(TUESDAY, 10, 30)]
    bodies = [
        {
            "patient_id": make_patient().id,
            "practitioner_id": prac.id,
            "treatment_id": treatment.id,
            "starts_at": starts[i % 2].isoformat(),
        }
        for i in range(THREADS)
    ]
    results = _race(app, token, bodies)
    assert _outcome(results) == Counter({(201, None): 2, (409, "slot_taken"): THREADS - 2}), results
