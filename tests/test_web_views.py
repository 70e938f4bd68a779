"""The HTML views of the editor and the canned-query pages, rendered in-process: escaping once,
result cells, highlighting, the editor's configuration."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pyoxigraph as ox
import pytest

from conftest import ROOT
from mqmkg.config import Settings
from mqmkg.queries import CannedQuery, Parameter, load_catalog
from mqmkg.server.routes.catalog import Run
from mqmkg.server.site import page_environment
from mqmkg.sparql.prefixes import HOUSE_PREFIXES
from mqmkg.web.editor import editor_config, example_text, examples, wikidata_items
from mqmkg.web.results import Cell, CellMaker, Table, compact, highlight_css, highlight_sparql

KG = "https://w3id.org/mqmkg/id/"
NASTY = "<b>Tom & \"Jerry\"</b> 'quoted'"
CATALOG = load_catalog(ROOT / "queries")


def maker() -> CellMaker:
    return CellMaker(lambda iri: "/id/" + iri[len(KG) :] if iri.startswith(KG) else iri, {KG + "karachi": "Q8660"})


def render(template: str, **context: object) -> str:
    return (
        page_environment()
        .get_template(template)
        .render(static=lambda path: f"/static/{path}?v=test", link=lambda iri: iri, **context)
    )


class Texts(HTMLParser):
    """The text of a page, entities decoded: what a reader sees."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible(html: str) -> str:
    parser = Texts()
    parser.feed(html)
    return "".join(parser.parts)


def test_cells_for_iris_literals_and_blank_nodes() -> None:
    cells = maker()
    assert cells.iri(KG + "karachi") == Cell("iri", "kg:karachi", "/id/karachi", None, KG + "karachi", "Q8660")
    assert cells.iri("http://www.wikidata.org/entity/Q8660").href == "http://www.wikidata.org/entity/Q8660"
    assert cells.iri("urn:isbn:123").href is None
    assert cells.literal("Sindh", "en", None).tag == "@en"
    assert cells.literal("1992", None, "http://www.w3.org/2001/XMLSchema#gYear").tag == "xsd:gYear"
    assert cells.literal("plain", None, "http://www.w3.org/2001/XMLSchema#string").tag is None
    assert cells.json_term({"type": "bnode", "value": "b0"}) == Cell("bnode", "_:b0", title="blank node")
    assert cells.json_term(None) == Cell("empty", "")
    assert compact("http://example.org/x") == "http://example.org/x"
    assert compact(HOUSE_PREFIXES["mqm"] + "Split") == "mqm:Split"


def test_tables_from_the_endpoints_own_formats() -> None:
    document = {
        "head": {"vars": ["s", "label"]},
        "results": {
            "bindings": [{"s": {"type": "uri", "value": KG + "mqm"}}, {"label": {"type": "literal", "value": "x"}}]
        },
    }
    table = maker().from_json(json.dumps(document).encode())
    assert table.columns == ("s", "label")
    assert [[c.kind for c in row] for row in table.rows] == [["iri", "empty"], ["empty", "literal"]]
    assert maker().from_json(b'{"head": {}, "boolean": false}').boolean is False
    graph = maker().from_ntriples(
        f'<{KG}mqm-h> <http://www.w3.org/2000/01/rdf-schema#label> "MQM Haqiqi"@en .\n'.encode()
    )
    assert graph.columns == ("subject", "predicate", "object")
    assert [c.text for c in graph.rows[0]] == ["kg:mqm-h", "rdfs:label", "MQM Haqiqi"]


def nasty_query() -> CannedQuery:
    return CannedQuery(
        name="nasty",
        title=NASTY,
        description=NASTY,
        keywords=(NASTY,),
        parameters=(Parameter("q", "string", NASTY, NASTY),),
        text=f'# title: x\nSELECT ?q WHERE {{ BIND("{NASTY}" AS ?label) }}',
    )


def test_the_query_page_escapes_every_value_exactly_once() -> None:
    query = nasty_query()
    cell = maker().literal(NASTY, "en", None)
    run = Run(Table(("q",), ((cell, maker().iri(KG + "karachi")),)), 1, 0.01, True, 10)
    html = render(
        "query.html",
        q=query,
        values={"q": NASTY},
        formats=["csv"],
        downloads=[("csv", "csv", "/queries/nasty/run?q=x&format=csv")],
        highlighted=highlight_sparql(query.text),
        editor_link="/sparql?query=x",
        run=run,
        error=NASTY,
    )
    assert "<b>" not in html and "&amp;amp;" not in html and "&amp;lt;" not in html and "&amp;#" not in html
    text = visible(html)
    assert text.count(NASTY) >= 5  # title, description, keyword, hint, error, cell: each shown as typed
    assert "&#" not in text and "&lt;" not in text  # nothing shows its escape literally
    assert 'value="&lt;b&gt;Tom &amp; &#34;Jerry&#34;&lt;/b&gt; &#39;quoted&#39;"' in html
    assert '<a class="wikidata-link tag" href="https://www.wikidata.org/wiki/Q8660"' in html
    assert "Only the first 10 rows are shown" in text


def test_highlighting_escapes_the_query_and_has_styles_for_every_token() -> None:
    html = str(highlight_sparql('SELECT * { ?s ?p "</pre><script>x</script>" }'))
    assert "<script>" not in html and "&lt;/pre&gt;&lt;script&gt;" in html
    css = (ROOT / "src" / "mqmkg" / "web" / "static" / "highlight.css").read_text(encoding="utf-8")
    assert highlight_css() in css  # the committed sheet is the one Pygments generates
    used = {c for q in CATALOG.values() for c in re.findall(r'<span class="(\w+)"', str(highlight_sparql(q.text)))}
    assert {"k", "nv", "c", "s", "nl"} <= used  # keywords, variables, comments, strings, IRIs
    assert all(f".highlight .{c} " in css for c in used - {"p"})  # punctuation is plain in this style


def test_the_list_page_lists_every_query() -> None:
    from mqmkg.server.routes.catalog import formats_for, run_link

    html = render("queries.html", queries=list(CATALOG.values()), formats_for=formats_for, run_link=run_link)
    assert html.count('<li>\n    <h2><a href="/queries/') == len(CATALOG)
    assert '<a href="/queries/organisation-changes/run?format=csv">csv</a>' in html
    assert '<a href="/queries/claims-by-report/run?format=html">table</a>' in html


def test_examples_read_as_in_the_editor() -> None:
    text = example_text(CATALOG["claims-by-report"])
    assert text.startswith("# Statements resting on a report (canned query /queries/claims-by-report)\nSELECT ")
    assert "PREFIX" not in text and "# description:" not in text
    assert '  VALUES (?key) { ("U.S. DOS Feb 1996") }' in text
    found = examples(CATALOG)
    assert [e.query.title for e in found] == sorted((q.title for q in CATALOG.values()), key=str.casefold)


# The federated examples run against the Wikidata stand-in in test_web_queries.
@pytest.mark.parametrize("name", sorted(n for n, q in CATALOG.items() if "SERVICE" not in q.text))
def test_every_example_runs_with_the_house_prefixes(name: str, project_store: ox.Store) -> None:
    text = example_text(CATALOG[name])
    original = project_store.query(CATALOG[name].text, substitutions=CATALOG[name].substitutions())
    edited = project_store.query(text, prefixes=dict(HOUSE_PREFIXES))
    if isinstance(original, ox.QuerySolutions):
        assert len(list(edited)) == len(list(original))  # type: ignore[arg-type]
    else:
        assert len(set(edited)) == len(set(original))  # type: ignore[arg-type]


def test_editor_configuration_is_json_with_everything_the_page_needs() -> None:
    settings = Settings(root=ROOT)
    config = editor_config(settings, examples(CATALOG), wikidata_items(settings), "http://127.0.0.1:8000/sparql")
    assert json.loads(json.dumps(config)) == config
    assert config["wikidata"]["altaf-hussein"] == "Q2840298"  # type: ignore[index]
    assert set(config["examples"]) == set(CATALOG)  # type: ignore[arg-type]
    assert config["prefixes"] == dict(HOUSE_PREFIXES)
    assert [f["name"] for f in config["formats"]["graph"]] == ["turtle", "ntriples", "jsonld", "rdfxml"]  # type: ignore[index]
