"""The time-off form: local times the clocks skip or repeat, and extreme dates, are form errors on
the practitioner's page; nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import AuditEvent, TimeOff
from tests.conftest import csrf_from
from tests.web.conftest import text_of


@pytest.fixture
def page(client, sign_in, make_practitioner, frozen):
    """The signed-in admin's practitioner page, as (path, CSRF token)."""
    sign_in("admin")
    path = f"/admin/practitioners/{make_practitioner(name='Dr Hart').id}"
    return path, csrf_from(client.get(path).get_data(as_text=True))


def _add(client, page, starts: str, ends: str, reason: str = "leave"):
    path, token = page
    return client.post(f"{path}/time-off", data={"csrf_token": token, "starts": starts, "ends": ends, "reason": reason})


def _rows() -> tuple[int, int]:
    db.session.rollback()
    time_off = db.session.scalar(select(func.count()).select_from(TimeOff))
    audited = db.session.scalar(select(func.count()).where(AuditEvent.action == "practitioner.time_off_added"))
    return time_off, audited


@pytest.mark.parametrize(
    "starts,ends,message",
    [
        (
            "2027-03-28T01:30",
            "2027-03-28T12:00",
            "01:30 on 28 March 2027 does not exist in Europe/London (clocks go forward); choose 00:59 or 02:00.",
        ),
        (
            "2027-10-30T18:00",
            "2027-10-31T01:30",
            "01:30 on 31 October 2027 happens twice in Europe/London (clocks go back): 01:30 BST or 01:30 GMT; "
            "choose 00:59 or 02:00.",
        ),
        ("0001-01-01T00:00", "2027-03-02T12:00", "Enter a year between 2000 and 2100."),
        ("2027-03-02T09:00", "9999-12-31T23:59", "Enter a year between 2000 and 2100."),
    ],
)
def test_skipped_repeated_and_extreme_times_are_form_errors(client, page, starts, ends, message):
    resp = _add(client, page, starts, ends)
    assert resp.status_code == 400
    text = text_of(resp)
    assert message in text and "The time off was not added" in text and "Dr Hart" in text
    assert f'value="{starts}"' in resp.get_data(as_text=True)  # what was typed stays in the form
    assert _rows() == (0, 0)


def test_a_period_across_the_change_is_stored_in_true_instants(client, page):
    resp = _add(client, page, "2027-03-28T00:00", "2027-03-28T03:00")
    assert resp.status_code == 302
    row = db.session.scalar(select(TimeOff))
    assert row.starts_at == datetime(2027, 3, 28, 0, 0, tzinfo=UTC)
    assert row.ends_at == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)  # 03:00 BST
    assert _rows() == (1, 1)


def test_an_end_before_the_start_is_refused_on_the_page(client, page):
    resp = _add(client, page, "2027-03-02T12:00", "2027-03-02T09:00")
    assert resp.status_code == 422 and "The time off must end after it starts." in text_of(resp)
    assert _rows() == (0, 0)


def test_a_missing_or_malformed_time_is_a_form_error(client, page):
    resp = _add(client, page, "", "2027-03-02T09:00")
    assert resp.status_code == 400 and "Give the start." in text_of(resp)
    resp = _add(client, page, "2027-03-02T09:00", "tomorrow")
    assert resp.status_code == 400 and "Not a valid datetime value." in text_of(resp)
    assert _rows() == (0, 0)


def test_time_off_for_an_unknown_practitioner_is_404(client, page):
    path, token = page
    resp = client.post("/admin/practitioners/999/time-off", data={"csrf_token": token, "starts": "", "ends": ""})
    assert resp.status_code == 404
