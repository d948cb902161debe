"""The treatment catalogue and the practitioners."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from scheduler.db import begin_write
from scheduler.domain import durations, slots
from scheduler.extensions import db
from scheduler.models import Practitioner, Treatment, User
from scheduler.reminders import replan
from scheduler.services import audit
from scheduler.services.errors import Conflict, NotFound, Rejected

INTERVAL_FIELDS = ("min_interval_days", "remind_from", "remind_until", "reminder_count", "follow_up_after")
#: the toxin-safety fields: the toxin and the usual injection sites
TOXIN_FIELDS = ("toxin", "usual_sites")
TREATMENT_FIELDS = (
    "name",
    "kind",
    "product",
    "duration_minutes",
    "buffer_minutes",
    "active",
    *INTERVAL_FIELDS,
    *TOXIN_FIELDS,
)
PRACTITIONER_FIELDS = ("name", "email", "active", "working_hours")


def list_treatments(include_inactive: bool = True) -> list[Treatment]:
    """The catalogue, by name."""
    stmt = select(Treatment).order_by(Treatment.name)
    if not include_inactive:
        stmt = stmt.where(Treatment.active.is_(True))
    return list(db.session.scalars(stmt))


def get_treatment(treatment_id: int) -> Treatment:
    """Loads a treatment or raises NotFound."""
    treatment = db.session.get(Treatment, treatment_id)
    if treatment is None:
        raise NotFound(f"There is no treatment with id {treatment_id}.")
    return treatment


def _check_intervals(values: dict[str, Any]) -> None:
    """Refuses interval fields that break docs/rules.md, naming each field."""
    problems = durations.validate_interval(
        min_interval_days=values["min_interval_days"],
        remind_from=values["remind_from"],
        remind_until=values["remind_until"],
        reminder_count=values["reminder_count"],
        follow_up_after=values.get("follow_up_after"),
    )
    if problems:
        raise Rejected("The re-treatment interval is not allowed.", code="invalid_interval", fields=problems)


def _normalise_durations(values: dict[str, Any]) -> None:
    """Stores durations in one spelling (P12W stays P12W, as docs/rules.md writes it; P1Y becomes P12M)."""
    for key in ("remind_from", "remind_until", "follow_up_after"):
        if values.get(key):
            text = values[key].strip()
            weeks_only = re.fullmatch(r"P[0-9]+W", text) is not None
            values[key] = text if weeks_only else durations.parse_duration(text).iso


def _buffer(minutes: Any) -> int:
    """The buffer after a treatment's appointments: a whole number of minutes from 0 to
    domain.slots.MAX_BUFFER_MINUTES (none given: 0); anything else is refused naming the field."""
    if minutes is None:
        return 0
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= slots.MAX_BUFFER_MINUTES:
        why = f"a whole number of minutes from 0 to {slots.MAX_BUFFER_MINUTES}"
        raise Rejected(f"The buffer must be {why}.", code="invalid_buffer", fields={"buffer_minutes": why})
    return minutes


def _unique_name(name: str, exclude_id: int | None = None) -> None:
    """Refuses a second treatment with the same name."""
    stmt = select(Treatment.id).where(Treatment.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Treatment.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict(f"A treatment named {name!r} already exists.", code="duplicate", fields={"name": "already used"})


def create_treatment(data: dict[str, Any], *, actor: User | None) -> Treatment:
    """Adds a catalogue entry after validating its interval fields."""
    begin_write()
    values = {k: data.get(k) for k in TREATMENT_FIELDS if k in data}
    values.setdefault("active", True)
    values["buffer_minutes"] = _buffer(values.get("buffer_minutes"))
    if not values.get("toxin"):
        values.pop("toxin", None)  # the model names the product's toxin
    _check_intervals(values)
    _normalise_durations(values)
    _unique_name(values["name"])
    treatment = Treatment(**values)
    db.session.add(treatment)
    db.session.flush()
    audit.record(
        "treatment.created",
        "treatment",
        treatment.id,
        actor,
        {k: values[k] for k in INTERVAL_FIELDS if k in values} | {"name": treatment.name},
    )
    return treatment


def update_treatment(treatment_id: int, changes: dict[str, Any], *, actor: User | None) -> tuple[Treatment, int]:
    """Edits a treatment; changed interval fields re-plan its pending reminders (returns how many moved)."""
    begin_write()
    treatment = get_treatment(treatment_id)
    changes = {k: v for k, v in changes.items() if k in TREATMENT_FIELDS and (k != "toxin" or v)}
    merged = {k: getattr(treatment, k) for k in TREATMENT_FIELDS} | changes
    merged["buffer_minutes"] = _buffer(merged.get("buffer_minutes"))
    _check_intervals(merged)
    _normalise_durations(merged)
    if "name" in changes:
        _unique_name(merged["name"], exclude_id=treatment.id)
    before = {k: getattr(treatment, k) for k in TREATMENT_FIELDS}
    for key in changes:
        setattr(treatment, key, merged[key])
    db.session.flush()
    changed = {k: [before[k], getattr(treatment, k)] for k in TREATMENT_FIELDS if before[k] != getattr(treatment, k)}
    moved = 0
    if changed:
        intervals = any(k in INTERVAL_FIELDS for k in changed)
        action = "treatment.intervals_changed" if intervals else "treatment.updated"
        if intervals:
            moved = replan.replan_treatment(treatment)
        audit.record(action, "treatment", treatment.id, actor, {"changed": changed, "reminders_replanned": moved})
    return treatment, moved


def list_practitioners(include_inactive: bool = True) -> list[Practitioner]:
    """Practitioners by name."""
    stmt = select(Practitioner).order_by(Practitioner.name, Practitioner.id)
    if not include_inactive:
        stmt = stmt.where(Practitioner.active.is_(True))
    return list(db.session.scalars(stmt))


def get_practitioner(practitioner_id: int) -> Practitioner:
    """Loads a practitioner or raises NotFound."""
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise NotFound(f"There is no practitioner with id {practitioner_id}.")
    return practitioner


def _hours(raw: Any) -> dict[str, Any]:
    """Validates and normalises working hours, refusing them with the reason."""
    try:
        return slots.format_working_hours(slots.parse_working_hours(raw))
    except ValueError as exc:
        raise Rejected(str(exc), code="invalid_hours", fields={"working_hours": str(exc)}) from None


def create_practitioner(data: dict[str, Any], *, actor: User | None) -> Practitioner:
    """Adds a practitioner with validated working hours."""
    begin_write()
    values = {k: data[k] for k in PRACTITIONER_FIELDS if k in data}
    values["working_hours"] = _hours(values.get("working_hours") or {})
    values.setdefault("active", True)
    practitioner = Practitioner(**values)
    db.session.add(practitioner)
    db.session.flush()
    audit.record("practitioner.created", "practitioner", practitioner.id, actor, {"name": practitioner.name})
    return practitioner


def update_practitioner(practitioner_id: int, changes: dict[str, Any], *, actor: User | None) -> Practitioner:
    """Edits a practitioner (name, email, active, working hours)."""
    begin_write()
    practitioner = get_practitioner(practitioner_id)
    changes = {k: v for k, v in changes.items() if k in PRACTITIONER_FIELDS}
    if "working_hours" in changes:
        changes["working_hours"] = _hours(changes["working_hours"])
    for key, value in changes.items():
        setattr(practitioner, key, value)
    db.session.flush()
    if changes:
        audit.record("practitioner.updated", "practitioner", practitioner.id, actor, {"changed": sorted(changes)})
    return practitioner
