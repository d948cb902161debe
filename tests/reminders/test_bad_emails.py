"""Emails that cannot be built: a name or address holding line breaks never writes a header of its
own, and such an email is failed at once, with its reason, while the rest of its batch goes out."""

from __future__ import annotations

from datetime import date, timedelta
from email.message import Message
from html import unescape

import pytest
from sqlalchemy import select, update

from scheduler.extensions import db
from scheduler.models import Patient, Reminder
from scheduler.reminders import compose
from tests.conftest import london
from tests.reminders.conftest import book, rows, run_sweep

SENDER = "clinic@example.com"
INJECTED_NAMES = [
    "x\r\nBcc\t: attacker@evil.example",
    "x\r\n\r\nYour account is suspended, call 0900 123 456",
    "x\nBcc: attacker@evil.example",
    "x\rBcc: attacker@evil.example",
    "x\u2028Bcc: attacker@evil.example",
    "x\x0bBcc: attacker@evil.example",  # a vertical tab: a line break to str.splitlines (PostgreSQL refuses NUL)
]


def set_patient(patient_id: int, **values: str) -> None:
    """Writes patient columns straight through the ORM, past any input validation."""
    db.session.execute(update(Patient).where(Patient.id == patient_id).values(**values))
    db.session.commit()


def three_confirmations(clinic, make_patient) -> tuple[int, int, int]:
    """Olivia, then a third patient, then Noah book: their confirmations are due in that order."""
    third = make_patient(first_name="Ann", last_name="Other", email="ann@example.org")
    book(clinic, london(date(2027, 3, 3), 10))
    book(clinic, london(date(2027, 3, 3), 11), patient=third.id)
    book(clinic, london(date(2027, 3, 3), 12), patient=clinic.noah)
    return clinic.olivia, third.id, clinic.noah


def no_header_injected(smtp) -> None:
    """Every message the server received has one of each header and none an attacker could add."""
    for msg in smtp.messages:
        assert msg["Bcc"] is None and msg["Cc"] is None
        assert len(msg.get_all("To")) == 1 and len(msg["To"].addresses) == 1
        assert not any("suspended" in str(value) for _name, value in msg.items())


@pytest.mark.parametrize("field", ["last_name", "first_name"])
@pytest.mark.parametrize("name", INJECTED_NAMES)
def test_a_name_with_line_breaks_in_the_database_never_reaches_a_header(
    clinic, smtp, travel, make_patient, field, name
):
    olivia, ann, noah = three_confirmations(clinic, make_patient)
    set_patient(ann, **{field: name})
    travel.move_to(london(date(2027, 3, 1), 10))
    report = run_sweep()
    assert sorted(o.result for o in report.outcomes) == ["failed", "sent", "sent"]
    assert smtp.envelopes == [(SENDER, ["olivia@example.net"]), (SENDER, ["noah@example.org"])]
    no_header_injected(smtp)
    assert b"attacker" not in b"".join(smtp.raw) and b"suspended" not in b"".join(smtp.raw)
    [bad] = rows(patient_id=ann, kind="confirmation")
    assert (bad.status, bad.attempts, bad.next_attempt_at) == ("failed", 1, None)
    assert bad.reason == (
        "could not build the email: the patient's name or email address contains a line break or another "
        "control character"
    )


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("ann@example.org\r\nBcc: attacker@evil.example", "the patient's name or email address contains a line break"),
        ("ann@example.org\n", "the patient's name or email address contains a line break"),
        ("ann@example.org, attacker@evil.example", "'ann@example.org, attacker@evil.example' is not a usable email"),
        ("<ann@example.org>", "'<ann@example.org>' is not a usable email address"),
    ],
)
def test_an_address_that_is_not_one_mailbox_is_failed(clinic, smtp, travel, make_patient, address, why):
    olivia, ann, noah = three_confirmations(clinic, make_patient)
    set_patient(ann, email=address)
    travel.move_to(london(date(2027, 3, 1), 10))
    run_sweep()
    assert smtp.envelopes == [(SENDER, ["olivia@example.net"]), (SENDER, ["noah@example.org"])]
    no_header_injected(smtp)
    [bad] = rows(patient_id=ann, kind="confirmation")
    assert (bad.status, bad.attempts) == ("failed", 1)
    assert bad.reason.startswith(f"could not build the email: {why}")


def test_a_name_that_looks_like_addresses_stays_one_name(clinic, smtp, travel):
    set_patient(clinic.olivia, last_name='Smith" <attacker@evil.example>, "Bob')
    book(clinic, london(date(2027, 3, 3), 10))
    travel.move_to(london(date(2027, 3, 1), 10))
    assert [o.result for o in run_sweep().outcomes] == ["sent"]
    assert smtp.envelopes == [(SENDER, ["olivia@example.net"])]
    [to] = smtp.messages[0]["To"].addresses
    assert (to.addr_spec, to.display_name) == ("olivia@example.net", 'Olivia Smith" <attacker@evil.example>, "Bob')


def _written_out_badly(real):
    """compose.build, except for the patient Ann: a message that raises when it is written out."""

    def build(reminder, patient, *args, **kwargs):
        if patient.first_name != "Ann":
            return real(reminder, patient, *args, **kwargs)
        msg = Message()  # compat32, as the old code built them: this header breaks the generator
        msg["From"] = SENDER
        msg["To"] = '"Ann\nBcc: attacker@evil.example" <ann@example.org>'
        msg["Message-ID"] = reminder.message_id
        msg.set_payload("hello")
        return msg

    return build


@pytest.mark.parametrize("broken", ["at build", "when written out"])
def test_an_unbuildable_email_fails_alone_and_the_batch_goes_on(
    clinic, smtp, travel, make_patient, monkeypatch, client, sign_in, broken
):
    olivia, ann, noah = three_confirmations(clinic, make_patient)
    if broken == "at build":
        set_patient(ann, last_name="Other\r\nBcc: attacker@evil.example")
    else:
        monkeypatch.setattr(compose, "build", _written_out_badly(compose.build))
    travel.move_to(london(date(2027, 3, 1), 10))
    report = run_sweep()
    assert {o.patient_id: o.result for o in report.outcomes if o.kind == "confirmation"} == {
        olivia: "sent",
        ann: "failed",
        noah: "sent",
    }
    assert [r.patient_id for r in rows(kind="confirmation")] == [olivia, ann, noah]  # Ann's is between the others
    assert [rcpts for _sender, rcpts in smtp.envelopes] == [["olivia@example.net"], ["noah@example.org"]]
    [bad] = rows(patient_id=ann, kind="confirmation")
    assert (bad.status, bad.attempts, bad.next_attempt_at, bad.claim_token) == ("failed", 1, None, None)
    if broken == "at build":
        assert bad.reason.startswith("could not build the email: the patient's name")
    else:
        assert bad.reason.startswith("could not write the email out: HeaderParseError")
    # the next sweep, well after any lease, leaves it alone
    before = bad.updated_at
    travel.move_to(london(date(2027, 3, 1), 12))
    assert [o for o in run_sweep().outcomes if o.id == bad.id] == []
    [still] = rows(id=bad.id)
    assert (still.status, still.attempts, still.updated_at) == ("failed", 1, before)
    assert len(smtp.messages) == 2
    # the outbox shows it, with the reason, and no 500
    sign_in("admin")
    detail = client.get(f"/admin/outbox/{bad.id}")
    assert detail.status_code == 200 and still.reason in unescape(detail.get_data(as_text=True))
    assert client.get(f"/admin/outbox/{bad.id}/html").status_code == 200
    assert client.get("/admin/outbox?status=failed").status_code == 200


def test_a_row_left_sending_by_a_crashed_sweep_is_failed_once_its_lease_ends(clinic, smtp, travel, make_patient):
    """A row the old builder crashed on stayed `sending`; once its lease runs out it is claimed and failed."""
    olivia, ann, noah = three_confirmations(clinic, make_patient)
    set_patient(ann, last_name="x\r\nBcc\t: attacker@evil.example")
    travel.move_to(london(date(2027, 3, 1), 10))
    [stuck] = rows(patient_id=ann, kind="confirmation")
    db.session.execute(
        update(Reminder)
        .where(Reminder.id == stuck.id)
        .values(status="sending", claim_token="crashed-sweep", claimed_until=london(date(2027, 3, 1), 9, 59))
    )
    db.session.commit()
    run_sweep()
    assert db.session.scalars(select(Reminder.status).where(Reminder.id == stuck.id)).one() == "failed"
    assert [rcpts for _sender, rcpts in smtp.envelopes] == [["olivia@example.net"], ["noah@example.org"]]


def test_the_outbox_pages_of_an_unbuildable_email_explain_it(clinic, client, sign_in, travel, make_patient):
    """Before any sweep: the preview cannot be built, and the pages say why instead of failing."""
    sign_in("admin")
    book(clinic, london(date(2027, 3, 3), 10))
    set_patient(clinic.olivia, last_name="Smith\r\nBcc: <b>attacker@evil.example</b>")
    [conf] = rows(patient_id=clinic.olivia, kind="confirmation")
    detail = client.get(f"/admin/outbox/{conf.id}")
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "This email cannot be built: the patient&#39;s name" in html
    assert "<b>attacker" not in html
    frame = client.get(f"/admin/outbox/{conf.id}/html")
    assert frame.status_code == 200 and "This email cannot be built" in frame.get_data(as_text=True)
    assert "<b>" not in frame.get_data(as_text=True)
    assert "sandbox" in frame.headers["Content-Security-Policy"]


def test_the_list_unsubscribe_url_stays_on_one_line(clinic, smtp, travel):
    book(clinic, london(date(2027, 3, 3), 10))
    travel.move_to(london(date(2027, 3, 1), 10) + timedelta(minutes=1))
    run_sweep()
    [raw] = smtp.raw
    [line] = [x for x in raw.split(b"\r\n") if x.startswith(b"List-Unsubscribe:")]
    assert line.startswith(b"List-Unsubscribe: <http://127.0.0.1:5000/p/unsubscribe/") and line.endswith(b">")
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
