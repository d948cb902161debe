"""The toxin rules (pure): toxin of a product, the rolling dose window, lifecycle timing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from scheduler.domain import lifecycle, toxins


def test_products_name_their_toxin():
    assert toxins.toxin_for_product("BOTOX") == toxins.toxin_for_product(" botox  cosmetic ") == "onabotulinumtoxinA"
    assert toxins.toxin_for_product("Dysport") == "abobotulinumtoxinA"
    assert toxins.toxin_for_product("Xeomin") == "incobotulinumtoxinA"
    assert toxins.toxin_for_product("NewTox") == "NewTox"  # unknown: a toxin of its own


def test_the_rolling_window_holds_the_new_dose():
    doses = [(date(2026, 12, 10), 300.0), (date(2027, 1, 10), 64.0)]
    assert toxins.peak_dose(doses, date(2027, 2, 10), 200, 90) == 564
    assert toxins.peak_dose(doses, date(2027, 3, 10), 200, 90) == 264  # 10 Dec has left the window
    # a dose recorded before later ones counts them too
    assert toxins.peak_dose([(date(2027, 3, 1), 300.0)], date(2027, 1, 1), 200, 90) == 500
    assert toxins.over_cap(564, 400) and not toxins.over_cap(400, 400) and not toxins.over_cap(9999, None)


def test_usual_sites_are_a_clean_list():
    assert toxins.site_list("glabella\nfrontalis, glabella\n\n  crow's   feet ") == [
        "glabella",
        "frontalis",
        "crow's feet",
    ]


def _at(day: int, hh: int) -> datetime:
    return datetime(2027, 3, day, hh, tzinfo=UTC)


def test_timing_rules():
    visit = dict(visit_day=date(2027, 3, 2), starts_at=_at(2, 10))
    assert lifecycle.timing_problem("checked_in", **visit, today=date(2027, 3, 1), now=_at(1, 8))[0] == "not_today"
    assert lifecycle.timing_problem("checked_in", **visit, today=date(2027, 3, 2), now=_at(2, 8)) is None
    assert lifecycle.timing_problem("checked_in", **visit, today=date(2027, 3, 3), now=_at(3, 8))[0] == "not_today"
    assert lifecycle.timing_problem("completed", **visit, today=date(2027, 3, 1), now=_at(1, 8))[0] == "before_day"
    assert lifecycle.timing_problem("completed", **visit, today=date(2027, 3, 9), now=_at(9, 8)) is None
    assert lifecycle.timing_problem("no_show", **visit, today=date(2027, 3, 2), now=_at(2, 9))[0] == "before_start"
    assert lifecycle.timing_problem("no_show", **visit, today=date(2027, 3, 2), now=_at(2, 10)) is None
    assert lifecycle.timing_problem("cancelled", **visit, today=date(2027, 1, 1), now=_at(1, 1)) is None
    assert not lifecycle.is_overridable("completed") and lifecycle.is_overridable("checked_in")
    assert lifecycle.undo_problem("no_show", visit_day=date(2027, 3, 2), today=date(2027, 3, 2)) is None
    assert lifecycle.undo_problem("no_show", visit_day=date(2027, 3, 2), today=date(2027, 3, 3))
    assert lifecycle.undo_problem("completed", visit_day=date(2027, 3, 2), today=date(2027, 3, 2))


def test_the_page_offers_only_what_will_be_accepted():
    visit = dict(visit_day=date(2027, 3, 2), starts_at=_at(2, 10), today=date(2027, 3, 1), now=_at(1, 8))
    desk = lifecycle.offered_actions("booked", **visit, is_admin=False)
    assert desk["check_in"] is None and desk["no_show"] is None and desk["cancel"] == "yes"
    admin = lifecycle.offered_actions("booked", **visit, is_admin=True)
    assert admin["check_in"] == "override" and admin["no_show"] == "override"
    early = lifecycle.offered_actions("checked_in", **visit, is_admin=True)
    assert early["complete"] is None and early["undo"] == "override"
    on_day = dict(visit, today=date(2027, 3, 2), now=_at(2, 10))
    assert lifecycle.offered_actions("checked_in", **on_day, is_admin=False)["complete"] == "yes"
    assert lifecycle.offered_actions("no_show", **on_day, is_admin=False)["undo"] == "yes"
