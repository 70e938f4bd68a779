"""One licensing story: LICENSE, pyproject, the ontology, VoID, dist/README and graph/source agree."""

from __future__ import annotations

import tomllib
from pathlib import Path

from rdflib import DCTERMS, FOAF, Graph, URIRef

from mqmkg.config import DOC_IRI, Settings
from mqmkg.export import CODE_LICENSE, DATA_LICENSE, DATASET_IRI, SOURCE_URL, canonical_quads, readme, void_turtle
from mqmkg.release import Release
from mqmkg.store import dataset_quads

ROOT = Path(__file__).resolve().parents[1]
LICENSE = (ROOT / "LICENSE").read_text("utf-8")


def test_license_file_names_the_three_kinds_of_content() -> None:
    assert "MIT License\n\nCopyright (c)" in LICENSE
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in LICENSE
    assert DATA_LICENSE in LICENSE and "CC BY 4.0" in LICENSE
    page = Graph().parse(ROOT / "graph" / "source.ttl").value(URIRef(DOC_IRI), FOAF.page)
    assert str(page) == SOURCE_URL
    assert SOURCE_URL in LICENSE and "GlobalSecurity.org's, not ours" in LICENSE
    assert "graph/source/globalsecurity-mqm.txt" in LICENSE


def test_code_and_ontology_say_mit() -> None:
    assert tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["license"] == "MIT"
    ontology = Graph().parse(ROOT / "ontology" / "mqmkg.ttl")
    assert ontology.value(URIRef("https://w3id.org/mqmkg/ontology"), DCTERMS.license) == URIRef(CODE_LICENSE)
    assert "ontology/" in LICENSE.split("2. The curation")[0]


def test_void_and_dist_readme_tell_the_same_story() -> None:
    quads = canonical_quads(dataset_quads(Settings(root=ROOT)))
    void = Graph().parse(data=void_turtle([], quads, release=Release()), format="turtle")
    dataset = URIRef(DATASET_IRI)
    assert void.value(dataset, DCTERMS.license) == URIRef(DATA_LICENSE)
    rights = str(void.value(dataset, DCTERMS.rights))
    assert "CC BY 4.0" in rights and "MIT License" in rights and "GlobalSecurity.org's text" in rights
    text = readme([], quads, "https://w3id.org/mqmkg/", Release()).decode()
    licence = text.split("Licence\n-------\n")[1]
    assert DATA_LICENSE in licence and "MIT License" in licence and "GlobalSecurity.org's, not ours" in licence


def test_the_source_folder_marks_the_text_as_third_party() -> None:
    notice = (ROOT / "graph" / "source" / "NOTICE").read_text("utf-8")
    assert notice.startswith("globalsecurity-mqm.txt: third-party text")
    assert "GlobalSecurity.org's text" in notice and SOURCE_URL in notice and "LICENSE" in notice
