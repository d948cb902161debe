"""The pure diff behind reconcile: track ends, revive rules, appointment emails, and idempotence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain import appointment_plan, consent
from scheduler.domain import reconcile as rules
from scheduler.domain.plan import Planned

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
S = rules.SessionFact(10, date(2027, 3, 1), appointment_id=5)


def plan(*days_from_now: int) -> list[Planned]:
    return [Planned(i, NOW + timedelta(days=d), NOW + timedelta(days=200)) for i, d in enumerate(days_from_now, 1)]


def apply(rows: list[rules.Row], ops: rules.Ops) -> list[rules.Row]:
    """The rows after the ops (new rows get ids from 1000)."""
    by_id = {r.id: r for r in rows}
    for n, op in enumerate(ops):
        if isinstance(op, rules.Create):
            by_id[1000 + n] = rules.Row(1000 + n, op.seq, op.status, op.due_at, op.expires_at)
        else:
            by_id[op.id] = rules.Row(op.id, by_id[op.id].seq, op.status, op.due_at, op.expires_at)
    return sorted(by_id.values(), key=lambda r: (r.seq, r.id))


def test_track_end_reasons_in_order():
    later = rules.SessionFact(11, date(2027, 5, 1))
    booking = rules.BookingFact(7, date(2027, 6, 10), "booked")
    # the last argument is why the patient may not get these reminders (domain.consent), None if they may
    refused = consent.not_agreed("therapeutic")
    assert rules.track_end(S, [S], [], None) is None
    assert rules.track_end(S, [S, later], [booking], refused) == rules.End(
        "a later session (#11 on 2027-05-01) was recorded", False
    )
    assert rules.track_end(S, [S], [booking], refused) == rules.End(
        "the patient booked again (appointment #7 on 2027-06-10)", True
    )
    assert rules.track_end(S, [S], [], refused) == rules.End(refused, True)
    # its own appointment, bookings before the session and cancelled ones do not count
    own = rules.BookingFact(5, date(2027, 3, 1), "checked_in")
    before = rules.BookingFact(6, date(2027, 2, 1), "booked")
    gone = rules.BookingFact(8, date(2027, 7, 1), "cancelled")
    assert rules.track_end(S, [S], [own, before, gone], None) is None
    # same-day sessions: the one recorded later wins
    twin = rules.SessionFact(12, date(2027, 3, 1))
    assert rules.track_end(S, [S, twin], [], None) is not None and rules.track_end(twin, [S, twin], [], None) is None


def test_revive_only_what_is_still_ahead():
    rows = [
        rules.Row(1, 1, "cancelled", NOW - timedelta(days=3), NOW + timedelta(days=200)),
        rules.Row(2, 2, "cancelled", NOW + timedelta(days=40), NOW + timedelta(days=200)),
        rules.Row(3, 3, "sent", NOW - timedelta(days=90), NOW + timedelta(days=200)),
    ]
    ops = rules.diff_series(plan(-3, 40, -90), rows, None, NOW)
    assert ops == [rules.Change(2, NOW + timedelta(days=40), NOW + timedelta(days=200), "pending", None)]


def test_closed_tracks_cancel_pending_and_keep_settled_rows():
    rows = [
        rules.Row(1, 1, "sent", NOW - timedelta(days=3), NOW + timedelta(days=200)),
        rules.Row(2, 2, "pending", NOW + timedelta(days=40), NOW + timedelta(days=200)),
        rules.Row(3, 3, "sending", NOW + timedelta(days=80), NOW + timedelta(days=200)),
    ]
    end = rules.End("booked", True)
    assert rules.diff_series(plan(-3, 40, 80), rows, end, NOW) == [
        rules.Change(2, NOW + timedelta(days=40), NOW + timedelta(days=200), "cancelled", "booked")
    ]
    # a fresh closed track: placeholders only when the end can be undone
    assert [op.status for op in rules.diff_series(plan(5, 40), [], end, NOW)] == ["cancelled", "cancelled"]
    assert rules.diff_series(plan(5, 40), [], rules.End("later session", False), NOW) == []


def test_stale_plans_make_no_rows_and_dropped_seqs_are_cancelled():
    stale = [Planned(1, NOW - timedelta(days=60), NOW - timedelta(days=1))]
    assert rules.diff_series(stale, [], None, NOW) == []
    rows = [rules.Row(4, 4, "pending", NOW + timedelta(days=9), None)]
    assert rules.diff_series([], rows, None, NOW) == [
        rules.Change(4, NOW + timedelta(days=9), None, "cancelled", rules.DROPPED)
    ]


def test_confirmations_and_pre_visit():
    start = NOW + timedelta(days=2)
    pending = rules.Row(1, 0, "pending", NOW - timedelta(hours=1), start)
    new = Planned(1, NOW, start + timedelta(hours=2))
    assert appointment_plan.diff_confirmations([pending], new, "booked", None) == [
        rules.Change(1, pending.due_at, start, "cancelled", "superseded: the appointment was moved"),
        rules.Create(1, NOW, start + timedelta(hours=2)),
    ]
    assert appointment_plan.diff_confirmations([pending], None, "no_show", None) == [
        rules.Change(1, pending.due_at, start, "cancelled", "the patient did not attend")
    ]
    pre = Planned(0, start - timedelta(hours=24), start)
    assert appointment_plan.diff_pre_visit([], pre, "booked", None, NOW) == [rules.Create(0, pre.due_at, start)]
    late = Planned(0, NOW - timedelta(hours=1), NOW + timedelta(hours=23))
    assert appointment_plan.diff_pre_visit([], late, "booked", None, NOW) == []
    sent = rules.Row(3, 0, "sent", pre.due_at, start)
    moved = Planned(0, pre.due_at + timedelta(days=1), start + timedelta(days=1))
    assert appointment_plan.diff_pre_visit([sent], moved, "booked", None, NOW) == [
        rules.Create(1, moved.due_at, moved.expires_at)
    ]
    assert appointment_plan.diff_pre_visit([sent], pre, "booked", None, NOW) == []


rows_strategy = st.lists(
    st.tuples(st.integers(1, 5), st.sampled_from(rules.SETTLED + ("pending", "cancelled")), st.integers(-100, 100)),
    max_size=6,
    unique_by=lambda t: t[0],
)


@given(
    existing=rows_strategy,
    planned=st.lists(st.integers(-100, 150), min_size=1, max_size=5),
    end=st.sampled_from([None, rules.End("booked", True), rules.End("later", False)]),
)
def test_diff_properties(existing, planned, end):
    rows = [
        rules.Row(seq, seq, status, NOW + timedelta(days=d), NOW + timedelta(days=d + 30))
        for seq, status, d in existing
    ]
    target = [Planned(i, NOW + timedelta(days=d), NOW + timedelta(days=d + 120)) for i, d in enumerate(planned, 1)]
    after = apply(rows, rules.diff_series(target, rows, end, NOW))
    # idempotent: a second reconcile changes nothing
    assert rules.diff_series(target, after, end, NOW) == []
    # settled rows are never touched
    assert [r for r in after if r.id < 1000 and r.status in rules.SETTLED] == sorted(
        (r for r in rows if r.status in rules.SETTLED), key=lambda r: (r.seq, r.id)
    )
    pending = [r for r in after if r.status == "pending"]
    if end is not None:
        assert pending == []
    planned_by_seq = {p.seq: p for p in target}
    for r in pending:  # every pending row is in the plan, on the planned dates
        assert r.seq in planned_by_seq and r.due_at == planned_by_seq[r.seq].due_at
    assert len({r.seq for r in after}) == len(after)  # one row per seq
