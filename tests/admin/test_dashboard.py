"""Admin dashboard: re-treatments due per week, reminder-to-booking conversion, no-show rate."""

from datetime import date, timedelta

import time_machine

from scheduler.extensions import db
from scheduler.models import Appointment, TreatmentSession
from scheduler.models.reminder import Reminder
from scheduler.reminders import planning
from scheduler.services import dashboard
from tests.conftest import london

NOW = london(date(2027, 3, 1), 10)  # a Monday


def _session(patient, treatment, day):
    s = TreatmentSession(
        patient_id=patient.id, treatment_id=treatment.id, performed_on=day, product="BOTOX", units=100, external=False
    )
    db.session.add(s)
    db.session.flush()
    planning.session_recorded(s)
    db.session.commit()
    return s


def test_due_per_week_counts_first_reminders(app, make_patient, make_treatment):
    treatment = make_treatment(remind_from="P12W", remind_until="P6M", reminder_count=3)
    with time_machine.travel(NOW, tick=False):
        # first reminders: 1 Mar + 12 weeks = 24 May (week 12); 3 Mar -> 26 May (week 12); 15 Mar -> 7 Jun (week 14)
        for day in (date(2027, 3, 1), date(2027, 3, 3), date(2027, 3, 15)):
            _session(make_patient(), treatment, day)
        weeks = dashboard.due_per_week()
    assert len(weeks) == 26 and weeks[0].monday == date(2027, 3, 1)
    assert weeks[12].count == 2 and weeks[14].count == 1 and sum(w.count for w in weeks) == 3


def test_conversion_and_no_show_rate(app, make_patient, make_treatment, make_practitioner):
    treatment, prac = make_treatment(), make_practitioner()
    a, b = make_patient(), make_patient()
    with time_machine.travel(NOW, tick=False):
        for patient in (a, b):
            s = _session(patient, treatment, date(2026, 12, 1))
            first = db.session.query(Reminder).filter_by(session_id=s.id, kind="retreatment", seq=1).one()
            first.status, first.sent_at = "sent", NOW - timedelta(days=10)
        start = london(date(2027, 3, 2), 10)
        db.session.add(
            Appointment(
                patient_id=a.id,
                practitioner_id=prac.id,
                treatment_id=treatment.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                status="booked",
                created_at=NOW - timedelta(days=5),
            )
        )
        for i, status in enumerate(["completed", "completed", "completed", "no_show", "cancelled"]):
            t = london(date(2027, 2, 1) + timedelta(days=i), 10)
            db.session.add(
                Appointment(
                    patient_id=b.id,
                    practitioner_id=prac.id,
                    treatment_id=treatment.id,
                    starts_at=t,
                    ends_at=t + timedelta(minutes=30),
                    status=status,
                    created_at=t - timedelta(days=30),
                )
            )
        db.session.commit()
        assert dashboard.conversion() == (2, 1)
        assert dashboard.no_show_rate() == (1, 4)


def test_dashboard_page_renders_chart(client, sign_in):
    with time_machine.travel(NOW, tick=False):
        sign_in("admin")
        html = client.get("/admin/dashboard").get_data(as_text=True)
    assert "<svg" in html and html.count("<rect") == 26 and "No-show rate" in html
