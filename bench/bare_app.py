"""The bare peer: FastAPI + pyoxigraph with no pool, no limits, no logging (for comparison only).

Run: ``python bench/bare_app.py DATASET.nq PORT``. It answers ``GET /sparql?query=`` in
SPARQL JSON (SELECT/ASK) or N-Triples/Turtle (CONSTRUCT/DESCRIBE) from one in-memory store.
"""

from __future__ import annotations

import sys

import pyoxigraph as ox
import uvicorn
from fastapi import FastAPI, Request, Response


def make_app(path: str) -> FastAPI:
    store = ox.Store()
    store.load(path=path, format=ox.RdfFormat.N_QUADS)
    app = FastAPI()

    @app.get("/sparql")
    def sparql(query: str, request: Request) -> Response:
        result = store.query(query)
        if isinstance(result, ox.QueryTriples):
            turtle = "turtle" in request.headers.get("accept", "")
            fmt = ox.RdfFormat.TURTLE if turtle else ox.RdfFormat.N_TRIPLES
            return Response(ox.serialize(result, format=fmt) or b"", media_type=fmt.media_type)
        body = result.serialize(format=ox.QueryResultsFormat.JSON) or b""
        return Response(body, media_type="application/sparql-results+json")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    uvicorn.run(make_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
