"""The exception hierarchy: every error the package raises on purpose."""

from __future__ import annotations

from pathlib import Path


class MqmkgError(Exception):
    """Base class of every mqmkg error."""


class SourceMismatch(MqmkgError):
    """The source copy, a quote or an offset does not match the pinned document."""


class GraphFileError(MqmkgError):
    """A graph file is missing, unreadable or not valid Turtle."""

    def __init__(self, path: Path, message: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


class EmptyGraph(MqmkgError):
    """The files loaded hold no triples."""


class CheckDefinitionError(MqmkgError):
    """A shapes file, QC query or QC profile is missing or malformed, so a check cannot run."""

    def __init__(self, path: Path, message: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.message = message
        self.line = line
        self.column = column
        where = ":".join(str(part) for part in (path, line, column) if part is not None)
        super().__init__(f"{where}: {message}")
