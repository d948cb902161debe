"""Weekly working hours, their UTC intervals on a given local day, and free slots.

A working interval ending at "24:00" is stored with an end of time(0, 0),
meaning midnight at the end of the day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 6
WorkingHours = dict[str, list[tuple[time, time]]]
Interval = tuple[datetime, datetime]

_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_SHAPE = "working hours must be an object mapping days (mon..sun) to lists of [start, end] times"


def _parse_time(day: str, text: object, *, is_end: bool) -> int:
    """Parse "HH:MM" (or "24:00" as an end) into minutes after midnight."""
    if is_end and text == "24:00":
        return 24 * 60
    if text == "24:00":
        raise ValueError(f"{day}: 24:00 can only be used as an end time")
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{day}: {text!r} is not a time in HH:MM format (00:00 to 23:59)")
    return int(match.group(1)) * 60 + int(match.group(2))


def _label(minutes: int) -> str:
    """Format minutes after midnight as HH:MM (1440 -> 24:00)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _to_time(minutes: int) -> time:
    """Convert minutes after midnight to a time (1440 -> time(0, 0), the end-of-day marker)."""
    return time(minutes // 60 % 24, minutes % 60)


def _end_minutes(t: time) -> int:
    """Minutes after midnight of an interval end (time(0, 0) means 24:00)."""
    return 24 * 60 if t == time(0, 0) else t.hour * 60 + t.minute


def parse_working_hours(obj: object) -> WorkingHours:
    """Validate JSON-like {"mon": [["09:00", "17:00"]], ...} into sorted WorkingHours."""
    if not isinstance(obj, dict):
        raise ValueError(_SHAPE)  # noqa: TRY004 -- one error type for callers
    unknown = [key for key in obj if key not in DAYS]
    if unknown:
        raise ValueError(f"working hours have an unknown day {unknown[0]!r}; use {', '.join(DAYS)}")
    return {day: _parse_day(day, obj.get(day, [])) for day in DAYS}


def stored_working_hours(stored: object) -> WorkingHours:
    """A practitioner's working hours as stored (the column's JSON value, None for none), parsed
    once per distinct value: the day calendar draws twenty practitioners a look, and every booking
    judges its slot against its practitioner's. The result is shared between callers: read it,
    never change it."""
    return _parsed_hours(json.dumps(stored or {}, sort_keys=True))


@lru_cache(maxsize=256)
def _parsed_hours(text: str) -> WorkingHours:
    return parse_working_hours(json.loads(text))


def _parse_day(day: str, entries: object) -> list[tuple[time, time]]:
    """Validate one day's list of [start, end] pairs and return them sorted."""
    if not isinstance(entries, (list, tuple)):
        raise ValueError(f"{day}: must be a list of [start, end] intervals")  # noqa: TRY004 -- see above
    if len(entries) > MAX_INTERVALS_PER_DAY:
        raise ValueError(f"{day}: at most {MAX_INTERVALS_PER_DAY} intervals per day")
    spans: list[tuple[int, int]] = []
    for entry in entries:
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            raise ValueError(f'{day}: each interval must be a pair like ["09:00", "17:00"]')
        start = _parse_time(day, entry[0], is_end=False)
        end = _parse_time(day, entry[1], is_end=True)
        if end < start:
            raise ValueError(f"{day}: {_label(start)}-{_label(end)} ends before it starts")
        if end == start:
            raise ValueError(f"{day}: {_label(start)}-{_label(end)} has no length")
        spans.append((start, end))
    spans.sort()
    for (s1, e1), (s2, e2) in pairwise(spans):
        if s2 < e1:
            raise ValueError(f"{day}: {_label(s1)}-{_label(e1)} overlaps {_label(s2)}-{_label(e2)}")
    return [(_to_time(s), _to_time(e)) for s, e in spans]


def format_working_hours(hours: WorkingHours) -> dict[str, list[list[str]]]:
    """Turn WorkingHours back into JSON-ready {"mon": [["09:00", "17:00"]], ...} with all 7 days."""
    return {
        day: [[_label(s.hour * 60 + s.minute), _label(_end_minutes(e))] for s, e in hours.get(day, [])] for day in DAYS
    }


def working_intervals(day: date, hours: WorkingHours, tz: ZoneInfo) -> list[Interval]:
    """The local day's working intervals as aware UTC datetimes, correct across DST changes."""
    result: list[Interval] = []
    for start_t, end_t in hours.get(DAYS[day.weekday()], []):
        end_day = day + timedelta(days=1) if end_t == time(0, 0) else day
        start = datetime.combine(day, start_t, tzinfo=tz).astimezone(UTC)
        end = datetime.combine(end_day, end_t, tzinfo=tz).astimezone(UTC)
        if start < end:  # an interval inside a skipped (spring-forward) hour vanishes
            result.append((start, end))
    result.sort()
    merged: list[Interval] = []
    for start, end in result:  # local times in a skipped hour can map to overlapping instants
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _require_aware(*values: datetime) -> None:
    """Raise ValueError if any datetime is naive."""
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("datetimes must be timezone-aware")


def within_working_hours(
    start: datetime,
    end: datetime,
    hours: WorkingHours,
    tz: ZoneInfo,
    time_off: Iterable[Interval] = (),
) -> bool:
    """True iff [start, end) fits one working interval of its local day and avoids time off."""
    _require_aware(start, end)
    if end <= start:
        return False
    local_day = start.astimezone(tz).date()
    if not any(s <= start and end <= e for s, e in working_intervals(local_day, hours, tz)):
        return False
    return not any(off_start < end and start < off_end for off_start, off_end in time_off)


def _merge(busy: Iterable[Interval]) -> list[Interval]:
    """Sort busy intervals once and merge overlapping or touching ones."""
    merged: list[Interval] = []
    for start, end in sorted(interval for interval in busy if interval[0] < interval[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def free_slots(
    day: date,
    hours: WorkingHours,
    tz: ZoneInfo,
    duration: timedelta,
    busy: Iterable[Interval],
    now: datetime,
    step: timedelta = timedelta(minutes=15),
) -> list[datetime]:
    """Free start times (UTC) on the step grid of each working interval, clear of busy, from now."""
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    _require_aware(now)
    blocked = _merge(busy)
    j = 0
    slots: list[datetime] = []
    for iv_start, iv_end in working_intervals(day, hours, tz):
        slot = iv_start
        if now > slot:  # jump to the first grid point at or after now
            slot += step * -((iv_start - now) // step)
        while slot + duration <= iv_end:
            while j < len(blocked) and blocked[j][1] <= slot:
                j += 1
            if j < len(blocked) and blocked[j][0] < slot + duration:
                slot += step
                continue
            slots.append(slot)
            slot += step
    return slots


# --- buffer after an appointment (treatment.buffer_minutes) -----------------------------------

#: the longest buffer an admin may set after a treatment, in minutes
MAX_BUFFER_MINUTES = 60


def held_until(ends_at: datetime, buffer_minutes: int) -> datetime:
    """The end of the time an appointment holds its practitioner: its end plus its treatment's
    buffer. The practitioner's next appointment, time off and the end of working hours must all
    leave room for it; the patient is held only until `ends_at`."""
    return ends_at + timedelta(minutes=buffer_minutes)


def held_length(duration_minutes: int, buffer_minutes: int) -> timedelta:
    """How long a booking of a treatment holds its practitioner (its length plus its buffer)."""
    return timedelta(minutes=duration_minutes + buffer_minutes)


def shortest_hold(treatments: Iterable[tuple[int, int]]) -> timedelta | None:
    """The shortest hold among (duration, buffer) pairs: the least room a free calendar cell
    must have for any treatment to fit; None without treatments."""
    lengths = [held_length(d, b) for d, b in treatments]
    return min(lengths) if lengths else None
