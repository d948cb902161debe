"""The flask commands of docs/interfaces.md."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from scheduler import jobs, seed, seed_recall
from scheduler.cli_backup import backup_cli
from scheduler.cli_data import data_cli
from scheduler.domain import text
from scheduler.extensions import db
from scheduler.models import ROLES, User
from scheduler.reminders import replan_all, sweep
from scheduler.services.errors import ServiceError
from scheduler.staff import tokens, users

seed_cli = AppGroup("seed", help="Load demo data.")
users_cli = AppGroup("users", help="Manage staff users.")
scheduler_cli = AppGroup("scheduler", help="The reminder scheduler.")
reminders_cli = AppGroup("reminders", help="Reminder emails.")


def fail(message: str) -> None:
    """Exits non-zero with a one-line reason on standard error."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@seed_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
def seed_demo(if_empty: bool) -> None:
    """Loads the demo clinic (development only) and prints the demo users' passwords."""
    if current_app.config["ENV_NAME"] == "production":
        fail("flask seed demo is for development only; set APP_ENV=development")
    # staff made with `flask users create` count as data: the demo users would clash with them
    has_users = db.session.scalar(select(func.count()).select_from(User)) or 0
    if not seed.is_empty() or has_users:
        if if_empty:
            click.echo("The database already has data; demo data not loaded.")
            return
        fail("the database already has data; demo data goes into an empty database only")
    try:
        passwords = seed.seed_demo()
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    patients = seed.PATIENTS + len(seed_recall.DUE)
    click.echo(f"Demo clinic loaded: 4 treatments, 4 practitioners, {patients} patients, 4 weeks of appointments.")
    for email, password in passwords.items():
        click.echo(f"  {email}  password: {password}")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", metavar="admin|receptionist", help="The user's role (required).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--name", default="", help="Display name.")
def create_user(email: str, role: str | None, password_stdin: bool, name: str) -> None:
    """Creates a staff user; the password is read from standard input."""
    # checked here rather than by click.Choice, whose usage message runs to several lines
    if role is None:
        fail("pass --role admin or --role receptionist")
    if role not in ROLES:
        fail(f"unknown role {role!r}; the role must be admin or receptionist")
    if not password_stdin:
        fail("pass --password-stdin and give the password on standard input")
    for label, value in (("email", email), ("name", name)):
        reason = text.problem(value.strip())
        if reason is not None:
            fail(f"the {label} {reason}")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = users.create(email, role, password, name=name, actor_label="cli")
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("token")
@click.argument("email")
@click.option("--days", metavar="N", help="The token stops working N days from now (default: never).")
def token(email: str, days: str | None) -> None:
    """Prints a new API token for the user, alone on one line."""
    # checked here rather than by click's int type, whose usage message runs to several lines
    if days is not None and not days.strip().isdigit():
        fail(f"--days must be a whole number of days, got {days!r}")
    user = users.find_by_email(email)
    if user is None:
        fail(f"no user with email {email}")
    if not user.active:
        fail(f"{email} is deactivated")
    try:
        value = tokens.issue_token(user, days=None if days is None else int(days), actor_label="cli")
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.message)
    click.echo(value)


@reminders_cli.command("sweep")
def reminders_sweep() -> None:
    """One sweep now: sends what is due; prints what it sent, skipped and failed."""
    from sqlalchemy.exc import SQLAlchemyError

    def echo(o: sweep.Outcome) -> None:
        detail = o.to if o.result == "sent" else o.reason
        click.echo(f"{o.result:<9} #{o.id:<7} {o.kind:<12} patient #{o.patient_id}  {detail or ''}".rstrip())

    try:
        report = sweep.run(on_outcome=echo)  # each line as it happens: a long sweep shows its progress
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        fail(f"database unavailable: {type(orig).__name__}: {(str(orig).splitlines() or [''])[0]}")
    counts = {r: report.count(r) for r in ("sent", "skipped", "cancelled", "retry", "failed")}
    click.echo(
        f"Sweep done: {counts['sent']} sent, {counts['skipped']} skipped, {counts['failed']} failed, "
        f"{counts['retry']} to retry, {counts['cancelled']} cancelled."
        + (f" Note: {report.note}." if report.note else "")
    )


@reminders_cli.command("replan-all")
def reminders_replan_all() -> None:
    """Rebuilds every reminder plan from the sessions and appointments; prints what it changed."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        counted = replan_all.replan_all()
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        orig = getattr(exc, "orig", None) or exc
        fail(f"database error: {type(orig).__name__}: {(str(orig).splitlines() or [''])[0]}")
    for line in replan_all.report(counted):
        click.echo(line)


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Runs the reminder scheduler in the foreground until SIGINT or SIGTERM, then exits cleanly."""
    import signal
    import threading

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()

    def _stop(signum, _frame) -> None:
        click.echo(f"{signal.Signals(signum).name} received: finishing the current email, then stopping.")
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    scheduler = jobs.build_scheduler(app, stop)
    scheduler.start()
    click.echo(
        f"Reminder scheduler running: a sweep every {app.config['REMINDER_SWEEP_SECONDS']} s "
        f"(send hours {app.config['REMINDER_SEND_HOURS']} {app.config['CLINIC_TIMEZONE']}). Ctrl-C stops it."
    )
    try:
        while not stop.wait(1):
            pass
    finally:
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Reminder scheduler stopped.")


def register(app: Flask) -> None:
    """Adds the command groups to the app."""
    app.cli.add_command(seed_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(data_cli)
    app.cli.add_command(backup_cli)
