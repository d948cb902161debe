"""Writes the audit log."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEvent, User
from scheduler.models.base import utcnow
from scheduler.services import clock


def record(
    action: str,
    entity_type: str,
    entity_id: int | None,
    actor: User | None,
    details: dict[str, Any] | None = None,
    *,
    actor_label: str | None = None,
) -> AuditEvent:
    """Adds one audit event to the current transaction (the caller commits)."""
    event = AuditEvent(**row(action, entity_type, entity_id, actor, details, actor_label=actor_label))
    db.session.add(event)
    return event


def row(
    action: str,
    entity_type: str,
    entity_id: int | None,
    actor: User | None,
    details: dict[str, Any] | None = None,
    *,
    actor_label: str | None = None,
) -> dict[str, Any]:
    """The column values of an audit event (for a Core insert; `at` is stamped on insert)."""
    return dict(
        at=utcnow(),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor.id if actor is not None else None,
        actor=actor.email if actor is not None else (actor_label or "system"),
        details=details or {},
    )


def search(
    *,
    action: str = "",
    actor: str = "",
    entity: str = "",
    since: date | None = None,
    until: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Audit events, newest first: actions starting with `action`, actors containing `actor`, one
    entity type, local days from `since` to `until` (both inclusive)."""
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        stmt = stmt.where(AuditEvent.actor.contains(actor.lower(), autoescape=True))
    if entity:
        stmt = stmt.where(AuditEvent.entity_type == entity)
    if since:
        stmt = stmt.where(AuditEvent.at >= clock.day_bounds(since)[0])
    if until:
        stmt = stmt.where(AuditEvent.at < clock.day_bounds(until + timedelta(days=1))[0])
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    return list(db.session.scalars(stmt))
