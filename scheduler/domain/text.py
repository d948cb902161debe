"""Control characters in stored text: the one rule every entry point applies, and its clean-up.

A single-line field (a name, an email, a lot number...) holds no control character at all
(Unicode category Cc, U+0000 to U+001F and U+007F to U+009F, tab and line breaks included) and
no line or paragraph separator (U+2028, U+2029): such a value would break a mail header, a log
line or a CSV row. A free-text field (notes, reasons) may hold line breaks and tabs; a CRLF is
stored as LF, and every other control character is refused there too (NUL included).
"""

from __future__ import annotations

import re

#: what a single-line field refuses: every Cc character, and the two Unicode line separators
_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
#: what a free-text field refuses: the same, except tab (U+0009) and line feed (U+000A)
_FREE_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]+")
#: how much of a value a report shows
_SHOWN = 60


def _pattern(multiline: bool) -> re.Pattern[str]:
    """The characters refused by one kind of field."""
    return _FREE_TEXT if multiline else _SINGLE_LINE


def normalise_newlines(value: str) -> str:
    """Free text with Windows line ends (CRLF, as browsers send a textarea) as LF."""
    return value.replace("\r\n", "\n")


def problem(value: str, *, multiline: bool = False) -> str | None:
    """Why the value may not be stored (the first refused character), or None when it may."""
    found = _pattern(multiline).search(value)
    if found is None:
        return None
    code = f"U+{ord(found.group()[0]):04X}"
    if multiline:
        return f"must not contain control characters other than line breaks and tabs (found {code})"
    return f"must be on one line, without control characters (found {code})"


def check(value: str, *, multiline: bool = False) -> str:
    """The value as stored (free text: CRLF as LF); ValueError with the reason when it is refused."""
    if multiline:
        value = normalise_newlines(value)
    reason = problem(value, multiline=multiline)
    if reason is not None:
        raise ValueError(reason)
    return value


def check_free_text(value: str) -> str:
    """check() for a free-text field (notes, reasons)."""
    return check(value, multiline=True)


def clean(value: str, *, multiline: bool = False) -> str:
    """The value with each run of refused characters (and the spaces around it) replaced by one space.

    Free text keeps its line breaks and tabs; its CRLF and lone CR become LF, and so do U+2028/U+2029.
    """
    if multiline:
        value = re.sub("\r\n?|[\u2028\u2029]", "\n", value)
    pieces = (piece.strip(" ") for piece in _pattern(multiline).split(value))
    return " ".join(piece for piece in pieces if piece)


def shown(value: str, *, multiline: bool = False) -> str:
    """A printable one-line repr of a value for reports: control characters escaped, a long value cut
    to the part around its first refused character."""
    found = _pattern(multiline).search(value)
    start = max(0, (found.start() if found else 0) - _SHOWN // 2)
    end = start + _SHOWN
    return ("…" if start else "") + repr(value[start:end]) + ("…" if end < len(value) else "")
