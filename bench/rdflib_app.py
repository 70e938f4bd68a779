"""The rdflib-endpoint peer: the same dataset's default graph in rdflib, served by rdflib-endpoint.

Run: ``python bench/rdflib_app.py DATASET.nt PORT``.
"""

from __future__ import annotations

import sys

import uvicorn
from rdflib import Graph
from rdflib_endpoint import SparqlEndpoint

if __name__ == "__main__":
    graph = Graph()
    graph.parse(sys.argv[1], format="nt")
    app = SparqlEndpoint(graph=graph, path="/sparql", cors_enabled=False)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
