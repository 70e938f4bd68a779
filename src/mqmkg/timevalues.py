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
