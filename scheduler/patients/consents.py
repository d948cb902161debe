"""Recording a patient's consents (desk, API, email link, erasure); the rule itself is
scheduler.domain.consent, applied by the planner."""

from __future__ import annotations

from typing import Any

from scheduler.domain.consent import EMAILS, TOPICS, VIAS, answers_from_flag
from scheduler.extensions import db
from scheduler.models import Consent, Patient, User
from scheduler.reminders import planning
from scheduler.services import audit, clock

__all__ = ["answers_from_flag", "current", "record"]


def current(patient: Patient, topic: str) -> bool | None:
    """The stored answer on a topic: None when never asked (emails: none means not stopped)."""
    row = patient.consent(topic)
    return row.given if row is not None else None


def record(
    patient: Patient,
    answers: dict[str, bool],
    *,
    via: str,
    actor: User | None,
    actor_label: str | None = None,
    details: dict[str, Any] | None = None,
    action: str | None = "patient.consent",
) -> dict[str, list]:
    """Stores the answers that differ from the current ones (when, how, who), audits them, and
    re-plans the patient's emails: a withdrawal cancels the pending emails it covers, a consent
    brings back those still ahead. Returns {topic: [before, after]} of what changed; flushes.
    With `action` None the caller audits the change in an event of its own (a registration)."""
    if via not in VIAS:
        raise ValueError(f"unknown consent source {via!r}")
    changed: dict[str, list] = {}
    now = clock.now()
    for topic in TOPICS:
        if topic not in answers:
            continue
        given = bool(answers[topic])
        row = patient.consent(topic)
        before = row.given if row is not None else None
        if before == given or (topic == EMAILS and before is None and given):
            continue
        if row is None:
            patient.consents.append(Consent(topic=topic, given=given, via=via, recorded_at=now))
            row = patient.consents[-1]
        row.given, row.via, row.recorded_at = given, via, now
        row.recorded_by_id = actor.id if actor is not None else None
        changed[topic] = [before, given]
    if changed:
        db.session.flush()
    if changed and action is not None:
        audit.record(
            action,
            "patient",
            patient.id,
            actor,
            {"changed": changed, "via": via, **(details or {})},
            actor_label=actor_label,
        )
    if changed:
        planning.consents_changed(patient)
    return changed
