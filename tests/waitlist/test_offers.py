"""A cancelled slot is offered to the first waiting patients by email; the first to tap the link gets it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler.booking import visits
from scheduler.extensions import db
from scheduler.models import Appointment, AuditEvent, WaitlistEntry
from tests.conftest import csrf_from, london
from tests.reminders.conftest import book, free_port, rows, run_sweep
from tests.reminders.test_sweep import TREATMENT_WORDS
from tests.waitlist.conftest import TUESDAY, offer_path, wait

SLOT = london(TUESDAY, 10)
SENDING = london(TUESDAY - timedelta(days=1), 9, 30)


@pytest.fixture
def freed(app, clinic, smtp, travel, make_patient):
    """Olivia's Tuesday 10:00 is cancelled with four patients waiting (Noah first); the offers are swept out."""
    app.config["CLINIC_PHONE"] = "020 7946 0000"
    appt = book(clinic, SLOT)
    waiting = [clinic.noah, *(make_patient(email=f"w{i}@example.org").id for i in range(3))]
    for pid in waiting:
        wait(clinic, pid)
    visits.change_status(appt.id, "cancelled", actor=None, reason="rang")
    db.session.commit()
    travel.move_to(SENDING)
    run_sweep()
    return appt, waiting


def entry(patient_id: int) -> WaitlistEntry:
    db.session.rollback()
    return db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.patient_id == patient_id)).one()


def bookings_at_the_slot() -> list[Appointment]:
    db.session.rollback()
    return list(
        db.session.scalars(select(Appointment).where(Appointment.starts_at == SLOT, Appointment.status == "booked"))
    )


def test_the_first_three_who_joined_are_emailed_a_link(clinic, smtp, freed):
    _appt, waiting = freed
    offers = [m for m in smtp.messages if "has come free" in str(m["Subject"])]
    assert sorted(str(m["To"]).split("<")[1].rstrip(">") for m in offers) == sorted(
        ["noah@example.org", "w0@example.org", "w1@example.org"]
    )  # not w2, who joined last, and not Olivia, who cancelled
    msg = offers[0]
    assert msg["Subject"] == "A time has come free at Harbour Lane Clinic: Tuesday 2 March at 10:00"
    everything = " ".join(
        [str(msg["Subject"]), msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()]
    )
    assert "Tuesday 2 March 2027 at 10:00 (GMT)" in everything
    assert not any(w in everything.lower() for w in TREATMENT_WORDS)
    assert offer_path(msg).startswith("/p/offer/")
    assert {r.status for r in rows(kind="waitlist_offer")} == {"sent"} and len(rows(kind="waitlist_offer")) == 3
    assert run_sweep().outcomes == []  # once


def test_taking_the_offer_books_it_through_the_booking_path(app, client, clinic, smtp, freed):
    _appt, waiting = freed
    [to_noah] = [m for m in smtp.to("noah@example.org")]
    [to_w0] = smtp.to("w0@example.org")
    other = app.test_client()  # w0 opens the offer too, a moment before Noah takes it
    stale = csrf_from(other.get(offer_path(to_w0)).get_data(as_text=True))
    path = offer_path(to_noah)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Tuesday 2 March 2027" in html and "10:00" in html and "Book this time" in html
    resp = client.post(path, data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(path)
    assert "It’s yours" in client.get(path).get_data(as_text=True)
    [booked] = bookings_at_the_slot()
    assert booked.patient_id == clinic.noah and booked.booked_by_id is None
    assert (entry(clinic.noah).status, entry(clinic.noah).appointment_id) == ("booked", booked.id)
    assert db.session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "waitlist.offer_taken")) == "patient"
    # the confirmation goes out like any booking's
    run_sweep()
    assert any("is confirmed" in str(m["Subject"]) for m in smtp.to("noah@example.org"))
    # w0's tap comes too late: "taken", and they stay on the list
    refused = other.post(offer_path(to_w0), data={"csrf_token": stale})
    assert refused.status_code == 409 and "this time has been taken" in refused.get_data(as_text=True)
    other_page = other.get(offer_path(to_w0)).get_data(as_text=True)
    assert "this time has been taken" in other_page and "Book this time" not in other_page
    assert entry(waiting[1]).status == "waiting" and len(bookings_at_the_slot()) == 1


def test_a_post_without_the_csrf_token_books_nothing(client, smtp, freed):
    path = offer_path(smtp.to("noah@example.org")[0])
    assert client.post(path).status_code == 400
    assert bookings_at_the_slot() == []


def test_a_forged_link_gets_400_and_an_expired_one_410_with_the_phone(client, clinic, smtp, freed, travel):
    path = offer_path(smtp.to("noah@example.org")[0])
    csrf = {"csrf_token": csrf_from(client.get(path).get_data(as_text=True))}
    for bad in ("/p/offer/not-a-token", path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"), path + "x"):
        for resp in (client.get(bad), client.post(bad, data=csrf)):
            assert resp.status_code == 400, bad
            assert "This link is not valid" in resp.get_data(as_text=True)
    travel.move_to(SLOT)
    for resp in (client.get(path), client.post(path, data=csrf)):
        html = resp.get_data(as_text=True)
        assert resp.status_code == 410 and "This offer has ended" in html
        assert 'href="tel:02079460000"' in html and "020 7946 0000" in html
    assert bookings_at_the_slot() == [] and entry(clinic.noah).status == "waiting"


def test_an_offer_is_not_sent_to_someone_off_the_list_or_for_another_practitioner(
    clinic, smtp, travel, make_practitioner
):
    other = make_practitioner(name="Dr Other")
    appt = book(clinic, SLOT)
    wait(clinic, clinic.noah, practitioner=other.id)
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    travel.move_to(SENDING)
    run_sweep()
    assert rows(kind="waitlist_offer") == [] and smtp.messages == []


def test_offers_wait_out_a_mail_server_that_is_down(app, clinic, smtp, travel):
    appt = book(clinic, SLOT)
    wait(clinic, clinic.noah)
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    travel.move_to(SENDING)
    port, app.config["MAIL_PORT"] = app.config["MAIL_PORT"], free_port()
    assert [o.result for o in run_sweep().outcomes] == ["retry"]
    app.config["MAIL_PORT"] = port
    travel.move_to(rows(kind="waitlist_offer")[0].next_attempt_at + timedelta(seconds=1))
    assert [o.result for o in run_sweep().outcomes] == ["sent"]
    assert len(smtp.to("noah@example.org")) == 1


THREADS = 10


def test_ten_patients_tapping_at_once_one_gets_it(app, clinic, smtp, travel, make_patient):
    app.config["WAITLIST_OFFERS"] = THREADS
    appt = book(clinic, SLOT)
    waiting = [make_patient(email=f"race{i}@example.org").id for i in range(THREADS)]
    for pid in waiting:
        wait(clinic, pid)
    visits.change_status(appt.id, "cancelled", actor=None)
    db.session.commit()
    travel.move_to(SENDING)
    run_sweep()
    paths = [offer_path(smtp.to(f"race{i}@example.org")[0]) for i in range(THREADS)]
    clients = [app.test_client() for _ in paths]
    tokens = [csrf_from(c.get(p).get_data(as_text=True)) for c, p in zip(clients, paths, strict=True)]
    barrier = threading.Barrier(THREADS)
    results: list[int | None] = [None] * THREADS
    errors: list[BaseException] = []

    def take(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                results[i] = clients[i].post(paths[i], data={"csrf_token": tokens[i]}).status_code
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(results) == [303] + [409] * (THREADS - 1), results
    [booked] = bookings_at_the_slot()
    winner = waiting[results.index(303)]
    assert booked.patient_id == winner
    statuses = {pid: entry(pid).status for pid in waiting}
    assert statuses.pop(winner) == "booked" and set(statuses.values()) == {"waiting"}
    assert db.session.scalar(select(func.count()).select_from(Appointment).where(Appointment.starts_at == SLOT)) == 2


def test_requests_per_offer_link_are_limited(app, client, clinic, smtp, freed):
    """An offer link is a patient link like the others: over PATIENT_LINK_RATE_PER_MINUTE a minute, 429."""
    app.config["PATIENT_LINK_RATE_PER_MINUTE"] = 2
    [to_noah] = smtp.to("noah@example.org")
    [to_w0] = smtp.to("w0@example.org")
    path = offer_path(to_noah)
    first = client.get(path)
    assert [first.status_code] + [client.get(path).status_code for _ in range(2)] == [200, 200, 429]
    taking = client.post(path, data={"csrf_token": csrf_from(first.get_data(as_text=True))})
    assert (
        taking.status_code == 429
        and db.session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.patient_id == clinic.noah, Appointment.status == "booked")
        )
        == 0
    )  # refused, nothing booked
    assert client.get(offer_path(to_w0)).status_code == 200  # per link, not for everyone
