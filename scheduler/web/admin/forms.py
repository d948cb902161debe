"""Flask-WTF forms of the admin pages."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from scheduler.web.plain_text import PlainTextForm

ROLE_CHOICES = [SelectChoice("receptionist", "Receptionist"), SelectChoice("admin", "Admin")]


class NewUserForm(PlainTextForm):
    """Create a staff user."""

    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=10, max=512)])


class RoleForm(PlainTextForm):
    """Change a user's role."""

    role = SelectField("Role", choices=ROLE_CHOICES)


class PasswordForm(PlainTextForm):
    """Reset a user's password."""

    password = PasswordField("New password", validators=[DataRequired(), Length(min=10, max=512)])


class ActionForm(PlainTextForm):
    """A bare POST with its CSRF token (deactivate, revoke, issue token)."""

    value = HiddenField()


class EraseForm(PlainTextForm):
    """Erase a patient's personal details: a reason and an explicit confirmation."""

    reason = StringField("Reason (kept in the audit log)", validators=[DataRequired(), Length(min=3, max=500)])
    confirm = BooleanField("I understand this cannot be undone", validators=[DataRequired()])
