"""Patients."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Date, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from scheduler.domain import lookup
from scheduler.domain.consent import EMAILS, ConsentState, legacy_flag, migrated_answers
from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.consent import Consent


def full_name(first_name: str, last_name: str) -> str:
    """First and last name, for pages and emails (also for rows read without the model)."""
    return f"{first_name} {last_name}".strip()


def new_unsubscribe_key() -> str:
    """A random key naming a patient in unsubscribe links (128 bits, 32 hex digits)."""
    return secrets.token_hex(16)


class Patient(Base):
    """A person who receives treatment, service emails and, with their consent, re-treatment reminders."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    #: the phone's national digits ("+44 7700 900118" -> "07700900118", domain.lookup), kept by
    #: the model whenever `phone` is set; the patients' search compares phone numbers with it
    phone_digits: Mapped[str | None] = mapped_column(String(40))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    #: names the patient in unsubscribe links instead of the id (services.unsubscribe); set on
    #: every insert made through SQLAlchemy, filled for older rows by migration 0006
    unsubscribe_key: Mapped[str | None] = mapped_column(String(32), default=new_unsubscribe_key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: when an admin erased the patient's personal details (records.erasure); the row stays,
    #: pseudonymised, for the clinical records that must be kept
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consents: Mapped[list[Consent]] = relationship(lazy="selectin", order_by=Consent.topic)

    @validates("phone")
    def _keep_phone_digits(self, _key: str, value: str | None) -> str | None:
        """Keeps `phone_digits` in step with the phone number."""
        self.phone_digits = lookup.phone_digits(value)
        return value

    @property
    def full_name(self) -> str:
        """First and last name, for pages and emails."""
        return full_name(self.first_name, self.last_name)

    @property
    def consent_state(self) -> ConsentState:
        """The patient's current consents (scheduler.domain.consent)."""
        return ConsentState.from_rows((c.topic, c.given) for c in self.consents)

    @property
    def reminders_opt_in(self) -> bool:
        """The old single flag, read from the consents: every consent given (the API's field)."""
        return legacy_flag(self.consent_state)

    @reminders_opt_in.setter
    def reminders_opt_in(self, value: bool) -> None:
        """Sets the consents as migration 0008 maps the old flag (seeding, benchmarks, tests): on, every
        consent; off, every consent withdrawn. No audit, no re-plan.

        Staff and patients change consents through scheduler.patients.consents.record, which records
        who, audits, and re-plans the patient's emails.
        """
        for topic, given in migrated_answers(bool(value)).items():
            row = self.consent(topic)
            if row is None and not (topic == EMAILS and given):
                self.consents.append(Consent(topic=topic, given=given, via="desk", recorded_at=utcnow()))
            elif row is not None:
                row.given = given

    def consent(self, topic: str) -> Consent | None:
        """The stored answer on one topic, if any."""
        return next((c for c in self.consents if c.topic == topic), None)


Index("ix_patients_last_name_lower", func.lower(Patient.last_name))
Index("ix_patients_email_lower", func.lower(Patient.email))
Index("ix_patients_phone", Patient.phone)
Index("ix_patients_phone_digits", Patient.phone_digits)
Index("ix_patients_date_of_birth", Patient.date_of_birth)
Index("ix_patients_unsubscribe_key", Patient.unsubscribe_key, unique=True)
