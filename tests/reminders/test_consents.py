"""Two kinds of email, two consents (docs/records.md "Consents"): a re-treatment reminder's
unsubscribe link ends that kind of reminder only, service emails and the other kind keep flowing;
"stop all emails" stops everything; staff record consents at the desk and through the API, and a
withdrawal cancels the pending reminders it covers (the same rows come back on a new consent)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import select

from scheduler.domain import consent
from scheduler.extensions import db
from scheduler.models import AuditEvent, Consent, Patient
from tests.conftest import london
from tests.reminders.conftest import book, record, rows, run_sweep

JAN4 = date(2027, 1, 4)


def three_kinds(clinic, make_treatment):
    """Olivia: a migraine (therapeutic) and a cosmetic session on 4 January, and a dystonia
    appointment booked for 15 April (its confirmation and pre-visit reminder are service emails)."""
    dystonia = make_treatment(name="Cervical dystonia (torticollis)")
    migraine = record(clinic, JAN4)
    cosmetic = record(clinic, JAN4, treatment=clinic.cosmetic)
    appt = book(clinic, london(date(2027, 4, 15), 10), treatment=dystonia.id)
    return migraine, cosmetic, appt


def statuses_of(**where) -> set[str]:
    return {r.status for r in rows(**where)}


def link_path(msg) -> str:
    return urlsplit(msg["List-Unsubscribe"].strip("<>")).path


def test_unsubscribing_from_a_cosmetic_reminder_leaves_therapeutic_and_service_emails(
    clinic, smtp, travel, client, make_treatment
):
    migraine, cosmetic, appt = three_kinds(clinic, make_treatment)
    travel.move_to(london(date(2027, 4, 4), 10))  # cosmetic #1 (P3M) and migraine #1 (P12W) are due
    run_sweep()
    [cosmetic_mail] = [m for m in smtp.messages if str(m["Message-ID"]) in message_ids(session_id=cosmetic.id)]
    page = client.get(link_path(cosmetic_mail)).get_data(as_text=True)
    assert "Stop these reminders?" in page and "cosmetic" in page and ">Stop all emails</button>" in page

    # RFC 8058 one-click from the cosmetic email: that kind only
    resp = client.post(
        link_path(cosmetic_mail), data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 200 and "You are unsubscribed" in resp.get_data(as_text=True)
    assert statuses_of(session_id=cosmetic.id, kind="retreatment") == {"sent", "cancelled"}
    assert {r.reason for r in rows(session_id=cosmetic.id, status="cancelled")} == {consent.not_agreed("cosmetic")}
    assert "pending" in statuses_of(session_id=migraine.id, kind="retreatment")
    assert statuses_of(appointment_id=appt.id, kind="pre_visit") == {"pending"}
    row = db.session.scalar(select(Consent).where(Consent.patient_id == clinic.olivia, Consent.topic == "cosmetic"))
    assert (row.given, row.via) == (False, "link")
    state = db.session.get(Patient, clinic.olivia).consent_state
    assert state.reminders == {"therapeutic"} and not state.emails_stopped

    # the pre-visit reminder (service) and the next migraine reminder still go out
    sent_before = len(smtp.messages)
    travel.move_to(london(date(2027, 4, 14), 11))
    run_sweep()
    assert statuses_of(appointment_id=appt.id, kind="pre_visit") == {"sent"}
    assert len(smtp.messages) == sent_before + 1
    assert all(
        str(m["Message-ID"]) not in message_ids(session_id=cosmetic.id, status="cancelled") for m in smtp.messages
    )


def message_ids(**where) -> set[str]:
    return {r.message_id for r in rows(**where)}


def test_stop_all_emails_from_the_page_stops_everything(clinic, smtp, travel, client, make_treatment):
    migraine, cosmetic, appt = three_kinds(clinic, make_treatment)
    travel.move_to(london(date(2027, 4, 4), 10))
    run_sweep()
    [cosmetic_mail] = [m for m in smtp.messages if str(m["Message-ID"]) in message_ids(session_id=cosmetic.id)]
    assert client.post(link_path(cosmetic_mail), data={"choice": "all"}).status_code == 200
    assert not [r for r in rows(patient_id=clinic.olivia) if r.status == "pending"]
    assert {r.reason for r in rows(appointment_id=appt.id, kind="pre_visit")} == {consent.STOPPED}
    sent = len(smtp.messages)
    travel.move_to(london(date(2027, 6, 30), 11))
    run_sweep()
    assert len(smtp.messages) == sent
    assert "already unsubscribed" in client.get(link_path(cosmetic_mail)).get_data(as_text=True)


def test_a_service_emails_one_click_stops_all_emails(clinic, smtp, travel, client, make_treatment):
    migraine, cosmetic, appt = three_kinds(clinic, make_treatment)
    travel.move_to(london(date(2027, 3, 1), 10))
    run_sweep()  # the confirmation goes at once (within the sending hours)
    [confirmation] = smtp.messages
    page = client.get(link_path(confirmation)).get_data(as_text=True)
    assert "Stop all emails?" in page
    client.post(link_path(confirmation), data="List-Unsubscribe=One-Click")
    assert not [r for r in rows(patient_id=clinic.olivia) if r.status == "pending"]
    assert db.session.get(Patient, clinic.olivia).consent_state.emails_stopped


def test_staff_withdraw_and_give_consent_through_the_api(clinic, travel, reception_api, make_treatment):
    migraine, cosmetic, appt = three_kinds(clinic, make_treatment)
    before = {r.id for r in rows(patient_id=clinic.olivia)}
    resp = reception_api.patch(f"/patients/{clinic.olivia}", json={"consents": {"therapeutic": False}})
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    assert out["consents"]["therapeutic"]["given"] is False and out["consents"]["therapeutic"]["via"] == "api"
    assert out["consents"]["cosmetic"]["given"] is True and out["reminders_opt_in"] is False
    assert out["consents"]["therapeutic"]["recorded_at"].endswith("+00:00")
    assert statuses_of(session_id=migraine.id, kind="retreatment") == {"cancelled"}
    assert statuses_of(session_id=cosmetic.id, kind="retreatment") == {"pending"}
    assert statuses_of(appointment_id=appt.id) == {"pending"}
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.consent")).one()
    assert event.details["changed"] == {"therapeutic": [True, False]} and event.details["via"] == "api"

    resp = reception_api.patch(f"/patients/{clinic.olivia}", json={"consents": {"therapeutic": True}})
    assert resp.get_json()["reminders_opt_in"] is True
    assert statuses_of(session_id=migraine.id, kind="retreatment") == {"pending"}
    assert {r.id for r in rows(patient_id=clinic.olivia)} == before  # the same rows came back: no duplicates


def test_a_patient_registered_without_reminder_consent_gets_service_emails_only(clinic, travel, reception_api):
    resp = reception_api.post(
        "/patients",
        json={"first_name": "Ann", "last_name": "Lee", "email": "ann@example.net", "consents": {"cosmetic": True}},
    )
    assert resp.status_code == 201, resp.get_json()
    # reminders_opt_in defaults to true for compatibility; `consents` wins where both speak
    assert resp.get_json()["consents"]["cosmetic"]["given"] is True
    resp = reception_api.post(
        "/patients",
        json={"first_name": "Bo", "last_name": "Lee", "email": "bo@example.net", "reminders_opt_in": False},
    )
    bo = resp.get_json()
    assert bo["consents"]["therapeutic"]["given"] is False and bo["consents"]["emails"]["given"] is True
    record(clinic, JAN4, patient=bo["id"])
    appt = book(clinic, london(date(2027, 4, 15), 10), patient=bo["id"], treatment=clinic.cosmetic)
    assert statuses_of(appointment_id=appt.id) == {"pending"}
    assert {r.reason for r in rows(patient_id=bo["id"], kind="retreatment")} == {consent.not_agreed("therapeutic")}


def test_the_sweep_asks_the_same_rule_before_sending(clinic, smtp, travel, make_treatment):
    """A withdrawal written without a re-plan (a row changed behind the planner's back) still stops the email."""
    migraine, cosmetic, appt = three_kinds(clinic, make_treatment)
    row = db.session.scalar(select(Consent).where(Consent.patient_id == clinic.olivia, Consent.topic == "cosmetic"))
    row.given = False
    db.session.commit()
    travel.move_to(london(date(2027, 4, 4), 10))
    run_sweep()
    cosmetic_rows = rows(session_id=cosmetic.id, kind="retreatment")
    assert [r.status for r in cosmetic_rows if r.seq == 1] == ["skipped"]
    assert [r.reason for r in cosmetic_rows if r.seq == 1] == [consent.not_agreed("cosmetic")]
    assert "sent" in statuses_of(session_id=migraine.id, kind="retreatment")


def test_the_rule(clinic):
    state = consent.ConsentState.from_rows([("therapeutic", True)])
    assert consent.refusal("retreatment", "therapeutic", state) is None
    assert consent.refusal("retreatment", "cosmetic", state) == consent.not_agreed("cosmetic")
    assert consent.refusal("pre_visit", None, state) is None
    stopped = consent.ConsentState.from_rows([("therapeutic", True), ("emails", False)])
    assert consent.refusal("confirmation", None, stopped) == consent.STOPPED
    assert consent.unsubscribe_changes("retreatment", "cosmetic", False) == {"cosmetic": False}
    assert consent.unsubscribe_changes("confirmation", None, False) == dict.fromkeys(consent.TOPICS, False)
