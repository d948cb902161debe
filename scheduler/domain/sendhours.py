"""REMINDER_SEND_HOURS: the local hours in which reminder emails may go out."""

from __future__ import annotations

import re
from datetime import time

_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_send_hours(text: str) -> tuple[time, time]:
    """Parses "09:00-18:00" into (start, end); the window must be non-empty, inside one day."""
    match = _PATTERN.match(text or "")
    if not match:
        raise ValueError(f"must look like 09:00-18:00, got {text!r}")
    h1, m1, h2, m2 = (int(x) for x in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} is not a valid time range")
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts")
    return start, end
