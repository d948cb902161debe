"""Bad input to the pages is a 4xx with a clear message, never a 500 and never a partial write:
ids outside the id columns' range."""

from __future__ import annotations

import pytest

from tests.web.conftest import counts, post_form, text_of

#: one path per family of pages with an id in it, as a template for str.format(id=...)
ID_PATHS = [
    "/patients/{id}",
    "/patients/{id}/edit",
    "/patients/{id}/sessions/new",
    "/appointments/{id}",
    "/appointments/{id}/reschedule",
    "/admin/outbox/{id}",
    "/admin/outbox/{id}/html",
    "/admin/staff/{id}",
    "/admin/treatments/{id}",
    "/admin/practitioners/{id}",
]
BAD_IDS = [2**31, 10**20, 0]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_ids_outside_the_columns_range_are_404_pages(client, clinic, admin, bad_id):
    for template in ID_PATHS:
        resp = client.get(template.format(id=bad_id))
        assert resp.status_code == 404, (template, bad_id, resp.status_code)
        assert "We could not find that page" in text_of(resp)


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_posts_to_ids_outside_the_range_are_404_and_change_nothing(client, clinic, admin, bad_id):
    before = counts()
    for path in (
        f"/appointments/{bad_id}/no-show",
        f"/appointments/{bad_id}/cancel",
        f"/patients/{bad_id}/intervals/{clinic.migraine.id}",
        f"/patients/{clinic.olivia.id}/intervals/{bad_id}",
        f"/admin/staff/{bad_id}/deactivate",
        f"/admin/time-off/{bad_id}/delete",
        f"/admin/tokens/{bad_id}/revoke",
    ):
        assert post_form(client, path, {"reason": "x"}, page="/admin/").status_code == 404, path
    assert counts() == before


def test_api_ids_outside_the_range_are_json_404s(client, clinic, reception_api):
    for bad_id in BAD_IDS:
        resp = reception_api.get(f"/patients/{bad_id}")
        assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
