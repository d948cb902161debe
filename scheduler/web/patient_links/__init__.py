"""Patients' own booking pages, reached from links in their emails (no sign-in; docs/patient-links.md).

- `/p/book/<token>` (booking.py): the re-treatment reminder's link. A week of free times for the
  patient's treatment (never before the safety minimum), starting with the practitioner they saw
  last; a time opens a summary (`/confirm`), whose button books (POST).
- `/p/appointment/<token>` (changes.py): the confirmation's and pre-visit reminder's link. The
  appointment, other free times with the same practitioner (`/move` summary, then POST) and a
  cancel button (`/cancel` asks once more, then POST), until PATIENT_CHANGE_CUTOFF_HOURS before it.

Every request with a token counts towards that token's rate limit; a forged link gets 400, an
expired one 410, a refused time a message and a 4xx: never a 500. Every POST carries CSRF.
"""

from __future__ import annotations

from flask import Blueprint, request

from scheduler.selfservice import ratelimit

bp = Blueprint("selfservice", __name__, url_prefix="/p")


@bp.before_request
def rate_limit():
    """Counts the request against its link; over the limit, a 429 page and nothing else happens
    (the waitlist's offer pages count theirs the same way)."""
    token = (request.view_args or {}).get("token")
    if token is not None and not ratelimit.hit(token):
        return common.page(
            "public/selfservice/problem.html",
            429,
            title="Too many requests",
            message="This link has been used too often in the last minute. Please wait a minute and try again.",
        )
    return None


from scheduler.web.patient_links import booking, changes, common  # noqa: E402,F401  (registers the routes)
