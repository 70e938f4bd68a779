"""``/quality``: the data-quality page (HTML) and report (JSON).

Nothing is computed at start-up. The first request starts the full ``mqmkg validate`` run in
a validation process (tens of seconds; at most ``Settings.quality_timeout``) and answers at
once with the parts read from the graph (evidence coverage, claims per cited report,
entities without a Wikidata link, counts by class: well under a second, computed once) and
``"validation": {"status": "running"}``; the page reloads itself until the run is done.
The run's result is kept for the life of the server, which serves one graph.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse

from mqmkg.deferred import Deferred
from mqmkg.quality import GraphQuality, ProjectValidation, graph_quality, quality_json, validation_json
from mqmkg.server.errors import problem_responses
from mqmkg.server.site import HTML, Site, SiteDep, prefers_html
from mqmkg.source import read_source
from mqmkg.validation_worker import ProjectJob, ValidationWorker

JSON = "application/json"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, object]]:
    """Give requests the two deferred parts of the report; stop the validation process at exit."""
    site: Site = app.state.site
    settings = site.settings
    worker = ValidationWorker(settings, "mqmkg-quality-worker")

    def validate_once() -> ProjectValidation:
        try:
            found = worker.run(ProjectJob(), settings.quality_timeout, wait=1.0)
        finally:
            worker.close()  # one run per server: give the process's memory back
        assert isinstance(found, ProjectValidation)
        return found

    def read_graph() -> GraphQuality:
        text = read_source(settings.source_path)
        return graph_quality(site.store, text, settings.public_base, settings.queries_dir / "qc")

    try:
        yield {
            "quality_validation": Deferred(validate_once, "mqmkg-quality-validation"),
            "quality_graph": Deferred(read_graph, "mqmkg-quality-graph"),
        }
    finally:
        worker.close()


router = APIRouter(tags=["data quality"], lifespan=lifespan)

_SCHEMA = {
    "type": "object",
    "required": ["validation", "coverage", "claimsPerReport", "withoutWikidata", "classes"],
    "properties": {
        "validation": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["running", "done", "failed"]}},
        },
        "coverage": {
            "type": "object",
            "required": ["coveredCharacters", "share", "sentences", "sentencesBacked", "spans"],
        },
        "claimsPerReport": {"type": "array", "items": {"type": "object", "required": ["id", "key", "claims"]}},
        "withoutWikidata": {"type": "array", "items": {"type": "object", "required": ["id", "name"]}},
        "classes": {"type": "array", "items": {"type": "object", "required": ["class", "name", "instances"]}},
    },
}


def validation_state(future: Future[ProjectValidation]) -> dict[str, object]:
    """Return the validation part: running, failed (with why), or the results."""
    if not future.done():
        return {"status": "running", "message": "mqmkg validate is running in the background; reload in a moment"}
    error = future.exception()
    if error is not None:
        return {"status": "failed", "message": f"{type(error).__name__}: {error} (the next request retries)"}
    return validation_json(future.result())


@router.get(
    "/quality",
    summary="Data quality: validation results, evidence coverage, citations, Wikidata links, classes",
    responses={200: {"description": "The page, or the report", "content": {HTML: {}, JSON: {"schema": _SCHEMA}}}}
    | problem_responses(400),
)
def quality(
    request: Request,
    site: SiteDep,
    format: Annotated[str | None, Query(pattern="^(html|json)$", description="overrides Accept")] = None,
) -> Response:
    """The validation runs once, in the background, from the first request on."""
    future = request.state.quality_validation.start()
    graph: GraphQuality = request.state.quality_graph.get()
    validation = validation_state(future)
    body = quality_json(graph, validation, site.settings.public_base)
    html = format == "html" or (format is None and prefers_html(request.headers.get("accept"), (JSON,)))
    headers = {"Vary": "Accept"}
    if validation["status"] == "running":
        headers["Retry-After"] = "5"
    if not html:
        return JSONResponse(body, headers=headers)
    text = read_source(site.settings.source_path)
    segments = [(text[s.start : s.end], s.depth) for s in graph.coverage.spans]
    response = site.render(
        "quality.html", query=None, graph=graph, validation=validation, segments=segments, report=body
    )
    response.headers.update(headers)
    return response
