"""Patients."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, validates

from scheduler.domain import lookup
from scheduler.models.base import Base, UTCDateTime, utcnow


def full_name(first_name: str, last_name: str) -> str:
    """First and last name, for pages and emails (also for rows read without the model)."""
    return f"{first_name} {last_name}".strip()


def new_unsubscribe_key() -> str:
    """A random key naming a patient in unsubscribe links (128 bits, 32 hex digits)."""
    return secrets.token_hex(16)


class Patient(Base):
    """A person who receives treatment and, if opted in, reminder emails."""

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
    reminders_opt_in: Mapped[bool] = mapped_column(Boolean, default=True)
    #: names the patient in unsubscribe links instead of the id (services.unsubscribe); set on
    #: every insert made through SQLAlchemy, filled for older rows by migration 0006
    unsubscribe_key: Mapped[str | None] = mapped_column(String(32), default=new_unsubscribe_key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @validates("phone")
    def _keep_phone_digits(self, _key: str, value: str | None) -> str | None:
        """Keeps `phone_digits` in step with the phone number."""
        self.phone_digits = lookup.phone_digits(value)
        return value

    @property
    def full_name(self) -> str:
        """First and last name, for pages and emails."""
        return full_name(self.first_name, self.last_name)


Index("ix_patients_last_name_lower", func.lower(Patient.last_name))
Index("ix_patients_email_lower", func.lower(Patient.email))
Index("ix_patients_phone", Patient.phone)
Index("ix_patients_phone_digits", Patient.phone_digits)
Index("ix_patients_date_of_birth", Patient.date_of_birth)
Index("ix_patients_unsubscribe_key", Patient.unsubscribe_key, unique=True)
