"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from scheduler import create_app

app = create_app()
