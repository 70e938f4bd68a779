"""Time with mixed precision: a stamp at its stated precision and its ``xsd:date`` bounds.

See docs/data-model.md, "Time and precision": ``"1992"^^xsd:gYear`` spans 1992-01-01 to 1992-12-31,
``"1996-02"^^xsd:gYearMonth`` spans the month, an ``xsd:date`` is one day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

XSD = "http://www.w3.org/2001/XMLSchema#"
TIME = "http://www.w3.org/2006/time#"

_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    XSD + "gYear": (re.compile(r"^(\d{4})$"), TIME + "unitYear"),
    XSD + "gYearMonth": (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), TIME + "unitMonth"),
    XSD + "date": (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"), TIME + "unitDay"),
}


class TimeValueError(ValueError):
    """A stamp whose lexical form or datatype is not one we accept."""


@dataclass(frozen=True)
class Bounds:
    """The widest ``xsd:date`` interval a stamp allows, and its OWL-Time unit."""

    earliest: date
    latest: date
    unit: str


def bounds(lexical: str, datatype: str) -> Bounds:
    """Return the bounds and unit of a stamp given its lexical form and datatype IRI."""
    if datatype not in _FORMS:
        raise TimeValueError(f"unsupported stamp datatype {datatype}")
    pattern, unit = _FORMS[datatype]
    match = pattern.match(lexical)
    if not match:
        raise TimeValueError(f"{lexical!r} is not a valid {datatype.removeprefix(XSD)}")
    parts = [int(p) for p in match.groups()]
    year = parts[0]
    if len(parts) == 1:
        return Bounds(date(year, 1, 1), date(year, 12, 31), unit)
    month = parts[1]
    if len(parts) == 2:
        last = calendar.monthrange(year, month)[1]
        return Bounds(date(year, month, 1), date(year, month, last), unit)
    try:
        day = date(year, month, parts[2])
    except ValueError as exc:
        raise TimeValueError(f"{lexical!r}: {exc}") from exc
    return Bounds(day, day, unit)


@dataclass(frozen=True)
class When:
    """What a node says about its time: ``xsd:date`` bounds, the stamp's unit, and the wording.

    ``precision`` is ``year``, ``month`` or ``day`` for a stamp; ``range`` for two bounds
    without a stamp ("1995-1996", "mid-1990s"); ``from`` or ``until`` when the text gives one
    side only ("subsequent", "By July 1995"); ``none`` when it gives no time at all.
    """

    earliest: date | None
    latest: date | None
    unit: str | None = None
    stated: str | None = None

    @property
    def precision(self) -> str:
        units = {TIME + "unitYear": "year", TIME + "unitMonth": "month", TIME + "unitDay": "day"}
        if self.unit in units and self.earliest and self.latest:
            return units[self.unit]
        if self.earliest and self.latest:
            return "range"
        return "from" if self.earliest else "until" if self.latest else "none"

    @property
    def dated(self) -> bool:
        return self.earliest is not None or self.latest is not None

    @property
    def text(self) -> str:
        """Return the time at its precision: "1992", "June 1992", "28 May 1998", "1995–1996", "not after 1992"."""
        precision = self.precision
        if precision in ("year", "month", "day"):
            assert self.earliest is not None
            return _day_text(self.earliest, precision)
        if precision == "range":
            assert self.earliest is not None and self.latest is not None
            first, last = _bound_text(self.earliest, start=True), _bound_text(self.latest, start=False)
            if first == last:
                return first
            return f"{first} – {last}" if " " in first + last else f"{first}–{last}"
        if precision == "from":
            assert self.earliest is not None
            return "not before " + _bound_text(self.earliest, start=True)
        if precision == "until":
            assert self.latest is not None
            return "not after " + _bound_text(self.latest, start=False)
        return "undated"

    def overlaps(self, start: date, end: date) -> bool:
        """Tell whether the widest interval allowed meets ``[start, end]`` (an open side meets anything)."""
        return (self.latest is None or self.latest >= start) and (self.earliest is None or self.earliest <= end)

    @property
    def sort_key(self) -> tuple[date, date]:
        """Order by the first known bound, then the latest (undated last)."""
        first = self.earliest or self.latest or date.max
        return first, self.latest or first


def _day_text(day: date, precision: str) -> str:
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return f"{calendar.month_name[day.month]} {day.year}"
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def _bound_text(day: date, start: bool) -> str:
    """Write a bound as coarsely as it allows: a whole year, a whole month, else the day."""
    if (day.month, day.day) == ((1, 1) if start else (12, 31)):
        return _day_text(day, "year")
    if day.day == 1 if start else day.day == calendar.monthrange(day.year, day.month)[1]:
        return _day_text(day, "month")
    return _day_text(day, "day")
