"""Admin outbox pages: the list and its filters, one email's real rendering, sending a failed one again."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy import update

from scheduler.extensions import db
from scheduler.models import Reminder
from scheduler.reminders import mail
from tests.conftest import csrf_from, london
from tests.reminders.conftest import book, record, rows, run_sweep


def page(client, url: str, status: int = 200) -> str:
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code)
    return resp.get_data(as_text=True)


def test_only_admins_see_the_outbox(client, sign_in):
    assert client.get("/admin/outbox").status_code == 302
    sign_in("receptionist")
    assert client.get("/admin/outbox").status_code == 403
    assert client.get("/admin/outbox/1").status_code == 403


def test_outbox_lists_every_email_with_its_state_and_filters(clinic, client, sign_in, travel, smtp):
    sign_in("admin")
    record(clinic, date(2027, 1, 4))
    book(clinic, london(date(2027, 3, 3), 10), patient=clinic.noah)
    travel.move_to(london(date(2027, 3, 1), 10))
    run_sweep()
    html = page(client, "/admin/outbox")
    assert "5 emails" in html and "Olivia Smith" in html and "Noah Jones" in html
    assert "retreatment 3" in html and "pre-visit" in html and "confirmation" in html
    assert "Last sweep:" in html and "1 sent" in html
    sent_only = page(client, "/admin/outbox?status=sent")
    assert "1 email," in sent_only and "Noah Jones" in sent_only and "Olivia Smith" not in sent_only
    kind_only = page(client, "/admin/outbox?kind=retreatment")
    assert "3 emails" in kind_only and "Noah Jones" not in kind_only
    assert "2 emails" in page(client, f"/admin/outbox?patient={clinic.noah}")
    page(client, "/admin/outbox?status=lost", 400)
    page(client, "/admin/outbox?kind=x", 400)
    by_name = page(client, "/admin/outbox?patient=noah")
    assert "2 emails" in by_name and "Olivia Smith" not in by_name and "Patients matching" in by_name
    assert "3 emails" in page(client, "/admin/outbox?patient=Smith+Olivia&kind=retreatment")
    nobody = page(client, "/admin/outbox?patient=Nobody")
    assert "No patient matches" in nobody and "0 emails" in nobody
    page(client, "/admin/outbox?patient=99999999999", 400)
    page(client, "/admin/outbox?patient=a%00b", 400)
    assert 'href="/admin/outbox"' in page(client, "/admin/")


def test_an_email_shows_its_real_rendering(clinic, client, sign_in, travel):
    sign_in("admin")
    appt = book(clinic, london(date(2027, 3, 3), 10))
    [conf] = rows(appointment_id=appt.id, kind="confirmation")
    html = page(client, f"/admin/outbox/{conf.id}")
    assert "Rendered now" in html and conf.message_id.replace("<", "&lt;").replace(">", "&gt;") in html
    assert "List-Unsubscribe-Post" in html and "Wednesday 3 March 2027 at 10:00 (GMT)" in html
    assert "Attachment: appointment.ics" in html and "DTSTART:20270303T100000Z" in html
    assert f'src="/admin/outbox/{conf.id}/html"' in html and " sandbox " in html
    frame = client.get(f"/admin/outbox/{conf.id}/html")
    assert frame.status_code == 200 and frame.mimetype == "text/html"
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "script-src" not in frame.headers["Content-Security-Policy"]  # default-src 'none': no scripts
    assert "Thank you for booking" in frame.get_data(as_text=True)
    page(client, "/admin/outbox/999999", 404)


def test_the_local_outbox_keeps_the_message_as_sent(clinic, client, sign_in, travel, app):
    assert app.config["MAIL_SERVER"] is None
    sign_in("admin")
    appt = book(clinic, london(date(2027, 3, 3), 10))
    travel.move_to(london(date(2027, 3, 1), 10))
    assert [o.result for o in run_sweep().outcomes] == ["sent"]
    [conf] = rows(appointment_id=appt.id, kind="confirmation")
    stored = mail.outbox_path(app.config["OUTBOX_DIR"], conf.message_id)
    assert stored.is_file() and Path(app.config["OUTBOX_DIR"]) in stored.parents
    raw = stored.read_bytes()
    assert f"Message-ID: {conf.message_id}".encode() in raw and b"\r\n" in raw
    html = page(client, f"/admin/outbox/{conf.id}")
    assert "As written to the local outbox" in html and "Thank you for booking" in html


def test_send_again_queues_a_failed_email(clinic, client, sign_in, travel):
    sign_in("admin")
    appt = book(clinic, london(date(2027, 3, 3), 10))
    [conf] = rows(appointment_id=appt.id, kind="confirmation")
    db.session.execute(
        update(Reminder)
        .where(Reminder.id == conf.id)
        .values(status="failed", attempts=6, reason="550 mailbox unavailable")
    )
    db.session.commit()
    html = page(client, f"/admin/outbox/{conf.id}")
    assert "Send again" in html
    no_token = client.post(f"/admin/outbox/{conf.id}/resend")
    assert no_token.status_code == 400 and rows(id=conf.id)[0].status == "failed"
    resp = client.post(f"/admin/outbox/{conf.id}/resend", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    [again] = rows(id=conf.id)
    assert (again.status, again.attempts, again.next_attempt_at) == ("pending", 0, None)
    assert re.search(r"sent again by admin\d*@example.com after: 550 mailbox unavailable", again.reason)
    # only failed ones
    html = page(client, f"/admin/outbox/{conf.id}")
    assert "Send again" not in html
    resp = client.post(f"/admin/outbox/{conf.id}/resend", data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    assert "Only a failed email can be sent again" in resp.get_data(as_text=True)
