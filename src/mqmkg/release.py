"""What an export calls itself: the package version and when the dataset last changed.

The date is never the wall clock, so that exports stay byte-identical from run to run:
``SOURCE_DATE_EPOCH`` when set (the reproducible-builds convention), else the commit time of
the latest git commit that touched ``ontology/`` or ``graph/``, else unknown.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mqmkg import __version__


@dataclass(frozen=True)
class Release:
    """The version of the dataset and the time (UTC) its content last changed, if known."""

    version: str = __version__
    modified: datetime | None = None

    @property
    def modified_iso(self) -> str | None:
        """Return the modification time as ``2026-11-25T20:05:58Z``, or None."""
        return self.modified.strftime("%Y-%m-%dT%H:%M:%SZ") if self.modified else None


def _epoch(text: str) -> datetime | None:
    text = text.strip()
    return datetime.fromtimestamp(int(text), UTC) if text.isdigit() else None


def last_commit_time(root: Path) -> datetime | None:
    """Return the commit time of the latest commit touching ``ontology/`` or ``graph/`` under ``root``."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct", "--", "ontology", "graph"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, or it hung
        return None
    return _epoch(done.stdout) if done.returncode == 0 else None


def release_of(root: Path, env: Mapping[str, str] | None = None) -> Release:
    """Return the release of the project at ``root`` (see the module docstring for the date)."""
    env = os.environ if env is None else env
    epoch = env.get("SOURCE_DATE_EPOCH")
    return Release(modified=_epoch(epoch) if epoch is not None else last_commit_time(root))
