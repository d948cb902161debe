"""A clinician's note that a patient's effect wears off sooner or later than the treatment's usual."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.models.base import Base, UTCDateTime, utcnow
from scheduler.models.treatment import Treatment


class PatientInterval(Base):
    """This patient's re-treatment window for one treatment, replacing the treatment's own.

    Never below the treatment's safety minimum (checked when it is set); the reminder count and
    the follow-up stay the treatment's.
    """

    __tablename__ = "patient_intervals"
    __table_args__ = (UniqueConstraint("patient_id", "treatment_id", name="uq_patient_intervals_patient_treatment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"), index=True)
    #: ISO 8601 durations after the session date, as on the treatment
    remind_from: Mapped[str] = mapped_column(String(20))
    remind_until: Mapped[str] = mapped_column(String(20))
    #: why, in the clinician's words ("effect wears off after 10 weeks")
    note: Mapped[str] = mapped_column(Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    treatment: Mapped[Treatment] = relationship()
