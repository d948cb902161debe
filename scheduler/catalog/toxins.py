"""Toxins and their rolling dose limits (admin-set; audited)."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.db import begin_write
from scheduler.extensions import db
from scheduler.models import Toxin, Treatment, User
from scheduler.services import audit
from scheduler.services.errors import Rejected


def list_toxins() -> list[tuple[str, Toxin | None]]:
    """Every toxin named by a treatment or given a limit, by name, with its row (None: no limit)."""
    rows = {t.name: t for t in db.session.scalars(select(Toxin))}
    names = set(rows) | set(db.session.scalars(select(Treatment.toxin).distinct()))
    return [(name, rows.get(name)) for name in sorted(names, key=str.lower)]


def set_limit(name: str, max_units: float | None, period_days: int | None, *, actor: User | None) -> Toxin:
    """Sets (or, with both empty, clears) a toxin's limit: at most max_units in any period_days days."""
    begin_write()
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise Rejected("Name the toxin (at most 80 characters).", code="invalid", fields={"name": "required"})
    if (max_units is None) != (period_days is None):
        raise Rejected(
            "Give both the units and the period, or neither.",
            code="invalid_limit",
            fields={"max_units" if max_units is None else "period_days": "required with the other"},
        )
    if max_units is not None and not (0 < max_units <= 100000 and 1 <= period_days <= 730):
        raise Rejected(
            "Units 0.01 to 100000, period 1 to 730 days.", code="invalid_limit", fields={"max_units": "out of range"}
        )
    toxin = db.session.scalar(select(Toxin).where(Toxin.name == name))
    before = [toxin.max_units, toxin.period_days] if toxin else [None, None]
    if toxin is None:
        toxin = Toxin(name=name)
        db.session.add(toxin)
    toxin.max_units, toxin.period_days = max_units, period_days
    db.session.flush()
    audit.record(
        "toxin.limit_set", "toxin", toxin.id, actor, {"name": name, "changed": [before, [max_units, period_days]]}
    )
    return toxin
