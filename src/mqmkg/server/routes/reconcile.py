"""``/reconcile``: the Reconciliation Service API v0.2, for OpenRefine and other clients.

``GET /reconcile`` is the manifest; ``queries=`` (GET or form POST) a batch of queries;
``query=`` one query (the v0.1 form, answered without the batch wrapper); ``extend=`` a data
extension query. Suggest, preview and property proposals have their own paths. Every answer
is JSON with CORS open (the app's middleware); errors are problem+json 4xx.

JSONP (``callback=``) is refused with a 400: version 0.2 made CORS mandatory and JSONP
optional, OpenRefine uses CORS since 3.5, and JSONP would run our answer as script in the
client's page (the reason OpenRefine plans to drop it, OpenRefine issue 7293).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mqmkg import __version__
from mqmkg.deferred import Deferred
from mqmkg.errors import ReconciliationError, UnsupportedMediaType
from mqmkg.linked import entity_view
from mqmkg.linking import read_reference
from mqmkg.reconcile import (
    MAX_QUERY_CHARS,
    PROPERTY_IDS,
    Index,
    build_index,
    expand_type,
    extend,
    manifest,
    parse_batch,
    parse_extend,
    parse_query,
    propose_properties,
    reconcile,
    reconcile_one,
    suggest_entities,
    suggest_properties,
    suggest_types,
)
from mqmkg.server.errors import problem_responses
from mqmkg.server.routes.sparql import read_body
from mqmkg.server.site import Site, SiteDep

SERVICE_NAME = "mqmkg: Pakistan's MQM in the GlobalSecurity.org profile"
FORM = "application/x-www-form-urlencoded"
_MAX_PARAM = 200_000
# In a URL a parameter must fit the 16 KiB request head (h11) once percent-encoded; larger batches are POSTed.
_MAX_URL_PARAM = 4_000
_OPERATIONS = ("queries", "query", "extend")


def _index_of(site: Site) -> Index:
    tsv = site.settings.reference_tsv
    labels = {qid: row["wikidata_label"] for qid, row in read_reference(tsv).items()} if tsv.is_file() else {}
    return build_index(site.store, site.settings.public_base, labels)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, object]]:
    """Give requests the index, built on first use (not at start-up)."""
    site: Site = app.state.site
    yield {"reconcile_index": Deferred(lambda: _index_of(site), "mqmkg-reconcile-index")}


def refuse_jsonp(request: Request) -> None:
    """Refuse JSONP: the spec makes CORS mandatory and JSONP unsafe for the client."""
    if "callback" in request.query_params:
        raise ReconciliationError(
            "JSONP (callback=) is not supported: this service answers with CORS headers, as the "
            "Reconciliation Service API 0.2 requires (OpenRefine 3.5 and later use CORS)"
        )


def get_index(request: Request) -> Index:
    """Return the reconciliation index, building it on the first request."""
    deferred: Deferred[Index] = request.state.reconcile_index
    return deferred.get()


IndexDep = Annotated[Index, Depends(get_index)]
router = APIRouter(tags=["reconciliation"], lifespan=lifespan, dependencies=[Depends(refuse_jsonp)])

_CANDIDATE = {
    "type": "object",
    "required": ["id", "name", "score", "match"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "score": {"type": "number"},
        "match": {"type": "boolean"},
        "type": {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
        "features": {"type": "array", "items": {"type": "object", "required": ["id", "value"]}},
        "matchedLabel": {"type": "string"},
        "matchedLabelKind": {"type": "string"},
        "wikidata": {"type": "string", "pattern": "^Q[0-9]+$"},
        "wikidataUrl": {"type": "string"},
        "wikidataMatch": {"type": "string", "enum": ["exact", "close"]},
    },
}
_RESULT = {"type": "object", "required": ["result"], "properties": {"result": {"type": "array", "items": _CANDIDATE}}}
_MANIFEST = {
    "type": "object",
    "required": ["versions", "name", "identifierSpace", "schemaSpace"],
    "properties": {
        "versions": {"type": "array", "items": {"type": "string"}},
        "name": {"type": "string"},
        "identifierSpace": {"type": "string"},
        "schemaSpace": {"type": "string"},
        "view": {"type": "object"},
        "preview": {"type": "object"},
        "suggest": {"type": "object"},
        "extend": {"type": "object"},
        "defaultTypes": {"type": "array"},
        "batchSize": {"type": "integer"},
    },
}
_EXTENSION = {
    "type": "object",
    "required": ["meta", "rows"],
    "properties": {
        "meta": {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
        "rows": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}
_BATCH = {"type": "object", "additionalProperties": _RESULT}
_SUGGESTIONS = {
    "type": "object",
    "required": ["result"],
    "properties": {
        "result": {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
        "cursor": {"type": "integer"},
    },
}
_PROPOSALS = {
    "type": "object",
    "required": ["properties"],
    "properties": {
        "properties": {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
        "type": {"type": "string"},
        "limit": {"type": "integer"},
    },
}


def _json(schema: dict[str, object], description: str) -> dict[int | str, dict[str, object]]:
    return {200: {"description": description, "content": {"application/json": {"schema": schema}}}}


_SERVICE_RESPONSES = _json(
    {"anyOf": [_MANIFEST, _BATCH, _RESULT, _EXTENSION]},
    "The manifest (no parameters), a result batch (queries=), one result (query=) or a data extension (extend=)",
) | problem_responses(400, 413, 415)
_FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "description": "at most one of queries=, query= and extend= (none: the manifest)",
                    "properties": {
                        "queries": {"type": "string", "minLength": 1, "description": "a JSON query batch"},
                        "query": {
                            "type": "string",
                            "minLength": 1,
                            "description": "one query: a string or a JSON query object",
                        },
                        "extend": {"type": "string", "minLength": 1, "description": "a JSON data extension query"},
                    },
                }
            }
        },
    }
}


def _loads(name: str, text: str) -> object:
    """Parse a JSON parameter; a syntax error names its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ReconciliationError(f"{name}= is not valid JSON: {exc.msg} ({where})") from None
    except (ValueError, RecursionError) as exc:  # nesting too deep, an integer too long
        raise ReconciliationError(f"{name}= cannot be read as JSON: {exc}") from None


def answer(index: Index, params: Mapping[str, str], server: str) -> dict[str, object]:
    """Answer one request to the service endpoint from its (single-valued) parameters."""
    given = [name for name in _OPERATIONS if name in params]
    if len(given) > 1:
        raise ReconciliationError(f"give one of queries=, query= or extend=, not {' and '.join(given)}")
    if not given:
        return manifest(index, server, SERVICE_NAME, __version__)
    name = given[0]
    text = params[name]
    if name == "queries":
        return reconcile(index, parse_batch(index, _loads(name, text)))
    if name == "extend":
        return extend(index, parse_extend(_loads(name, text)))
    if len(text) > MAX_QUERY_CHARS and not text.lstrip().startswith("{"):
        raise ReconciliationError(f"query= is longer than {MAX_QUERY_CHARS} characters")
    parsed = _loads(name, text) if text.lstrip().startswith("{") else text
    return {"result": reconcile_one(index, parse_query(index, "query", parsed))}


def single_valued(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Return the parameters as a dict, refusing a repeated service parameter."""
    found: dict[str, str] = {}
    for key, value in pairs:
        if key in found and key in _OPERATIONS:
            raise ReconciliationError(f"parameter {key}= given more than once")
        found.setdefault(key, value)
    return found


def server_url(request: Request) -> str:
    """Return this server's base URL without a final slash."""
    return str(request.base_url).rstrip("/")


@router.get(
    "/reconcile",
    summary="Reconciliation service: manifest, queries, one query, or data extension",
    responses=_SERVICE_RESPONSES,
)
def service_get(
    request: Request,
    index: IndexDep,
    queries: Annotated[str | None, Query(max_length=_MAX_URL_PARAM, description="a JSON query batch")] = None,
    query: Annotated[str | None, Query(max_length=_MAX_URL_PARAM, description="one query (v0.1 form)")] = None,
    extend: Annotated[str | None, Query(max_length=_MAX_URL_PARAM, description="a JSON data extension query")] = None,
) -> JSONResponse:
    """Without parameters, the manifest; otherwise the answer to ``queries=``, ``query=`` or ``extend=``."""
    params = single_valued(parse_qsl(request.url.query, keep_blank_values=True))
    return JSONResponse(answer(index, params, server_url(request)))


@router.post(
    "/reconcile",
    summary="Reconciliation service: queries or data extension sent as a form",
    responses=_SERVICE_RESPONSES,
    openapi_extra=_FORM_BODY,
)
async def service_post(request: Request, site: SiteDep) -> JSONResponse:
    """``queries=``, ``query=`` or ``extend=`` in an ``application/x-www-form-urlencoded`` body
    (none of them: the manifest, as datasette-reconcile and csv-reconcile answer)."""
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise UnsupportedMediaType(f"send the reconciliation queries as {FORM} (queries=, query= or extend=)")
    body = await read_body(request, site.settings.max_body_bytes)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeDecodeError as exc:
        raise ReconciliationError(f"the form body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    params = single_valued(pairs)
    index = await run_in_threadpool(get_index, request)
    return JSONResponse(await run_in_threadpool(answer, index, params, server_url(request)))


PrefixQuery = Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="what the user typed so far")]
CursorQuery = Annotated[int, Query(ge=0, le=10_000, description="how many suggestions to skip")]


@router.get(
    "/reconcile/suggest/entity",
    summary="Autocomplete entities by any of their names",
    responses=_json(_SUGGESTIONS, "Entities with a name or word starting with the prefix") | problem_responses(400),
)
def suggest_entity(
    request: Request,
    index: IndexDep,
    site: SiteDep,
    prefix: PrefixQuery = "",
    cursor: CursorQuery = 0,
    type: Annotated[str | None, Query(max_length=500, description="only entities of this type")] = None,
) -> JSONResponse:
    """Prefix autocomplete over every label (folded as ``/search`` folds them), ten at a time."""
    types = (expand_type(index, type),) if type else ()
    return JSONResponse(suggest_entities(index, site.store, prefix, cursor, types))


@router.get(
    "/reconcile/suggest/type",
    summary="Autocomplete types",
    responses=_json(_SUGGESTIONS, "Types whose name starts with the prefix") | problem_responses(400),
)
def suggest_type(index: IndexDep, prefix: PrefixQuery = "", cursor: CursorQuery = 0) -> JSONResponse:
    """Classes and classification concepts of the reconcilable entities."""
    return JSONResponse(suggest_types(index, prefix, cursor))


@router.get(
    "/reconcile/suggest/property",
    summary="Autocomplete properties (for query filters and data extension)",
    responses=_json(_SUGGESTIONS, "Properties whose name starts with the prefix") | problem_responses(400),
)
def suggest_property(prefix: PrefixQuery = "", cursor: CursorQuery = 0) -> JSONResponse:
    """The properties ``extend`` can fetch and queries can filter on."""
    return JSONResponse(suggest_properties(prefix, cursor))


@router.get(
    "/reconcile/properties",
    summary="Data extension: the properties to propose for a type",
    responses=_json(_PROPOSALS, "Properties that entities of the type have values for") | problem_responses(400),
)
def properties(
    index: IndexDep,
    type: Annotated[str | None, Query(max_length=500, description="a type id (IRI or CURIE)")] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="at most this many")] = None,
) -> JSONResponse:
    """Property proposals for OpenRefine's "Add columns from reconciled values"."""
    return JSONResponse(propose_properties(index, type, limit))


@router.get(
    "/reconcile/preview",
    summary="A small HTML card of an entity, for OpenRefine's preview",
    responses={
        200: {"description": "The card", "content": {"text/html": {}}},
        404: {"description": "No such entity: a card saying so", "content": {"text/html": {}}},
    }
    | problem_responses(400),
)
def preview(
    request: Request,
    index: IndexDep,
    site: SiteDep,
    id: Annotated[str, Query(min_length=1, max_length=500, description="an entity id, kg: CURIE or IRI")],
) -> Response:
    """Label, types, dates, leaders, places, Wikidata link and one quote with its report."""
    entity = index.entity(id)
    if entity is None:
        return site.render("reconcile_preview.html", status=404, framable=True, entity=None, missing=id)
    view = entity_view(site.store, entity.iri)
    quoted = sorted((c for c in view.claims if c.quotes), key=lambda c: (not c.reports, c.start))
    facts = [
        (PROPERTY_IDS[prop].name, index.values(entity.id, prop))
        for prop in ("date", "founded", "leaders", "leads", "places", "events", "reports")
        if index.values(entity.id, prop)
    ]
    return site.render(
        "reconcile_preview.html",
        framable=True,
        entity=entity,
        claim=quoted[0] if quoted else None,
        source=f"{server_url(request)}/source",
        facts=facts,
        claims=index.values(entity.id, "claims"),
        page=f"{server_url(request)}/id/{entity.id}",
    )
