"""Clinical safety by toxin: the reads of a patient's toxin history, and the rules that booking,
check-in, completion, recording and correcting a session apply (docs/rules.md, "Safety").

The safety interval and the dose limit count the sessions of one toxin (BOTOX and BOTOX
Cosmetic are both onabotulinumtoxinA), never voided ones. An admin may set a rule aside by
giving a reason (`Overrides`); what was set aside is audited with the reason.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from scheduler.domain import safety, toxins
from scheduler.domain.durations import MIN_INTERVAL_DAYS
from scheduler.extensions import db
from scheduler.models import Toxin, Treatment, TreatmentSession, User
from scheduler.services import audit
from scheduler.services.errors import Forbidden, Rejected


class Overrides:
    """An admin's reason for setting safety rules aside in one request, and the rules it set aside."""

    def __init__(
        self, actor: User | None, reason: str | None, refusal: str = "Only an admin may override a safety rule."
    ):
        if reason is not None and (actor is None or not actor.is_admin):
            raise Forbidden(refusal, code="override_forbidden")
        self.actor = actor
        self.reason = reason
        self.used: list[str] = []

    def refuse(self, exc: Rejected) -> None:
        """Raises the refusal, unless an admin gave a reason: then notes the rule set aside."""
        if self.reason is None:
            raise exc
        self.used.append(exc.code)

    def record(self, entity: str, entity_id: int) -> None:
        """Audits the rules set aside, with the reason (nothing when none was)."""
        if self.used:
            audit.record(
                f"{entity}.safety_override", entity, entity_id, self.actor, {"reason": self.reason, "rules": self.used}
            )


def _of_toxin(patient_id: int, toxin: str, exclude_session_id: int | None):
    """The where-clause of a patient's counted sessions of one toxin."""
    clauses = [
        TreatmentSession.patient_id == patient_id,
        Treatment.toxin == toxin,
        TreatmentSession.counts(),
    ]
    if exclude_session_id is not None:
        clauses.append(TreatmentSession.id != exclude_session_id)
    return clauses


def last_session_of_toxin(
    patient_id: int, toxin: str, on_or_before: date = date.max, *, exclude_session_id: int | None = None
) -> date | None:
    """The date of the patient's latest counted session of any treatment of this toxin up to a day."""
    stmt = (
        select(TreatmentSession.performed_on)
        .join(Treatment, Treatment.id == TreatmentSession.treatment_id)
        .where(*_of_toxin(patient_id, toxin, exclude_session_id), TreatmentSession.performed_on <= on_or_before)
        .order_by(TreatmentSession.performed_on.desc())
        .limit(1)
    )
    return db.session.scalar(stmt)


def sessions_of_toxin_around(patient_id: int, toxin: str, day: date) -> list[tuple[date, int]]:
    """The patient's counted sessions of the toxin within the longest possible interval of `day`,
    either side, each with its treatment's interval: (date, min_interval_days)."""
    reach = timedelta(days=MIN_INTERVAL_DAYS[1])
    rows = db.session.execute(
        select(TreatmentSession.performed_on, Treatment.min_interval_days)
        .join(Treatment, Treatment.id == TreatmentSession.treatment_id)
        .where(
            *_of_toxin(patient_id, toxin, None),
            TreatmentSession.performed_on > day - reach,
            TreatmentSession.performed_on < day + reach,
        )
    )
    return [(performed_on, interval) for performed_on, interval in rows]


def toxin_doses(
    patient_id: int, toxin: str, after: date, before: date, *, exclude_session_id: int | None = None
) -> list[tuple[date, float]]:
    """The patient's counted doses (date, units) of one toxin strictly between two days."""
    stmt = (
        select(TreatmentSession.performed_on, TreatmentSession.units)
        .join(Treatment, Treatment.id == TreatmentSession.treatment_id)
        .where(
            *_of_toxin(patient_id, toxin, exclude_session_id),
            TreatmentSession.performed_on > after,
            TreatmentSession.performed_on < before,
            TreatmentSession.units.is_not(None),
        )
    )
    return [(r.performed_on, float(r.units)) for r in db.session.execute(stmt)]


def toxin_limit(name: str) -> Toxin | None:
    """The toxin's row (its dose limit), if an admin set one."""
    return db.session.scalar(select(Toxin).where(Toxin.name == name))


def check_interval(
    overrides: Overrides,
    patient_id: int,
    treatment: Treatment,
    day: date,
    *,
    standing_reason: str | None = None,
) -> bool:
    """The safety interval by toxin for a session on `day`, against the patient's sessions on
    either side of it: refused (`too_soon`) unless overridden, or unless the appointment was
    booked with an admin's reason (`standing_reason`). Returns whether the day is inside the
    interval of a session."""
    interval = treatment.min_interval_days
    around = sessions_of_toxin_around(patient_id, treatment.toxin, day)
    last = safety.latest_on_or_before(around, day)
    later = safety.later_too_close(around, day)
    if safety.is_too_soon(last, day, interval):
        earliest = safety.earliest_safe_date(last, interval)
        refusal = Rejected(
            f"The patient's last {treatment.toxin} session was on {last.isoformat()}; "
            f"the earliest safe date is {earliest.isoformat()}.",
            code="too_soon",
            fields={"starts_at": f"earliest safe date is {earliest.isoformat()}"},
        )
    elif later is not None:  # only a session recorded after the fact can have one after it
        following, its_interval = later
        refusal = Rejected(
            f"The patient's {treatment.toxin} session on {following.isoformat()} "
            f"is less than {its_interval} days after {day.isoformat()}.",
            code="too_soon",
            fields={"performed_on": f"within {its_interval} days before the session of {following.isoformat()}"},
        )
    else:
        return False
    if standing_reason is None:
        overrides.refuse(refusal)
    return True


def dose_in_window(
    patient_id: int, treatment: Treatment, day: date, units: float, *, exclude_session_id: int | None = None
) -> tuple[float, Toxin] | None:
    """The highest rolling-window total of the toxin with this dose on `day`, and the toxin's
    limit; None when the toxin has no limit."""
    limit = toxin_limit(treatment.toxin)
    if limit is None or limit.max_units is None or limit.period_days is None:
        return None
    span = timedelta(days=limit.period_days)
    doses = toxin_doses(patient_id, treatment.toxin, day - span, day + span, exclude_session_id=exclude_session_id)
    return toxins.peak_dose(doses, day, units, limit.period_days), limit


def check_dose(
    overrides: Overrides,
    patient_id: int,
    treatment: Treatment,
    day: date,
    units: float | None,
    *,
    exclude_session_id: int | None = None,
) -> None:
    """The toxin's rolling dose limit: a dose that takes any window over it is refused
    (`dose_limit`) unless overridden."""
    if not units:
        return
    found = dose_in_window(patient_id, treatment, day, units, exclude_session_id=exclude_session_id)
    if found is None:
        return
    peak, limit = found
    if toxins.over_cap(peak, limit.max_units):
        overrides.refuse(
            Rejected(
                f"This dose would bring the patient's {limit.name} to {peak:g} U within {limit.period_days} days; "
                f"the limit is {limit.max_units:g} U.",
                code="dose_limit",
                fields={"units": f"over the {limit.max_units:g} U limit in {limit.period_days} days"},
            )
        )


def check_lot(overrides: Overrides, lot_expiry: date | None, day: date) -> None:
    """A lot that expired before the session's day is refused (`lot_expired`) unless overridden."""
    if lot_expiry is not None and lot_expiry < day:
        overrides.refuse(
            Rejected(
                "That lot had expired on the day of the session.",
                code="lot_expired",
                fields={"lot_expiry": "before the session date"},
            )
        )


def new_session(
    overrides: Overrides,
    treatment: Treatment,
    *,
    patient_id: int,
    performed_on: date,
    units: float | None,
    lot_number: str | None,
    lot_expiry: date | None,
    product: str | None,
    sites: str | None,
    notes: str | None,
    external: bool,
    appointment_id: int | None = None,
    standing_reason: str | None = None,
) -> TreatmentSession:
    """A session given on a day, after the toxin's interval, its dose limit and the lot's expiry
    were checked (completing a visit and recording a past session alike); flushed, not audited."""
    check_interval(overrides, patient_id, treatment, performed_on, standing_reason=standing_reason)
    check_dose(overrides, patient_id, treatment, performed_on, units)
    check_lot(overrides, lot_expiry, performed_on)
    session = TreatmentSession(
        patient_id=patient_id,
        treatment_id=treatment.id,
        appointment_id=appointment_id,
        performed_on=performed_on,
        product=product or treatment.product,
        units=units,
        lot_number=lot_number,
        lot_expiry=lot_expiry,
        sites=sites,
        notes=notes,
        external=external,
        override_reason=overrides.reason if overrides.used else None,
        recorded_by_id=overrides.actor.id if overrides.actor else None,
    )
    db.session.add(session)
    db.session.flush()
    return session
