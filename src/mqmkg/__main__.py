"""Run the command line: ``python -m mqmkg``."""

from mqmkg.cli import app

app()
