"""Control characters from the command line (`flask users create`)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import AuditEvent, User
from tests.test_cli import one_line_error

PASSWORD = "a long enough password\n"


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["new@clinic.example\r\nBcc: victim@evil.example"], "the email must be on one line, without control"),
        (["new@clinic\x1b.example"], "the email must be on one line, without control characters (found u+001b)"),
        (["new@clinic.example", "--name", "New\nUser"], "the name must be on one line"),
        (["new@clinic.example", "--name", "New\u2028User"], "(found u+2028)"),
    ],
)
def test_users_create_refuses_control_characters(runner, args, reason):
    result = runner.invoke(args=["users", "create", *args, "--role", "admin", "--password-stdin"], input=PASSWORD)
    assert reason in one_line_error(result).lower()
    assert _count(User) == 0 and _count(AuditEvent) == 0
