"""Admin pages under /admin/ (receptionists get 403)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    """Only admins past this point."""
    if not current_user.is_admin:
        abort(403, description="This page is for admins.")


from scheduler.web.admin import (  # noqa: E402,F401  (registers the routes)
    dashboard,
    outbox,
    pages,
    patient_records,
    practitioners,
    records,
    staff,
    toxins,
    treatments,
)
