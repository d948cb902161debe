"""Emails that cannot be built: a name or address holding line breaks never writes a header of its
own; such an email is failed, with its reason, while the rest of its batch goes out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from scheduler.extensions import db
from scheduler.models import Patient
from tests.conftest import london
from tests.reminders.conftest import book, rows, run_sweep

SENDER = "clinic@example.com"
INJECTED_NAMES = [
    "x\r\nBcc\t: attacker@evil.example",
    "x\r\n\r\nYour account is suspended, call 0900 123 456",
    "x\nBcc: attacker@evil.example",
    "x\rBcc: attacker@evil.example",
    "x\u2028Bcc: attacker@evil.example",
    "x\x00y",
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
    assert (bad.status, bad.next_attempt_at) == ("failed", None)
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
    assert bad.status == "failed"
    assert bad.reason.startswith(f"could not build the email: {why}")


def test_a_name_that_looks_like_addresses_stays_one_name(clinic, smtp, travel):
    set_patient(clinic.olivia, last_name='Smith" <attacker@evil.example>, "Bob')
    book(clinic, london(date(2027, 3, 3), 10))
    travel.move_to(london(date(2027, 3, 1), 10))
    assert [o.result for o in run_sweep().outcomes] == ["sent"]
    assert smtp.envelopes == [(SENDER, ["olivia@example.net"])]
    [to] = smtp.messages[0]["To"].addresses
    assert (to.addr_spec, to.display_name) == ("olivia@example.net", 'Olivia Smith" <attacker@evil.example>, "Bob')


def test_the_list_unsubscribe_url_stays_on_one_line(clinic, smtp, travel):
    book(clinic, london(date(2027, 3, 3), 10))
    travel.move_to(london(date(2027, 3, 1), 10) + timedelta(minutes=1))
    run_sweep()
    [raw] = smtp.raw
    [line] = [x for x in raw.split(b"\r\n") if x.startswith(b"List-Unsubscribe:")]
    assert line.startswith(b"List-Unsubscribe: <http://127.0.0.1:5000/p/unsubscribe/") and line.endswith(b">")
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
