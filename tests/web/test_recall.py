"""The recall list and the patient page's re-treatment status (services and page)."""

from __future__ import annotations

from datetime import date

from scheduler.extensions import db
from scheduler.patients import recall
from scheduler.patients import view as patient_view
from tests.conftest import london
from tests.web.conftest import TODAY, TUESDAY, add_session, make_appointment, text_of


def test_who_is_due(clinic, make_patient):
    c = clinic
    overdue = make_patient(first_name="Over", last_name="Due")
    later = make_patient(first_name="Not", last_name="Yet")
    booked = make_patient(first_name="Al", last_name="Booked")
    add_session(c.olivia, c.migraine, date(2026, 12, 1))  # due 23 Feb 2027 (P12W), closes 1 Jun
    add_session(c.noah, c.cosmetic, date(2026, 11, 20))  # due 20 Feb 2027 (P3M)
    add_session(overdue, c.migraine, date(2026, 8, 1))  # window closed 1 Feb 2027
    add_session(later, c.migraine, date(2027, 1, 10))  # due 4 Apr 2027: not yet
    add_session(booked, c.migraine, date(2026, 11, 1))
    make_appointment(booked, c.hart, c.migraine, london(TUESDAY, 9))  # booked: off the list
    items = recall.due_list(TODAY)
    assert [(i.patient.last_name, i.treatment.name) for i in items] == [
        ("Due", "Chronic migraine"),
        ("Jones", c.cosmetic.name),
        ("Smith", "Chronic migraine"),
    ]
    first = items[0]
    assert (first.due_on, first.closes_on, first.overdue, first.days_since_due) == (
        date(2026, 10, 24),
        date(2027, 2, 1),
        True,
        128,
    )
    assert items[2].overdue is False and items[2].due_on == date(2027, 2, 23)
    assert [i.patient.last_name for i in recall.due_list(TODAY, treatment_id=c.cosmetic.id)] == ["Jones"]


def test_the_latest_session_counts_and_other_bookings_do_not_hide(clinic):
    c = clinic
    add_session(c.olivia, c.migraine, date(2026, 6, 1))
    add_session(c.olivia, c.migraine, date(2027, 2, 1))  # the newest: not due until 26 Apr
    add_session(c.noah, c.migraine, date(2026, 11, 1))
    make_appointment(c.noah, c.hart, c.dystonia, london(TUESDAY, 9))  # another treatment
    make_appointment(c.noah, c.hart, c.migraine, london(date(2027, 2, 20), 9), status="completed")  # in the past
    make_appointment(c.noah, c.hart, c.migraine, london(TUESDAY, 11), status="cancelled")
    assert [i.patient.last_name for i in recall.due_list(TODAY)] == ["Jones"]


def test_inactive_treatments_are_left_out(clinic):
    add_session(clinic.olivia, clinic.migraine, date(2026, 11, 1))
    clinic.migraine.active = False
    db.session.commit()
    assert recall.due_list(TODAY) == []


def test_the_recall_page(client, clinic, reception):
    add_session(clinic.olivia, clinic.migraine, date(2026, 12, 1))
    clinic.olivia.reminders_opt_in = False
    db.session.commit()
    resp = client.get("/recall")
    page = text_of(resp)
    assert "Olivia Smith" in page and "no emails" in page and "Tue 23 Feb 2027 (6 days)" in page
    assert "Tue 1 Jun 2027" in page and "07700 900123" in page
    html = resp.get_data(as_text=True)
    assert f'href="/book?patient_id={clinic.olivia.id}&amp;treatment_id={clinic.migraine.id}"' in html
    assert "Nobody is due." in text_of(client.get(f"/recall?treatment_id={clinic.cosmetic.id}"))
    assert "Olivia Smith" in text_of(client.get("/recall?treatment_id=abc"))


def test_retreatment_states(clinic):
    c = clinic
    add_session(c.olivia, c.migraine, date(2026, 12, 1))
    add_session(c.olivia, c.cosmetic, date(2026, 8, 1))
    add_session(c.olivia, c.dystonia, date(2027, 2, 1))
    rows = {r.treatment.name: r for r in patient_view.retreatment(c.olivia.id, TODAY)}
    assert rows["Chronic migraine"].state == "open"
    assert rows[c.cosmetic.name].state == "overdue"
    dystonia = rows[c.dystonia.name]
    assert dystonia.state == "not_due" and dystonia.earliest_safe == date(2027, 4, 26)
    assert rows["Chronic migraine"].earliest_safe == date(2027, 4, 26)  # same product
    # BOTOX Cosmetic is onabotulinumtoxinA too: the dystonia session of 1 Feb counts (+ 90 days)
    assert rows[c.cosmetic.name].earliest_safe == date(2027, 5, 2)
    make_appointment(c.olivia, c.hart, c.migraine, london(TUESDAY, 9))
    booked = {r.treatment.name: r for r in patient_view.retreatment(c.olivia.id, TODAY)}["Chronic migraine"]
    assert booked.state == "booked" and booked.next_booking.starts_at == london(TUESDAY, 9)


def test_the_recall_list_follows_the_patients_own_window(clinic, make_user):
    """A clinician's window for one patient moves them on and off the list, as it moves their
    reminders and their patient page: one rule for the three."""
    from scheduler.patients import intervals as patient_intervals

    c = clinic
    c.migraine.remind_from = "P4M"
    db.session.commit()
    add_session(c.olivia, c.migraine, date(2026, 12, 1))  # the treatment's window opens 1 April
    add_session(c.noah, c.migraine, date(2026, 11, 1))  # the treatment's window opens 1 March
    admin = make_user("admin")
    patient_intervals.set_window(c.olivia.id, c.migraine.id, "P12W", "P6M", "wears off sooner", actor=admin)
    patient_intervals.set_window(c.noah.id, c.migraine.id, "P20W", "P6M", "lasts longer", actor=admin)
    db.session.commit()
    due = {i.patient.id: i for i in recall.due_list(TODAY)}
    assert set(due) == {c.olivia.id}
    assert (due[c.olivia.id].due_on, due[c.olivia.id].closes_on) == (date(2027, 2, 23), date(2027, 6, 1))
    pages = [patient_view.retreatment(p.id, TODAY)[0] for p in (c.olivia, c.noah)]
    assert [(r.window_opens, r.state) for r in pages] == [(date(2027, 2, 23), "open"), (date(2027, 3, 21), "not_due")]


def test_appointments_upcoming_and_past(clinic):
    c = clinic
    today_done = make_appointment(c.olivia, c.hart, c.migraine, london(TODAY, 9), status="checked_in")
    later = make_appointment(c.olivia, c.hart, c.migraine, london(TUESDAY, 9))
    cancelled = make_appointment(c.olivia, c.hart, c.migraine, london(TUESDAY, 11), status="cancelled")
    old = make_appointment(c.olivia, c.hart, c.migraine, london(date(2027, 2, 1), 9), status="completed")
    upcoming, past = patient_view.appointments(c.olivia.id)
    assert [a.id for a in upcoming] == [today_done.id, later.id]
    assert [a.id for a in past] == [cancelled.id, old.id]
