"""A patient's consents: to re-treatment reminders per treatment kind, and to emails at all."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.domain.consent import TOPICS, VIAS, ConsentState
from scheduler.models.base import Base, UTCDateTime, utcnow


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


class Consent(Base):
    """The current answer of one patient on one topic, with when and how it was given or withdrawn.

    Topics: `therapeutic` and `cosmetic` (re-treatment reminders of that kind; no row means not
    asked, so none are sent) and `emails` (given=False means "stop all emails"; no row means service
    emails go out). Earlier answers are in the audit log (`patient.consent`).
    """

    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("patient_id", "topic", name="uq_consents_patient_topic"),
        CheckConstraint(f"topic IN {_in(TOPICS)}", name="topic"),
        CheckConstraint(f"via IN {_in(VIAS)}", name="via"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(20))
    given: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: how: at the desk (staff page), through the API, by the patient's email link, by migration 0008
    via: Mapped[str] = mapped_column(String(20))
    #: the staff user who recorded it; null for links, migrations and removed users
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @staticmethod
    def states_of(session: Session, patient_ids: Iterable[int]) -> dict[int, ConsentState]:
        """Each patient's consent state (patients without rows get the default state)."""
        ids = list(set(patient_ids))
        rows: dict[int, list[tuple[str, bool]]] = defaultdict(list)
        for start in range(0, len(ids), 5000):
            stmt = select(Consent.patient_id, Consent.topic, Consent.given).where(
                Consent.patient_id.in_(ids[start : start + 5000])
            )
            for patient_id, topic, given in session.execute(stmt):
                rows[patient_id].append((topic, given))
        return {pid: ConsentState.from_rows(rows.get(pid, ())) for pid in ids}
