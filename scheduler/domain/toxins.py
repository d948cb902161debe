"""Botulinum toxins: which toxin a product is, and the rolling cumulative-dose rule (pure).

Units of different toxins are not interchangeable (a Dysport unit is not a BOTOX unit), so the
safety interval and the dose limit count sessions of one toxin, whatever the product's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

ONA = "onabotulinumtoxinA"
ABO = "abobotulinumtoxinA"
INCO = "incobotulinumtoxinA"
PRABO = "prabotulinumtoxinA"
DAXI = "daxibotulinumtoxinA"
LETI = "letibotulinumtoxinA"
RIMA = "rimabotulinumtoxinB"

#: product names (lower case) and their toxin; any other product is a toxin of its own
KNOWN_PRODUCTS: dict[str, str] = {
    "botox": ONA,
    "botox cosmetic": ONA,
    "vistabel": ONA,
    "dysport": ABO,
    "azzalure": ABO,
    "alluzience": ABO,
    "xeomin": INCO,
    "bocouture": INCO,
    "jeuveau": PRABO,
    "nuceiva": PRABO,
    "daxxify": DAXI,
    "letybo": LETI,
    "relfydess": LETI,
    "myobloc": RIMA,
    "neurobloc": RIMA,
}
KNOWN_TOXINS: tuple[str, ...] = tuple(sorted(set(KNOWN_PRODUCTS.values())))


def toxin_for_product(product: str | None) -> str:
    """The toxin of a product name: a known brand's toxin, else the product name itself."""
    name = " ".join((product or "").split())
    return KNOWN_PRODUCTS.get(name.lower(), name)


def peak_dose(doses: Iterable[tuple[date, float]], day: date, units: float, period_days: int) -> float:
    """The highest total of any rolling window of `period_days` days that holds a new dose of
    `units` on `day`, the other doses (date, units) included.

    A window is [start, start + period_days); every window holding `day` starts after
    day - period_days and no later than day, and its total is largest when it starts on a dose
    or on `day` itself (reaching furthest ahead).
    """
    earliest = day - timedelta(days=period_days - 1)
    known = [(d, u or 0.0) for d, u in doses]
    starts = {d for d, _u in known if earliest <= d <= day} | {earliest, day}
    best = 0.0
    for start in starts:
        end = start + timedelta(days=period_days)
        best = max(best, units + sum(u for d, u in known if start <= d < end))
    return best


def over_cap(peak: float, max_units: float | None) -> bool:
    """Whether a window's total exceeds the toxin's limit (no limit set: never)."""
    return max_units is not None and peak > max_units + 1e-9


def site_list(text: str | None) -> list[str]:
    """A treatment's usual injection sites as stored (one per line, or comma-separated), in order,
    without blanks or repeats."""
    seen: list[str] = []
    for part in (text or "").replace(",", "\n").splitlines():
        site = " ".join(part.split())
        if site and site not in seen:
            seen.append(site)
    return seen
