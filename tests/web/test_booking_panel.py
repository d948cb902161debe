"""The calendar's booking panel on the server side: its type-ahead and times (JSON for staff), its
POST (an existing patient, or a new one registered and booked in one transaction), and the plain
path without JavaScript, which keeps the calendar cell's slot when registering a new patient."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Appointment, Patient
from scheduler.web.forms import slot_value
from tests.conftest import csrf_from, london
from tests.web.conftest import TUESDAY, add_session, make_appointment, post_form

PANEL = "/book/panel"


def _post(client, data: dict):
    token = csrf_from(client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True))
    return client.post(PANEL, data={**data, "csrf_token": token}, headers={"Accept": "application/json"})


def _patients() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Patient))


def test_the_panel_is_on_the_calendar_pages(client, clinic, reception):
    for path in (f"/calendar?date={TUESDAY}", f"/calendar/week?date={TUESDAY}&practitioner_id={clinic.hart.id}"):
        html = client.get(path).get_data(as_text=True)
        assert f'action="{PANEL}"' in html and "booking-panel.js" in html
        assert 'id="booking-panel"' in html and " hidden" in html  # hidden until a cell opens it


def test_the_type_ahead_is_for_staff_only(client, clinic):
    resp = client.get(f"{PANEL}/patients?q=smith")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_type_ahead_finds_patients_any_way_they_are_written(client, clinic, reception):
    for q in ("Smith, Olivia", "olivia smith", "+447700900123", "17/05/1980", "17 May 1980"):
        items = client.get(f"{PANEL}/patients", query_string={"q": q}).get_json()["items"]
        assert [i["name"] for i in items] == ["Olivia Smith"], q
        assert items[0]["id"] == clinic.olivia.id and items[0]["born"] == "Sat 17 May 1980"
    assert client.get(f"{PANEL}/patients?q=o").get_json() == {"items": []}  # one letter: nothing yet
    assert client.get(f"{PANEL}/patients?q=a%00b").status_code == 400


def test_the_times_fit_the_treatment_and_its_buffer_and_the_usual_treatment_comes_first(client, clinic, reception):
    clinic.dystonia.buffer_minutes = 10
    db.session.commit()
    add_session(clinic.olivia, clinic.dystonia, date(2026, 10, 1))
    make_appointment(clinic.noah, clinic.hart, clinic.migraine, london(TUESDAY, 12))
    args = {"practitioner_id": clinic.hart.id, "date": str(TUESDAY), "patient_id": clinic.olivia.id}
    body = client.get(f"{PANEL}/times", query_string=args).get_json()
    assert body["treatment_id"] == clinic.dystonia.id  # from her last session
    assert body["practitioner"] == "Dr Amelia Hart" and body["day"] == "Tuesday 2 March 2027"
    labels = [t["label"] for t in body["times"]]
    assert "11:15" in labels and "11:30" not in labels  # 30 minutes + 10 of buffer before 12:00
    assert labels[-1] == "16:15"
    assert {t["name"]: t["buffer"] for t in body["treatments"]}["Cervical dystonia (torticollis)"] == 10
    cosmetic = client.get(f"{PANEL}/times", query_string=args | {"treatment_id": clinic.cosmetic.id}).get_json()
    assert [t["label"] for t in cosmetic["times"]][-1] == "16:30"
    nobody = client.get(f"{PANEL}/times", query_string={"practitioner_id": clinic.hart.id, "date": str(TUESDAY)})
    assert nobody.get_json()["treatment_id"] is None and nobody.get_json()["times"] == []
    assert client.get(f"{PANEL}/times?practitioner_id=999&date={TUESDAY}").status_code == 404
    assert client.get(f"{PANEL}/times?practitioner_id={clinic.hart.id}&date=soon").status_code == 400
    assert client.get(f"{PANEL}/times").get_json()["times"] == []  # no practitioner: nothing to offer


def test_booking_an_existing_patient(client, clinic, reception):
    slot = slot_value(clinic.hart.id, london(TUESDAY, 10, 15))
    resp = _post(client, {"patient_id": clinic.olivia.id, "treatment_id": clinic.migraine.id, "slot": slot})
    assert resp.status_code == 201, resp.get_json()
    appt = db.session.scalar(select(Appointment))
    assert resp.get_json() == {"redirect": f"/appointments/{appt.id}"}
    assert appt.patient_id == clinic.olivia.id and appt.starts_at == london(TUESDAY, 10, 15)
    assert "Booked Olivia Smith" in client.get(resp.get_json()["redirect"]).get_data(as_text=True)


def test_a_new_patient_is_registered_and_booked_in_the_cells_slot(client, clinic, reception):
    slot = slot_value(clinic.mehta.id, london(TUESDAY, 14, 30))
    new = {"first_name": "Amelia", "last_name": "Patel", "phone": "+44 7700 900118", "date_of_birth": "1951-04-13"}
    resp = _post(client, new | {"treatment_id": clinic.cosmetic.id, "slot": slot, "reminders_opt_in": "y"})
    assert resp.status_code == 201, resp.get_json()
    db.session.rollback()
    appt = db.session.scalar(select(Appointment))
    assert appt.practitioner_id == clinic.mehta.id and appt.starts_at == london(TUESDAY, 14, 30)
    assert appt.patient.full_name == "Amelia Patel" and appt.patient.phone_digits == "07700900118"


def test_a_refused_booking_registers_nobody(client, clinic, reception):
    make_appointment(clinic.noah, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    before = _patients()
    slot = slot_value(clinic.hart.id, london(TUESDAY, 10))
    resp = _post(client, {"first_name": "New", "last_name": "Person", "treatment_id": clinic.migraine.id, "slot": slot})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "slot_taken"
    assert _patients() == before


def test_a_likely_duplicate_is_offered_before_registering(client, clinic, reception):
    slot = slot_value(clinic.hart.id, london(TUESDAY, 11))
    same = {"first_name": "Olivia", "last_name": "Smith", "date_of_birth": "1980-05-17"}
    resp = _post(client, same | {"treatment_id": clinic.migraine.id, "slot": slot})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "possible_duplicate"
    assert [d["id"] for d in resp.get_json()["duplicates"]] == [clinic.olivia.id]
    before = _patients()
    resp = _post(client, same | {"treatment_id": clinic.migraine.id, "slot": slot, "confirm_duplicate": "1"})
    assert resp.status_code == 201 and _patients() == before + 1


def test_refusals_are_json_with_the_reason(client, clinic, reception):
    slot = slot_value(clinic.hart.id, london(TUESDAY, 16, 45))  # 16:45 + 30 > 17:00
    resp = _post(client, {"patient_id": clinic.olivia.id, "treatment_id": clinic.migraine.id, "slot": slot})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "outside_hours"
    resp = _post(client, {"patient_id": clinic.olivia.id, "treatment_id": clinic.migraine.id, "slot": "nonsense"})
    assert resp.status_code == 400 and "slot" in resp.get_json()["error"]["fields"]
    resp = _post(client, {"treatment_id": clinic.migraine.id, "slot": slot})  # no patient, no new one
    assert resp.status_code == 400 and "first_name" in resp.get_json()["error"]["fields"]
    resp = _post(
        client,
        {"patient_id": clinic.olivia.id, "treatment_id": clinic.migraine.id, "slot": slot, "override_reason": "x"},
    )
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "override_forbidden"
    resp = client.post(PANEL, data={"patient_id": clinic.olivia.id, "treatment_id": clinic.migraine.id, "slot": slot})
    assert resp.status_code == 400  # no CSRF token: nothing is booked
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_without_javascript_a_new_patient_keeps_the_cells_slot(client, clinic, reception):
    """The cell opens /book with the practitioner, day and time; "Register a new patient" carries
    them through the patient form back to the booking form."""
    cell = f"/book?practitioner_id={clinic.mehta.id}&date={TUESDAY}&time=14:30"
    html = client.get(cell).get_data(as_text=True)
    start = html.index('href="/patients/new?then=') + len('href="')
    link = html[start : html.index('"', start)].replace("&amp;", "&")
    resp = post_form(
        client,
        link,
        {"first_name": "Amelia", "last_name": "Patel", "then": parse_qs(urlsplit(link).query)["then"][0]},
    )
    assert resp.status_code == 302
    back = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert back["practitioner_id"] == [str(clinic.mehta.id)] and back["date"] == [str(TUESDAY)]
    assert back["time"] == ["14:30"] and "patient_id" in back
