"""On a 390 px phone the staff lists are stacked cards: nothing scrolls sideways, every cell is
labelled with its column, no status badge is clipped; a recall call is logged from a card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Patient, RecallContact
from scheduler.services import clock
from tests.e2e.conftest import DESKTOP, shot, sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
LISTS = ["/recall", "/patients?q=a", "/admin/outbox", "/admin/audit", "/admin/treatments"]

#: in the page: how far it scrolls sideways, cells without a label, badges whose text is cut
MEASURE = """() => {
  const clipped = [...document.querySelectorAll('table.list .pill, table.list .badge, table.list .status-chip')]
    .filter(el => { const r = el.getBoundingClientRect(), box = el.closest('tr').getBoundingClientRect();
                    return el.scrollWidth > el.clientWidth + 1 || r.right > box.right + 1 || r.left < box.left - 1; })
    .map(el => el.textContent.trim());
  const unlabelled = [...document.querySelectorAll('table.list tbody td:not(.actions):not(.empty)')]
    .filter(td => !td.getAttribute('data-label')).length;
  const stacked = [...document.querySelectorAll('table.list tbody tr')]
    .every(tr => getComputedStyle(tr).display === 'block');
  return {overflow: document.documentElement.scrollWidth - window.innerWidth, clipped, unlabelled, stacked};
}"""


def test_lists_are_cards_on_a_phone_and_tables_on_a_desktop(page, demo):
    sign_in(page, "admin@example.com", demo["admin@example.com"])
    for width in (PHONE, DESKTOP):
        page.set_viewport_size(width)
        for path in LISTS:
            page.goto(path)
            expect(page.locator("table.list tbody tr").first).to_be_visible()
            found = page.evaluate(MEASURE)
            assert found["overflow"] <= 0, (path, width, found)
            assert found["clipped"] == [], (path, width, found)
            assert found["unlabelled"] == 0, (path, found)
            assert found["stacked"] is (width is PHONE), (path, width)
            name = path.strip("/").replace("/", "-").split("?")[0]
            shot(page, f"{name}-{width['width']}")


def test_a_call_is_logged_from_a_recall_card_on_a_phone(page, demo):
    sign_in(page, "reception@example.com", demo["reception@example.com"])
    page.set_viewport_size(PHONE)
    page.goto("/recall")
    first = page.locator("table.list tbody tr").first
    name = first.locator("td[data-label=Patient] a").inner_text()
    first.get_by_text("Log a call").click()
    first.get_by_label("Outcome").select_option("call_back")
    back_on = clock.today() + timedelta(days=3)
    first.get_by_label("Call back on").fill(back_on.isoformat())
    first.get_by_label("Note").fill("Only after 5pm")
    shot(page, "recall-log-call-390")
    first.get_by_role("button", name="Save the call").click()
    expect(page.get_by_role("status")).to_contain_text("Call recorded: call back on")
    card = page.locator("table.list tbody tr", has_text=name)
    expect(card).to_contain_text("Only after 5pm")
    db.session.rollback()
    row = db.session.scalar(select(RecallContact).order_by(RecallContact.id.desc()))
    patient = db.session.get(Patient, row.patient_id)
    assert (patient.full_name, row.outcome, row.call_back_on) == (name, "call_back", back_on)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
