"""Audit events as sentences, without a database."""

from scheduler.domain.audit_text import Ref, sentence, value_words

TREATMENT = Ref("treatment", 3, "Chronic migraine")
PATIENT = Ref("patient", 9, "Amelia Patel")


def words(parts) -> str:
    return "".join(p if isinstance(p, str) else f"[{p.label}]" for p in parts)


def test_interval_change() -> None:
    parts = sentence(
        "treatment.intervals_changed",
        "Anna (admin)",
        TREATMENT,
        {"changed": {"remind_from": ["P12W", "P13W"]}, "reminders_replanned": 4},
        {},
        str,
    )
    assert (
        words(parts) == "Anna (admin) changed [Chronic migraine]'s first reminder from 12 weeks to 13 weeks;"
        " 4 pending reminders re-planned"
    )
    assert TREATMENT in parts


def test_patient_window_and_values() -> None:
    names = {("treatment", 3): TREATMENT}
    parts = sentence(
        "patient.interval_set",
        "Bo (receptionist)",
        PATIENT,
        {"treatment_id": 3, "from": ["P12W", "P6M"], "to": ["P13W", "P4M"]},
        names,
        str,
    )
    assert (
        words(parts) == "Bo (receptionist) set [Amelia Patel]'s window for [Chronic migraine] from 12 weeks–6 months"
        " to 13 weeks–4 months"
    )
    assert value_words("min_interval_days", 84) == "84 days" and value_words("follow_up_after", None) == "none"
    assert value_words("reminders_opt_in", False) == "off" and value_words("active", True) == "yes"


def test_rescheduling_uses_the_pages_date_style_and_unknown_actions_still_read() -> None:
    appt = Ref("appointment", 5, "Amelia Patel's appointment")
    moved = sentence("appointment.rescheduled", "Anna (admin)", appt, {"from": "a", "to": "b"}, {}, lambda t: t.upper())
    assert words(moved) == "Anna (admin) moved [Amelia Patel's appointment] from A to B"
    odd = sentence("session.voided", "The system", PATIENT, {"reason": "typo", "session_id": 4}, {}, str)
    assert words(odd) == "The system: session voided [Amelia Patel] (reason: typo)"
    assert (
        words(sentence("appointment.no_show", "Bo", appt, {}, {}, str))
        == "Bo marked [Amelia Patel's appointment] as a no-show"
    )


def test_days_in_messages_read_as_the_pages_write_them() -> None:
    from scheduler.domain.daytext import dates_in_words

    assert (
        dates_in_words("last session was on 2027-01-01; the earliest safe date is 2027-03-26.")
        == "last session was on Fri 1 Jan 2027; the earliest safe date is Fri 26 Mar 2027."
    )
    assert dates_in_words("2027-02-30 and 2027-03-01T09:00 and 12027-01-01") == (
        "2027-02-30 and 2027-03-01T09:00 and 12027-01-01"
    )
