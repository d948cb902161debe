"""API tokens: an optional expiry (`flask users token EMAIL --days N`, then a 401 that says so)
and a last-used time written at most once a minute per token, shown on the admin staff page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from scheduler.extensions import db
from scheduler.models import ApiToken
from scheduler.staff import tokens
from tests.conftest import NOW, csrf_from
from tests.test_cli import one_line_error


def _get(client, token: str):
    return client.get("/api/v1/treatments", headers={"Authorization": f"Bearer {token}"})


def _token_row(prefix: str) -> ApiToken:
    db.session.rollback()
    return db.session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))


def test_a_token_made_with_days_works_until_then_and_is_refused_after(runner, client, make_user, frozen):
    make_user("receptionist", email="desk@clinic.example")
    result = runner.invoke(args=["users", "token", "desk@clinic.example", "--days", "7"])
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    assert _token_row(token[:12]).expires_at == NOW + timedelta(days=7)
    assert _get(client, token).status_code == 200
    frozen.move_to(NOW + timedelta(days=7) - timedelta(seconds=1))
    assert _get(client, token).status_code == 200
    frozen.move_to(NOW + timedelta(days=7))
    resp = _get(client, token)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    error = resp.get_json()["error"]
    assert error["code"] == "token_expired"
    assert error["message"] == "The API token expired on 2027-03-08 08:00 UTC; ask an admin for a new one."


def test_a_token_made_without_days_does_not_expire(runner, client, make_user, frozen):
    make_user("receptionist", email="desk@clinic.example")
    token = runner.invoke(args=["users", "token", "desk@clinic.example"]).stdout.strip()
    assert _token_row(token[:12]).expires_at is None
    frozen.move_to(NOW + timedelta(days=3650))
    assert _get(client, token).status_code == 200


@pytest.mark.parametrize("days", ["0", "-3", "seven", "1.5", "3651"])
def test_bad_days_are_refused_in_one_line_and_make_no_token(runner, make_user, days):
    make_user("receptionist", email="desk@clinic.example")
    result = runner.invoke(args=["users", "token", "desk@clinic.example", "--days", days])
    assert "days" in one_line_error(result)
    assert result.stdout == ""
    assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 0


def _token_updates(fn) -> int:
    """How many UPDATEs of api_tokens `fn` sends."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(seen)


def test_last_use_is_written_at_most_once_a_minute(client, make_user, frozen):
    user = make_user("receptionist")
    token = tokens.issue_token(user, actor_label="test")
    db.session.commit()
    assert _token_row(token[:12]).last_used_at is None
    assert _token_updates(lambda: _get(client, token)) == 1
    assert _token_row(token[:12]).last_used_at == NOW
    frozen.move_to(NOW + timedelta(seconds=59))
    assert _token_updates(lambda: _get(client, token)) == 0
    assert _token_row(token[:12]).last_used_at == NOW
    frozen.move_to(NOW + timedelta(seconds=60))
    assert _token_updates(lambda: _get(client, token)) == 1
    assert _token_row(token[:12]).last_used_at == NOW + timedelta(seconds=60)
    # a POST writes it too, in the request's own transaction
    frozen.move_to(NOW + timedelta(minutes=5))
    body = {"first_name": "Ada", "last_name": "Lovelace"}
    resp = client.post("/api/v1/patients", json=body, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_json()
    assert _token_row(token[:12]).last_used_at == NOW + timedelta(minutes=5)


def test_the_staff_page_shows_last_use_and_expiry(client, sign_in, make_user, frozen):
    sign_in("admin")
    desk = make_user("receptionist", email="desk@clinic.example")
    used = tokens.issue_token(desk, actor_label="test")
    unused = tokens.issue_token(desk, days=1, actor_label="test")
    db.session.commit()
    assert _get(client, used).status_code == 200
    html = client.get("/admin/staff").get_data(as_text=True)
    assert '<th scope="col">Last used</th>' in html and '<th scope="col">Expires</th>' in html
    used_row = html[html.index(used[:12]) :].split("</tr>")[0]
    unused_row = html[html.index(unused[:12]) :].split("</tr>")[0]
    assert "01 Mar 2027 08:00" in used_row and "never" in used_row  # used at 08:00; never expires
    assert "02 Mar 2027 08:00" in unused_row and "never" in unused_row  # never used; expires tomorrow
    frozen.move_to(NOW + timedelta(days=2))
    html = client.get("/admin/staff").get_data(as_text=True)
    assert "expired" in html[html.index(unused[:12]) :].split("</tr>")[0]
    page = client.get(f"/admin/staff/{desk.id}").get_data(as_text=True)
    assert "last used 01 Mar 2027 08:00" in page and "never used" in page and "expired" in page
    assert csrf_from(page)
