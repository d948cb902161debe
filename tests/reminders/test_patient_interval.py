"""Per-patient re-treatment windows: the plan follows them, never below the safety minimum, audited,
and an admin's interval change leaves them alone."""

from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from scheduler.catalog import operations as catalog
from scheduler.extensions import db
from scheduler.models import AuditEvent, TreatmentSession
from scheduler.models.reminder import Reminder
from scheduler.patients import intervals as patient_intervals
from scheduler.reminders import planning
from scheduler.services.errors import Rejected
from tests.conftest import london

NOW = london(date(2027, 1, 4), 10)


def _session(patient, treatment, day=date(2027, 1, 4)):
    s = TreatmentSession(
        patient_id=patient.id, treatment_id=treatment.id, performed_on=day, product="BOTOX", units=100, external=False
    )
    db.session.add(s)
    db.session.flush()
    planning.session_recorded(s)
    db.session.commit()
    return s


def _dates(session):
    rows = db.session.scalars(
        select(Reminder)
        .where(Reminder.session_id == session.id, Reminder.kind == "retreatment", Reminder.status == "pending")
        .order_by(Reminder.seq)
    )
    return [r.due_at.date() for r in rows]  # 09:00 London is the same date in UTC


def test_patient_window_replans_and_is_audited(app, make_patient, make_treatment, make_user):
    treatment = make_treatment(min_interval_days=84, remind_from="P12W", remind_until="P6M", reminder_count=3)
    patient, admin = make_patient(), make_user("admin")
    with time_machine.travel(NOW, tick=False):
        s = _session(patient, treatment)
        assert _dates(s) == [date(2027, 3, 29), date(2027, 5, 16), date(2027, 7, 4)]
        patient_intervals.set_window(patient.id, treatment.id, "P13W", "P4M", "wears off early", actor=admin)
        db.session.commit()
        assert _dates(s) == [date(2027, 4, 5), date(2027, 4, 19), date(2027, 5, 4)]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.interval_set"))
        assert event.details["to"] == ["P13W", "P4M"] and event.details["note"] == "wears off early"
        patient_intervals.clear_window(patient.id, treatment.id, actor=admin)
        db.session.commit()
        assert _dates(s) == [date(2027, 3, 29), date(2027, 5, 16), date(2027, 7, 4)]


def test_never_below_the_safety_minimum(app, make_patient, make_treatment):
    treatment, patient = make_treatment(min_interval_days=84), make_patient()
    with pytest.raises(Rejected) as exc:
        patient_intervals.set_window(patient.id, treatment.id, "P10W", "P5M", "", actor=None)
    assert "remind_from" in exc.value.fields
    assert patient_intervals.for_patient(patient.id) == {}


def test_treatment_change_keeps_the_patients_own_window(app, make_patient, make_treatment, make_user):
    treatment = make_treatment(min_interval_days=84, remind_from="P12W", remind_until="P6M", reminder_count=3)
    own, usual, admin = make_patient(), make_patient(), make_user("admin")
    with time_machine.travel(NOW, tick=False):
        s_own, s_usual = _session(own, treatment), _session(usual, treatment)
        patient_intervals.set_window(own.id, treatment.id, "P13W", "P4M", "", actor=admin)
        db.session.commit()
        _, moved = catalog.update_treatment(treatment.id, {"remind_until": "P5M"}, actor=admin)
        db.session.commit()
        assert _dates(s_usual) == [date(2027, 3, 29), date(2027, 5, 1), date(2027, 6, 4)]
        assert _dates(s_own) == [date(2027, 4, 5), date(2027, 4, 19), date(2027, 5, 4)]
        assert moved == 3  # the usual patient's three (their window now closes earlier); none of the other's


def test_patient_page_sets_and_resets_the_window(client, sign_in, make_patient, make_treatment):
    from tests.conftest import csrf_from

    treatment = make_treatment(min_interval_days=84, remind_from="P12W", remind_until="P6M", reminder_count=3)
    patient = make_patient()
    with time_machine.travel(NOW, tick=False):
        s = _session(patient, treatment)
        sign_in("receptionist")
        page = f"/patients/{patient.id}"
        token = csrf_from(client.get(page).get_data(as_text=True))
        url = f"/patients/{patient.id}/intervals/{treatment.id}"
        bad = client.post(
            url, data={"csrf_token": token, "remind_from": "P8W", "remind_until": "P4M"}, follow_redirects=True
        )
        assert "minimum interval" in bad.get_data(as_text=True)
        assert patient_intervals.for_patient(patient.id) == {}
        ok = client.post(
            url,
            data={"csrf_token": token, "remind_from": "P13W", "remind_until": "P4M", "note": "wears off early"},
            follow_redirects=True,
        )
        html = ok.get_data(as_text=True)
        assert "window is saved" in html and "wears off early" in html
        assert _dates(s) == [date(2027, 4, 5), date(2027, 4, 19), date(2027, 5, 4)]
        client.post(url, data={"csrf_token": token, "reset": "1", "remind_from": "x", "remind_until": "x"})
        assert patient_intervals.for_patient(patient.id) == {}
        assert _dates(s) == [date(2027, 3, 29), date(2027, 5, 16), date(2027, 7, 4)]
        assert client.post(url, data={"remind_from": "P13W", "remind_until": "P4M"}).status_code == 400


def test_patient_page_takes_and_shows_the_window_in_words(client, sign_in, make_patient, make_treatment):
    from tests.conftest import csrf_from

    treatment = make_treatment(min_interval_days=84, remind_from="P12W", remind_until="P6M", reminder_count=3)
    patient = make_patient()
    with time_machine.travel(NOW, tick=False):
        s = _session(patient, treatment)
        sign_in("receptionist")
        page = client.get(f"/patients/{patient.id}").get_data(as_text=True)
        assert 'value="12 weeks"' in page and 'value="6 months"' in page and "P12W" not in page
        token = csrf_from(page)
        url = f"/patients/{patient.id}/intervals/{treatment.id}"
        ok = client.post(
            url, data={"csrf_token": token, "remind_from": "13w", "remind_until": "4 mo"}, follow_redirects=True
        )
        html = ok.get_data(as_text=True)
        assert "window is saved" in html and "13 weeks to 4 months" in html and "P13W" not in html
        assert _dates(s) == [date(2027, 4, 5), date(2027, 4, 19), date(2027, 5, 4)]
        bad = client.post(
            url, data={"csrf_token": token, "remind_from": "soon", "remind_until": "4 months"}, follow_redirects=True
        ).get_data(as_text=True)
        assert "enter a length such as 4 months" in bad and "ISO 8601" not in bad
        assert patient_intervals.for_patient(patient.id)[treatment.id].remind_from == "P13W"
