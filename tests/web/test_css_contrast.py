"""Every button style and every coloured label in scheduler/static/*.css keeps its text at WCAG AA
contrast (4.5:1 or more), at rest and on hover.

The stylesheets are parsed here (no browser): custom properties are resolved from :root, and for
buttons the cascade is worked out the way a browser does for a plain compound selector (tag,
classes, :hover), by specificity then source order, across every stylesheet in the order base.html
loads them. A "Cancel appointment" button drawn red on red (1.15:1) fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "scheduler" / "static"
AA = 4.5
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Rule:
    selector: str
    decls: dict[str, str]
    order: int
    media: str | None


def _rules(css: str, start: int) -> list[Rule]:
    """The style rules of a stylesheet, those inside @media blocks tagged with their query."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules: list[Rule] = []
    pos, media, depth = 0, None, 0
    for match in re.finditer(r"([^{}]*)\{([^{}]*)\}|([^{}]*)\{|\}", css):
        if match.group(3) is not None:  # "@media (...) {" opens a block
            media, depth = match.group(3).strip(), depth + 1
            continue
        if match.group(0).strip() == "}":
            depth -= 1
            media = None if depth == 0 else media
            continue
        decls = {}
        for decl in match.group(2).split(";"):
            if ":" in decl:
                name, value = decl.split(":", 1)
                decls[name.strip().lower()] = value.replace("!important", "").strip()
        for selector in match.group(1).split(","):
            rules.append(Rule(selector.strip(), decls, start + pos, media))
            pos += 1
    return rules


def _stylesheets() -> list[Rule]:
    """app.css first (base.html), then the others in name order, as one cascade."""
    names = ["app.css"] + sorted(p.name for p in STATIC.glob("*.css") if p.name != "app.css")
    rules: list[Rule] = []
    for name in names:
        rules += _rules((STATIC / name).read_text(), len(rules) * 1000)
    return rules


RULES = _stylesheets()
VARIABLES = {k: v for r in RULES if r.selector == ":root" for k, v in r.decls.items() if k.startswith("--")}


def _colour(value: str | None) -> tuple[int, int, int] | None:
    """An opaque colour from a declaration value (var() resolved; hex, white, black), else None."""
    if value is None:
        return None
    for _ in range(5):
        var = re.search(r"var\((--[\w-]+)(?:,\s*([^)]+))?\)", value)
        if not var:
            break
        value = value.replace(var.group(0), VARIABLES.get(var.group(1), var.group(2) or ""))
    value = value.strip().lower()
    named = {"white": WHITE, "#fff": WHITE, "black": (0, 0, 0), "#000": (0, 0, 0)}
    if value in named:
        return named[value]
    hexa = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", value)
    if not hexa:
        return None
    digits = hexa.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(rgb: tuple[int, int, int]) -> float:
        chans = [c / 255 for c in rgb]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_contrast_formula():
    assert round(contrast((0, 0, 0), WHITE), 1) == 21.0
    assert round(contrast((0xA6, 0x1B, 0x12), (0xB4, 0x23, 0x18)), 2) < 1.2  # the red-on-red bug


# --- buttons: the cascade of a compound selector --------------------------------------------------

_COMPOUND = re.compile(r"^(button|a|input)?((?:\.[\w-]+)*)(:hover)?$")


def _parts(selector: str) -> tuple[str | None, frozenset[str], bool] | None:
    """(tag, classes, hover) of a plain compound selector, else None."""
    match = _COMPOUND.fullmatch(selector)
    if not match or selector == "":
        return None
    classes = frozenset(c for c in match.group(2).split(".") if c)
    return match.group(1), classes, bool(match.group(3))


def _button_styles() -> set[tuple[str, frozenset[str]]]:
    """Every (tag, classes) a stylesheet styles as a button: button.x, .button.x, a.button.x."""
    styles = set()
    for rule in RULES:
        parts = _parts(rule.selector)
        if parts is None:
            continue
        tag, classes, _ = parts
        if tag == "button":
            styles.add(("button", classes))
        elif "button" in classes:
            styles.add(("a", classes))
    return styles


def _computed(tag: str, classes: frozenset[str], hover: bool, media: str | None = None) -> dict[str, str]:
    """color and background of an element with these classes, by specificity then source order."""
    matching = []
    for rule in RULES:
        if rule.media not in (None, media):
            continue
        parts = _parts(rule.selector)
        if parts is None:
            continue
        rtag, rclasses, rhover = parts
        if (rtag is None or rtag == tag) and rclasses <= classes and (not rhover or hover):
            specificity = (len(rclasses) + rhover, rtag is not None)
            matching.append((specificity, rule.order, rule))
    style: dict[str, str] = {}
    for _, _, rule in sorted(matching, key=lambda m: (m[0], m[1])):
        for name in ("color", "background", "background-color"):
            if name in rule.decls:
                key = "background" if name.startswith("background") else name
                style[key] = rule.decls[name]
    return style


BUTTONS = sorted(_button_styles(), key=lambda s: (s[0], sorted(s[1])))


def test_the_button_styles_are_found():
    found = {(tag, "".join(f".{c}" for c in sorted(classes))) for tag, classes in BUTTONS}
    assert {("button", ".danger"), ("button", ".primary"), ("a", ".button.primary"), ("button", "")} <= found


@pytest.mark.parametrize("hover", [False, True], ids=["rest", "hover"])
@pytest.mark.parametrize("tag, classes", BUTTONS, ids=[f"{t}{''.join('.' + c for c in sorted(k))}" for t, k in BUTTONS])
def test_every_button_is_readable(tag, classes, hover):
    style = _computed(tag, classes, hover)
    ink = _colour(style.get("color")) or _colour(VARIABLES.get("--ink"))
    background = style.get("background")
    fill = _colour(background) if background and background not in ("none", "transparent") else WHITE
    assert ink is not None and fill is not None, (style, "a colour this test cannot read")
    ratio = contrast(ink, fill)
    assert ratio >= AA, f"{tag}{sorted(classes)} {'hover' if hover else 'at rest'}: {style} is {ratio:.2f}:1"


# --- any rule that sets both a text colour and a background ----------------------------------------

PAIRS = [
    r
    for r in RULES
    if _colour(r.decls.get("color")) and _colour(r.decls.get("background", r.decls.get("background-color")))
]


def test_labels_are_found():
    selectors = {r.selector for r in PAIRS}
    assert {".pill.bad", ".badge.st-no_show", ".st-failed"} <= selectors


@pytest.mark.parametrize("rule", PAIRS, ids=[f"{r.selector}@{r.order}" for r in PAIRS])
def test_every_coloured_label_is_readable(rule):
    ink = _colour(rule.decls["color"])
    fill = _colour(rule.decls.get("background", rule.decls.get("background-color")))
    assert contrast(ink, fill) >= AA, f"{rule.selector}: {contrast(ink, fill):.2f}:1"
