"""Admin practitioner pages: working hours and time off."""

from datetime import date

import time_machine
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, Practitioner, TimeOff
from tests.conftest import csrf_from, london


def test_create_practitioner_with_hours(client, sign_in):
    sign_in("admin")
    token = csrf_from(client.get("/admin/practitioners/new").get_data(as_text=True))
    resp = client.post(
        "/admin/practitioners/new",
        data={
            "csrf_token": token,
            "name": "Dr New",
            "email": "new@example.com",
            "active": "y",
            "hours_mon": "09:00-12:30, 13:30-17:00",
            "hours_wed": "10:00-14:00",
        },
    )
    assert resp.status_code == 302
    prac = db.session.scalar(select(Practitioner).where(Practitioner.name == "Dr New"))
    assert prac.working_hours["mon"] == [["09:00", "12:30"], ["13:30", "17:00"]]
    assert prac.working_hours["wed"] == [["10:00", "14:00"]] and prac.working_hours["tue"] == []
    assert "Dr New" in client.get("/admin/practitioners").get_data(as_text=True)


def test_bad_hours_are_explained_and_not_saved(client, sign_in, make_practitioner):
    sign_in("admin")
    prac = make_practitioner(name="Dr Keep")
    page = f"/admin/practitioners/{prac.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    resp = client.post(page, data={"csrf_token": token, "name": "Dr Keep", "active": "y", "hours_mon": "17:00-09:00"})
    assert resp.status_code == 422 and "ends before it starts" in resp.get_data(as_text=True)
    resp = client.post(page, data={"csrf_token": token, "name": "Dr Keep", "active": "y", "hours_tue": "nine to five"})
    assert resp.status_code == 422 and "Tuesday" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Practitioner, prac.id).working_hours["mon"] == [["09:00", "17:00"]]


def test_time_off_blocks_booking_and_refuses_over_appointments(
    client, sign_in, make_practitioner, admin_api, make_treatment, make_patient
):
    prac, treatment, patient = make_practitioner(), make_treatment(), make_patient()
    page = f"/admin/practitioners/{prac.id}"
    with time_machine.travel(london(date(2027, 3, 1), 8), tick=False):
        sign_in("admin")  # signed sessions expire after 31 days, so sign in at the travelled time
        token = csrf_from(client.get(page).get_data(as_text=True))
        client.post(
            f"{page}/time-off",
            data={"csrf_token": token, "starts": "2027-03-02T09:00", "ends": "2027-03-02T13:00", "reason": "training"},
        )
        off = db.session.scalar(select(TimeOff))
        assert off.starts_at == london(date(2027, 3, 2), 9) and off.reason == "training"
        slots = admin_api.get(
            "/availability", practitioner_id=prac.id, treatment_id=treatment.id, date="2027-03-02"
        ).json["slots"]
        assert slots[0] == london(date(2027, 3, 2), 13).isoformat()
        refused = admin_api.post(
            "/appointments",
            json={
                "patient_id": patient.id,
                "practitioner_id": prac.id,
                "treatment_id": treatment.id,
                "starts_at": london(date(2027, 3, 2), 10).isoformat(),
            },
        )
        assert refused.status_code == 422 and refused.json["error"]["code"] == "outside_hours"
        booked = admin_api.post(
            "/appointments",
            json={
                "patient_id": patient.id,
                "practitioner_id": prac.id,
                "treatment_id": treatment.id,
                "starts_at": london(date(2027, 3, 3), 10).isoformat(),
            },
        )
        assert booked.status_code == 201
        resp = client.post(
            f"{page}/time-off",
            data={"csrf_token": token, "starts": "2027-03-03T09:00", "ends": "2027-03-03T17:00"},
            follow_redirects=True,
        )
        assert "appointments in that period" in resp.get_data(as_text=True)
        assert db.session.query(TimeOff).count() == 1 and db.session.query(Appointment).count() == 1
        client.post(f"/admin/time-off/{off.id}/delete", data={"csrf_token": token, "practitioner_id": prac.id})
        assert db.session.query(TimeOff).count() == 0
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {"practitioner.time_off_added", "practitioner.time_off_removed"} <= actions
