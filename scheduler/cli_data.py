"""`flask data`: checks on the data already stored."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from scheduler.domain import text
from scheduler.extensions import db
from scheduler.services import text_check
from scheduler.services.errors import ServiceError

data_cli = AppGroup("data", help="Check the stored data.")


def _fail(message: str) -> None:
    """Exits non-zero with a one-line reason on standard error."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@data_cli.command("check-text")
@click.option("--fix", is_flag=True, help="Clean the values found, with an audit event for each.")
def check_text(fix: bool) -> None:
    """Lists stored text holding control characters (exit 1 when any); --fix cleans them."""
    try:
        if fix:
            _clean()
        else:
            _list()
    except SQLAlchemyError as exc:
        db.session.rollback()
        orig = getattr(exc, "orig", None) or exc
        _fail(f"database error: {type(orig).__name__}: {(str(orig).splitlines() or [''])[0]}")


def _list() -> None:
    """Prints each finding; exits 1 when there is any."""
    found = text_check.find()
    for finding in found:
        click.echo(finding.describe())
    if found:
        held = "1 stored value holds" if len(found) == 1 else f"{len(found)} stored values hold"
        _fail(f"{held} control characters; --fix cleans them.")
    click.echo("No stored text holds control characters.")


def _clean() -> None:
    """Cleans every finding in one transaction and prints what changed."""
    try:
        changes = text_check.fix()
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        _fail(f"{exc.message}; nothing was changed.")
    for finding, new in changes:
        click.echo(f"{finding.describe()} -> {'null' if new is None else text.shown(new)}")
    click.echo(f"Cleaned {len(changes)} stored value{'' if len(changes) == 1 else 's'}.")
