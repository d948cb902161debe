"""End-to-end production tests: gunicorn, scheduler processes, PostgreSQL and a real SMTP server."""
