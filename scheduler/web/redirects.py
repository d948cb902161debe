"""Where a page goes after a form: only a plain path on this site, decided before anything is written."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import url_for

#: a path on this site: "/" then printable ASCII without spaces, not "//" or "/\" (another host)
SAFE_PATH = re.compile(r"/(?![/\\])[!-~]{0,2000}")


def safe_next(candidate: str | None, default: str | None = None) -> str:
    """`candidate` when it is a safe path on this site, else `default` (today's calendar when not given).

    Refuses other sites, schemes, backslashes, and control characters (a CR/LF would make the
    Location header invalid), so a redirect to the result can never fail.
    """
    if candidate and SAFE_PATH.fullmatch(candidate) and "\\" not in candidate:
        parts = urlsplit(candidate)
        if not parts.scheme and not parts.netloc:
            return candidate
    return default if default is not None else url_for("reception.day")
