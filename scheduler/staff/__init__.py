"""Staff users, passwords and API tokens."""
