"""The control-character rule of scheduler.domain.text, as the API's request schemas apply it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import get_args

from pydantic import AfterValidator, BaseModel, ValidationInfo, field_validator
from pydantic.fields import FieldInfo

from scheduler.domain import text

#: marks a free-text field (notes, reasons): line breaks and tabs allowed, CRLF stored as LF
FREE_TEXT = AfterValidator(text.check_free_text)


def _strings(value: object) -> Iterator[str]:
    """Every string in a value, inside lists and dicts too (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def _is_free_text(field: FieldInfo) -> bool:
    """Whether a field's type carries FREE_TEXT (directly, or inside `| None`)."""
    return any(m is FREE_TEXT for m in field.metadata) or any(
        m is FREE_TEXT for arg in get_args(field.annotation) for m in get_args(arg)
    )


class PlainTextModel(BaseModel):
    """A model whose every string field is single-line text unless its type carries FREE_TEXT."""

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: object, info: ValidationInfo) -> object:
        """Refuses control characters (NUL, line breaks, tabs...) in every string a field holds."""
        if info.field_name is None or _is_free_text(cls.model_fields[info.field_name]):
            return value
        for string in _strings(value):
            reason = text.problem(string)
            if reason is not None:
                raise ValueError(reason)
        return value
