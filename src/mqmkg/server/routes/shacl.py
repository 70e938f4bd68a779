"""``/shacl``: validate contributed RDF against our shapes, together with the graph.

``POST /shacl`` with a Turtle, N-Triples or JSON-LD body (or the page's form) answers with
the SHACL validation report as Turtle, JSON-LD or N-Triples, or a readable summary as HTML or
JSON, by ``Accept`` (or ``format=``). Turtle is the default, as for Fuseki's validation
service. Parse errors are 400 with the parser's line and column; the body is capped at
``Settings.shacl_max_bytes`` and a validation at ``Settings.shacl_timeout`` seconds (its
process is killed). Nothing is written anywhere: the validation process holds its own copy
of the graph and validates a fresh copy for each submission.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from mqmkg.errors import (
    MqmkgError,
    NotAcceptable,
    ParameterError,
    PayloadTooLarge,
    SubmissionTooLarge,
    UnsupportedMediaType,
)
from mqmkg.report import SEVERITIES, ShaclResult, compact
from mqmkg.server.errors import problem_responses, status_for
from mqmkg.server.routes.sparql import read_body
from mqmkg.server.site import HTML, Site, SiteDep
from mqmkg.shacl import FORMAT_NAMES, NOTHING, SUBMISSION_FORMATS, Outcome, parse_submission
from mqmkg.sparql.conneg import negotiate
from mqmkg.sparql.formats import JSONLD, NTRIPLES, TURTLE, Format
from mqmkg.sparql.results import serialize_triples
from mqmkg.validation_worker import SubmissionJob, ValidationWorker

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
REPORT_FORMATS: dict[str, Format] = {f.media_type: f for f in (TURTLE, JSONLD, NTRIPLES)}
OFFERS = (TURTLE.media_type, JSONLD.media_type, NTRIPLES.media_type, JSON, HTML)
_BY_NAME = {"turtle": TURTLE.media_type, "jsonld": JSONLD.media_type, "ntriples": NTRIPLES.media_type}
_BY_NAME |= {"json": JSON, "html": HTML}
_NAMES = {media_type: name for name, media_type in FORMAT_NAMES.items()}
_ALIASES = {"application/x-turtle": "text/turtle", "application/turtle": "text/turtle"}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, object]]:
    """Give requests the validation worker (its process starts on the first submission)."""
    site: Site = app.state.site
    worker = ValidationWorker(site.settings, "mqmkg-shacl-worker")
    try:
        yield {"shacl_worker": worker}
    finally:
        worker.close()


def get_worker(request: Request) -> ValidationWorker:
    worker: ValidationWorker = request.state.shacl_worker
    return worker


WorkerDep = Annotated[ValidationWorker, Depends(get_worker)]
router = APIRouter(tags=["SHACL validation"], lifespan=lifespan)

_RESULT = {
    "type": "object",
    "required": ["severity", "focusNode", "constraint", "shape", "message"],
    "properties": {
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "focusNode": {"type": "string"},
        "path": {"type": ["string", "null"]},
        "constraint": {"type": "string"},
        "shape": {"type": "string"},
        "message": {"type": "string"},
        "value": {"type": ["string", "null"]},
    },
}
_SUMMARY = {
    "type": "object",
    "required": ["conforms", "triples", "focusNodes", "counts", "results"],
    "properties": {
        "conforms": {"type": "boolean"},
        "triples": {"type": "integer"},
        "focusNodes": {"type": "integer"},
        "seconds": {"type": "number"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "results": {"type": "array", "items": _RESULT},
    },
}
_SERVICE = {
    "type": "object",
    "required": ["accepts", "maxBytes", "timeoutSeconds", "returns"],
    "properties": {
        "accepts": {"type": "array", "items": {"type": "string"}},
        "maxBytes": {"type": "integer"},
        "timeoutSeconds": {"type": "number"},
        "returns": {"type": "array", "items": {"type": "string"}},
    },
}
_POST_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The validation report (RDF), or its summary (JSON, HTML), by Accept or format=",
        "content": {
            TURTLE.media_type: {},
            JSONLD.media_type: {},
            NTRIPLES.media_type: {},
            JSON: {"schema": _SUMMARY},
            HTML: {},
        },
    }
} | problem_responses(400, 406, 413, 415, 503)
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/turtle": {"schema": {"type": "string"}},
            "application/n-triples": {"schema": {"type": "string"}},
            # A JSON-LD document is an object or an array (nulls in it are dropped, as JSON-LD 1.1 expands them).
            "application/ld+json": {"schema": {"type": ["object", "array"]}},
            FORM: {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {"type": "string"},
                        "format": {"type": "string", "enum": list(FORMAT_NAMES)},
                    },
                }
            },
        },
    }
}
FormatQuery = Annotated[
    str | None, Query(pattern="^(turtle|jsonld|ntriples|json|html)$", description="answer format; overrides Accept")
]


def plain(term: str | None) -> str | None:
    """Return an N-Triples IRI without its brackets; other terms (paths, literals) as they are."""
    if term and term.startswith("<") and term.endswith(">") and term.count("<") == 1:
        return term[1:-1]
    return term


def summary(outcome: Outcome) -> dict[str, object]:
    """Return the JSON summary of a validation: counts and one row per result."""
    counts = {severity: sum(1 for r in outcome.results if r.severity == severity) for severity in SEVERITIES}
    return {
        "conforms": outcome.conforms,
        "triples": outcome.triples,
        "focusNodes": outcome.focus_nodes,
        "seconds": round(outcome.seconds, 3),
        "counts": counts,
        "results": [
            {
                "severity": r.severity,
                "focusNode": plain(r.focus),
                "path": plain(r.path),
                "constraint": plain(r.component),
                "shape": plain(r.shape),
                "message": r.message,
                "value": r.value,
            }
            for r in outcome.results
        ],
    }


def display(result: ShaclResult) -> dict[str, str]:
    """Return a result with its terms shortened by the project's prefixes, for the page."""
    return {
        "severity": result.severity,
        "focus": compact(result.focus),
        "path": compact(result.path),
        "constraint": compact(result.component).removeprefix("sh:").removesuffix("ConstraintComponent"),
        "shape": compact(result.shape),
        "message": result.message,
        "value": compact(result.value) if result.value else "",
    }


def wanted(request: Request, format: str | None) -> str:
    """Return the media type to answer with (``format=`` wins over ``Accept``)."""
    if format:
        return _BY_NAME[format]
    choice = negotiate(request.headers.get("accept"), OFFERS)
    if choice is None:
        raise NotAcceptable(f"offered: {', '.join(OFFERS)}", OFFERS)
    return choice


def _media_type(request: Request) -> str:
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    return _ALIASES.get(media_type, media_type)


async def submitted(request: Request, limit: int) -> tuple[bytes, str]:
    """Return the submitted data and its media type, from the body or the page's form."""
    media_type = _media_type(request)
    if media_type not in (*SUBMISSION_FORMATS, FORM):
        raise UnsupportedMediaType(f"send {', '.join(SUBMISSION_FORMATS)}, or the form of GET /shacl ({FORM})")
    try:
        body = await read_body(request, 3 * limit if media_type == FORM else limit)
    except PayloadTooLarge:
        raise SubmissionTooLarge(limit) from None
    if media_type != FORM:
        return body, media_type
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError as exc:
        raise UnsupportedMediaType(f"the form is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if "data" not in fields:
        raise ParameterError("the form has no data field (the RDF to validate)", "data")
    data = fields["data"].encode("utf-8")
    if len(data) > limit:
        raise SubmissionTooLarge(limit)
    syntax = fields.get("format", "turtle")
    if syntax not in FORMAT_NAMES:
        raise ParameterError(f"format={syntax!r} is not a syntax of the form; use {', '.join(FORMAT_NAMES)}", "format")
    return data, FORMAT_NAMES[syntax]


def validate(worker: ValidationWorker, site: Site, data: bytes, media_type: str) -> Outcome:
    """Parse (here, bounded by the size cap), then validate in the worker (bounded by the deadline)."""
    triples = parse_submission(data, media_type)
    if not triples:
        return NOTHING  # an empty graph conforms; no need to wake the validator
    job = SubmissionJob(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    outcome = worker.run(job, site.settings.shacl_timeout, site.settings.queue_wait)
    assert isinstance(outcome, Outcome)
    return outcome


def page(site: Site, status: int = 200, **context: object) -> Response:
    settings = site.settings
    return site.render(
        "shacl.html",
        status=status,
        query=None,
        max_bytes=settings.shacl_max_bytes,
        timeout=settings.shacl_timeout,
        formats=FORMAT_NAMES,
        **context,
    )


@router.get(
    "/shacl",
    summary="SHACL validation service: a form (HTML) or its description (JSON)",
    responses={
        200: {"description": "The form, or what the service accepts", "content": {HTML: {}, JSON: {"schema": _SERVICE}}}
    }
    | problem_responses(400, 406),
)
def service(request: Request, site: SiteDep, format: FormatQuery = None) -> Response:
    """What POST /shacl accepts and returns; browsers get a form to paste data into."""
    if (format or ("html" if negotiate(request.headers.get("accept"), (HTML, JSON)) == HTML else "json")) == "html":
        return page(site)
    return JSONResponse(
        {
            "accepts": [*SUBMISSION_FORMATS, FORM],
            "maxBytes": site.settings.shacl_max_bytes,
            "timeoutSeconds": site.settings.shacl_timeout,
            "returns": list(OFFERS),
        },
        headers={"Vary": "Accept"},
    )


@router.post(
    "/shacl", summary="Validate RDF against the shapes, with the graph", responses=_POST_RESPONSES, openapi_extra=_BODY
)
async def validate_data(request: Request, site: SiteDep, worker: WorkerDep, format: FormatQuery = None) -> Response:
    """Validate a Turtle, N-Triples or JSON-LD body; nothing is stored."""
    answer = wanted(request, format)
    data, media_type = b"", "text/turtle"
    try:
        data, media_type = await submitted(request, site.settings.shacl_max_bytes)
        outcome = await run_in_threadpool(validate, worker, site, data, media_type)
    except MqmkgError as exc:
        if answer != HTML:
            raise
        text = data.decode("utf-8", "replace")
        line = getattr(exc, "line", None)
        return page(site, status_for(exc), error=str(exc), line=line, data=text, chosen=_NAMES.get(media_type))
    headers = {"Vary": "Accept", "X-SHACL-Conforms": str(outcome.conforms).lower()}
    if answer == JSON:
        return JSONResponse(summary(outcome), headers=headers)
    if answer == HTML:
        shown = [display(r) for r in outcome.results]
        text = data.decode("utf-8", "replace")
        counts = summary(outcome)["counts"]
        return page(site, outcome=outcome, results=shown, counts=counts, data=text, chosen=_NAMES.get(media_type))
    fmt = REPORT_FORMATS[answer]
    triples = [
        ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(outcome.report, format=ox.RdfFormat.N_TRIPLES)
    ]
    return Response(serialize_triples(triples, fmt), media_type=fmt.content_type(), headers=headers)
