"""The timeline: every event and figure, placed on a time axis at the precision the source gives.

A year-precision stamp is drawn as the whole year, a month as the month, a day as a point;
an interval without a stamp ("1995-1996", "mid-1990s") as its bounds; a single bound
("By July 1995", "subsequent") as an open-ended mark at that bound. Items are grouped by
theme (a presentation grouping of the event classes, below). Undated events are listed
apart, with the event they belong to (``sem:subEventOf``).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import pyoxigraph as ox

from mqmkg.config import ONTOLOGY_NS
from mqmkg.linked import Quote, claim_index
from mqmkg.timevalues import When

_PREFIXES = """
PREFIX mqm: <https://w3id.org/mqmkg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
PREFIX time: <http://www.w3.org/2006/time#>
"""
_ITEMS = (
    _PREFIXES
    + """
SELECT ?item ?label ?class ?kind ?figure ?unit ?earliest ?latest WHERE {
  { ?class rdfs:subClassOf* sem:Event BIND (false AS ?figure) }
  UNION { ?class rdfs:subClassOf* mqm:Figure BIND (true AS ?figure) }
  ?item a ?class ; rdfs:label ?label .
  FILTER (STRSTARTS(STR(?item), "https://w3id.org/mqmkg/id/"))
  OPTIONAL { ?class rdfs:label ?kind }
  OPTIONAL { ?item time:unitType ?unit }
  OPTIONAL { ?item sem:hasEarliestBeginTimeStamp ?earliest }
  OPTIONAL { ?item sem:hasLatestEndTimeStamp ?latest }
}"""
)
_DETAILS = (
    _PREFIXES
    + """
SELECT ?item ?property ?value ?valueLabel WHERE {
  VALUES ?property { mqm:timeAsStated mqm:supportedBy sem:subEventOf }
  ?item ?property ?value .
  OPTIONAL { ?value rdfs:label ?valueLabel }
}"""
)
# Themes: lanes of the timeline, by event class (local names in the mqm: namespace).
THEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Background", ("Partition", "StateFormation", "Migration")),
    (
        "The movement and its factions",
        ("Founding", "Activation", "Split", "Renaming", "Emergence", "Flight", "AsylumGrant", "Funding"),
    ),
    (
        "Violence",
        (
            "Attack",
            "TerroristAttack",
            "Killing",
            "Death",
            "Clash",
            "ArmedConflict",
            "ViolenceWave",
            "Escalation",
            "Deescalation",
            "Strike",
            "Threat",
        ),
    ),
    (
        "State action and law",
        (
            "Crackdown",
            "Deployment",
            "Withdrawal",
            "Reinforcement",
            "Discovery",
            "Proclamation",
            "GovernorsRule",
            "Promulgation",
            "LegalChallenge",
            "CourtRuling",
        ),
    ),
    ("Politics, statements and the press", ("AllianceRupture", "Statement", "PublicChallenge", "Publication")),
    ("Figures", ()),
    ("Other events", ()),
)
_THEME_OF = {ONTOLOGY_NS + local: theme for theme, locals_ in THEMES for local in locals_}


@dataclass(frozen=True)
class TimelineItem:
    """An event or figure: its time, theme, the event it is part of, and its quotes."""

    iri: str
    label: str
    kind: str
    theme: str
    is_figure: bool
    when: When
    quotes: tuple[Quote, ...]
    claims: tuple[str, ...]
    parents: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Tick:
    """A mark on the axis: its position (percent), its label, and whether it starts a year."""

    position: float
    label: str
    year: int | None
    major: bool


@dataclass(frozen=True)
class Placement:
    """Where an item is drawn: left edge and width in percent of the axis, and its ends."""

    left: float
    width: float
    clipped_start: bool
    clipped_end: bool


@dataclass(frozen=True)
class Axis:
    """The time axis: ``[start, end)`` in days."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def position(self, day: date) -> float:
        """Return a day's position in percent of the axis (clamped to 0..100)."""
        return max(0.0, min(100.0, 100.0 * (day - self.start).days / self.days))

    def place(self, when: When) -> Placement:
        """Return where ``when`` is drawn: its whole interval, or a short open-ended mark at one bound."""
        first = when.earliest or when.latest
        last = when.latest or when.earliest
        assert first is not None and last is not None
        left, right = self.position(first), self.position(last + timedelta(days=1))
        if when.precision == "from":
            right = min(100.0, left + 2.0)
        elif when.precision == "until":
            left = max(0.0, right - 2.0)
        clipped_start = first < self.start and when.precision != "from"
        clipped_end = last + timedelta(days=1) > self.end and when.precision != "until"
        return Placement(round(left, 4), round(max(right - left, 0.0), 4), clipped_start, clipped_end)

    def ticks(self) -> tuple[Tick, ...]:
        """Return a tick per year (at most eight labels: every 1, 2, 5, 10 or 20 years), and per month on short axes
        (labelled when the axis is one or two years long); no label at the axis' right end."""
        years = range(self.start.year, self.end.year + 1)
        step = next(s for s in (1, 2, 5, 10, 20) if len(years) / s <= 8)
        ticks = []
        for year in years:
            day = date(year, 1, 1)
            if not self.start <= day <= self.end:
                continue
            position = round(self.position(day), 4)
            label = str(year) if year % step == 0 and position < 97 else ""
            ticks.append(Tick(position, label, year, year % step == 0))
            if len(years) <= 3 and day < self.end:
                for month in range(2, 13):
                    name = calendar.month_abbr[month] if len(years) == 2 else ""
                    ticks.append(Tick(round(self.position(date(year, month, 1)), 4), name, None, False))
        return tuple(ticks)


@dataclass(frozen=True)
class Timeline:
    """The dated items (in date order), the undated ones, and the axis they are drawn on."""

    items: tuple[TimelineItem, ...]
    undated: tuple[TimelineItem, ...]
    axis: Axis
    period: tuple[int, int] | None
    extent: tuple[int, int]

    @property
    def themes(self) -> tuple[tuple[str, tuple[TimelineItem, ...]], ...]:
        """Return the dated items by theme, in theme order, each in date order."""
        found = ((theme, tuple(i for i in self.items if i.theme == theme)) for theme, _ in THEMES)
        return tuple((theme, items) for theme, items in found if items)


def _date(node: ox.Literal | ox.NamedNode | ox.BlankNode | None) -> date | None:
    return date.fromisoformat(node.value) if node is not None else None


def timeline_items(store: ox.Store) -> list[TimelineItem]:
    """Return every event and figure of the graph with its time, theme, quotes and parents."""
    stated: dict[str, list[str]] = {}
    supports: dict[str, set[str]] = {}
    parents: dict[str, set[tuple[str, str]]] = {}
    for row in store.query(_DETAILS):
        item, prop, value = row["item"].value, row["property"].value, row["value"]
        if prop.endswith("timeAsStated"):
            stated.setdefault(item, []).append(str(value.value))
        elif prop.endswith("supportedBy"):
            supports.setdefault(item, set()).add(value.value)
        else:
            label = str(row["valueLabel"].value) if row["valueLabel"] is not None else value.value
            parents.setdefault(item, set()).add((value.value, label))
    claims = claim_index(store)
    found: dict[str, TimelineItem] = {}
    for row in store.query(_ITEMS):
        iri, figure = row["item"].value, row["figure"].value == "true"
        theme = "Figures" if figure else _THEME_OF.get(row["class"].value, "Other events")
        if iri in found and found[iri].theme != "Other events":
            continue
        backing = tuple(sorted(supports.get(iri, ())))
        quotes = {q for c in backing if c in claims for q in claims[c].quotes}
        when = When(
            _date(row["earliest"]),
            _date(row["latest"]),
            row["unit"].value if row["unit"] is not None else None,
            " | ".join(sorted(stated.get(iri, []))) or None,
        )
        found[iri] = TimelineItem(
            iri=iri,
            label=str(row["label"].value),
            kind=str(row["kind"].value) if row["kind"] is not None else row["class"].value.rsplit("#", 1)[-1],
            theme=theme,
            is_figure=figure,
            when=when,
            quotes=tuple(sorted(quotes, key=lambda q: q.start)),
            claims=backing,
            parents=tuple(sorted(parents.get(iri, ()))),
        )
    return sorted(found.values(), key=lambda i: (*i.when.sort_key, i.label.casefold(), i.iri))


def _in_period(when: When, start: date, end: date) -> bool:
    """Tell whether a timeline item belongs in ``[start, end]``: an interval that meets it, or a
    single bound ("not before 1992", "not after July 1995") that falls inside it."""
    if when.precision == "from":
        return when.earliest is not None and start <= when.earliest <= end
    if when.precision == "until":
        return when.latest is not None and start <= when.latest <= end
    return when.overlaps(start, end)


def timeline(store: ox.Store, first: int | None = None, last: int | None = None) -> Timeline:
    """Return the timeline; with ``first`` or ``last`` (years), only the items of that period.

    A missing end of the period is the graph's first or last dated year.
    """
    items = timeline_items(store)
    dated = [i for i in items if i.when.dated]
    bounds = [d for i in dated for d in (i.when.earliest, i.when.latest) if d is not None]
    extent = (min(bounds).year, max(bounds).year) if bounds else (date.today().year, date.today().year)
    period = None
    if first is not None or last is not None:
        low = first if first is not None else min(extent[0], last or extent[0])
        period = (low, last if last is not None else max(extent[1], low))
    first, last = period or extent
    axis = Axis(date(first, 1, 1), date(last + 1, 1, 1))
    if period:
        dated = [i for i in dated if _in_period(i.when, axis.start, axis.end - timedelta(days=1))]
    undated = [i for i in items if not i.when.dated]
    return Timeline(tuple(dated), tuple(undated), axis, period, extent)
