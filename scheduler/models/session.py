"""Treatment sessions: what was injected, when, and from which lot."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ColumnElement, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.models.appointment import Appointment
from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.patient import Patient
from scheduler.models.treatment import Treatment


class TreatmentSession(Base):
    """One injection session, completed here or recorded afterwards (done earlier or elsewhere)."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("units IS NULL OR units > 0", name="units_positive"),
        Index("ix_sessions_patient_performed", "patient_id", "performed_on"),
        Index("ix_sessions_treatment_performed", "treatment_id", "performed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id"))
    #: the appointment it completed; null for a session recorded afterwards
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), unique=True)
    #: local clinic date the injection was given
    performed_on: Mapped[date] = mapped_column(Date)
    product: Mapped[str] = mapped_column(String(80))
    units: Mapped[float | None] = mapped_column(Numeric(7, 2, asdecimal=False))
    lot_number: Mapped[str | None] = mapped_column(String(64), index=True)
    lot_expiry: Mapped[date | None] = mapped_column(Date)
    #: injection sites as written by the clinician, e.g. "glabella, frontalis"
    sites: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    #: given at another clinic; recorded for the safety interval and the reminders
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: why an admin recorded it against a safety rule (interval, dose limit, expired lot)
    override_reason: Mapped[str | None] = mapped_column(Text)
    #: a voided session stays on record but no longer counts: no reminders, no safety interval
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship()
    treatment: Mapped[Treatment] = relationship()
    appointment: Mapped[Appointment | None] = relationship()

    @classmethod
    def counts(cls) -> ColumnElement[bool]:
        """Sessions that count (not voided): every read of the clinical history filters by it."""
        return cls.voided_at.is_(None)
