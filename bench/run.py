"""``make bench``: mqmkg against native Oxigraph, a bare FastAPI+pyoxigraph app and rdflib-endpoint.

For each size (S ≈ 5k, M ≈ 100k triples; L ≈ 1M on request) the curated graph is topped up
with seeded synthetic copies (``bench/synth.py``), every peer is started on the same data,
and every query (``bench/workload.py``) is measured on every peer, the peers' order rotated
per query so that noise hits all alike:

- sequential latency: one client, ``--requests`` requests (at most ``--seconds`` s): median and p99;
- throughput: ``wrk -t2 -c16 -d<seconds>s`` (loopback), requests per second and non-2xx answers;
- mqmkg twice: result cache off (``mqmkg``, the uncached goals) and on (``mqmkg-cached``);
- start-up, apart: each peer's cold start (launch to the first correct answer to the point
  lookup), ``--starts`` times; on L, mqmkg keeps its store on disk (``--store``): its load
  time is a first start on an empty store directory, then it is restarted ``--starts`` times;
- memory: the peak summed PSS of each peer's processes while its queries ran.

Ratios against the peers and the issue's goals are printed and written to
``bench/results/<size>.md``. Everything binds 127.0.0.1 and every process started here is
stopped by its PID. ``--smoke`` runs a few queries briefly on S (for CI; no figure is asserted).
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
from mqmkg.store import dataset_quads, served_store

ROOT = Path(__file__).resolve().parents[1]
PEERS = ("mqmkg", "mqmkg-cached", "oxigraph", "bare", "rdflib")
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
    timed_out: bool = False  # one request ran past --request-timeout: no throughput, the peer restarted


@dataclass
class PeerReport:
    name: str
    cold_start: float = float("nan")
    cold_starts: list[float] = field(default_factory=list)
    load_time: float = float("nan")
    pss_mb: float = float("nan")
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
    store = served_store(Settings(root=root))
    nquads, ntriples = work / "dataset.nq", work / "default.nt"
    store.dump(str(nquads), format=ox.RdfFormat.N_QUADS)
    store.dump(str(ntriples), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    triples = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    for stale in ("oxigraph-store", "oxigraph-load-seconds", "mqmkg-store"):
        path = work / stale
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
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
        try:
            response = client.get(url, params={"query": job.text}, headers={"Accept": job.accept})
        except httpx.TimeoutException:
            figures.timed_out, figures.status = True, 0
            break
        times.append((time.perf_counter() - began) * 1000)
        if figures.rows < 0:
            figures.rows, figures.status = count_rows(response), response.status_code
        if time.monotonic() > end:
            break
    if not times:
        return figures
    times.sort()
    figures.median_ms = statistics.median(times)
    figures.p99_ms = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return figures


_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(m?s)")
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def throughput(url: str, job: workload.Workload, seconds: float, figures: Figures) -> None:
    target = f"{url}?{urlencode({'query': job.text})}"
    command = ["wrk", "-t2", f"-c{peers.CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "10s"]
    command += ["-H", f"Accept: {job.accept}", target]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    total = _TOTAL.search(out)
    non2xx = _NON2XX.search(out)
    errors = _ERRORS.search(out)
    figures.errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
    if total is None:
        figures.rps = float("nan")
        return
    seconds = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    answered = int(total.group(1)) - (int(non2xx.group(1)) if non2xx else 0)
    # Only correct answers count: a peer that fails a query fast gets no credit for it.
    figures.rps = answered / seconds if answered > 0 and figures.status == 200 else float("nan")


def flame(size: str, peer: peers.Running, job: workload.Workload, seconds: float) -> Path | None:
    """Record a py-spy flame graph of ``peer`` (server and workers) while wrk loads it with ``job``.

    Written to ``bench/results/<size>-<peer>-<query>.svg``; ``None`` when py-spy cannot attach
    (it needs ptrace rights over the server: same user, no stricter Yama policy).
    """
    spy = Path(sys.executable).with_name("py-spy")
    target = ROOT / "bench" / "results" / f"{size}-{peer.name}-{job.name}.svg"
    command = [str(spy), "record", "--pid", str(peer.process.pid), "--subprocesses", "--rate", "250"]
    command += ["--duration", f"{max(1, round(seconds))}", "--format", "flamegraph", "--output", str(target)]
    recorder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.3)  # let py-spy attach before the load starts
    throughput(peer.url, job, seconds, Figures(status=200))
    try:
        out = recorder.communicate(timeout=seconds + 60)[0].decode(errors="replace")
    except subprocess.TimeoutExpired:
        recorder.kill()
        recorder.wait()
        say(f"[{size}]   py-spy did not finish on {job.name}")
        return None
    if recorder.returncode != 0 or not target.exists():
        say(f"[{size}]   py-spy could not profile {peer.name}: {out.strip().splitlines()[-1:] or ['?']}")
        return None
    return target


def ratio(a: float, b: float) -> float:
    return a / b if a == a and b == b and b else float("nan")


def shown(value: float, digits: int = 2) -> str:
    return "–" if value != value else f"{value:.{digits}f}"


def store_dir_for(size: str, work: Path) -> Path | None:
    """mqmkg keeps its store on disk for L (``--store``), in memory otherwise."""
    return work / "mqmkg-store" if size == "L" else None


def startup(
    size: str, data: peers.Dataset, work: Path, chosen: list[str], args: argparse.Namespace
) -> dict[str, PeerReport]:
    """Measure cold starts (and, with a store directory, mqmkg's load and restarts)."""
    reports = {name: PeerReport(name) for name in chosen}
    store_dir = store_dir_for(size, work)
    if store_dir is not None and "mqmkg" in reports:
        say(f"[{size}] mqmkg: first start on an empty --store directory (its load) ...")
        shutil.rmtree(store_dir, ignore_errors=True)
        first = peers.start("mqmkg", data, work, workload.LOOKUP, store_dir)
        first.stop()
        reports["mqmkg"].load_time = first.cold_start
        say(f"[{size}]   mqmkg built its store and answered after {first.cold_start:.2f} s")
    for name in [n for n in chosen if n != "mqmkg-cached"]:
        for attempt in range(args.starts):
            running = peers.start(name, data, work, workload.LOOKUP, store_dir if name == "mqmkg" else None)
            running.stop()
            reports[name].cold_starts.append(running.cold_start)
            if running.load_time:
                reports[name].load_time = running.load_time + min(reports[name].cold_starts)
            say(f"[{size}] cold start {attempt + 1}/{args.starts} {name}: {running.cold_start:.3f} s")
        reports[name].cold_start = statistics.median(reports[name].cold_starts)
    return reports


def run_queries(
    size: str,
    data: peers.Dataset,
    work: Path,
    chosen: list[str],
    reports: dict[str, PeerReport],
    args: argparse.Namespace,
) -> None:
    jobs = workload.workloads(data.root / "queries")
    if args.smoke:
        jobs = [j for j in jobs if j.name in ("lookup", "timeline", "describe-mqm")]
    if args.only:
        jobs = [j for j in jobs if j.name in args.only.split(",")]
    store_dir = store_dir_for(size, work)
    running: dict[str, peers.Running] = {}
    peaks: dict[str, float] = {}  # the peak PSS of peers restarted after a timeout, before their restart

    def launch(name: str) -> peers.Running:
        return peers.start(name, data, work, workload.LOOKUP, store_dir if name.startswith("mqmkg") else None)

    try:
        for name in chosen:
            say(f"[{size}] starting {name} for the queries ...")
            running[name] = launch(name)
        with httpx.Client(timeout=args.request_timeout) as client:
            for index, job in enumerate(jobs):
                order = chosen[index % len(chosen) :] + chosen[: index % len(chosen)]
                for name in order:
                    figures = sequential(client, running[name].url, job, args.requests, args.seconds)
                    if not figures.timed_out:
                        throughput(running[name].url, job, args.seconds, figures)
                    # Requests wrk (or a timeout) gave up on may still run in the peer: wait until it is
                    # idle, or restart it, so that it burns no CPU under the next peer's figures.
                    if figures.timed_out or not running[name].settle():
                        say(f"[{size}]   {name} still busy after {job.name}: restarting it")
                        running[name].stop()
                        peaks[name] = max(peaks.get(name, 0.0), running[name].peak_mb)
                        running[name] = launch(name)
                    reports[name].queries[job.name] = figures
                line = "  ".join(
                    f"{n}={reports[n].queries[job.name].rps:,.0f}/s,{reports[n].queries[job.name].median_ms:.1f}ms"
                    for n in chosen
                )
                rows = reports[chosen[0]].queries[job.name].rows
                say(f"[{size}] {index + 1}/{len(jobs)} {job.name} ({rows} rows): {line}")
                if job.name in args.profile.split(",") and "mqmkg" in running:
                    graph = flame(size, running["mqmkg"], job, args.seconds)
                    if graph is not None:
                        say(f"[{size}]   flame graph of mqmkg on {job.name}: {graph.relative_to(ROOT)}")
        for name, peer in running.items():
            reports[name].pss_mb = max(peaks.get(name, 0.0), peer.peak_mb)
    finally:
        for peer in running.values():
            peer.stop()


@dataclass(frozen=True)
class Goal:
    """One goal of the issue: what is compared, the bound, and the measured value."""

    text: str
    bound: float
    measured: float
    at_most: bool = False

    @property
    def met(self) -> bool:
        if self.measured != self.measured:
            return False
        return self.measured <= self.bound if self.at_most else self.measured >= self.bound

    def line(self) -> str:
        mark = "met" if self.met else "MISSED"
        sign = "≤" if self.at_most else "≥"
        return f"| {self.text} | {sign} {self.bound:g} | {shown(self.measured)} | {mark} |"


def worst(values: list[float], at_most: bool = False) -> float:
    clean = [v for v in values if v == v]
    if not clean:
        return float("nan")
    return max(clean) if at_most else min(clean)


def goals(size: str, reports: dict[str, PeerReport]) -> list[Goal]:
    mine = reports.get("mqmkg")
    if mine is None:
        return []
    found: list[Goal] = []
    names = list(mine.queries)
    analyst = [q for q in names if q in workload.ANALYST]

    def rps_ratio(peer: str, queries: list[str]) -> list[float]:
        return [ratio(mine.queries[q].rps, reports[peer].queries[q].rps) for q in queries] if peer in reports else []

    if "oxigraph" in reports:
        found.append(
            Goal("throughput ÷ native Oxigraph, analyst queries (worst)", 1.0, worst(rps_ratio("oxigraph", analyst)))
        )
        if "lookup" in names:
            found.append(Goal("throughput ÷ native Oxigraph, lookup", 0.15, worst(rps_ratio("oxigraph", ["lookup"]))))
        latency = [ratio(mine.queries[q].median_ms, reports["oxigraph"].queries[q].median_ms) for q in names]
        found.append(Goal("sequential median ÷ native, every query (worst)", 1.5, worst(latency, True), True))
    if "bare" in reports:
        found.append(
            Goal("throughput ÷ bare FastAPI+pyoxigraph, every query (worst)", 0.8, worst(rps_ratio("bare", names)))
        )
    if "rdflib" in reports:
        found.append(
            Goal("throughput ÷ rdflib-endpoint, analyst queries (worst)", 10.0, worst(rps_ratio("rdflib", analyst)))
        )
        if "lookup" in names:
            found.append(Goal("throughput ÷ rdflib-endpoint, lookup", 2.0, worst(rps_ratio("rdflib", ["lookup"]))))
    if size == "M":
        canned = [q for q in names if q not in ("lookup", "describe-mqm")]
        found.append(
            Goal(
                "every canned query's median at ~100k triples, ms (worst)",
                50,
                worst([mine.queries[q].median_ms for q in canned], True),
                True,
            )
        )
    if size == "S":
        found.append(Goal("cold start on the curated graph, s (median)", 0.5, mine.cold_start, True))
    if size == "L":
        found.append(Goal("restart with --store, s (median)", 1.0, mine.cold_start, True))
        if "oxigraph" in reports:
            found.append(
                Goal(
                    "load time ÷ `oxigraph load` (+ its first start)",
                    1.5,
                    ratio(mine.load_time, reports["oxigraph"].load_time),
                    True,
                )
            )
            found.append(Goal("peak PSS ÷ native", 1.5, ratio(mine.pss_mb, reports["oxigraph"].pss_mb), True))
    return found


def table(reports: dict[str, PeerReport], mine_name: str) -> list[str]:
    mine = reports[mine_name]
    others = [n for n in reports if not n.startswith("mqmkg")]
    native = reports.get("oxigraph")
    lines = [
        f"| query | {mine_name} req/s | "
        + " | ".join(f"÷ {n}" for n in others)
        + " | median ms | p99 ms | median ÷ oxigraph | rows | non-2xx: mqmkg / peers |",
        "|---|---:|" + "---:|" * len(others) + "---:|---:|---:|---:|---:|",
    ]
    for q, f in mine.queries.items():
        ratios = " | ".join(shown(ratio(f.rps, reports[n].queries[q].rps)) for n in others if q in reports[n].queries)
        latency = shown(ratio(f.median_ms, native.queries[q].median_ms)) if native and q in native.queries else "–"
        rows = {
            reports[n].queries[q].rows for n in reports if q in reports[n].queries and reports[n].queries[q].rows >= 0
        }
        flag = "" if len(rows) <= 1 else " !"
        failing = [
            f"{n} {'timed out' if reports[n].queries[q].timed_out else reports[n].queries[q].errors}"
            for n in others
            if q in reports[n].queries and (reports[n].queries[q].errors or reports[n].queries[q].timed_out)
        ]
        errors = f"{f.errors} / {', '.join(failing) or 0}"
        timing = f"{f.median_ms:.1f} | {f.p99_ms:.1f} | {latency}"
        lines.append(f"| {q} | {f.rps:,.0f} | {ratios} | {timing} | {f.rows}{flag} | {errors} |")
    return lines


def markdown(size: str, triples: int, reports: dict[str, PeerReport], args: argparse.Namespace) -> str:
    lines = [
        f"# mqmkg benchmark, size {size} ({triples:,} triples in the default graph)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()} ({os.cpu_count()} cores, load average"
        f" {os.getloadavg()[0]:.1f} at the end, Python {platform.python_version()});"
        f" wrk -t2 -c{peers.CONNECTIONS} -d{args.seconds:g}s per query and peer;"
        f" {args.requests} sequential requests at most;"
        " peers rotated per query.",
        f"mqmkg runs with every protection on (one client may have {peers.CONNECTIONS} queries in flight: wrk's"
        " connections all come from one address); "
        + ("its store on disk (`--store`)." if size == "L" else "its store in memory.")
        + " Ratios are mqmkg ÷ peer for throughput, mqmkg ÷ native Oxigraph for latency. Rows: rows (or"
        " triples) of the first answer; a count that differs between peers is flagged with !.",
        "",
    ]
    if "mqmkg" in reports and reports["mqmkg"].queries:
        lines += [
            "## Uncached (result cache off)",
            "",
            *table({n: r for n, r in reports.items() if n != "mqmkg-cached"}, "mqmkg"),
            "",
        ]
    if "mqmkg-cached" in reports and reports["mqmkg-cached"].queries:
        lines += [
            "## Cached (result cache on: 1024 answers)",
            "",
            *table({n: r for n, r in reports.items() if n != "mqmkg"}, "mqmkg-cached"),
            "",
        ]
    lines += [
        "## Start-up and memory",
        "",
        f"Cold start: launch to the first correct answer to the point lookup, median of {args.starts} (fastest in"
        " brackets). Load: from the input files to a store ready to serve (native: `oxigraph load` plus its fastest"
        " cold start; mqmkg: a first start on an empty `--store` directory, L only). Memory: the peak summed PSS of the"
        " peer's processes during its queries.",
        "",
        "| peer | cold start s | load s | peak PSS MiB |",
        "|---|---:|---:|---:|",
    ]
    for n, r in reports.items():
        fastest = f" ({min(r.cold_starts):.3f})" if r.cold_starts else ""
        lines.append(f"| {n} | {shown(r.cold_start, 3)}{fastest} | {shown(r.load_time)} | {shown(r.pss_mb, 0)} |")
    graphs = sorted((ROOT / "bench" / "results").glob(f"{size}-mqmkg-*.svg"))
    if graphs:
        lines += [
            "",
            "Flame graphs of mqmkg (py-spy, server and workers) under load: "
            + ", ".join(f"[{g.stem.split('-mqmkg-')[1]}]({g.name})" for g in graphs)
            + ".",
        ]
    found = goals(size, reports)
    if found:
        lines += [
            "",
            "## Goals (issue 11), uncached",
            "",
            "| goal | bound | measured | |",
            "|---|---:|---:|---|",
            *[g.line() for g in found],
        ]
    return "\n".join(lines) + "\n"


def run_size(size: str, args: argparse.Namespace) -> tuple[peers.Dataset, dict[str, PeerReport]]:
    work = ROOT / "bench" / "work" / size
    work.mkdir(parents=True, exist_ok=True)
    say(f"[{size}] preparing data ...")
    data = prepare(size, work)
    say(f"[{size}] {data.triples:,} triples in the default graph")
    default = [p for p in PEERS if not (size == "L" and p == "rdflib")]  # rdflib takes minutes and GBs on L
    wanted = args.peers.split(",") if args.peers else default
    chosen = [p for p in PEERS if p in wanted]
    reports = startup(size, data, work, chosen, args) if args.starts else {n: PeerReport(n) for n in chosen}
    run_queries(size, data, work, chosen, reports, args)
    return data, reports


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="S,M", help="comma-separated sizes: S, M, L (default S,M)")
    parser.add_argument("--seconds", type=float, default=3.0, help="wrk duration and sequential time cap per query")
    parser.add_argument("--requests", type=int, default=50, help="sequential requests per query and peer")
    parser.add_argument("--peers", default="", help=f"peers to run (default: {','.join(PEERS)}; no rdflib on L)")
    parser.add_argument("--only", default="", help="comma-separated query names to run")
    parser.add_argument("--starts", type=int, default=5, help="cold starts per peer (0: skip the start-up phase)")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=30.0,
        help="seconds one sequential request may take; past it the peer is marked timed out and restarted",
    )
    parser.add_argument(
        "--profile",
        default="lookup,search-labels",
        help="queries to profile mqmkg on (py-spy flame graph under bench/results/; '' for none)",
    )
    parser.add_argument("--smoke", action="store_true", help="a short run on S with three queries (CI)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: make bench installs it (apt-get install wrk)")
    sizes = ["S"] if args.smoke else [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    if args.smoke:
        args.seconds, args.requests, args.starts, args.profile = 1.0, 5, 1, ""
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        data, reports = run_size(size, args)
        text = markdown(size, data.triples, reports, args)
        say("")
        say(text)
        if args.smoke or args.only or args.peers:
            say(f"[{size}] a partial run: bench/results/{size}.md is left as it was")
        else:
            (results / f"{size}.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
