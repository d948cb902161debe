"""The clinic scheduler: create_app() builds the Flask application in named steps."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from config import ROOT, ConfigError, load_config


def create_app(environment: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Builds the app; no side effects (no migrations, no scheduler start, no network)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "scheduler" / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config(environment))
    if overrides:
        app.config.update(overrides)
    _check_config(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_hooks(app)
    register_scheduler(app)
    return app


def _check_config(app: Flask) -> None:
    """Fails fast on settings the app cannot run with."""
    try:
        ZoneInfo(app.config["CLINIC_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"CLINIC_TIMEZONE {app.config['CLINIC_TIMEZONE']!r} is not an IANA time zone") from None
    from scheduler.domain.sendhours import parse_send_hours

    try:
        parse_send_hours(app.config["REMINDER_SEND_HOURS"])
    except ValueError as exc:
        raise ConfigError(f"REMINDER_SEND_HOURS: {exc}") from None


def register_extensions(app: Flask) -> None:
    """Binds the extension objects to this app."""
    from scheduler import db as database
    from scheduler.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    database.register(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from scheduler.staff import users

        return users.signed_in(user_id)


def register_blueprints(app: Flask) -> None:
    """Mounts the pages and the API (`<int:...>` in their paths only matches ids in the columns' range)."""
    from scheduler.web import admin, api, auth, converters, health, offers, patient_links, public, reception

    converters.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(reception.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(offers.bp)
    app.register_blueprint(patient_links.bp)
    app.register_blueprint(api.bp)


def register_errorhandlers(app: Flask) -> None:
    """JSON errors under /api, the app's own error pages elsewhere."""
    from scheduler.web import errors

    errors.register(app)


def register_commands(app: Flask) -> None:
    """Adds the flask commands (seed, users, scheduler, reminders)."""
    from scheduler import cli

    cli.register(app)


def register_scheduler(app: Flask) -> None:
    """Starts the embedded reminder scheduler when SCHEDULER_EMBEDDED asks for it (see scheduler.jobs).

    Only in a web process that is not under test, not under gunicorn, not the reloader's parent
    and not another flask command; never twice in one process.
    """
    from scheduler import jobs

    jobs.start_embedded(app)


def register_hooks(app: Flask) -> None:
    """Security headers and template globals."""
    from scheduler.web import health_banner, security

    security.register(app)
    health_banner.register(app)
