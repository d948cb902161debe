"""The audit log reads as sentences that link to the records they name."""

import html as html_lib
from datetime import date

import time_machine

from scheduler.booking import operations as booking
from scheduler.catalog import operations as catalog
from scheduler.extensions import db
from scheduler.patients import intervals as patient_intervals
from scheduler.services import audit
from tests.conftest import london


def _text(page: str) -> str:
    return html_lib.unescape(page)


def test_interval_change_reads_as_a_sentence_with_a_link(client, sign_in, make_treatment):
    admin = sign_in("admin")
    admin.name = "Anna"
    treatment = make_treatment(name="Chronic migraine", remind_from="P12W", remind_until="P6M")
    catalog.update_treatment(treatment.id, {"remind_from": "P13W"}, actor=admin)
    db.session.commit()
    page = _text(client.get("/admin/audit").get_data(as_text=True))
    assert "Anna (admin) changed " in page
    assert (
        f'<a href="/admin/treatments/{treatment.id}">Chronic migraine</a>\'s first reminder from 12 weeks to 13 weeks'
        in page
    )
    assert "{'remind_from'" not in page and "P12W" not in page


def test_booking_window_and_unknown_actions(client, sign_in, make_treatment, make_patient, make_practitioner):
    admin = sign_in("admin")
    treatment = make_treatment(name="Chronic migraine", min_interval_days=84, remind_from="P12W", remind_until="P6M")
    patient = make_patient(first_name="Amelia", last_name="Patel")
    with time_machine.travel(london(date(2027, 1, 4), 8), tick=False):
        practitioner = make_practitioner()
        appt = booking.book(
            patient_id=patient.id,
            practitioner_id=practitioner.id,
            treatment_id=treatment.id,
            starts_at=london(date(2027, 1, 4), 10),
            actor=admin,
        )
        patient_intervals.set_window(patient.id, treatment.id, "P13W", "P4M", "wears off early", actor=admin)
        audit.record("session.voided_somehow", "patient", patient.id, None, {"reason": "typo"}, actor_label="system")
        audit.record("appointment.cancelled", "appointment", 999_999, admin, {"reason": "ill"})
        db.session.commit()
        page = _text(client.get("/admin/audit").get_data(as_text=True))
    assert f'booked <a href="/appointments/{appt.id}">Amelia Patel\'s appointment on Mon 4 Jan 2027, 10:00</a>' in page
    assert f'set <a href="/patients/{patient.id}">Amelia Patel</a>\'s window for ' in page
    assert " from 12 weeks–6 months to 13 weeks–4 months" in page and "Note: wears off early" in page
    assert "The system: session voided somehow" in page and "reason: typo" in page
    assert "appointment #999999 (deleted)" in page
