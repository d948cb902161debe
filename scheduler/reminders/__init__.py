"""Reminders: planning the emails of sessions and appointments, sending them, the outbox."""
