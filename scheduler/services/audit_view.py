"""Reads for the audit log page: the records a page of events names, resolved in a few queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from scheduler.domain.audit_text import Part, Ref, sentence
from scheduler.extensions import db
from scheduler.models import (
    Appointment,
    AuditEvent,
    Patient,
    Practitioner,
    Reminder,
    Treatment,
    TreatmentSession,
    User,
)

#: how an actor that is not a staff user reads
ACTOR_WORDS = {"system": "The system", "patient": "The patient", "cli": "A command"}
_LINKED_IN_DETAILS = (("patient_id", "patient"), ("treatment_id", "treatment"), ("practitioner_id", "practitioner"))


def _wanted(events: Iterable[AuditEvent]) -> dict[str, set[int]]:
    """Ids of every record the events name, by kind."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.entity_id is not None:
            wanted[e.entity_type].add(e.entity_id)
        for key, kind in _LINKED_IN_DETAILS:
            value = (e.details or {}).get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                wanted[kind].add(value)
        if e.actor_id is not None:
            wanted["actor"].add(e.actor_id)
    return wanted


def _rows(model, ids: set[int], *options) -> list:
    if not ids:
        return []
    return list(db.session.scalars(select(model).options(*options).where(model.id.in_(ids))))


def _refs(wanted: dict[str, set[int]], when: Callable[[datetime], str]) -> dict[tuple[str, int], Ref]:
    """A Ref (with its page's kind and a label) for every wanted record that still exists."""
    refs: dict[tuple[str, int], Ref] = {}
    for p in _rows(Patient, wanted["patient"]):
        refs["patient", p.id] = Ref("patient", p.id, p.full_name)
    for t in _rows(Treatment, wanted["treatment"]):
        refs["treatment", t.id] = Ref("treatment", t.id, t.name)
    for pr in _rows(Practitioner, wanted["practitioner"]):
        refs["practitioner", pr.id] = Ref("practitioner", pr.id, pr.name)
    for u in _rows(User, wanted["user"] | wanted["actor"]):
        refs["user", u.id] = Ref("user", u.id, u.name or u.email)
        refs["actor", u.id] = Ref("user", u.id, f"{u.name or u.email} ({u.role})")
    for a in _rows(Appointment, wanted["appointment"], joinedload(Appointment.patient)):
        refs["appointment", a.id] = Ref(
            "appointment", a.id, f"{a.patient.full_name}'s appointment on {when(a.starts_at)}"
        )
    for s in _rows(TreatmentSession, wanted["session"], joinedload(TreatmentSession.patient)):
        label = f"a session for {s.patient.full_name} of {s.performed_on.day} {s.performed_on:%b %Y}"
        refs["session", s.id] = Ref("patient", s.patient_id, label)
    for r in _rows(Reminder, wanted["reminder"], joinedload(Reminder.patient)):
        refs["reminder", r.id] = Ref(
            "patient", r.patient_id, f"the {r.kind.replace('_', '-')} email to {r.patient.full_name}"
        )
    return refs


def _instant_words(when: Callable[[datetime], str]) -> Callable[[str], str]:
    """An ISO 8601 instant from an event's details in the pages' style (other text unchanged)."""

    def words(text: str) -> str:
        try:
            return when(datetime.fromisoformat(text))
        except (TypeError, ValueError):
            return text

    return words


def sentences(events: list[AuditEvent], when: Callable[[datetime], str]) -> list[list[Part]]:
    """Each event as a sentence of text and Refs (see scheduler.domain.audit_text)."""
    refs = _refs(_wanted(events), when)
    out = []
    for e in events:
        actor = refs.get(("actor", e.actor_id or 0))
        actor_words = actor.label if actor else ACTOR_WORDS.get(e.actor, e.actor)
        subject = refs.get((e.entity_type, e.entity_id or 0))
        if subject is None and e.entity_id is not None:
            subject = Ref(e.entity_type, e.entity_id, f"{e.entity_type} #{e.entity_id} (deleted)")
        out.append(sentence(e.action, actor_words, subject, e.details or {}, refs, _instant_words(when)))
    return out
