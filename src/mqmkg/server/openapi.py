"""The OpenAPI document, told truthfully in one place.

FastAPI describes every route as answering ``200 application/json`` or ``422``; ours
answer HTML, SPARQL result formats and RDF by negotiation, and every error is a ``400``-
family RFC 9457 problem document (validation errors included). This module rewrites the
generated document so that it declares, for every operation, the status codes and media
types the server really sends, the problem schema, and the headers a client can rely on.
Each canned query is its own operation (``/queries/<name>/run``) with its typed
parameters, so a client generated from the document can call it.

``tests/test_server_schemathesis.py`` holds the server to this document.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from mqmkg.queries import CannedQuery
from mqmkg.sparql.formats import GRAPH_FORMATS, RESULT_FORMATS, Format
from mqmkg.sparql.guard import mentions_service, query_form

HTML = "text/html"
JSON = "application/json"
PROBLEM = "application/problem+json"
SPARQL_QUERY = "application/sparql-query"
TEXT = "text/plain"
Schema = dict[str, Any]


def _media_types(formats: Iterable[Format]) -> list[str]:
    return [media_type for f in formats for media_type in (f.media_type, *f.aliases)]


RESULT_TYPES = _media_types(RESULT_FORMATS)
GRAPH_TYPES = _media_types(GRAPH_FORMATS)
REF = "#/components/schemas/"

SCHEMAS: dict[str, Schema] = {
    "Problem": {
        "type": "object",
        "description": "An RFC 9457 problem document; `error` names the error class.",
        "required": ["type", "title", "status", "detail", "error"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "error": {"type": "string"},
            "line": {"type": ["integer", "null"], "description": "syntax errors: 1-based line"},
            "column": {"type": ["integer", "null"], "description": "syntax errors: 1-based column"},
            "offered": {"type": "array", "items": {"type": "string"}, "description": "406: media types offered"},
            "suggestions": {
                "type": "array",
                "description": "404 on /id/: entities with similar names",
                "items": {
                    "type": "object",
                    "required": ["iri", "name"],
                    "properties": {"iri": {"type": "string"}, "name": {"type": "string"}},
                },
            },
            "parameter": {"type": "string", "description": "the parameter a 400 is about"},
        },
    },
    "SparqlResults": {
        "type": "object",
        "description": "SPARQL 1.1 Query Results JSON: a solution table or a boolean.",
        "required": ["head"],
        "properties": {
            "head": {"type": "object", "properties": {"vars": {"type": "array", "items": {"type": "string"}}}},
            "results": {
                "type": "object",
                "required": ["bindings"],
                "properties": {"bindings": {"type": "array", "items": {"type": "object"}}},
            },
            "boolean": {"type": "boolean"},
        },
    },
    "Links": {
        "type": "object",
        "required": ["name", "links"],
        "properties": {
            "name": {"type": "string"},
            "links": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    "QueryList": {
        "type": "object",
        "required": ["queries"],
        "properties": {"queries": {"type": "array", "items": {"type": "object", "required": ["name", "title"]}}},
    },
    "Query": {"type": "object", "required": ["name", "title", "text", "parameters", "links"]},
    "SearchResults": {
        "type": "object",
        "required": ["query", "results"],
        "properties": {
            "query": {"type": "string"},
            "results": {
                "type": "array",
                "items": {"type": "object", "required": ["iri", "name", "matched", "labelKind", "score", "page"]},
            },
        },
    },
    "Files": {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {
                "type": "array",
                "items": {"type": "object", "required": ["name", "mediaType", "bytes", "sha256", "url"]},
            }
        },
    },
}

RESULT_HEADERS = {
    "X-MQMKG-Rows": {"description": "rows (or triples) in the result", "schema": {"type": "integer"}},
    "X-MQMKG-Truncated": {"description": "true when the row cap cut the result", "schema": {"enum": ["true", "false"]}},
    "X-MQMKG-Row-Limit": {"description": "the row cap", "schema": {"type": "integer"}},
    "X-MQMKG-Cache": {
        "description": "hit (from the result cache), miss (evaluated and kept), bypass (never kept), off",
        "schema": {"enum": ["hit", "miss", "bypass", "off"]},
    },
    "ETag": {
        "description": "weak when it names the answer to this request on this graph",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "public, max-age=N; no-cache for answers that may change",
        "schema": {"type": "string"},
    },
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}
ERRORS = {
    304: "Not modified (the ETag matches)",
    400: "Bad request: malformed parameter, query, Accept or Host header",
    403: "Refused: an update, LOAD, or SERVICE to an endpoint not on the allow-list",
    404: "Not found",
    406: "No acceptable media type; `offered` lists them",
    413: "Request body too large",
    415: "Unsupported Content-Type",
    429: "Too many queries from this client at once (Retry-After)",
    502: "An allow-listed SERVICE endpoint failed, or the SPARQL backend (--backend) cannot be reached",
    503: "Query deadline exceeded or the workers are busy (Retry-After when busy)",
    504: "The SPARQL backend (--backend) did not answer within the deadline",
}
QUERY_ERRORS = (400, 406, 429, 502, 503, 504)
NOT_MODIFIED = {"304": {"description": ERRORS[304]}}


def _content(media_types: Iterable[str], schemas: Mapping[str, str] | None = None) -> dict[str, Schema]:
    """Map media types to their schema references (``{}`` when the body is not JSON)."""
    named = schemas or {}
    return {t: ({"schema": {"$ref": REF + named[t]}} if t in named else {}) for t in media_types}


def ok(description: str, media_types: Iterable[str], schemas: Mapping[str, str] | None = None, **extra: Any) -> Schema:
    """A 200 response with its media types."""
    return {"description": description, "content": _content(media_types, schemas), **extra}


def problems(*codes: int, html: bool = False) -> dict[str, Schema]:
    """Error responses as problem documents (with Retry-After on 429 and 503); also HTML pages if ``html``."""
    responses: dict[str, Schema] = {}
    for code in codes:
        content = _content([PROBLEM], {PROBLEM: "Problem"}) | ({HTML: {}} if html else {})
        response: Schema = {"description": ERRORS[code], "content": content}
        if code in (429, 503):
            response["headers"] = RETRY_AFTER
        responses[str(code)] = response
    return responses


def _results(description: str, graph: bool | None, html: bool = False) -> Schema:
    """A 200 of a query: solution formats, graph formats, or both (``graph=None``); HTML too if ``html``."""
    types = GRAPH_TYPES if graph else RESULT_TYPES if graph is False else RESULT_TYPES + GRAPH_TYPES
    types = [HTML, *types] if html else types
    schemas = {t: "SparqlResults" for t in ("application/sparql-results+json", JSON)}
    return ok(description, types, schemas, headers=RESULT_HEADERS)


def operation_responses(dump_types: Iterable[str]) -> dict[tuple[str, str], dict[str, Schema]]:
    """The responses of each operation the app's routes declare, keyed by (method, path)."""
    html_or_json = [HTML, JSON]
    entity = ok("The entity: an HTML page, or RDF by Accept or suffix", [HTML, *GRAPH_TYPES])
    not_found_page = {
        "description": "No such entity (HTML page for browsers; problem document with suggestions otherwise)",
        "content": {HTML: {}, **_content([PROBLEM], {PROBLEM: "Problem"})},
    }
    return {
        ("get", "/"): {"200": ok("Landing page, or links to the service's parts", html_or_json, {JSON: "Links"})},
        ("get", "/health"): {
            "200": ok("Serving", [JSON], {JSON: "Health"}),
            "503": ok("Degraded: the pool cannot serve queries", [JSON], {JSON: "Health"}),
        },
        ("get", "/sparql"): {
            "200": _results(
                "Query results, the service description when there is no query, or (for browsers) the editor",
                None,
                html=True,
            ),
            **NOT_MODIFIED,
            **problems(400, 403, 406, 429, 502, 503, 504),
        },
        ("post", "/sparql"): {
            "200": _results("Query results", None),
            **NOT_MODIFIED,
            **problems(400, 403, 406, 413, 415, 429, 502, 503, 504),
        },
        ("get", "/queries"): {
            "200": ok("Every canned query", html_or_json, {JSON: "QueryList"}),
            **problems(400),
        },
        ("get", "/queries/{name}"): {
            "200": ok("The query: HTML, JSON, or its text", [HTML, JSON, SPARQL_QUERY], {JSON: "Query"}),
            **problems(400, 404),
        },
        ("get", "/id/{name}"): {"200": entity, "404": not_found_page, **problems(400, 406)},
        ("get", "/ontology{suffix}"): {
            "200": ok("The ontology: HTML overview, or RDF by Accept or suffix", [HTML, *GRAPH_TYPES]),
            **problems(400, 404, 406),
        },
        ("get", "/search"): {"200": ok("Entities found", html_or_json, {JSON: "SearchResults"}), **problems(400)},
        ("get", "/source"): {
            "200": ok("The source document: HTML viewer, its spans as JSON, or the verbatim text", [HTML, JSON, TEXT]),
            **problems(400),
        },
        ("get", "/timeline"): {"200": ok("Events and dated figures on a time axis", html_or_json), **problems(400)},
        ("get", "/relations"): {"200": ok("Relations and the claims behind them", html_or_json), **problems(400)},
        ("get", "/.well-known/void"): {"200": ok("VoID and DCAT", GRAPH_TYPES), **problems(400, 406)},
        ("get", "/export/"): {"200": ok("The dumps", html_or_json, {JSON: "Files"}), **problems(400)},
        ("get", "/export/{name}"): {
            "200": ok("The file, byte for byte", sorted(set(dump_types))),
            "304": {"description": ERRORS[304]},
            **problems(400, 404),
        },
    }


def _parameter_schema(kind: str, default: str) -> Schema:
    schema: Schema = {
        "iri": {"type": "string", "format": "iri"},
        "date": {"type": "string", "format": "date"},
        "gYear": {"type": "string", "pattern": "^-?[0-9]{4}$"},
        "integer": {"type": "string", "pattern": "^[+-]?[0-9]{1,18}$"},
    }.get(kind, {"type": "string"})
    return {**schema, "default": default}


def canned_query_operation(query: CannedQuery) -> Schema:
    """The operation ``GET /queries/<name>/run`` of one canned query, with its typed parameters."""
    graph = query_form(query.text) in ("CONSTRUCT", "DESCRIBE")
    formats = ["html", *(f.name for f in (GRAPH_FORMATS if graph else RESULT_FORMATS))]
    federated = mentions_service(query.text)
    parameters = [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": f"{p.description} (type {p.kind}{'; a full IRI or kg:name' if p.kind == 'iri' else ''})",
            "schema": _parameter_schema(p.kind, p.default),
        }
        for p in query.parameters
    ]
    parameters.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "Result format (html: a page with the result as a table); overrides the Accept header",
            "schema": {"type": "string", "enum": formats},
        }
    )
    return {
        "tags": ["canned queries"],
        "summary": query.title,
        "description": query.description,
        "operationId": "run_" + query.name.replace("-", "_"),
        "parameters": parameters,
        "responses": {
            "200": _results("The query's result, or a page with it as a table", graph, html=True),
            **NOT_MODIFIED,
            # format=html answers errors as the page with its form and the reason
            **problems(*QUERY_ERRORS, *((403,) if federated else ()), html=True),
        },
    }


def entity_examples(catalog: Mapping[str, CannedQuery]) -> list[str]:
    """Return entity names to show as examples: the ``kg:`` defaults of the canned queries."""
    defaults = {p.default for q in catalog.values() for p in q.parameters if p.kind == "iri"}
    return sorted(d.removeprefix("kg:") for d in defaults if d.startswith("kg:"))


def describe_api(schema: Schema, catalog: Mapping[str, CannedQuery], dump_names: Mapping[str, str]) -> Schema:
    """Return the generated document with the real responses, parameters and canned queries."""
    schema = copy.deepcopy(schema)
    table = operation_responses(dump_names.values())
    paths: dict[str, dict[str, Schema]] = schema["paths"]
    paths.pop("/queries/{name}/run", None)
    for path, item in paths.items():
        for method, operation in item.items():
            operation["responses"] = table.get((method, path), operation["responses"])
            operation["responses"].pop("422", None)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and path == "/id/{name}":
                    parameter["examples"] = {name: {"value": name} for name in entity_examples(catalog)}
                elif parameter["in"] == "path" and parameter["name"] == "name" and path.startswith("/queries/"):
                    parameter["schema"] = {"type": "string", "enum": sorted(catalog)}
                elif parameter["in"] == "path" and path == "/export/{name}":
                    parameter["schema"] = {"type": "string", "enum": sorted(dump_names)}
                elif parameter["in"] == "path" and path == "/ontology{suffix}":
                    parameter["schema"] = {"type": "string", "enum": [".ttl", ".jsonld", ".nt", ".rdf"]}
    for name in sorted(catalog):
        paths[f"/queries/{name}/run"] = {"get": canned_query_operation(catalog[name])}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    components.update(SCHEMAS)
    return schema


def install_openapi(
    app: FastAPI, catalog: Mapping[str, CannedQuery], dump_names: Callable[[], Mapping[str, str]]
) -> None:
    """Make ``app.openapi()`` (and ``/openapi.json``) return the corrected document.

    ``dump_names()`` maps each file under ``/export/`` to its media type; it is called when the
    document is first asked for (the dumps are made on first use, not at start-up).
    """

    def openapi() -> Schema:
        if app.openapi_schema is None:
            generated = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes, tags=app.openapi_tags
            )
            app.openapi_schema = describe_api(generated, catalog, dump_names())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
