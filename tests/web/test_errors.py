"""403, 404 and 500 pages in the app's own style."""

from __future__ import annotations

from tests.web.conftest import text_of


def test_not_found_page(client, clinic, reception):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    page = text_of(resp)
    assert "We could not find that page" in page and "Today's calendar" in page and "Patients" in page
    assert 'href="/static/app.css"' in resp.get_data(as_text=True)


def test_forbidden_page(client, clinic, reception):
    resp = client.get("/admin/")
    assert resp.status_code == 403
    page = text_of(resp)
    assert "You cannot open this page" in page and "Ask an admin" in page


def test_server_error_page(client, clinic, reception, monkeypatch):
    from scheduler.patients import recall

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(recall, "due_list", broken)
    resp = client.get("/recall")
    assert resp.status_code == 500
    page = text_of(resp)
    assert "Something went wrong" in page and "Nothing was changed" in page and "boom" not in page


def test_error_pages_for_visitors(client, clinic):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404
    assert "Sign in" in text_of(resp)
