"""The ``mqmkg`` command line: serve, validate, evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mqmkg.config import Settings, settings_from_env
from mqmkg.errors import MqmkgError

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def _settings(root: Path | None = None, **overrides: object) -> Settings:
    return settings_from_env().with_overrides(root=root, **overrides)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8000)")] = None,
    root: Annotated[Path | None, typer.Option(help="project root holding graph/ and ontology/")] = None,
    store: Annotated[Path | None, typer.Option(help="keep an on-disk Oxigraph store in DIR")] = None,
    timeout: Annotated[float | None, typer.Option(help="per-query deadline in seconds")] = None,
    workers: Annotated[int | None, typer.Option(help="query worker processes")] = None,
) -> None:
    """Build the store from the graph and serve it over HTTP (SPARQL 1.1 at /sparql)."""
    import uvicorn

    from mqmkg.server.app import create_app

    settings = _settings(root, host=host, port=port, store_path=store, query_timeout=timeout, workers=workers)
    try:
        application = create_app(settings)
    except MqmkgError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command()
def validate(
    root: Annotated[Path | None, typer.Option(help="project root holding graph/, ontology/, shapes/")] = None,
) -> None:
    """Parse every file, run SHACL and the QC queries, check quotes; exit 1 on any ERROR."""
    from mqmkg.validate import run_validation

    report = run_validation(_settings(root))
    typer.echo(report.render())
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def evidence(
    root: Annotated[Path | None, typer.Option(help="project root holding graph/")] = None,
) -> None:
    """Print the sentences of the source with the evidence IRI of each (a curator's aid)."""
    from mqmkg.source import read_source, sentences

    settings = _settings(root)
    for span in sentences(read_source(settings.source_path)):
        typer.echo(f"kg:{span.iri_name}\t{span.text}")


if __name__ == "__main__":
    app()
