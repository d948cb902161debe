"""The bulk re-plan at scale: tens of thousands of pending reminders re-dated set-based, sent ones untouched."""

from __future__ import annotations

import gc
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import insert, select, update

from scheduler.catalog import operations as catalog
from scheduler.domain.plan import retreatment_plan
from scheduler.extensions import db
from scheduler.models import Consent, Patient, Reminder, TreatmentSession
from scheduler.reminders import planning
from scheduler.reminders.rows import clinic, new_message_id

NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)


@pytest.mark.slow
def test_a_hundred_thousand_pending_reminders_replanned_set_based(make_treatment, capsys):
    treatment = make_treatment(name="Chronic migraine")
    n = 35_000  # three reminders each: 105,000 rows, about 101,500 of them pending
    with time_machine.travel(NOW, tick=False):
        conn = db.session.connection()
        conn.execute(
            insert(Patient),
            [
                dict(
                    first_name="P",
                    last_name=f"L{i}",
                    email=f"p{i}@example.net",
                    created_at=NOW,
                    updated_at=NOW,
                )
                for i in range(n)
            ],
        )
        pids = list(db.session.scalars(select(Patient.id).order_by(Patient.id)))
        conn.execute(
            insert(Consent),
            [dict(patient_id=p, topic="therapeutic", given=True, via="migration", recorded_at=NOW) for p in pids],
        )
        days = [date(2027, 2, 1) - timedelta(days=i % 45) for i in range(n)]
        conn.execute(
            insert(TreatmentSession),
            [
                dict(
                    patient_id=p,
                    treatment_id=treatment.id,
                    performed_on=d,
                    product="BOTOX",
                    external=False,
                    created_at=NOW,
                )
                for p, d in zip(pids, days, strict=True)
            ],
        )
        iv, settings = planning.intervals(treatment), clinic()
        rows = [
            dict(
                patient_id=pid,
                treatment_id=treatment.id,
                kind="retreatment",
                session_id=sid,
                seq=p.seq,
                due_at=p.due_at,
                expires_at=p.expires_at,
                status="pending",
                attempts=0,
                message_id=new_message_id(),
                created_at=NOW,
                updated_at=NOW,
            )
            for sid, pid, day in db.session.execute(
                select(TreatmentSession.id, TreatmentSession.patient_id, TreatmentSession.performed_on)
            )
            for p in retreatment_plan(day, iv, settings)
        ]
        conn.execute(insert(Reminder), rows)
        # a tenth of the tracks already had their first reminder sent
        sent = select(TreatmentSession.id).where(TreatmentSession.id % 10 == 0)
        db.session.execute(
            update(Reminder).where(Reminder.seq == 1, Reminder.session_id.in_(sent)).values(status="sent", sent_at=NOW)
        )
        db.session.commit()
        before_sent = {r.id: r.due_at for r in db.session.scalars(select(Reminder).where(Reminder.status == "sent"))}

        sqlite = db.engine.dialect.name == "sqlite"
        page_cache = db.session.connection().exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
        started = time.perf_counter()
        _t, moved = catalog.update_treatment(treatment.id, {"remind_from": "P13W", "remind_until": "P7M"}, actor=None)
        after = db.session.connection().exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else None
        db.session.commit()
        elapsed = time.perf_counter() - started
        assert after == page_cache  # SQLite: the re-dating statement's larger page cache was given back
        assert gc.isenabled()  # the collector, paused for the bulk, runs again
    with capsys.disabled():
        print(f"\n  re-planned {len(rows)} reminders ({moved} moved) in {elapsed:.2f} s on {db.engine.dialect.name}")
    assert moved == len(rows) - len(before_sent)  # every date moved: both ends of the window changed
    new_iv = planning.intervals(treatment)
    expected = {d: retreatment_plan(d, new_iv, settings) for d in set(days)}
    db.session.expire_all()
    for r, day in db.session.execute(
        select(Reminder, TreatmentSession.performed_on).join(
            TreatmentSession, TreatmentSession.id == Reminder.session_id
        )
    ):
        if r.status == "sent":
            assert r.due_at == before_sent[r.id]
        else:
            plan = expected[day][r.seq - 1]
            assert (r.status, r.due_at, r.expires_at) == ("pending", plan.due_at, plan.expires_at)
