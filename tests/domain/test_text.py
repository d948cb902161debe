"""The control-character rule of stored text (scheduler.domain.text)."""

from __future__ import annotations

import pytest

from scheduler.domain import text

#: every character a single-line field refuses: Unicode category Cc, and the line/paragraph separators
SINGLE_LINE_REFUSED = [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)] + ["\u2028", "\u2029"]


@pytest.mark.parametrize("char", SINGLE_LINE_REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_a_single_line_field_refuses_every_control_character(char):
    reason = text.problem(f"Ann{char}Lee")
    assert reason == f"must be on one line, without control characters (found U+{ord(char):04X})"
    with pytest.raises(ValueError, match="must be on one line"):
        text.check(f"Ann{char}Lee")


@pytest.mark.parametrize("value", ["Ann Lee", "Zoë O'Brien-Łukasz", "=cmd|' /C calc'!A0", "李小龙", "", "\u200dx"])
def test_ordinary_text_is_accepted(value):
    assert text.problem(value) is None
    assert text.problem(value, multiline=True) is None
    assert text.check(value) == value


def test_free_text_keeps_line_feeds_and_tabs_and_stores_crlf_as_lf():
    assert text.problem("line one\nline two\tend", multiline=True) is None
    assert text.check("one\r\ntwo\r\n\tthree", multiline=True) == "one\ntwo\n\tthree"
    assert text.check_free_text("a\r\nb") == "a\nb"


@pytest.mark.parametrize("char", [c for c in SINGLE_LINE_REFUSED if c not in "\n\t"], ids=lambda c: f"U+{ord(c):04X}")
def test_free_text_refuses_every_other_control_character(char):
    assert text.problem(f"a{char}b", multiline=True) == (
        f"must not contain control characters other than line breaks and tabs (found U+{ord(char):04X})"
    )
    with pytest.raises(ValueError):
        text.check_free_text(f"a{char}b")


def test_a_lone_carriage_return_is_refused_in_free_text():
    with pytest.raises(ValueError, match="U\\+000D"):
        text.check_free_text("a\rBcc: x@evil.example")


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("Ann\r\nBcc: x@evil.example", "Ann Bcc: x@evil.example"),
        ("Ann \n \x00 Lee", "Ann Lee"),
        ("L1\tX", "L1 X"),
        ("\x1b[31mRed\x1b[0m", "[31mRed [0m"),
        ("\n\n", ""),
        ("plain", "plain"),
    ],
)
def test_clean_a_single_line_value(value, cleaned):
    assert text.clean(value) == cleaned
    assert text.problem(cleaned) is None


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("one\r\ntwo\rthree\u2028four", "one\ntwo\nthree\nfour"),
        ("keep\ttabs\nand lines", "keep\ttabs\nand lines"),
        ("bell\x07 here", "bell here"),
    ],
)
def test_clean_free_text_keeps_its_lines(value, cleaned):
    assert text.clean(value, multiline=True) == cleaned
    assert text.problem(cleaned, multiline=True) is None


def test_shown_is_one_printable_line_around_the_first_refused_character():
    assert text.shown("Ann\r\nLee") == "'Ann\\r\\nLee'"
    long = "x" * 100 + "\x00" + "y" * 100
    shown = text.shown(long)
    assert "\\x00" in shown and shown.startswith("…'") and shown.endswith("'…") and len(shown) < 80
    assert text.shown("a\nb", multiline=True) == "'a\\nb'"
