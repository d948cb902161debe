"""A local date and time typed by a person, as an instant.

When the clocks go forward, the skipped wall-clock times (01:00 to 01:59 on the last Sunday of
March in Europe/London) do not exist; when they go back, the repeated ones (01:00 to 01:59 on the
last Sunday of October) happen twice. Neither names one instant, so both are refused with a
message naming the choices, instead of silently picking one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

ONE_MINUTE = timedelta(minutes=1)
ONE_SECOND = timedelta(seconds=1)


class NotAnInstant(ValueError):
    """A local time that the clocks skip (gap) or repeat (fold); the message says what to enter instead."""


def to_instant(local: datetime, tz: tzinfo) -> datetime:
    """The UTC instant of the naive wall-clock time `local` in `tz`; NotAnInstant when it is skipped or repeated."""
    earlier_rule = local.replace(tzinfo=tz, fold=0)
    later_rule = local.replace(tzinfo=tz, fold=1)
    if earlier_rule.utcoffset() == later_rule.utcoffset():
        return earlier_rule.astimezone(UTC)
    first, second = sorted((earlier_rule.astimezone(UTC), later_rule.astimezone(UTC)))
    change = _offset_change(first, second, tz)
    before, after = first.astimezone(tz).utcoffset(), second.astimezone(tz).utcoffset()
    last_clear = (change + min(before, after) - ONE_MINUTE).replace(tzinfo=None)
    first_clear = (change + max(before, after)).replace(tzinfo=None)
    choose = f"choose {_wall(last_clear, local)} or {_wall(first_clear, local)}"
    when = f"{local:%H:%M} on {_day(local)}"
    zone = getattr(tz, "key", None) or str(tz)
    if after > before:
        raise NotAnInstant(f"{when} does not exist in {zone} (clocks go forward); {choose}.")
    first_name, second_name = earlier_rule.tzname(), later_rule.tzname()
    raise NotAnInstant(
        f"{when} happens twice in {zone} (clocks go back): {local:%H:%M} {first_name} or {local:%H:%M} {second_name}; "
        f"{choose}."
    )


def _day(moment: datetime) -> str:
    """ "28 March 2027"."""
    return f"{moment.day} {moment:%B %Y}"


def _wall(moment: datetime, typed: datetime) -> str:
    """ "02:00", with its date when that is not the typed one."""
    return f"{moment:%H:%M}" if moment.date() == typed.date() else f"{moment:%H:%M} on {_day(moment)}"


def _offset_change(first: datetime, second: datetime, tz: tzinfo) -> datetime:
    """The instant in (first, second] at which `tz` takes second's UTC offset (to the second)."""
    target = second.astimezone(tz).utcoffset()
    while second - first > ONE_SECOND:
        middle = first + (second - first) // 2
        middle -= timedelta(microseconds=middle.microsecond)
        if middle <= first:
            break
        if middle.astimezone(tz).utcoffset() == target:
            second = middle
        else:
            first = middle
    return second
