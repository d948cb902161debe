"""Bad input to the pages is a 4xx with a clear message, never a 500 and never a partial write:
NUL in search and filter texts, ids outside the id columns' range, out-of-range dates, and
redirect targets with CR/LF."""

from __future__ import annotations

import pytest

from scheduler.web.redirects import safe_next
from tests.conftest import PASSWORD, csrf_from, london
from tests.web.conftest import TODAY, counts, fresh, make_appointment, post_form, text_of

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


@pytest.mark.parametrize(
    "path,message",
    [
        ("/patients?q=%00", "The search cannot contain control characters"),
        ("/patients?q=Smith%00", "The search cannot contain control characters"),
        ("/book?q=%00", "The search cannot contain control characters"),
        ("/admin/audit?actor=%00", "The actor cannot contain control characters"),
        ("/admin/audit?action=booking%00", "The action cannot contain control characters"),
        ("/admin/audit?entity=%00", "The entity cannot contain control characters"),
        ("/admin/lots?lot=%00", "The lot number cannot contain control characters"),
        ("/admin/lots?lot=A1%0D%0AB&format=csv", "The lot number cannot contain control characters"),
    ],
)
def test_control_characters_in_search_texts_are_400(client, clinic, admin, path, message):
    resp = client.get(path)
    assert resp.status_code == 400 and message in text_of(resp)


def test_a_booking_post_with_nul_in_the_search_is_400_and_books_nothing(client, clinic, admin):
    before = counts()
    resp = post_form(client, "/book", {"q": "\x00", "slot": "x"}, page="/book")
    assert resp.status_code == 400 and "The search cannot contain control characters" in text_of(resp)
    assert counts() == before


def test_searches_still_work_around_the_check(client, clinic, reception):
    assert "Olivia Smith" in text_of(client.get("/patients?q=%20olivia%20"))
    assert client.get("/admin/lots?lot=%20").status_code == 403  # receptionist: the admin check comes first


@pytest.mark.parametrize(
    "query,message",
    [
        ("to=9999-12-31", "to must be a date between the years 1900 and 2200"),
        ("from=0001-01-01", "from must be a date between the years 1900 and 2200"),
        ("from=2027-13-01", "from must be a date (YYYY-MM-DD)"),
    ],
)
def test_audit_dates_out_of_range_are_400(client, clinic, admin, query, message):
    resp = client.get(f"/admin/audit?{query}")
    assert resp.status_code == 400 and message in text_of(resp)


def test_audit_dates_at_the_bounds_work(client, clinic, admin):
    assert client.get("/admin/audit?from=1900-01-01&to=2200-12-31").status_code == 200


CRLF_NEXT = "/patients\r\nSet-Cookie: stolen=1"


def test_sign_in_with_crlf_in_next_goes_to_the_calendar(client, make_user):
    user = make_user("receptionist")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    form = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    resp = client.post("/login?next=/%0D%0ASet-Cookie:%20stolen=1", data=form)
    assert resp.status_code == 302 and resp.headers["Location"] in ("/", "/calendar")
    assert "stolen" not in str(resp.headers)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("action,status", [("no-show", "no_show"), ("check-in", "checked_in")])
def test_an_unsafe_next_after_an_action_falls_back_to_the_appointment(
    client, clinic, reception, frozen, action, status
):
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 10))
    frozen.move_to(london(TODAY, 10, 5))  # a no-show only after the start
    resp = post_form(client, f"/appointments/{appt.id}/{action}", {"next": CRLF_NEXT}, page=f"/appointments/{appt.id}")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/appointments/{appt.id}"
    assert fresh(appt).status == status


def test_an_unsafe_next_after_a_cancel_falls_back_to_the_appointment(client, clinic, reception):
    appt = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 10))
    resp = post_form(
        client, f"/appointments/{appt.id}/cancel", {"reason": "ill", "next": CRLF_NEXT}, page=f"/appointments/{appt.id}"
    )
    assert resp.status_code == 302 and resp.headers["Location"] == f"/appointments/{appt.id}"
    assert fresh(appt).status == "cancelled"


@pytest.mark.parametrize(
    "candidate",
    [
        None,
        "",
        "patients",
        "//evil.example/x",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/patients\r\nX-Injected: 1",
        "/patients\x00",
        "/patients\t",
        "/a b",
        "/zoë",
        "/" + "x" * 2001,
    ],
)
def test_safe_next_refuses_anything_but_a_plain_path_here(candidate):
    assert safe_next(candidate, "/fallback") == "/fallback"


@pytest.mark.parametrize("candidate", ["/", "/patients/7", "/calendar?date=2027-03-01&x=%0D%0A", "/a:b"])
def test_safe_next_keeps_plain_paths(candidate):
    assert safe_next(candidate, "/fallback") == candidate
