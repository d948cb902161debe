import pytest

from scheduler.domain.lifecycle import (
    ACTIVE_STATUSES,
    STATUSES,
    TRANSITIONS,
    BadTransition,
    can_reschedule,
    check_transition,
)

ALLOWED = {
    ("booked", "checked_in"),
    ("booked", "cancelled"),
    ("booked", "no_show"),
    ("checked_in", "completed"),
    ("checked_in", "cancelled"),
}


def test_statuses_and_active_set() -> None:
    expected = ("booked", "checked_in", "completed", "cancelled", "no_show")
    assert expected == STATUSES
    assert set(expected[:3]) == ACTIVE_STATUSES
    assert set(STATUSES) >= ACTIVE_STATUSES
    assert set(TRANSITIONS) == set(STATUSES)


def test_transition_table() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    for terminal in ("completed", "cancelled", "no_show"):
        assert not TRANSITIONS[terminal]


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_check_transition_matrix(current: str, target: str) -> None:
    if (current, target) in ALLOWED:
        assert check_transition(current, target) is None
    else:
        with pytest.raises(BadTransition) as info:
            check_transition(current, target)
        assert (info.value.current, info.value.target) == (current, target)
        assert str(info.value)


def test_bad_transition_messages() -> None:
    with pytest.raises(BadTransition, match=r"^cannot mark a completed appointment as cancelled$"):
        check_transition("completed", "cancelled")
    with pytest.raises(BadTransition, match=r"^cannot mark a checked in appointment as no-show$"):
        check_transition("checked_in", "no_show")
    with pytest.raises(BadTransition, match="already booked"):
        check_transition("booked", "booked")


@pytest.mark.parametrize("current, target", [("booked", "done"), ("pending", "booked"), ("", "")])
def test_unknown_status(current: str, target: str) -> None:
    with pytest.raises(BadTransition, match="unknown appointment status"):
        check_transition(current, target)


@pytest.mark.parametrize("status", STATUSES)
def test_can_reschedule_only_booked(status: str) -> None:
    assert can_reschedule(status) is (status == "booked")
    assert can_reschedule("unknown") is False
