"""The receptionist's pages: calendar, patients, booking, appointment actions, recall list.

Every page needs a signed-in staff user (else a redirect to /login). Views call one service,
then commit once; a ServiceError is shown on the form, never as an error page.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("reception", __name__)


@bp.before_request
@login_required
def require_staff():
    """Only signed-in staff past this point (admins and receptionists)."""


from scheduler.web.reception import (  # noqa: E402,F401  (registers the routes and filters)
    appointments,
    booking,
    calendar,
    filters,
    panel,
    patients,
    recall,
    session_pages,
    waitlist,
)
