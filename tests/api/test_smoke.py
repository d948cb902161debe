"""A first end-to-end pass through the API's booking flow."""

from datetime import date, timedelta

import time_machine

from tests.conftest import london


def test_booking_flow(admin_api, make_treatment, make_practitioner, make_patient):
    treatment, prac, patient = make_treatment(), make_practitioner(), make_patient()
    with time_machine.travel(london(date(2027, 3, 1), 8), tick=False):
        slots = admin_api.get("/availability", practitioner_id=prac.id, treatment_id=treatment.id, date="2027-03-02")
        assert slots.status_code == 200, slots.json
        assert slots.json["slots"][0] == "2027-03-02T09:00:00+00:00"
        assert len(slots.json["slots"]) == 31
        r = admin_api.post(
            "/appointments",
            json={
                "patient_id": patient.id,
                "practitioner_id": prac.id,
                "treatment_id": treatment.id,
                "starts_at": slots.json["slots"][0],
            },
        )
        assert r.status_code == 201, r.json
        appt = r.json
        again = admin_api.post(
            "/appointments",
            json={
                "patient_id": patient.id,
                "practitioner_id": prac.id,
                "treatment_id": treatment.id,
                "starts_at": slots.json["slots"][0],
            },
        )
        assert again.status_code == 409 and again.json["error"]["code"] == "slot_taken"
    with time_machine.travel(london(date(2027, 3, 2), 9, 5), tick=False):
        assert admin_api.post(f"/appointments/{appt['id']}/check-in").status_code == 200
        done = admin_api.post(f"/appointments/{appt['id']}/complete", json={"units": 155, "lot_number": "C1234C3"})
        assert done.status_code == 201, done.json
        assert done.json["performed_on"] == "2027-03-02"
        later = london(date(2027, 3, 2) + timedelta(days=30), 10)
        r = admin_api.post(
            "/appointments",
            json={
                "patient_id": patient.id,
                "practitioner_id": prac.id,
                "treatment_id": treatment.id,
                "starts_at": later.isoformat(),
            },
        )
        assert r.status_code == 422 and r.json["error"]["code"] == "too_soon"
