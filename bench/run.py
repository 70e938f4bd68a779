"""``make bench``: mqmkg against native Oxigraph, a bare FastAPI+pyoxigraph app and rdflib-endpoint.

For each size (S ≈ 5k, M ≈ 100k triples; L ≈ 1M on request) the curated graph is topped up
with seeded synthetic copies (``bench/synth.py``), every peer is started on the same data,
and every query (``bench/workload.py``) is measured on every peer, the peers' order rotated
per query so that noise hits all alike:

- sequential latency: one client, ``--requests`` requests (at most ``--seconds`` s): median and p99;
- throughput: ``wrk -t2 -c16 -d<seconds>s`` (loopback), requests per second and non-2xx answers;
- per peer: cold start (launch to first answer of the lookup), load time, peak RSS.

Ratios against the peers are printed and written to ``bench/results/<size>.md``. Everything
binds 127.0.0.1 and every process started here is stopped by its PID. ``--smoke`` runs a few
queries briefly on S (for CI; no figure is asserted).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers
import synth
import workload

from mqmkg.config import Settings
from mqmkg.sparql.dataset import load_store, snapshot_of
from mqmkg.store import build_store, dataset_quads

ROOT = Path(__file__).resolve().parents[1]
PEERS = ("mqmkg", "oxigraph", "bare", "rdflib")
SEED = 20261206


@dataclass
class Figures:
    """What one peer did on one query."""

    rows: int = -1
    status: int = 0
    median_ms: float = float("nan")
    p99_ms: float = float("nan")
    rps: float = float("nan")
    errors: int = 0


@dataclass
class PeerReport:
    name: str
    cold_start: float = float("nan")
    load_time: float = float("nan")
    rss_mb: float = float("nan")
    queries: dict[str, Figures] = field(default_factory=dict)


def say(text: str) -> None:
    print(text, flush=True)


def prepare(size: str, work: Path) -> peers.Dataset:
    """Write the benchmark root (curated graph + synthetic copies) and the peers' dumps."""
    root = work / "root"
    if root.exists():
        shutil.rmtree(root)
    (root / "graph").mkdir(parents=True)
    shutil.copytree(ROOT / "ontology", root / "ontology")
    shutil.copytree(ROOT / "queries", root / "queries")
    for path in (ROOT / "graph").iterdir():
        if path.suffix == ".ttl":
            shutil.copy(path, root / "graph" / path.name)
        elif path.is_dir():
            shutil.copytree(path, root / "graph" / path.name)
    curated = dataset_quads(Settings(root=ROOT))
    extra = synth.synthetic_ntriples(synth.instance_triples(curated), len(curated), size, SEED)
    if extra:
        (root / "graph" / "synthetic.ttl").write_bytes(extra)
    store = load_store(snapshot_of(build_store(Settings(root=root))).nquads)
    nquads, ntriples = work / "dataset.nq", work / "default.nt"
    store.dump(str(nquads), format=ox.RdfFormat.N_QUADS)
    store.dump(str(ntriples), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    triples = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    return peers.Dataset(size, root, nquads, ntriples, triples)


def count_rows(response: httpx.Response) -> int:
    if response.status_code != 200:
        return -1
    if "json" in response.headers.get("content-type", ""):
        data = response.json()
        return len(data["results"]["bindings"]) if "results" in data else 1
    return sum(1 for line in response.text.splitlines() if line.strip())


def sequential(client: httpx.Client, url: str, job: workload.Workload, requests: int, seconds: float) -> Figures:
    figures = Figures()
    times: list[float] = []
    end = time.monotonic() + seconds
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url, params={"query": job.text}, headers={"Accept": job.accept})
        times.append((time.perf_counter() - began) * 1000)
        if figures.rows < 0:
            figures.rows, figures.status = count_rows(response), response.status_code
        if time.monotonic() > end:
            break
    times.sort()
    figures.median_ms = statistics.median(times)
    figures.p99_ms = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return figures


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def throughput(url: str, job: workload.Workload, seconds: float, figures: Figures) -> None:
    target = f"{url}?{urlencode({'query': job.text})}"
    command = ["wrk", "-t2", "-c16", f"-d{seconds:g}s", "--timeout", "10s", "-H", f"Accept: {job.accept}", target]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    match = _RPS.search(out)
    figures.rps = float(match.group(1)) if match else float("nan")
    non2xx = _NON2XX.search(out)
    errors = _ERRORS.search(out)
    figures.errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)


def ratio(a: float, b: float) -> str:
    if not (a == a and b == b) or b == 0:  # NaN or nothing to divide by
        return "–"
    return f"{a / b:.2f}"


def run_size(size: str, args: argparse.Namespace) -> dict[str, PeerReport]:
    work = ROOT / "bench" / "work" / size
    work.mkdir(parents=True, exist_ok=True)
    say(f"[{size}] preparing data ...")
    data = prepare(size, work)
    say(f"[{size}] {data.triples:,} triples in the default graph")
    jobs = workload.workloads(data.root / "queries")
    if args.smoke:
        jobs = [j for j in jobs if j.name in ("lookup", "timeline", "describe-mqm")]
    if args.only:
        jobs = [j for j in jobs if j.name in args.only.split(",")]
    chosen = [p for p in PEERS if p in args.peers.split(",")]
    reports = {name: PeerReport(name) for name in chosen}
    running: dict[str, peers.Running] = {}
    env = {"MQMKG_RESULT_CACHE": str(args.result_cache)}
    try:
        for name in chosen:
            say(f"[{size}] starting {name} ...")
            peer = peers.start(name, data, work, workload.LOOKUP, env)
            running[name] = peer
            reports[name].cold_start = peer.cold_start
            reports[name].load_time = peer.load_time or peer.cold_start
            say(f"[{size}]   {name} answered after {peer.cold_start:.2f} s")
        with httpx.Client(timeout=60) as client:
            for index, job in enumerate(jobs):
                order = chosen[index % len(chosen) :] + chosen[: index % len(chosen)]
                for name in order:
                    peer = running[name]
                    figures = sequential(client, peer.url, job, args.requests, args.seconds)
                    throughput(peer.url, job, args.seconds, figures)
                    reports[name].queries[job.name] = figures
                line = "  ".join(
                    f"{n}={reports[n].queries[job.name].rps:,.0f}/s,{reports[n].queries[job.name].median_ms:.1f}ms"
                    f"({reports[n].queries[job.name].rows})"
                    for n in chosen
                )
                say(f"[{size}] {index + 1}/{len(jobs)} {job.name}: {line}")
        for name, peer in running.items():
            reports[name].rss_mb = peer.rss_peak_mb()
    finally:
        for peer in running.values():
            peer.stop()
    return reports


def markdown(size: str, triples: int, reports: dict[str, PeerReport], args: argparse.Namespace) -> str:
    mine = reports["mqmkg"]
    others = [n for n in reports if n != "mqmkg"]
    names = list(mine.queries)
    lines = [
        f"# mqmkg benchmark, size {size} ({triples:,} triples in the default graph)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()} ({os.cpu_count()} cores,"
        f" Python {platform.python_version()});"
        f" wrk -t2 -c16 -d{args.seconds:g}s per query and peer; {args.requests} sequential requests at most;"
        f" mqmkg result cache: {args.result_cache} entries.",
        "Ratios are mqmkg ÷ peer for throughput, mqmkg ÷ native Oxigraph for latency. Rows: rows (or triples) of the"
        " first answer; a differing count is flagged with !.",
        "",
        "| query | mqmkg req/s | "
        + " | ".join(f"÷ {n}" for n in others)
        + " | median ms | p99 ms | median ÷ oxigraph | rows | errors |",
        "|---|---:|" + "---:|" * len(others) + "---:|---:|---:|---:|---:|",
    ]
    for q in names:
        f = mine.queries[q]
        ratios = " | ".join(ratio(f.rps, reports[n].queries[q].rps) for n in others)
        native = reports.get("oxigraph")
        latency = ratio(f.median_ms, native.queries[q].median_ms) if native else "–"
        rows = {reports[n].queries[q].rows for n in reports if reports[n].queries[q].rows >= 0}
        flag = "" if len(rows) <= 1 else " !"
        errors = sum(reports[n].queries[q].errors for n in reports)
        lines.append(
            f"| {q} | {f.rps:,.0f} | {ratios} | {f.median_ms:.1f} | {f.p99_ms:.1f} | {latency}"
            f" | {f.rows}{flag} | {errors} |"
        )
    lines += ["", "| peer | cold start s | load s | peak RSS MiB |", "|---|---:|---:|---:|"]
    for n, r in reports.items():
        lines.append(f"| {n} | {r.cold_start:.2f} | {r.load_time:.2f} | {r.rss_mb:,.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M", help="comma-separated sizes: S, M, L (default S,M)")
    parser.add_argument("--seconds", type=float, default=3.0, help="wrk duration and sequential time cap per query")
    parser.add_argument("--requests", type=int, default=50, help="sequential requests per query and peer")
    parser.add_argument("--peers", default=",".join(PEERS), help="peers to run (default all)")
    parser.add_argument("--only", default="", help="comma-separated query names to run")
    parser.add_argument("--result-cache", type=int, default=0, help="mqmkg's result cache entries (0: off)")
    parser.add_argument("--smoke", action="store_true", help="a short run on S with three queries (CI)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: make bench installs it (apt-get install wrk)")
    sizes = ["S"] if args.smoke else [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    if args.smoke:
        args.seconds, args.requests = 1.0, 5
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        reports = run_size(size, args)
        text = markdown(size, _default_triples(size), reports, args)
        say("")
        say(text)
        if not args.smoke:
            (results / f"{size}.md").write_text(text, encoding="utf-8")


def _default_triples(size: str) -> int:
    path = ROOT / "bench" / "work" / size / "default.nt"
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


if __name__ == "__main__":
    main()
