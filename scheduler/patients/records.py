"""Finding, registering and editing patients."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select

from scheduler.db import begin_write
from scheduler.domain import lookup
from scheduler.extensions import db
from scheduler.models import Patient, User
from scheduler.patients import consents
from scheduler.services import audit
from scheduler.services.errors import Conflict, NotFound

EDITABLE = ("first_name", "last_name", "email", "phone", "date_of_birth")


def get(patient_id: int) -> Patient:
    """Loads a patient or raises NotFound."""
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    return patient


def search(q: str | None, limit: int = 50, offset: int = 0) -> list[Patient]:
    """Patients matching a search text, by last then first name: the one patient search of the
    desk, the booking panel's type-ahead and the API (what the text means: domain.lookup). An
    erased patient is found by id only."""
    stmt = select(Patient).where(Patient.erased_at.is_(None))
    q = (q or "").strip()
    if q:
        stmt = stmt.where(_matches(q))
    stmt = stmt.order_by(func.lower(Patient.last_name), func.lower(Patient.first_name), Patient.id)
    return list(db.session.scalars(stmt.limit(limit).offset(offset)))


def _matches(q: str):
    """The WHERE clause for one search text: a date of birth (dd/mm/yyyy, "13 Apr 1951", ISO),
    a phone number in any common format (compared as national digits), or an email fragment
    or the words of a name in any order ("Patel, Amelia", "amelia patel"), each word the start
    of the first name, the last name or a later part of either."""
    wanted = lookup.read(q)
    if wanted.date_of_birth is not None:
        return Patient.date_of_birth == wanted.date_of_birth
    if wanted.phone is not None:
        return Patient.phone_digits.like(f"%{_escape(wanted.phone)}%", escape="\\")
    clauses = [func.lower(Patient.email).like(f"%{_escape(q.lower())}%", escape="\\")]
    if wanted.words:
        clauses.append(and_(*(_name_starts(word) for word in wanted.words)))
    return or_(*clauses)


def _name_starts(word: str):
    """A name word starts the first or the last name, or a part of one after a space or hyphen."""
    parts = []
    for column in (func.lower(Patient.first_name), func.lower(Patient.last_name)):
        for before in ("", "% ", "%-"):
            parts.append(column.like(f"{before}{_escape(word)}%", escape="\\"))
    return or_(*parts)


def _escape(text: str) -> str:
    """Escapes LIKE wildcards in user text."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _answers(data: dict[str, Any]) -> dict[str, bool]:
    """The consent answers in a create or edit: `reminders_opt_in` (the old flag), then `consents`
    ({topic: bool}), which wins where both speak."""
    answers: dict[str, bool] = {}
    if data.get("reminders_opt_in") is not None:
        answers |= consents.answers_from_flag(bool(data["reminders_opt_in"]))
    answers |= {k: bool(v) for k, v in (data.get("consents") or {}).items() if v is not None}
    return answers


def create(data: dict[str, Any], *, actor: User | None, via: str = "desk") -> Patient:
    """Registers a patient, with the consents they gave (recorded as given `via` the desk or the API)."""
    begin_write()
    patient = Patient(**{k: data[k] for k in EDITABLE if k in data})
    db.session.add(patient)
    db.session.flush()
    given = consents.record(patient, _answers(data), via=via, actor=actor, action=None)
    details = {"name": patient.full_name, "consents": {topic: after for topic, (_b, after) in given.items()}}
    audit.record("patient.created", "patient", patient.id, actor, details | {"via": via})
    return patient


def update(patient_id: int, changes: dict[str, Any], *, actor: User | None, via: str = "desk") -> Patient:
    """Edits a patient; a withdrawn consent ends the pending emails it covered (patients.consents)."""
    begin_write()
    patient = get(patient_id)
    if patient.erased_at is not None:
        raise Conflict("This patient's details were erased; they cannot be edited.", code="erased")
    before = {k: getattr(patient, k) for k in changes if k in EDITABLE}
    for key, value in changes.items():
        if key in EDITABLE:
            setattr(patient, key, value)
    db.session.flush()
    changed = {k: [_plain(before[k]), _plain(getattr(patient, k))] for k in before if before[k] != getattr(patient, k)}
    if changed:
        audit.record("patient.updated", "patient", patient.id, actor, {"changed": changed})
    consents.record(patient, _answers(changes), via=via, actor=actor)
    return patient


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a field value for the audit log."""
    return value.isoformat() if isinstance(value, date) else value


def possible_duplicates(
    first_name: str, last_name: str, date_of_birth: date | None, email: str | None, *, exclude_id: int | None = None
) -> list[Patient]:
    """Patients with the same name and date of birth, or the same email (case aside): likely the same person."""
    same_person = select(Patient).where(
        func.lower(Patient.first_name) == first_name.lower(),
        func.lower(Patient.last_name) == last_name.lower(),
        Patient.date_of_birth == date_of_birth,
    )
    found = list(db.session.scalars(same_person.limit(5)))
    if email:
        found += db.session.scalars(select(Patient).where(func.lower(Patient.email) == email.lower()).limit(5))
    return list({p.id: p for p in found if p.id != exclude_id}.values())
