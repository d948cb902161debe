"""Export and erasure of one patient's data (docs/records.md): the export holds every row about the
patient and nothing about another; erasure leaves no name, email or phone anywhere in the database
(every text column of every table, audit details included) nor in the stored email bodies, while the
lot search still counts the session; a patient with an appointment ahead gets a 409."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import JSON, String, Text, select

from scheduler.booking import visits
from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Base, Consent, Reminder, TreatmentSession
from scheduler.models.recall_contact import RecallContact
from scheduler.models.waitlist import WaitlistEntry
from scheduler.patients import records as patients
from scheduler.patients import sessions
from scheduler.records import export
from tests.conftest import london
from tests.reminders.conftest import book, complete, record, run_sweep

OLIVIA = ("Olivia", "Smith", "olivia@example.net")


def history(clinic, travel):
    """Olivia and Noah each: a completed appointment with a session from lot C1234C3 and notes, a
    cancelled booking with a reason naming them, a recorded past session, emails sent (to the outbox)."""
    for who, name, tel in (
        (clinic.olivia, "Olivia Smith", "07700 900001"),
        (clinic.noah, "Noah Jones", "07700 900777"),
    ):
        travel.move_to(london(date(2027, 2, 22), 10))
        record(clinic, date(2026, 6, 1), patient=who, treatment=clinic.cosmetic)
        gone = book(clinic, london(date(2027, 3, 2), 9 if who == clinic.olivia else 11), patient=who)
        visits.change_status(gone.id, "cancelled", actor=None, reason=f"{name} rang to cancel")
        db.session.commit()
        appt = book(clinic, london(date(2027, 3, 1), 10 if who == clinic.olivia else 12), patient=who)
        run_sweep()  # the confirmation goes to the local outbox
        travel.move_to(london(date(2027, 3, 1), 10 if who == clinic.olivia else 12))
        session = complete(appt.id)
        session.notes = f"{name} tolerated it well; call {tel}"
        session.override_reason = f"{name} asked to go ahead"
        db.session.add(RecallContact(patient_id=who, outcome="no_answer", note=f"rang {tel}, {name} busy"))
        db.session.add(
            WaitlistEntry(
                patient_id=who, treatment_id=clinic.migraine, from_date=date(2027, 3, 8), until_date=date(2027, 3, 31)
            )
        )
        db.session.commit()


def test_export_holds_every_row_about_the_patient_and_nothing_about_another(clinic, travel, admin_api):
    history(clinic, travel)
    data = export.collect(clinic.olivia)
    mine = lambda model: {  # noqa: E731
        r for r in db.session.scalars(select(model.id).where(model.patient_id == clinic.olivia))
    }
    assert {a["id"] for a in data["appointments"]} == mine(Appointment)
    assert {s["id"] for s in data["sessions"]} == mine(TreatmentSession)
    assert {e["id"] for e in data["emails"]} == mine(Reminder)
    assert {c["id"] for c in data["calls"]} == mine(RecallContact)
    assert {w["id"] for w in data["waitlist"]} == mine(WaitlistEntry)
    assert {c["topic"] for c in data["consents"]} == {
        c.topic for c in db.session.scalars(select(Consent).where(Consent.patient_id == clinic.olivia))
    }
    assert {s["lot_number"] for s in data["sessions"]} >= {"C1234C3"}
    sent = [e for e in data["emails"] if e["status"] == "sent"]
    assert sent and all(e["body"] and "Olivia" in e["body"]["text"] for e in sent)
    ids = {(e["entity_type"], e["entity_id"]) for e in data["audit_events"]}
    theirs = {("appointment", i) for i in mine(Appointment)} | {("session", i) for i in mine(TreatmentSession)}
    theirs |= {("patient", clinic.olivia)}
    every = {(e.entity_type, e.entity_id) for e in db.session.scalars(select(AuditEvent))}
    assert ids == every & theirs and ids
    dumped = json.dumps(data)
    assert "Noah" not in dumped and "Jones" not in dumped and "noah@example.org" not in dumped
    # the API and the pages serve the same
    resp = admin_api.get(f"/patients/{clinic.olivia}/export")
    assert resp.status_code == 200 and resp.get_json()["patient"]["email"] == "olivia@example.net"


def test_export_pages_for_admins_only(clinic, travel, client, sign_in, reception_api):
    history(clinic, travel)
    assert reception_api.get(f"/patients/{clinic.olivia}/export").status_code == 403
    sign_in("admin")
    resp = client.get(f"/admin/patients/{clinic.olivia}/export.json")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    assert json.loads(resp.get_data(as_text=True))["patient"]["id"] == clinic.olivia
    html = client.get(f"/admin/patients/{clinic.olivia}/export.html").get_data(as_text=True)
    assert "Olivia Smith" in html and "C1234C3" in html and "Noah" not in html


def every_text_value():
    """(table.column, value) for every text and JSON column of every table."""
    for table in Base.metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in db.session.execute(select(*cols)) if cols else []:
            for col, value in zip(cols, row, strict=True):
                if value is not None:
                    yield (
                        f"{table.name}.{col.name}",
                        json.dumps(value) if isinstance(value, dict | list) else str(value),
                    )


def test_erasure_leaves_no_name_email_or_phone_anywhere(clinic, travel, admin_api):
    history(clinic, travel)
    phone = db.session.get(__import__("scheduler.models", fromlist=["Patient"]).Patient, clinic.olivia).phone
    secrets = [*OLIVIA, phone, "07700 900001"]
    noah_phone = "noah@example.org"
    resp = admin_api.post(f"/patients/{clinic.olivia}/erase", json={"reason": "Olivia Smith asked, letter of 1 March"})
    assert resp.status_code == 400  # no confirmation
    resp = admin_api.post(
        f"/patients/{clinic.olivia}/erase", json={"reason": "Olivia Smith asked, letter of 1 March", "confirm": True}
    )
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert (out["first_name"], out["last_name"], out["email"], out["phone"]) == (
        "Erased",
        f"patient #{clinic.olivia}",
        None,
        None,
    )
    db.session.expire_all()
    leaks = [(where, v) for where, v in every_text_value() for s in secrets if s.lower() in v.lower()]
    # "Smith" is gone everywhere; the notes' phone too (the session note was free text)
    assert leaks == []
    assert any(noah_phone in v for _w, v in every_text_value())  # the other patient is untouched
    outbox = Path(current_app.config["OUTBOX_DIR"])
    for f in outbox.glob("*.eml"):
        assert not any(s.lower() in f.read_text(errors="replace").lower() for s in secrets), f
    assert any("Noah" in f.read_text(errors="replace") for f in outbox.glob("*.eml"))
    # clinical rows stay, pseudonymised; the patient is not found by name
    lot = sessions.patients_by_lot("C1234C3")
    assert len(lot) == 2 and f"Erased patient #{clinic.olivia}" in {s.patient.full_name for s in lot}
    assert patients.search("Olivia") == [] and patients.search("Erased") == []
    assert not [
        r
        for r in db.session.scalars(select(Reminder).where(Reminder.patient_id == clinic.olivia))
        if r.status == "pending"
    ]
    wishes = db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.patient_id == clinic.olivia)).all()
    assert [w.status for w in wishes] == ["removed"]  # no offer goes to an erased patient
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.erased")).one()
    assert event.details == {"reason": "[erased]"}
    assert (
        admin_api.post(f"/patients/{clinic.olivia}/erase", json={"reason": "again", "confirm": True}).status_code == 409
    )


def test_erasure_waits_for_appointments_ahead(clinic, travel, admin_api, reception_api):
    appt = book(clinic, london(date(2027, 3, 10), 10))
    resp = admin_api.post(f"/patients/{clinic.olivia}/erase", json={"reason": "asked by letter", "confirm": True})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "future_appointment"
    assert (
        reception_api.post(f"/patients/{clinic.olivia}/erase", json={"reason": "x" * 5, "confirm": True}).status_code
        == 403
    )
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    assert (
        admin_api.post(
            f"/patients/{clinic.olivia}/erase", json={"reason": "asked by letter", "confirm": True}
        ).status_code
        == 200
    )
