"""The control-character rule of scheduler.domain.text, as the web forms apply it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import StopValidation

from scheduler.domain import text


class PlainText:
    """WTForms validator: no control characters; a free-text field keeps line breaks (CRLF stored as LF)."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field: Field) -> None:
        if not isinstance(field.data, str):
            return
        if self.multiline:
            field.data = text.normalise_newlines(field.data)
        reason = text.problem(field.data, multiline=self.multiline)
        if reason is not None:
            raise StopValidation(f"{field.label.text} {reason}.")


def is_typed_text(field: Field) -> bool:
    """Whether a field is text a person types in and the app stores (not hidden, not a password)."""
    return isinstance(field, StringField) and not isinstance(field, (HiddenField, PasswordField))


class PlainTextForm(FlaskForm):
    """A form whose every typed text field is checked by PlainText; a textarea is free text."""

    def validate(self, extra_validators=None) -> bool:
        """Validates as FlaskForm does, with PlainText added to each typed text field."""
        extra = {name: list(chain) for name, chain in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if is_typed_text(field):
                extra.setdefault(name, []).append(PlainText(multiline=isinstance(field, TextAreaField)))
        return super().validate(extra_validators=extra)
