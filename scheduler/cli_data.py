"""`flask data`: checks on the data already stored."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from scheduler.domain import text
from scheduler.extensions import db
from scheduler.services import text_check
from scheduler.services.errors import ServiceError

data_cli = AppGroup("data", help="Check the stored data.")


@data_cli.command("check-text")
@click.option("--fix", is_flag=True, help="Clean the values found, with an audit event for each.")
def check_text(fix: bool) -> None:
    """Lists stored text holding control characters (exit 1 when any); --fix cleans them."""
    if not fix:
        found = text_check.find()
        for finding in found:
            click.echo(finding.describe())
        if found:
            click.echo(f"Error: {len(found)} stored values hold control characters; --fix cleans them.", err=True)
            sys.exit(1)
        click.echo("No stored text holds control characters.")
        return
    try:
        changes = text_check.fix()
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc.message}; nothing was changed.", err=True)
        sys.exit(1)
    for finding, new in changes:
        click.echo(f"{finding.describe()} -> {'null' if new is None else text.shown(new)}")
    click.echo(f"Cleaned {len(changes)} stored values.")
