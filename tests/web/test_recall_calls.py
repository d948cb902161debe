"""Recall as a work queue: calls logged with their outcome, shown on the list and the patient page,
audited, and ordering the list (call now, then wait for the call-back day, then booked/declined)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from scheduler.domain import recall_calls
from scheduler.extensions import db
from scheduler.models import AuditEvent, RecallContact
from scheduler.patients import contacts, recall
from scheduler.services.errors import Rejected
from tests.web.conftest import TODAY, add_session, counts, post_form, text_of


def test_outcome_rules() -> None:
    assert recall_calls.check("no_answer", None, TODAY) == {}
    assert recall_calls.check("call_back", TODAY, TODAY) == {}
    assert "needed" in recall_calls.check("call_back", None, TODAY)["call_back_on"]
    assert "past" in recall_calls.check("call_back", TODAY - timedelta(days=1), TODAY)["call_back_on"]
    assert "year" in recall_calls.check("call_back", TODAY + timedelta(days=400), TODAY)["call_back_on"]
    assert "only for" in recall_calls.check("declined", TODAY, TODAY)["call_back_on"]
    assert "outcome" in recall_calls.check("maybe", None, TODAY)
    later = TODAY + timedelta(days=3)
    ranks = [
        recall_calls.queue_rank(None, None, TODAY),
        recall_calls.queue_rank("no_answer", None, TODAY),
        recall_calls.queue_rank("call_back", TODAY, TODAY),  # the call-back day has come
        recall_calls.queue_rank("call_back", later, TODAY),
        recall_calls.queue_rank("booked", None, TODAY),
        recall_calls.queue_rank("declined", None, TODAY),
    ]
    assert ranks == [0, 0, 0, 1, 2, 3]


def test_calls_order_the_queue_and_are_audited(clinic, make_user, make_patient):
    c = clinic
    third = make_patient(first_name="Ada", last_name="Third")
    add_session(c.olivia, c.migraine, date(2026, 11, 20))  # due first
    add_session(c.noah, c.migraine, date(2026, 11, 25))
    add_session(third, c.migraine, date(2026, 12, 1))
    assert [i.patient.last_name for i in recall.due_list(TODAY)] == ["Smith", "Jones", "Third"]
    user = make_user("receptionist")
    contacts.log_call(c.olivia.id, "call_back", call_back_on=TODAY + timedelta(days=2), note="at work", actor=user)
    contacts.log_call(c.noah.id, "no_answer", treatment_id=c.migraine.id, actor=user)
    db.session.commit()
    items = recall.due_list(TODAY)
    assert [i.patient.last_name for i in items] == ["Jones", "Third", "Smith"]
    assert items[0].last_call.outcome == "no_answer" and items[1].last_call is None
    assert items[2].next_call_back == TODAY + timedelta(days=2)
    # on the call-back day she is back at the top of the queue
    assert [i.patient.last_name for i in recall.due_list(TODAY + timedelta(days=2))][0] == "Smith"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.called")).first()
    assert event.entity_id == c.olivia.id and event.details["outcome"] == "call_back"
    assert event.details["call_back_on"] == (TODAY + timedelta(days=2)).isoformat()
    with pytest.raises(Rejected) as refused:
        contacts.log_call(c.olivia.id, "call_back", call_back_on=None, actor=user)
    assert "call_back_on" in refused.value.fields


def test_log_a_call_from_the_recall_list_and_see_it_on_the_patient_page(client, clinic, reception):
    c = clinic
    add_session(c.olivia, c.migraine, date(2026, 12, 1))
    db.session.commit()
    page = client.get("/recall").get_data(as_text=True)
    assert "not called yet" in page and f'action="/patients/{c.olivia.id}/calls"' in page
    back_on = TODAY + timedelta(days=7)
    resp = post_form(
        client,
        f"/patients/{c.olivia.id}/calls",
        {
            "outcome": "call_back",
            "call_back_on": back_on.isoformat(),
            "note": "after 3pm",
            "treatment_id": str(c.migraine.id),
            "back": "recall",
        },
        page="/recall",
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/recall")
    listing = text_of(client.get("/recall"))
    assert "Call back Mon 8 Mar 2027" in listing and "after 3pm" in listing
    patient_page = text_of(client.get(f"/patients/{c.olivia.id}"))
    assert "Recall calls" in patient_page and "Next call-back: Mon 8 Mar 2027" in patient_page
    assert "about Chronic migraine" in patient_page


def test_the_audit_log_tells_the_call(client, clinic, admin):
    contacts.log_call(
        clinic.olivia.id, "call_back", treatment_id=clinic.migraine.id, call_back_on=TODAY, note="at 5", actor=admin
    )
    db.session.commit()
    page = text_of(client.get("/admin/audit"))
    assert "called Olivia Smith about Chronic migraine: call back on Mon 1 Mar 2027 (“at 5”)" in page


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"outcome": "call_back"}, "the day to call back"),
        ({"outcome": "call_back", "call_back_on": "2020-01-01"}, "cannot be in the past"),
        ({"outcome": "call_back", "call_back_on": "08/03/2027"}, "Enter a date as YYYY-MM-DD"),
        ({"outcome": "perhaps"}, "Outcome"),
        ({"outcome": "no_answer", "note": "line\x00break"}, "control"),
        ({"outcome": "no_answer", "note": "x" * 501}, "Note"),
    ],
)
def test_bad_calls_are_refused_on_the_page_with_a_reason(client, clinic, reception, data, reason):
    add_session(clinic.olivia, clinic.migraine, date(2026, 12, 1))
    db.session.commit()
    before = counts()
    resp = post_form(
        client, f"/patients/{clinic.olivia.id}/calls", data | {"back": "patient"}, page=f"/patients/{clinic.olivia.id}"
    )
    assert resp.status_code == 400
    html = text_of(resp)
    assert "The call was not recorded." in html and reason in html and "Recall calls" in html
    assert counts() == before and db.session.scalar(select(RecallContact.id)) is None


def test_a_call_needs_a_token_and_a_patient(client, clinic, reception):
    assert client.post(f"/patients/{clinic.olivia.id}/calls", data={"outcome": "no_answer"}).status_code == 400
    assert post_form(client, "/patients/999999/calls", {"outcome": "no_answer"}, page="/recall").status_code == 404
    assert db.session.scalar(select(RecallContact.id)) is None
