"""mqmkg: a curated, source-backed knowledge graph of the MQM, served over SPARQL 1.1."""

from __future__ import annotations

import functools


@functools.cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mqmkg")  # pyproject.toml's version, as installed
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> str:
    """Read ``__version__`` when first asked for: processes that never need it (query workers) start faster."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'mqmkg' has no attribute {name!r}")
