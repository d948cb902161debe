"""Recall as a work queue: the outcome of a call to a patient who is due, and who to call next.

Pure: the outcomes, the check of a call-back date, and the order of the queue.
"""

from __future__ import annotations

from datetime import date, timedelta

#: outcome -> how the pages say it
OUTCOMES = {
    "booked": "Called, booked",
    "no_answer": "No answer",
    "declined": "Declined",
    "call_back": "Call back",
}
#: a call-back is planned at most this far ahead
CALL_BACK_HORIZON = timedelta(days=366)
NOTE_MAX = 500

#: queue order: call now, then wait for the call-back day, then said they would book, then declined
CALL_NOW, WAIT, SAID_BOOKED, DECLINED = range(4)


def check(outcome: str, call_back_on: date | None, today: date) -> dict[str, str]:
    """{field: message} for a call outcome that cannot be recorded; empty when it can."""
    if outcome not in OUTCOMES:
        return {"outcome": "must be one of: " + ", ".join(OUTCOMES.values())}
    if outcome != "call_back":
        return {"call_back_on": "is only for a call back"} if call_back_on is not None else {}
    if call_back_on is None:
        return {"call_back_on": "is needed: the day to call back"}
    if call_back_on < today:
        return {"call_back_on": "cannot be in the past"}
    if call_back_on > today + CALL_BACK_HORIZON:
        return {"call_back_on": "must be within a year"}
    return {}


def queue_rank(outcome: str | None, call_back_on: date | None, today: date) -> int:
    """Where a due patient goes in the queue, given the outcome of the last call (None: never called)."""
    if outcome == "call_back" and call_back_on is not None and call_back_on > today:
        return WAIT
    if outcome == "booked":
        return SAID_BOOKED
    if outcome == "declined":
        return DECLINED
    return CALL_NOW
