"""mqmkg: a curated, source-backed knowledge graph of the MQM, served over SPARQL 1.1."""

__version__ = "0.1.0"
