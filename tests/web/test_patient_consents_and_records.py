"""The desk's side of consents and records: the patient page shows each consent with when and how and
saves changes (audited, via "desk"); the admin records page erases after the confirmation box only."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, Consent, Patient
from tests.web.conftest import post_form, text_of


def test_staff_record_consents_on_the_patient_page(client, clinic, reception):
    url = f"/patients/{clinic.olivia.id}"
    page = text_of(client.get(url))
    assert "Re-treatment reminders, therapeutic Yes given" in page
    resp = post_form(client, f"{url}/consents", {"therapeutic": "y", "emails": "y"}, page=url)
    assert resp.status_code == 302
    row = db.session.scalar(select(Consent).where(Consent.patient_id == clinic.olivia.id, Consent.topic == "cosmetic"))
    assert (row.given, row.via, row.recorded_by_id) == (False, "desk", reception.id)
    page = text_of(client.get(url))
    assert "Re-treatment reminders, cosmetic No withdrawn" in page and "at the desk" in page
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.consent")).one()
    assert event.details["changed"] == {"cosmetic": [True, False]}
    assert client.post(f"{url}/consents", data={"therapeutic": "y"}).status_code == 400  # no CSRF token


def test_the_records_page_erases_only_with_reason_and_confirmation(client, clinic, sign_in):
    sign_in("admin")
    url = f"/admin/patients/{clinic.noah.id}/records"
    page = text_of(client.get(url))
    assert "Download JSON" in page and "Erase personal details" in page
    erase = f"/admin/patients/{clinic.noah.id}/erase"
    assert post_form(client, erase, {"reason": "asked in writing"}, page=url).status_code == 400
    assert db.session.get(Patient, clinic.noah.id).erased_at is None
    resp = post_form(client, erase, {"reason": "asked in writing", "confirm": "y"}, page=url)
    assert resp.status_code == 302
    db.session.expire_all()
    noah = db.session.get(Patient, clinic.noah.id)
    assert noah.full_name == f"Erased patient #{noah.id}" and noah.email is None
    assert "Erased" in text_of(client.get(url))
