"""Fixtures for the reminder tests: a real SMTP server (aiosmtpd), a small clinic, a frozen clock."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select

from scheduler.booking import operations, visits
from scheduler.extensions import db
from scheduler.models import Appointment, Reminder, TreatmentSession, User
from scheduler.patients import sessions
from scheduler.reminders import sweep
from scheduler.services import clock
from scheduler.staff import users
from tests.conftest import london

#: a permanent refusal of a recipient, and a temporary one
REFUSED = "550 5.1.1 mailbox unavailable"
TRY_LATER = "451 4.3.0 mailbox busy, try again later"
#: Monday 1 March 2027, 08:00 in London (GMT): bookings are made "now"
TODAY = date(2027, 3, 1)
NOW = london(TODAY, 8)


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts (and can refuse or slow down).

    `refuse` maps a recipient to the reply its RCPT TO gets (REFUSED, TRY_LATER or any other),
    `refuse_data` a recipient to the reply the DATA of a message to it gets, and `refuse_sender`,
    when set, is the reply to every MAIL FROM.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.raw: list[bytes] = []
        self.refuse: dict[str, str] = {}
        self.refuse_data: dict[str, str] = {}
        self.refuse_sender: str | None = None
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 (aiosmtpd's name)
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.delay:
            await asyncio.sleep(self.delay)
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.refuse_data:
                return self.refuse_data[rcpt]
        msg = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self.lock:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.raw.append(envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        """The Message-ID of every accepted message, in arrival order."""
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to one address."""
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1; the app sends to it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=5)
    inbox.port = port  # type: ignore[attr-defined]
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def travel() -> Iterator[Any]:
    """The clock frozen at NOW (tick=False); `travel.move_to(instant)` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@dataclass
class Clinic:
    """A small clinic: the catalogue's migraine and cosmetic treatments, one practitioner, two patients."""

    migraine: int
    cosmetic: int
    prac: int
    olivia: int
    noah: int


@pytest.fixture
def clinic(travel, make_treatment, make_practitioner, make_patient) -> Clinic:
    """The clinic the reminder tests run in (the practitioner works Mon-Fri 09:00-17:00)."""
    migraine = make_treatment(name="Chronic migraine")
    cosmetic = make_treatment(
        name="Cosmetic lines",
        kind="cosmetic",
        product="BOTOX Cosmetic",
        duration_minutes=20,
        min_interval_days=90,
        remind_from="P3M",
        remind_until="P6M",
        follow_up_after="P14D",
    )
    prac = make_practitioner(name="Dr Hart")
    olivia = make_patient(first_name="Olivia", last_name="Smith", email="olivia@example.net")
    noah = make_patient(first_name="Noah", last_name="Jones", email="noah@example.org")
    return Clinic(migraine.id, cosmetic.id, prac.id, olivia.id, noah.id)


def book(c: Clinic, starts_at: datetime, *, patient: int | None = None, treatment: int | None = None) -> Appointment:
    """Books an appointment through the booking service and commits."""
    appt = operations.book(
        patient_id=patient or c.olivia,
        practitioner_id=c.prac,
        treatment_id=treatment or c.migraine,
        starts_at=starts_at,
        actor=_clinician(),
        override_reason=SPACING,
    )
    db.session.commit()
    return appt


#: the reminder tests record sessions closer together than the safety interval on purpose: the
#: helpers below act as an admin who gives this reason (the safety rules are tested in tests/api)
SPACING = "reminder test: the spacing of sessions is not under test here"


def _clinician() -> User:
    """The admin the helpers act as (made once per test)."""
    user = db.session.scalar(select(User).where(User.email == "clinician@example.com"))
    if user is None:
        user = users.create("clinician@example.com", "admin", "correct horse battery", actor_label="test")
    db.session.commit()
    return user


def complete(appt_id: int) -> TreatmentSession:
    """Checks in and completes an appointment and commits: at the current frozen time, or at the
    appointment's start when that is later (check-in happens on the appointment's day)."""
    starts_at = db.session.get(Appointment, appt_id).starts_at
    with time_machine.travel(max(clock.now(), starts_at), tick=False):
        visits.change_status(appt_id, "checked_in", actor=_clinician(), override_reason=SPACING)
        db.session.commit()
        session = visits.complete(appt_id, actor=_clinician(), units=155, lot_number="C1234C3", override_reason=SPACING)
        db.session.commit()
    return session


def record(c: Clinic, performed_on: date, *, patient: int | None = None, treatment: int | None = None):
    """Records a session done earlier or elsewhere and commits."""
    session = sessions.record_past(
        patient or c.olivia,
        actor=_clinician(),
        treatment_id=treatment or c.migraine,
        performed_on=performed_on,
        override_reason=SPACING,
    )
    db.session.commit()
    return session


def rows(**where: Any) -> list[Reminder]:
    """Reminders matching column values, fresh from the database, by kind, seq and id."""
    db.session.rollback()
    db.session.expire_all()
    stmt = select(Reminder).where(*(getattr(Reminder, k) == v for k, v in where.items()))
    return list(db.session.scalars(stmt.order_by(Reminder.kind, Reminder.seq, Reminder.id)))


def statuses(**where: Any) -> list[tuple[str, int, str]]:
    """(kind, seq, status) of matching reminders."""
    return [(r.kind, r.seq, r.status) for r in rows(**where)]


def run_sweep() -> sweep.Report:
    """One sweep in the test's app context."""
    report = sweep.run()
    db.session.rollback()
    return report


def due_tracks(make_patient, treatment_id: int, count: int, *, days_ago: int = 100) -> list[int]:
    """`count` patients, each with a session `days_ago` days before the real today: one reminder due each."""
    from datetime import timedelta

    from scheduler.services import clock

    ids = []
    for _ in range(count):
        patient = make_patient()
        session = sessions.record_past(
            patient.id, actor=None, treatment_id=treatment_id, performed_on=clock.today() - timedelta(days=days_ago)
        )
        db.session.commit()
        ids.append(session.id)
    return ids


def process_env(app, port: int, **extra: str) -> dict[str, str]:
    """The environment of a `flask` subprocess on the test database, sending to the test SMTP server."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "DATABASE_URL", "TEST_DATABASE"))}
    env.update(
        APP_ENV="development",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY="test-secret",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(port),
        MAIL_TIMEOUT_SECONDS="5",
        REMINDER_SEND_HOURS="00:00-24:00",
        SCHEDULER_EMBEDDED="off",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env
