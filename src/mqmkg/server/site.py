"""What the non-SPARQL routes read: a local read-only store, the catalogue, the dumps, pages.

Built once by ``create_app`` and handed to routes through a FastAPI dependency. The local
store answers the small, fixed lookups of entity pages and search; user queries and canned
queries (whose parameters come from users) run in the worker pool, under its deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import pyoxigraph as ox
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from mqmkg.config import Settings
from mqmkg.errors import NotAcceptable
from mqmkg.export import Dump
from mqmkg.linked import RDF_TYPE, Term, compact
from mqmkg.queries import CannedQuery
from mqmkg.release import Release
from mqmkg.sparql.conneg import negotiate
from mqmkg.web.assets import FRAMABLE, SELF_ONLY, Asset, static_url

HTML = "text/html"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass(frozen=True)
class Published:
    """What the downloads and VoID describe: the dataset's canonical quads, its dumps and its release."""

    quads: tuple[ox.Quad, ...]
    dumps: dict[str, Dump]
    # The version and content date that VoID reports (mqmkg.release).
    release: Release


@dataclass(frozen=True)
class Site:
    """The read-only state of the non-SPARQL routes.

    ``published`` makes the dumps on first use (they take longer than the rest of the
    start-up together) and returns the same object ever after.
    """

    settings: Settings
    store: ox.Store
    catalog: dict[str, CannedQuery]
    published: Callable[[], Published]
    pages: Environment
    assets: dict[str, Asset]

    @property
    def dumps(self) -> dict[str, Dump]:
        return self.published().dumps

    @property
    def quads(self) -> tuple[ox.Quad, ...]:
        return self.published().quads

    @property
    def release(self) -> Release:
        return self.published().release

    def link(self, iri: str) -> str:
        """Return where an IRI resolves on this server (``/id/...``), or the IRI itself."""
        base = self.settings.public_base
        return "/id/" + iri[len(base) :] if iri.startswith(base) else iri

    def render(self, template: str, status: int = 200, *, framable: bool = False, **context: object) -> HTMLResponse:
        """Render a page template (autoescaped) with the site helpers available.

        Every page may load only this server's own scripts, styles and data
        (``Content-Security-Policy``), so no page can reach another host; only a ``framable``
        page may be shown in another site's frame.
        """
        page = self.pages.get_template(template).render(
            link=self.link, term=self.term_html, static=self.static, **context
        )
        policy = FRAMABLE if framable else SELF_ONLY
        return HTMLResponse(page, status_code=status, headers={"Vary": "Accept", "Content-Security-Policy": policy})

    def static(self, path: str) -> str:
        """Return the fingerprinted URL of a bundled static file (``/static/<path>?v=<hash>``)."""
        return static_url(self.assets, path)

    def term_html(self, term: Term) -> Markup:
        """Return safe HTML for a term, escaped once: a link for an IRI, a literal with its
        language or datatype as a small tag, a blank node as the list of its own triples."""
        if term.is_iri:
            return Markup('<a href="{}">{}</a> <code class="muted">{}</code>').format(
                self.link(term.value), term.label, compact(term.value)
            )
        if term.is_blank:
            rows = Markup("").join(
                Markup("<dt>{}</dt><dd>{}</dd>").format(link.property.label, self.term_html(link.other))
                for link in term.nested
                if link.property.value != RDF_TYPE
            )
            return Markup('<span class="bnode-type">{}</span><dl class="bnode">{}</dl>').format(term.label, rows)
        tag = term.language or (compact(term.datatype) if term.datatype and term.datatype != XSD_STRING else "")
        if not tag:
            return Markup("{}").format(term.label)
        kind = "language" if term.language else "datatype"
        return Markup('{} <span class="tag" title="{}">{}</span>').format(term.label, kind, tag)


def page_environment() -> Environment:
    """Return the Jinja2 environment of the bundled templates, autoescaping HTML."""
    return Environment(loader=PackageLoader("mqmkg", "web/templates"), autoescape=select_autoescape(["html"]))


def prefers_html(accept: str | None, others: tuple[str, ...]) -> bool:
    """Tell whether a client prefers HTML to every one of ``others`` (HTML wins ties)."""
    return negotiate(accept, (HTML, *others)) == HTML


def view_format(accept: str | None, format: str | None, offers: dict[str, str]) -> str:
    """Return the format of a browsable view: ``format`` if given, else the negotiated one.

    ``offers`` maps media types to format names, HTML first (HTML wins ties); raise 406
    naming them when the client accepts none.
    """
    if format:
        return format
    chosen = negotiate(accept, tuple(offers))
    if chosen is None:
        raise NotAcceptable(f"offered: {', '.join(offers)} (or format={'|'.join(offers.values())})", tuple(offers))
    return offers[chosen]


def get_site(request: Request) -> Site:
    """Return the app's site state (built by ``create_app``)."""
    site: Site = request.app.state.site
    return site


SiteDep = Annotated[Site, Depends(get_site)]
