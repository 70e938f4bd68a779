"""Comunica finds the SPARQL endpoint from the service description alone (issue 8, defect 15).

Comunica takes a URL ending in ``/sparql`` for an endpoint without reading anything, so
the test hands it ``…/sparql?format=turtle``: to find the endpoint there, Comunica must
read ``sd:endpoint`` from a subject equal to the URL it fetched (or a blank node).
Without one it reads the document as plain RDF and evaluates the query over those few
triples, finding nothing; so the label comes back only if the description was
understood and the query ran on our endpoint. Comunica comes from npm (``make comunica``
installs it into tests/comunica).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import LiveServer, wait_until

COMUNICA = Path(__file__).parent / "comunica" / "node_modules" / ".bin" / "comunica-sparql"
QUERY = (
    "SELECT ?label WHERE { <https://w3id.org/mqmkg/id/karachi> <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
)


def test_comunica_queries_the_endpoint_it_finds_in_the_service_description(live_server: LiveServer) -> None:
    assert COMUNICA.exists(), "run `make comunica` (make test does) to install Comunica from npm"
    before = live_server.log().count('"GET /sparql" 200 rows=1 ')
    result = subprocess.run(
        [str(COMUNICA), live_server.sparql + "?format=turtle", QUERY],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)
    assert [row["label"].split("^^")[0] for row in rows] == ['"Karachi"']
    assert wait_until(lambda: live_server.log().count('"GET /sparql" 200 rows=1 ') == before + 1, 5)
