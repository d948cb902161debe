"""Liveness and readiness probes for load balancers and process managers."""

from __future__ import annotations

from flask import Blueprint, jsonify

from scheduler import db as database
from scheduler.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process answers (no database access)."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/readyz")
def readyz():
    """The database answers too."""
    try:
        database.ping()
    except Exception:  # any database failure means not ready
        db.session.rollback()
        return jsonify({"status": "database unavailable"}), 503
    return jsonify({"status": "ok"})
