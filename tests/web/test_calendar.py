"""The day calendar and the week view."""

from __future__ import annotations

import re
from datetime import date

from scheduler.extensions import db
from scheduler.models import TimeOff
from tests.conftest import london
from tests.web.conftest import TODAY, TUESDAY, make_appointment, text_of


def test_today_is_the_default_day(client, clinic, reception):
    for path in ("/", "/calendar"):
        page = text_of(client.get(path))
        assert "Monday 1 March 2027" in page and "Today" in page


def test_each_practitioner_has_a_column_with_their_appointments(client, clinic, reception):
    a = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    make_appointment(clinic.noah, clinic.mehta, clinic.cosmetic, london(TUESDAY, 14, 15), status="cancelled")
    resp = client.get(f"/calendar?date={TUESDAY}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    page = text_of(resp)
    assert "Tuesday 2 March 2027" in page
    assert page.index("Dr Amelia Hart") < page.index("Olivia Smith") < page.index("Dr Rohan Mehta")
    assert page.index("Dr Rohan Mehta") < page.index("Noah Jones")
    assert "10:00" in page and "Chronic migraine" in page and "Booked" in page
    assert "14:15" in page and "Cosmetic lines" in page and "Cancelled" in page
    assert f'href="/appointments/{a.id}"' in html
    assert 'class="appt st-booked' in html and 'class="appt st-cancelled' in html
    assert "2 appointments" in page and "1 booked" in page and "1 cancelled" in page


def test_appointments_are_placed_by_local_time(client, clinic, reception):
    # 10:30-11:00 in London: the day starts at 09:00 (the working hours), in 5-minute tracks.
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10, 30))
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    block = re.search(r'<a class="appt st-booked (r\d+) (s\d+)', html)
    assert block.groups() == ("r19", "s6")  # (90 minutes after 09:00) / 5 + 1; 30 minutes / 5


def test_times_are_shown_in_the_clinic_time_zone(client, clinic, reception):
    summer = date(2027, 6, 1)  # British Summer Time: 10:00 in London is 09:00 UTC
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(summer, 10))
    page = text_of(client.get(f"/calendar?date={summer}"))
    assert "10:00 Booked Olivia Smith" in page
    assert "09:00 Booked" not in page


def test_free_times_link_to_the_prefilled_booking_form(client, clinic, reception):
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    links = re.findall(rf'href="/book\?practitioner_id={clinic.hart.id}&amp;date={TUESDAY}&amp;time=(\d\d:\d\d)"', html)
    assert links[0] == "09:00" and "09:45" in links and "16:45" in links
    assert "10:00" not in links and "10:15" not in links  # taken
    assert len(links) == 32 - 2


def test_no_free_times_in_the_past(client, clinic, reception, frozen):
    frozen.move_to(london(TODAY, 10, 20))
    html = client.get("/").get_data(as_text=True)
    links = re.findall(rf'href="/book\?practitioner_id={clinic.hart.id}&amp;date={TODAY}&amp;time=(\d\d:\d\d)"', html)
    assert links[0] == "10:30"


def test_the_current_time_is_marked_on_today_only(client, clinic, reception, frozen):
    frozen.move_to(london(TODAY, 10, 20))
    html = client.get("/").get_data(as_text=True)
    assert html.count('class="now r') == 2  # one per practitioner column
    assert 'class="now-label r' in html and ">10:20<" in html
    assert 'class="now r' not in client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)


def test_time_off_is_shown(client, clinic, reception):
    db.session.add(
        TimeOff(
            practitioner_id=clinic.hart.id,
            starts_at=london(TUESDAY, 13),
            ends_at=london(TUESDAY, 14),
            reason="Training",
        )
    )
    db.session.commit()
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    assert re.search(r'class="off r\d+ s12">Training<', html)
    assert f"practitioner_id={clinic.hart.id}&amp;date={TUESDAY}&amp;time=13:15" not in html


def test_day_navigation_and_date_picker(client, clinic, reception):
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    assert 'href="/calendar?date=2027-03-01"' in html and 'href="/calendar?date=2027-03-03"' in html
    assert re.search(r'<form class="inline-form" method="get" action="/calendar"', html)
    assert 'type="date" name="date" value="2027-03-02"' in html


def test_a_bad_date_is_explained(client, clinic, reception):
    resp = client.get("/calendar?date=2027-02-30")
    assert resp.status_code == 400
    assert "is not a date; use YYYY-MM-DD" in text_of(resp)
    assert client.get("/calendar?date=1850-01-01").status_code == 400


def test_overlapping_appointments_sit_side_by_side(client, clinic, reception):
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10), status="cancelled")
    make_appointment(clinic.noah, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    assert "lanes-2" in html and "lane-1" in html and "lane-2" in html


def test_cancelled_appointments_leave_the_free_cell_clickable(client, clinic, reception):
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 11), status="cancelled")
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    assert "beside-free" in html
    assert f"practitioner_id={clinic.hart.id}&amp;date={TUESDAY}&amp;time=11:00" in html


def test_week_view(client, clinic, reception):
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(date(2027, 3, 4), 9, 30))
    make_appointment(clinic.noah, clinic.mehta, clinic.migraine, london(date(2027, 3, 4), 9, 30))
    resp = client.get(f"/calendar/week?practitioner_id={clinic.hart.id}&date=2027-03-03")
    assert resp.status_code == 200
    page = text_of(resp)
    assert "Dr Amelia Hart" in page and "1 Mar – Sun 7 Mar 2027" in page
    for day in ("Mon 1 Mar", "Tue 2 Mar", "Wed 3 Mar", "Thu 4 Mar", "Fri 5 Mar"):
        assert day in page
    assert "Not working: Sat, Sun." in page
    assert "Olivia Smith" in page and "Noah Jones" not in page
    html = resp.get_data(as_text=True)
    assert f'href="/calendar/week?practitioner_id={clinic.hart.id}&amp;date=2027-02-22"' in html
    assert 'href="/calendar?date=2027-03-04"' in html  # a day's header opens that day


def test_week_view_defaults_and_refusals(client, clinic, reception):
    assert "Dr Amelia Hart" in text_of(client.get("/calendar/week"))
    assert client.get("/calendar/week?practitioner_id=999").status_code == 404
    assert client.get("/calendar/week?practitioner_id=abc").status_code == 400
    assert client.get(f"/calendar/week?practitioner_id={clinic.hart.id}&date=x").status_code == 400


def test_without_practitioners_the_calendar_says_so(client, sign_in, frozen):
    sign_in("receptionist")
    assert "There are no practitioners yet." in text_of(client.get("/"))


def test_the_tab_order_follows_the_day(client, clinic, reception):
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    make_appointment(clinic.noah, clinic.hart, clinic.migraine, london(TUESDAY, 15))
    html = client.get(f"/calendar?date={TUESDAY}").get_data(as_text=True)
    column = html[html.index('<section class="cal-col"') : html.index("</section>")]
    times = re.findall(
        r'<a class="(?:free|appt)[^"]*"[^>]*>\s*(?:<span[^>]*>(?:\+ )?</span>)?(?:<span class="appt-line[^"]*">)?'
        r"(?:<time[^>]*>)?(\d\d:\d\d)",
        column,
    )
    assert times == sorted(times) and "10:00" in times and "15:00" in times and len(times) > 20


def test_the_page_around_the_grid_is_the_template_rendered_whole(app, client, clinic, reception):
    """page_with_grid sends the grid's bytes encoded once: the page is byte for byte what
    rendering the template with the grid in it gives, names beyond ASCII included."""
    from flask import render_template

    from scheduler.web.reception import calendar, grid

    clinic.olivia.first_name = "Zoë"
    db.session.commit()
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TUESDAY, 10))
    resp = client.get(f"/calendar?date={TUESDAY}")
    assert resp.status_code == 200 and resp.content_type == "text/html; charset=utf-8"
    assert "Zoë Smith" in text_of(resp) and "09:00–17:00" in text_of(resp)
    captured = {}
    real = grid.page_with_grid

    def whole(template, the_grid, **context):
        captured["page"] = render_template(template, grid=the_grid, **context)
        return real(template, the_grid, **context)

    for path in (f"/calendar?date={TUESDAY}", f"/calendar/week?date={TUESDAY}&practitioner_id={clinic.hart.id}"):
        calendar.page_with_grid = whole
        try:
            resp = client.get(path)
        finally:
            calendar.page_with_grid = real
        assert resp.status_code == 200
        assert resp.get_data() == captured["page"].encode("utf-8")
        assert resp.get_data().count(b"Zo\xc3\xab Smith") >= 1 and b"<!-- the grid -->" not in resp.get_data()


def test_a_page_without_its_grid_marker_is_refused(app, monkeypatch):
    """A template that does not show the grid would send a page without it: an error, not a blank."""
    import pytest

    from scheduler.web.reception import grid

    monkeypatch.setattr(grid, "render_template", lambda template, **context: "<main>no grid here</main>")
    with app.test_request_context("/"):
        rendered = grid.RenderedGrid("<div>grid</div>")
        rendered.utf8 = rendered.encode()
        with pytest.raises(LookupError, match="does not show its grid"):
            grid.page_with_grid("reception/day.html", rendered)


def test_the_drawn_grid_is_reused_until_anything_it_shows_changes(client, clinic, reception, frozen, monkeypatch):
    """The grid is rendered once per distinct set of facts; any change to what it shows redraws it."""
    from sqlalchemy import update

    from scheduler.models import Appointment
    from scheduler.web.reception import grid

    grid._render.cache_clear()
    builds = []
    real_build = grid.build_grid
    monkeypatch.setattr(grid, "build_grid", lambda facts: builds.append(facts) or real_build(facts))
    a = make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 11))

    def look() -> str:
        return text_of(client.get("/"))

    first = look()
    assert len(builds) == 1 and "Olivia Smith" in first
    assert look() == first and len(builds) == 1  # nothing changed: the same grid, not drawn again

    clinic.olivia.first_name = "Liv"
    db.session.commit()
    assert "Liv Smith" in look() and len(builds) == 2
    clinic.migraine.name = "Headache clinic"
    db.session.commit()
    assert "Headache clinic" in look() and len(builds) == 3
    # a bulk UPDATE that leaves updated_at alone is seen too: the facts are the rows themselves
    db.session.execute(update(Appointment).where(Appointment.id == a.id).values(status="cancelled"))
    db.session.commit()
    assert "Cancelled" in look() and len(builds) == 4
    db.session.add(TimeOff(practitioner_id=clinic.hart.id, starts_at=london(TODAY, 15), ends_at=london(TODAY, 16)))
    db.session.commit()
    assert "Time off" in look() and len(builds) == 5
    clinic.mehta.working_hours = {"mon": [["12:00", "13:00"]]}
    db.session.commit()
    page = look()
    assert len(builds) == 6 and "12:00–13:00" in page
    frozen.shift(60)  # the clock matters to the minute (free cells, the now line)
    look()
    assert len(builds) == 7
    frozen.shift(20)
    look()
    assert len(builds) == 7


def test_the_rows_read_are_converted_once_until_they_change(client, clinic, reception, monkeypatch):
    """Every look reads the appointments; rows equal to the last look's are not converted again."""
    from scheduler.web.reception import grid

    grid._shown.cache_clear()
    names = []
    real_booked = grid.Booked
    monkeypatch.setattr(grid, "Booked", lambda *values: names.append(values[5]) or real_booked(*values))
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 11))
    make_appointment(clinic.olivia, clinic.mehta, clinic.migraine, london(TODAY, 14))
    first = text_of(client.get("/"))
    assert names == ["Olivia Smith", "Olivia Smith"] and "Olivia Smith" in first
    assert text_of(client.get("/")) == first and len(names) == 2  # the same rows: the same appointments
    clinic.olivia.first_name = "Liv"
    db.session.commit()
    assert "Liv Smith" in text_of(client.get("/")) and names[2:] == ["Liv Smith", "Liv Smith"]


def test_a_look_reads_the_calendar_in_one_statement(client, clinic, reception):
    """Practitioners, time off, appointments with their patients' names, and the treatments' names
    come in one round trip; the treatments are not joined to each appointment."""
    from sqlalchemy import event

    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 11))
    db.session.add(TimeOff(practitioner_id=clinic.hart.id, starts_at=london(TODAY, 15), ends_at=london(TODAY, 16)))
    db.session.commit()
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = text_of(client.get("/"))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    calendar = [s for s in seen if "appointments" in s or "practitioners" in s or "treatments" in s]
    assert len(calendar) == 1, calendar
    assert "time_off" in calendar[0] and "JOIN treatments" not in calendar[0] and "JOIN patients" not in calendar[0]
    assert "Olivia Smith" in page and "Time off" in page


def test_the_calendar_is_the_same_whatever_order_the_rows_come_in(app, clinic):
    """The statement leaves the order to `_shown`: practitioners by name, time off and appointments by start."""
    import random

    from scheduler.services import booking
    from scheduler.web.reception import grid

    make_appointment(clinic.olivia, clinic.mehta, clinic.migraine, london(TODAY, 14))
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 11))
    for hh in (16, 9):
        db.session.add(
            TimeOff(practitioner_id=clinic.hart.id, starts_at=london(TODAY, hh), ends_at=london(TODAY, hh, 30))
        )
    db.session.commit()
    start, end = booking.day_bounds(TODAY)
    rows = grid.driver_rows(
        grid._shown_statement(False), {"start": start, "end": end, "scan_from": start - grid.MAX_LENGTH}
    )
    shown = grid._shown(tuple(rows), db.engine.dialect)
    assert [p.name for p in shown.staff] == sorted(p.name for p in shown.staff) and len(shown.staff) >= 2
    assert [o.starts_at for o in shown.offs] == [london(TODAY, 9), london(TODAY, 16)]
    assert [a.starts_at for a in shown.appts] == [london(TODAY, 11), london(TODAY, 14)]
    assert {a.treatment_name for a in shown.appts} == {clinic.migraine.name}
    for seed in range(5):
        shuffled = list(rows)
        random.Random(seed).shuffle(shuffled)
        assert grid._shown(tuple(shuffled), db.engine.dialect) == shown


def test_postgresql_plans_the_calendar_and_the_booking_conflicts_once_per_connection(app, clinic):
    """Prepared after five runs, the calendar's statement and the booking's conflicts get
    PostgreSQL's generic plan instead of a new plan at each run (`plan_opaque`).

    At a test's size PostgreSQL may choose the generic plan either way; at a million
    appointments it chose custom plans until the window's bounds were hidden from the planner,
    so the bounds must reach it as sub-selects."""
    from datetime import timedelta

    import pytest
    from sqlalchemy import text

    from scheduler.services import booking
    from scheduler.web.reception import grid

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    make_appointment(clinic.olivia, clinic.hart, clinic.migraine, london(TODAY, 11))
    start, end = booking.day_bounds(TODAY)
    at = london(TODAY, 15)
    for _ in range(12):
        grid.shown_between(start, end)
        booking._conflicts(clinic.hart.id, clinic.olivia.id, clinic.migraine.id, at, at + timedelta(minutes=30), None)
    plans = db.session.execute(
        text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE from_sql IS FALSE")
    ).all()
    calendar = [p for p in plans if "time_off" in p.statement and "treatments" in p.statement]
    conflicts = [p for p in plans if "time_off" in p.statement and "sessions" in p.statement]
    assert calendar and conflicts, plans
    for p in calendar + conflicts:
        assert p.generic_plans >= 1 and p.custom_plans <= 5, p
        # every bound of the window, planned without its value
        assert re.findall(r"starts_at [<>] \(SELECT \$\d+", p.statement), p.statement
        assert not re.findall(r"(?:starts_at|ends_at) [<>] \$\d+", p.statement), p.statement
    db.session.rollback()
