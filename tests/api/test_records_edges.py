"""Bad input to the records endpoints gets a 4xx and changes nothing; an erased patient cannot be edited."""

from __future__ import annotations


def test_records_endpoints_refuse_bad_input(admin_api, make_patient):
    p = make_patient()
    assert admin_api.get("/patients/999999/export").status_code == 404
    assert admin_api.post("/patients/999999/erase", json={"reason": "abc", "confirm": True}).status_code == 404
    for body in (
        {},
        {"reason": "ab\x00c", "confirm": True},
        {"reason": 5, "confirm": True},
        {"reason": "abc", "confirm": "true"},
        {"reason": "abc", "confirm": False},
    ):
        assert admin_api.post(f"/patients/{p.id}/erase", json=body).status_code == 400, body
    assert admin_api.patch(f"/patients/{p.id}", json={"consents": {"cosmetic": "yes"}}).status_code == 400
    assert admin_api.patch(f"/patients/{p.id}", json={"consents": []}).status_code == 400
    assert admin_api.patch(f"/patients/{p.id}", json={"consents": {"emails": None}}).status_code == 200
    assert admin_api.post(f"/patients/{p.id}/erase", json={"reason": "asked", "confirm": True}).status_code == 200
    assert admin_api.patch(f"/patients/{p.id}", json={"first_name": "X"}).status_code == 409
    assert admin_api.get(f"/patients/{p.id}/export").status_code == 200
