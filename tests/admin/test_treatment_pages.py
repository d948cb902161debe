"""Admin treatment editor: validation as docs/rules.md says, preview, re-plan count, audit."""

from datetime import date

import time_machine
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, Treatment
from scheduler.web.admin.treatments import from_iso, to_iso
from tests.conftest import csrf_from, london

FORM = {
    "name": "Chronic migraine",
    "kind": "therapeutic",
    "product": "BOTOX",
    "duration_minutes": "30",
    "min_interval_days": "84",
    "from_value": "12",
    "from_unit": "W",
    "until_value": "6",
    "until_unit": "M",
    "reminder_count": "3",
    "follow_value": "",
    "follow_unit": "D",
    "active": "y",
}


def test_iso_round_trip_of_the_form_fields():
    assert to_iso("12", "W") == "P12W" and to_iso("6", "M") == "P6M" and to_iso("", "D") is None
    assert to_iso("p1m15d", "ISO") == "P1M15D"
    assert to_iso("4 months", "D") == "P4M" and to_iso("12w", "ISO") == "P12W" and to_iso("soon", "W") == "invalid:soon"
    assert from_iso("P12W") == ("12", "W") and from_iso(None) == ("", "D")
    assert from_iso("P1M15D") == ("1 month 15 days", "ISO")  # shown in words, read back by to_iso
    assert to_iso(*from_iso("P1M15D")) == "P1M15D"


def test_create_edit_and_preview(client, sign_in):
    with time_machine.travel(london(date(2027, 1, 4), 10), tick=False):
        sign_in("admin")
        token = csrf_from(client.get("/admin/treatments/new").get_data(as_text=True))
        resp = client.post("/admin/treatments/new", data=FORM | {"csrf_token": token})
        assert resp.status_code == 302
        treatment = db.session.scalar(select(Treatment))
        assert (treatment.remind_from, treatment.remind_until, treatment.follow_up_after) == ("P12W", "P6M", None)
        page = client.get(f"/admin/treatments/{treatment.id}").get_data(as_text=True)
        # a session on 4 Jan 2027: 12 weeks -> 29 Mar, 6 months -> 4 Jul, middle step rounded down
        assert "29 Mar 2027" in page and "16 May 2027" in page and "4 Jul 2027" in page
        preview = client.get(
            "/admin/treatments/preview?min_interval_days=90&reminder_count=2&from_value=3"
            "&from_unit=M&until_value=6&until_unit=M&follow_value=14&follow_unit=D"
        ).json
        assert preview["reminders"] == ["2027-04-04", "2027-07-04"] and preview["follow_up"] == "2027-01-18"
        bad = client.get(
            "/admin/treatments/preview?min_interval_days=84&reminder_count=3&from_value=4"
            "&from_unit=W&until_value=6&until_unit=M"
        ).json
        assert bad["reminders"] == [] and "minimum interval" in bad["problems"]["remind_from"]


def test_invalid_intervals_are_refused_with_reasons(client, sign_in, make_treatment):
    treatment = make_treatment(name="Chronic migraine")
    sign_in("admin")
    page = f"/admin/treatments/{treatment.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    too_early = client.post(page, data=FORM | {"csrf_token": token, "from_value": "4"})
    assert too_early.status_code == 422 and "minimum interval" in too_early.get_data(as_text=True)
    too_late = client.post(page, data=FORM | {"csrf_token": token, "until_value": "13"})
    assert too_late.status_code == 422 and "12 months" in too_late.get_data(as_text=True)
    garbage = client.post(page, data=FORM | {"csrf_token": token, "until_value": "soon"})
    assert garbage.status_code == 422
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).remind_until == "P6M"


def test_saving_intervals_reports_replanned_reminders_and_audits(client, sign_in, make_treatment):
    treatment = make_treatment(name="Chronic migraine")
    sign_in("admin")
    page = f"/admin/treatments/{treatment.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    resp = client.post(page, data=FORM | {"csrf_token": token, "until_value": "5"}, follow_redirects=True)
    assert "pending reminders re-planned" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).remind_until == "P5M"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "treatment.intervals_changed"))
    assert event.details["changed"]["remind_until"] == ["P6M", "P5M"]


def test_receptionist_cannot_edit_treatments(client, sign_in, make_treatment):
    treatment = make_treatment()
    sign_in("receptionist")
    assert client.get(f"/admin/treatments/{treatment.id}").status_code == 403
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post(f"/admin/treatments/{treatment.id}", data=FORM | {"csrf_token": token}).status_code == 403


def test_catalogue_and_form_speak_in_words(client, sign_in, make_treatment):
    treatment = make_treatment(name="Cosmetic lines", remind_from="P12W", remind_until="P6M", follow_up_after="P14D")
    sign_in("admin")
    listing = client.get("/admin/treatments").get_data(as_text=True)
    assert "from 12 weeks to 6 months" in listing and "14 days" in listing and "P12W" not in listing
    page = client.get(f"/admin/treatments/{treatment.id}").get_data(as_text=True)
    token = csrf_from(page)
    typed = FORM | {"name": "Cosmetic lines", "from_value": "13 weeks", "until_value": "1 year", "until_unit": "ISO"}
    assert client.post(f"/admin/treatments/{treatment.id}", data=typed | {"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert (treatment.remind_from, treatment.remind_until) == ("P13W", "P12M")
    bad = client.post(
        f"/admin/treatments/{treatment.id}", data=FORM | {"from_value": "soonish", "csrf_token": token}
    ).get_data(as_text=True)
    assert "enter a length such as 4 months, 12 weeks or 90 days" in bad and "ISO 8601 duration" not in bad
