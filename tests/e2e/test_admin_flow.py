"""Browser: an admin changes a re-treatment interval, sees the live preview and the re-plan count."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Treatment
from tests.e2e.conftest import refresh, shot, sign_in

pytestmark = pytest.mark.e2e


def test_admin_changes_an_interval(page, demo):
    sign_in(page, "admin@example.com", demo["admin@example.com"])
    page.goto("/admin/")
    shot(page, "admin-index")
    page.get_by_role("link", name=re.compile("Treatment catalogue")).click()
    shot(page, "admin-treatments")
    page.get_by_role("link", name="Chronic migraine").click()
    preview = page.locator("#preview")
    # a session on Tue 2 Mar 2027: first reminder 12 weeks later
    assert "25 May 2027" in preview.inner_text()
    page.locator("#until_value").fill("5")
    expect(preview).to_contain_text("2 Aug 2027")
    shot(page, "admin-treatment-editor")
    page.locator("#from_value").fill("4")
    expect(preview).to_contain_text("minimum interval")
    page.locator("#from_value").fill("12")
    page.get_by_role("button", name="Save").click()
    flash = page.locator(".flash").first.inner_text()
    assert re.search(r"Saved\. \d+ pending reminders? re-planned\.", flash), flash
    moved = int(re.search(r"(\d+) pending", flash).group(1))
    assert moved > 0  # the demo clinic has completed migraine sessions with pending reminders
    shot(page, "admin-treatment-saved")
    refresh()
    treatment = db.session.scalar(select(Treatment).where(Treatment.name == "Chronic migraine"))
    assert treatment.remind_until == "P5M"


def test_admin_dashboard_and_outbox(page, demo):
    from scheduler.reminders import sweep

    report = sweep.run()  # as the run command's scheduler does: due reminders go to the local outbox
    db.session.commit()
    assert report.count("sent") > 0, report.note
    sign_in(page, "admin@example.com", demo["admin@example.com"])
    page.goto("/admin/dashboard")
    expect(page.get_by_role("heading", name="Re-treatments falling due per week")).to_be_visible()
    assert page.locator("svg.chart rect").count() == 26
    shot(page, "admin-dashboard")
    page.goto("/admin/outbox")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Outbox")
    assert page.locator("text=sent").count() > 0
    shot(page, "admin-outbox")
