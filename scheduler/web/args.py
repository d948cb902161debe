"""Search and filter texts from query strings (and GET-step forms): trimmed, capped, and refused
with a 400 when they hold a control character (PostgreSQL cannot even compare a text with a NUL)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from flask import abort, request


def has_control(text: str) -> bool:
    """Whether the text holds a control character (NUL, CR, LF, tab, DEL, C1 controls ...)."""
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def text_arg(name: str, max_length: int, source: Mapping[str, str] | None = None, label: str | None = None) -> str:
    """The trimmed text `name` from the query (or `source`), at most `max_length` characters; a control
    character in it is a 400 that says so."""
    raw = (source if source is not None else request.args).get(name, "")
    text = raw.strip()[:max_length] if isinstance(raw, str) else ""
    if has_control(text):
        abort(400, description=f"The {label or name} cannot contain control characters; type it again.")
    return text
