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
    """Build the store from the graph and serve it over HTTP (SPARQL 1.1 at /sparql).

    SIGTERM or SIGINT stops it within about a second: running queries are ended (503), not
    waited for.
    """
    from mqmkg.server import runner
    from mqmkg.server.app import create_app

    settings = _settings(root, host=host, port=port, store_path=store, query_timeout=timeout, workers=workers)
    try:
        application = create_app(settings)
    except MqmkgError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not runner.run(application, settings, on_signal=application.state.sparql.pool.close):
        raise typer.Exit(3)


@app.command()
def validate(
    root: Annotated[Path | None, typer.Option(help="project root holding graph/, ontology/, shapes/")] = None,
    qc_dir: Annotated[
        Path | None, typer.Option(help="QC queries and their profile.tsv (default ROOT/queries/qc)")
    ] = None,
) -> None:
    """Parse every file, run SHACL and the QC queries, check quotes.

    Exit status: 0 when nothing fails (WARN and INFO allowed); 1 on any ERROR row,
    SHACL violation or wrong quote; 2 when validation could not run completely (a
    missing, unreadable or malformed file or directory, an empty graph).
    """
    from mqmkg.validate import run_validation

    report = run_validation(_settings(root), qc_dir=qc_dir)
    typer.echo(report.render())
    raise typer.Exit(report.exit_code)


@app.command()
def export(
    root: Annotated[Path | None, typer.Option(help="project root holding graph/ and ontology/")] = None,
    out: Annotated[Path, typer.Option(help="directory to write")] = Path("dist"),
    public_url: Annotated[str, typer.Option(help="base URL of the published endpoint and dumps")] = "",
) -> None:
    """Write Turtle, N-Triples, N-Quads, JSON-LD, VoID and SHA256SUMS, byte-identical per input."""
    from mqmkg.export import DEFAULT_PUBLIC_URL, build_dumps, write_dumps

    try:
        dumps = build_dumps(_settings(root), public_url or DEFAULT_PUBLIC_URL)
    except MqmkgError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for path in write_dumps(dumps, out):
        typer.echo(f"wrote {path}")


@app.command("check-queries")
def check_queries(
    root: Annotated[Path | None, typer.Option(help="project root holding queries/")] = None,
) -> None:
    """Parse every canned and QC query (rdflib) and check the canned queries' headers."""
    from rdflib.plugins.sparql import prepareQuery

    from mqmkg.queries import parse_query_file

    settings = _settings(root)
    problems = []
    files = sorted(settings.queries_dir.glob("*.rq")) + sorted((settings.queries_dir / "qc").glob("*.rq"))
    for path in files:
        try:
            if path.parent == settings.queries_dir:
                parse_query_file(path)
            prepareQuery(path.read_text(encoding="utf-8"))
        except Exception as exc:  # rdflib raises pyparsing errors; report every file, then fail
            problems.append(f"{path}: {exc}")
    for problem in problems:
        typer.echo(problem, err=True)
    typer.echo(f"check-queries: {len(files)} files, {len(problems)} problems")
    raise typer.Exit(1 if problems else 0)


@app.command()
def evidence(
    root: Annotated[Path | None, typer.Option(help="project root holding graph/")] = None,
) -> None:
    """Print the sentences of the source with the evidence IRI of each (a curator's aid)."""
    from mqmkg.source import read_source, sentences

    settings = _settings(root)
    for span in sentences(read_source(settings.source_path)):
        typer.echo(f"kg:{span.iri_name}\t{span.text}")


@app.command()
def generate(
    root: Annotated[Path | None, typer.Option(help="project root holding graph/")] = None,
    check: Annotated[bool, typer.Option(help="only check that the files are up to date")] = False,
) -> None:
    """Write the generated graph files: evidence.ttl (sentences) and wikidata.ttl (links)."""
    settings = _settings(root)
    stale = [path for path, text in generated_files(settings).items() if _write_or_check(path, text, check)]
    for path in stale:
        typer.echo(f"{'stale' if check else 'wrote'}: {path}")
    raise typer.Exit(1 if check and stale else 0)


def generated_files(settings: Settings) -> dict[Path, str]:
    """Return the generated graph files and their expected content."""
    from mqmkg.config import DOC_IRI
    from mqmkg.linking import links, links_turtle
    from mqmkg.source import evidence_turtle, read_source

    text = read_source(settings.source_path)
    found = links(settings.reference_tsv, settings.graph_dir / "wikidata-map.tsv")
    return {
        settings.graph_dir / "evidence.ttl": evidence_turtle(text, DOC_IRI),
        settings.graph_dir / "wikidata.ttl": links_turtle(found),
    }


def _write_or_check(path: Path, text: str, check: bool) -> bool:
    """Return True when the file differs from ``text``; write it unless checking."""
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == text:
        return False
    if not check:
        path.write_text(text, encoding="utf-8")
    return True


if __name__ == "__main__":
    app()
