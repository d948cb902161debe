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
    assert links[0] == "09:00" and "09:30" in links and "16:30" in links
    assert "10:00" not in links and "10:15" not in links  # taken
    # the shortest treatment (cosmetic, 20 minutes) does not fit at 09:45 (10:00 booked) nor at 16:45 (17:00 closes)
    assert "09:45" not in links and "16:45" not in links
    assert len(links) == 32 - 2 - 2


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


def test_the_drawn_grid_is_reused_until_anything_it_shows_changes(client, clinic, reception, frozen, monkeypatch):
    """The grid is laid out once per distinct set of facts; any change to what it shows redraws it."""
    from sqlalchemy import update

    from scheduler.models import Appointment
    from scheduler.web.reception import grid

    grid._render.cache_clear()
    builds = []
    real_build = grid.build_grid
    monkeypatch.setattr(grid, "build_grid", lambda *facts: builds.append(facts) or real_build(*facts))
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
    db.session.execute(update(Appointment).where(Appointment.id == a.id).values(status="cancelled"))
    db.session.commit()
    assert "Cancelled" in look() and len(builds) == 4
    db.session.add(TimeOff(practitioner_id=clinic.hart.id, starts_at=london(TODAY, 15), ends_at=london(TODAY, 16)))
    db.session.commit()
    assert "Time off" in look() and len(builds) == 5
    clinic.mehta.working_hours = {"mon": [["12:00", "13:00"]]}
    db.session.commit()
    assert "12:00–13:00" in look() and len(builds) == 6
    frozen.shift(60)  # the clock matters to the minute (free cells, the now line)
    look()
    assert len(builds) == 7
