"""The ``mqmkg`` command line: serve, validate, export, check-queries, evidence, generate.

``mqmkg --help`` is plain text (no rich markup) and lists every setting as its ``MQMKG_*``
environment variable with its default, generated from ``mqmkg.config.Settings``.
"""

from __future__ import annotations

import inspect
import logging
import re
import textwrap
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import typer

from mqmkg import __version__
from mqmkg.config import Settings, settings_from_env
from mqmkg.errors import MqmkgError

HELP = (
    "mqmkg: a curated, source-backed knowledge graph of Pakistan's Muttahida Qaumi Movement (MQM), "
    "built from one GlobalSecurity.org page and served over SPARQL 1.1. Validate, serve and export "
    "the graph in graph/ and ontology/ (`make serve` and `make test` call these commands)."
)
DEFAULTS = Settings()


def env_name(setting: str) -> str:
    """Return the environment variable of a setting: ``query_timeout`` gives ``MQMKG_QUERY_TIMEOUT``."""
    return f"MQMKG_{setting.upper()}"


def shown(value: object) -> str:
    """Return a setting's value as ``--help`` and the environment write it."""
    if value is None:
        return "(none)"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def setting_notes() -> dict[str, str]:
    """Return each setting's comment in ``Settings``' source (the one above it, else the one it shares)."""
    notes: dict[str, str] = {}
    comment: list[str] = []
    last = ""
    for line in inspect.getsource(Settings).splitlines():
        text = line.strip()
        if text.startswith("#"):
            comment.append(text.lstrip("# "))
        elif match := re.match(r"(\w+): ", text):
            last = " ".join(comment) if comment else last
            notes[match.group(1)] = last
            comment = []
        elif text.startswith(("@property", "def ")):
            break
    return notes


def settings_epilog() -> str:
    """Return the help text listing every setting: variable, default and what it does."""
    notes = setting_notes()
    rows = [
        f"  {env_name(f.name)}={shown(getattr(DEFAULTS, f.name))}\n"
        + textwrap.fill(notes.get(f.name, ""), 78, initial_indent=" " * 6, subsequent_indent=" " * 6)
        for f in fields(Settings)
    ]
    return (
        "Settings: each can be set in the environment (a command-line option wins over its variable);"
        " lists are comma-separated. Defaults shown.\n\n\b\n" + "\n".join(rows)
    )


def setting_option(setting: str, text: str, metavar: str) -> Any:
    """Return a typer option that overrides one setting; ``--help`` shows its default and variable."""
    default = shown(getattr(DEFAULTS, setting))
    return typer.Option(help=f"{text} [default: {default}; env: {env_name(setting)}]", metavar=metavar)


app = typer.Typer(
    add_completion=False, no_args_is_help=True, help=HELP, epilog=settings_epilog(), rich_markup_mode=None
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mqmkg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", help="print the version and exit", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    """The command group; ``--version`` is handled by its callback."""


def _settings(root: Path | None = None, **overrides: object) -> Settings:
    return settings_from_env().with_overrides(root=root, **overrides)


@app.command(short_help="Serve the graph: SPARQL 1.1 at /sparql, pages, dumps.")
def serve(
    host: Annotated[str | None, setting_option("host", "interface to bind", "ADDR")] = None,
    port: Annotated[int | None, setting_option("port", "TCP port", "PORT")] = None,
    root: Annotated[Path | None, setting_option("root", "project root holding graph/ and ontology/", "DIR")] = None,
    store: Annotated[Path | None, setting_option("store_path", "keep an on-disk Oxigraph store in DIR", "DIR")] = None,
    timeout: Annotated[float | None, setting_option("query_timeout", "per-query deadline", "SECONDS")] = None,
    workers: Annotated[int | None, setting_option("workers", "query worker processes", "N")] = None,
    backend: Annotated[
        str | None, setting_option("backend", "answer from this remote SPARQL 1.1 endpoint", "URL")
    ] = None,
    result_cache: Annotated[
        int | None, setting_option("result_cache", "answers kept in the result cache (0: off)", "N")
    ] = None,
) -> None:
    """Build the store from the graph (or open it from --store, or use --backend) and serve it over HTTP.

    SPARQL 1.1 at /sparql, canned queries at /queries, entity pages at /id/, dumps at /export/.
    SIGTERM or SIGINT stops it within about a second: running queries are ended (503), not
    waited for.
    """
    from mqmkg.server.engine import start_engine

    settings = _settings(
        root,
        host=host,
        port=port,
        store_path=store,
        query_timeout=timeout,
        workers=workers,
        backend=backend,
        result_cache=result_cache,
    )
    _log_until_uvicorn_does()
    try:
        engine = start_engine(settings)  # the workers load while the web framework is imported
        from mqmkg.server import runner
        from mqmkg.server.app import create_app

        application = create_app(settings, engine)
    except MqmkgError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not runner.run(application, settings, on_signal=application.state.sparql.pool.close):
        raise typer.Exit(3)


class _LevelPrefix(logging.Formatter):
    """``INFO:     message``, as uvicorn's default formatter writes it (without colours)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname + ':':<9} {super().format(record)}"


def _log_until_uvicorn_does() -> None:
    """Send mqmkg's log lines to stderr from the start (the workers start before uvicorn sets up
    logging, which replaces this handler with its own)."""
    handler = logging.StreamHandler()
    handler.setFormatter(_LevelPrefix("%(message)s"))
    logger = logging.getLogger("mqmkg")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


@app.command(short_help="Load the graph into a SPARQL server (Graph Store Protocol).")
def publish(
    to: Annotated[
        str, typer.Option("--to", help="the Graph Store Protocol endpoint, e.g. http://host:7878/store", metavar="URL")
    ],
    root: Annotated[Path | None, setting_option("root", "project root holding graph/ and ontology/", "DIR")] = None,
    timeout: Annotated[float, typer.Option(help="seconds each request may take", metavar="SECONDS")] = 300.0,
    header: Annotated[
        list[str] | None,
        typer.Option(
            help="an HTTP header for every request, e.g. 'Authorization: Bearer TOKEN' (repeatable)",
            metavar="NAME: VALUE",
        ),
    ] = None,
) -> None:
    """Put every named graph, and their union as the default graph, on a SPARQL 1.1 Graph Store.

    A graph the server already holds unchanged is left alone, so running it again changes
    nothing. Serve it with `mqmkg serve --backend <its SPARQL query URL>`.
    """
    from mqmkg.publish import publish as publish_dataset

    headers = {}
    for item in header or []:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            typer.echo(f"error: --header {item!r} is not 'Name: value'", err=True)
            raise typer.Exit(2)
        headers[name.strip()] = value.strip()
    try:
        publish_dataset(_settings(root), to, timeout=timeout, headers=headers, progress=typer.echo)
    except MqmkgError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command(short_help="Check the graph: parse, SHACL, QC queries, quotes.")
def validate(
    root: Annotated[
        Path | None, setting_option("root", "project root holding graph/, ontology/, shapes/", "DIR")
    ] = None,
    qc_dir: Annotated[
        Path | None, typer.Option(help="QC queries and their profile.tsv [default: ROOT/queries/qc]", metavar="DIR")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="list only what fails or warns (no INFO rows), then the summary")
    ] = False,
    show_info: Annotated[bool, typer.Option("--show-info", help="list the INFO rows and SHACL infos too")] = False,
) -> None:
    """Parse every file, run SHACL and the QC queries, check quotes.

    Exit status: 0 when nothing fails (WARN and INFO allowed); 1 on any ERROR row,
    SHACL violation or wrong quote; 2 when validation could not run completely (a
    missing, unreadable or malformed file or directory, an empty graph).
    """
    from mqmkg.validate import run_validation

    report = run_validation(_settings(root), qc_dir=qc_dir)
    typer.echo(report.render(info=show_info or not quiet))
    raise typer.Exit(report.exit_code)


@app.command(short_help="Write dist/: the dumps, VoID, README, SHA256SUMS.")
def export(
    root: Annotated[Path | None, setting_option("root", "project root holding graph/ and ontology/", "DIR")] = None,
    out: Annotated[Path, typer.Option(help="directory to write", metavar="DIR")] = Path("dist"),
    public_url: Annotated[
        str,
        typer.Option(
            help="base URL of the published endpoint and dumps [default: https://w3id.org/mqmkg/]", metavar="URL"
        ),
    ] = "",
) -> None:
    """Write the dumps (Turtle, N-Triples, N-Quads, JSON-LD), the Wikidata links, the source text,
    VoID, README and SHA256SUMS: byte-identical for the same input."""
    from mqmkg.export import DEFAULT_PUBLIC_URL, build_dumps, write_dumps

    try:
        dumps = build_dumps(_settings(root), public_url or DEFAULT_PUBLIC_URL)
    except MqmkgError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for path in write_dumps(dumps, out):
        typer.echo(f"wrote {path}")


@app.command("check-queries", short_help="Parse every .rq and check the canned queries' headers.")
def check_queries(
    root: Annotated[Path | None, setting_option("root", "project root holding queries/", "DIR")] = None,
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


@app.command(short_help="Print each source sentence with its evidence IRI.")
def evidence(
    root: Annotated[Path | None, setting_option("root", "project root holding graph/", "DIR")] = None,
) -> None:
    """Print the sentences of the source with the evidence IRI of each (a curator's aid)."""
    from mqmkg.source import read_source, sentences

    settings = _settings(root)
    for span in sentences(read_source(settings.source_path)):
        typer.echo(f"kg:{span.iri_name}\t{span.text}")


@app.command(short_help="Write (or --check) evidence.ttl and wikidata.ttl.")
def generate(
    root: Annotated[Path | None, setting_option("root", "project root holding graph/", "DIR")] = None,
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
