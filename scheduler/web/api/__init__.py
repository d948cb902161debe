"""The JSON API under /api/v1 (CONTRACT.md section 4)."""

from scheduler.web.api import appointments, catalog, openapi, patients, reminders  # noqa: F401  (registers routes)
from scheduler.web.api.core import bp, error_response

__all__ = ["bp", "error_response"]
