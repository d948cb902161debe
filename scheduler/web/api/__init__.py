"""The JSON API under /api/v1 (docs/interfaces.md)."""

from scheduler.web.api import appointments, catalog, openapi, patients, reminders, waitlist  # noqa: F401  (registers routes)
from scheduler.web.api.core import bp, error_response

__all__ = ["bp", "error_response"]
