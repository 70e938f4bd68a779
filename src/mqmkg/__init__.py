"""mqmkg: a curated, source-backed knowledge graph of the MQM, served over SPARQL 1.1."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mqmkg")  # pyproject.toml's version, as installed
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
