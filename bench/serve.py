"""Benchmark of `coopdec-kg serve` at national scale, beside `oxigraph serve` over the same data.

Not a test: it prints figures and, with --write, records them in bench/RESULTS.md (the section
after the `<!-- serve -->` line). Usage from the repository root:

    python bench/serve.py                  # scale 1.0, 3 repeats, 30 s of 20 clients
    python bench/serve.py --scale 0.01 --repeats 1 --load-seconds 5   # a smoke run

Both servers bind 127.0.0.1 only and every request loop is bounded. The anchor is the
`oxigraph` executable (the dev extra): `oxigraph load` of the same files (ontology, data, atlas)
into a store, then `oxigraph serve-read-only`; each named query's SPARQL text, its parameters
written as terms exactly as `query --endpoint` sends it, is POSTed to both.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from results_file import record

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CLI = [sys.executable, "-m", "coopdec_kg", "--root", str(REPO)]
POST = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
TARGETS = {"ready": 10.0, "whole": 1.0, "first-page": 0.2, "entity-page": 0.05, "memory": 2048}
PAGE = 100  # rows of a first page
ENTITY = "authority/ca-cergy-pontoise"


def _bench_queries() -> dict[str, list[str]]:
    """The required queries and their parameters, as bench/run.py lists them."""
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    queries: dict[str, list[str]] = module.QUERIES
    return queries


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    """Send one request, read the whole answer; its status."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _opener.open(request, timeout=120) as answer:
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as error:
        error.read()
        return int(error.code)
    except OSError:
        return 0


def timed(work: Callable[[], int], repeats: int) -> float | None:
    """Median seconds of `work`; None when a request fails (HTTP 0: no answer within the
    client's 120 s), which the table shows rather than a time."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        status = work()
        runs.append(time.perf_counter() - start)
        if status != 200:
            print(f"  failed with HTTP {status} after {runs[-1]:.1f} s", file=sys.stderr)
            return None
    return statistics.median(runs)


def cold_and_timed(work: Callable[[], int], repeats: int) -> tuple[float | None, float | None]:
    """The seconds of a first run of `work` (the server may keep what it computed: the first
    request pays for it), then the median of `repeats` more runs (None: a failed request)."""
    return timed(work, 1), timed(work, repeats)


def load_average() -> str:
    """The machine's load averages (1, 5, 15 min), to read the figures by: it has 2 cores."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


# ---------------------------------------------------------------------------- memory


def _tree(root: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack += children.get(pid, [])
    return found


def proportional_mb(root: int) -> float:
    """The memory of a process tree, shared pages counted once (sum of PSS), in MB."""
    total = 0
    for pid in _tree(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class PeakMemory:
    """Samples a process tree's memory every half second; `peak` is the largest sample."""

    def __init__(self, root: int) -> None:
        self.root, self.peak, self._done = root, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.5):
            self.peak = max(self.peak, proportional_mb(self.root))

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return max(self.peak, proportional_mb(self.root))


# ---------------------------------------------------------------------------- servers


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    base: str
    seconds: float


def start_ours(atlas: Path, env: dict[str, str], log: Path) -> Started:
    command = [*CLI, "serve", "--port", "0", "--extra", str(atlas), "--timeout", "60"]
    start = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=sink)
    assert process.stderr is not None
    first = process.stderr.readline().decode()
    seconds = time.perf_counter() - start
    found = re.search(r" at (http://\S+/) ", first)
    if found is None:
        process.kill()
        raise SystemExit(f"serve did not start: {first}{process.stderr.read().decode()[-500:]}")
    threading.Thread(target=_keep_reading, args=(process, log), daemon=True).start()
    return Started(process, found.group(1), seconds)


def _keep_reading(process: subprocess.Popen[bytes], log: Path) -> None:
    """Copy the access log to a file, or the pipe fills and the server waits."""
    assert process.stderr is not None
    with log.open("ab") as sink:
        shutil.copyfileobj(process.stderr, sink)


def start_oxigraph(files: Sequence[Path], work: Path) -> tuple[Started, float]:
    executable = Path(sys.executable).parent / "oxigraph"
    if not executable.exists():
        raise SystemExit("the oxigraph executable is missing: pip install -e '.[dev]'")
    location = work / "oxigraph-store"
    start = time.perf_counter()
    subprocess.run(
        [str(executable), "load", "--location", str(location), "--file", *map(str, files)],
        check=True,
        capture_output=True,
    )
    loaded = time.perf_counter() - start
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(executable), "serve-read-only", "--location", str(location),
         "--bind", f"{HOST}:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://{HOST}:{port}/"
    probe = base + "query?" + urllib.parse.urlencode({"query": "ASK {}"})
    while fetch(probe) != 200:
        if process.poll() is not None:
            raise SystemExit("oxigraph serve-read-only did not start")
        time.sleep(0.05)
    return Started(process, base, time.perf_counter() - start), loaded


def stop(started: Started) -> None:
    started.process.terminate()
    try:
        started.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        started.process.kill()
        started.process.wait()


# ---------------------------------------------------------------------------- load


def under_load(
    urls: Sequence[tuple[str, bytes | None, dict[str, str]]], clients: int, seconds: float
) -> tuple[int, int, float]:
    """`clients` threads sending the requests in turn for `seconds`: (requests, errors, p95 s)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client(number: int) -> None:
        nonlocal errors
        index = number
        while time.monotonic() < end:
            url, data, headers = urls[index % len(urls)]
            index += 1
            start = time.perf_counter()
            status = fetch(url, data, headers)
            with lock:
                latencies.append(time.perf_counter() - start)
                errors += status != 200

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    return len(latencies), errors, p95


# ---------------------------------------------------------------------------- the run


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--write", action="store_true", help="record in bench/RESULTS.md")
    options = parser.parse_args(argv)

    from coopdec_kg.content.project import Project
    from coopdec_kg.engines.queries import bound_text, find_query, parse_assignments
    from coopdec_kg.engines.store import source_files

    project = Project.at(REPO)
    work = Path(tempfile.mkdtemp(prefix="coopdec-serve-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(COOPDEC_KG_STORE=str(work / "store"), COOPDEC_KG_ROOT=str(REPO))
    atlas = work / "atlas"
    atlas.mkdir()
    lines: list[str] = []
    servers: list[Started] = []  # stopped whatever happens: never left running
    try:
        subprocess.run(
            [*CLI, "synth", "-o", str(atlas), "--scale", str(options.scale), "--seed", "1"],
            env=env,
            check=True,
            capture_output=True,
        )
        files = source_files(project, [atlas])
        loads_seen = [load_average()]
        ours = start_ours(atlas, env, work / "serve.log")
        servers.append(ours)
        memory = PeakMemory(ours.process.pid)
        oxigraph, oxigraph_load = start_oxigraph(files, work)
        servers.append(oxigraph)
        rows = []
        sparql_load: list[tuple[str, bytes | None, dict[str, str]]] = []
        for name, arguments in _bench_queries().items():
            named = find_query(project, name)
            values = parse_assignments(arguments[1::2])
            text = bound_text(named, values).encode()
            api = f"{ours.base}api/queries/{name}?" + urllib.parse.urlencode(values)
            page = api + ("&" if values else "") + f"limit={PAGE}"
            # the first page first, as a person opening the question asks it: the answer is
            # not kept yet (cold); then the whole answer and the first page again
            cold, first = cold_and_timed(lambda page=page: fetch(page), options.repeats)
            whole_cold, whole = cold_and_timed(lambda api=api: fetch(api), options.repeats)
            endpoint = timed(
                lambda text=text: fetch(ours.base + "sparql", text, POST), options.repeats
            )
            anchor = timed(
                lambda text=text: fetch(oxigraph.base + "query", text, POST), options.repeats
            )
            rows.append((name, cold, whole_cold, whole, first, endpoint, anchor))
            figures = f"{cold} {whole_cold} {whole} {first} {endpoint} {anchor}"
            print(f"{name}: {figures}", file=sys.stderr, flush=True)
            if not any(name == big for big in ("actions-by-domain", "amounts", "speciality-check")):
                sparql_load.append((ours.base + "sparql", text, POST))
        entity_cold, entity = cold_and_timed(
            lambda: fetch(f"{ours.base}page/{ENTITY}"), max(options.repeats, 20)
        )
        entity_data = timed(
            lambda: fetch(f"{ours.base}data/{ENTITY}.ttl"), max(options.repeats, 20)
        )
        mixed = [
            *sparql_load,
            (f"{ours.base}page/{ENTITY}", None, {}),
            (f"{ours.base}api/queries/engagement-levels", None, {}),
            (f"{ours.base}api/queries/partners-of-ca?ca=authority:ca-cergy-pontoise", None, {}),
        ]
        load_ours = under_load(mixed, options.clients, options.load_seconds)
        load_sparql = under_load(sparql_load, options.clients, options.load_seconds)
        anchored = [(oxigraph.base + "query", d, h) for _, d, h in sparql_load]
        load_anchor = under_load(anchored, options.clients, options.load_seconds)
        loads_seen.append(load_average())
        peak = memory.stop()
        anchor_memory = proportional_mb(oxigraph.process.pid)
        stop(ours)
        stop(oxigraph)
        lines = render(
            options, ours.seconds, oxigraph.seconds, oxigraph_load, rows, (entity_cold, entity),
            entity_data, (load_ours, load_sparql, load_anchor), peak, anchor_memory, loads_seen,
        )  # fmt: skip
    finally:
        for started in servers:
            stop(started)
        shutil.rmtree(work, ignore_errors=True)
    report = "\n".join(lines) + "\n"
    print(report)
    if options.write:
        record("serve", report)


def _met(value: float | None, target: float) -> str:
    return "yes" if value is not None and value <= target else "**no**"


def _seconds(value: float | None) -> str:
    return "failed" if value is None else f"{value:.3f}"


def _ratio(value: float | None, anchor: float | None) -> str:
    return "–" if value is None or anchor is None else f"{value / anchor:.1f}×"


def render(
    options: argparse.Namespace,
    ready: float,
    anchor_ready: float,
    anchor_load: float,
    rows: list[tuple[str, *tuple[float | None, ...]]],
    entity_times: tuple[float | None, float | None],
    entity_data: float | None,
    loads: tuple[tuple[int, int, float], ...],
    peak: float,
    anchor_memory: float,
    loads_seen: list[str],
) -> list[str]:
    import platform

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "## `coopdec-kg serve` beside `oxigraph serve-read-only` (issue 17)",
        "",
        f"Scale {options.scale}, median of {options.repeats} requests; machine: {machine}; "
        f"{time.strftime('%Y-%m-%d')}. Produced by `python bench/serve.py"
        f"{' --scale ' + str(options.scale) if options.scale != 1.0 else ''} --write`. "
        f"Load average (1, 5, 15 min) at the start: {loads_seen[0]}; before the memory "
        f"reading at the end: {loads_seen[-1]} (2 cores, shared).",
        "",
        "A worker keeps the whole answers it computed, and the serving process the bytes of "
        "the whole answers it sent (web/answers). *Cold* is the first request of a first page "
        f"of {PAGE} (the whole answer computed, ordered and kept by a worker); *whole, first* "
        "the first request of the whole answer (written out by the worker from the answer it "
        "keeps); the medians are of the requests after each first one. The ratio to "
        "oxigraph compares the same text sent to both endpoints, where nothing is kept.",
        "",
        "A `failed` time is a request that was not answered 200 (HTTP 0: no answer within the "
        "client's 120 s).",
        "",
        f"Server ready (graph loaded, answering): {ready:.2f} s (target ≤ "
        f"{TARGETS['ready']:g} s: {_met(ready, TARGETS['ready'])}); oxigraph: `load` "
        f"{anchor_load:.2f} s, then `serve-read-only` {anchor_ready:.2f} s.",
        "",
        f"| named query | API, first page, cold (s) | API, whole, first (s) | API, whole "
        f"answer (s) | API, first page of {PAGE} (s) | /sparql, same text (s) | oxigraph, same "
        "text (s) | /sparql ÷ oxigraph | whole ≤ 1 s | page ≤ 0.2 s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | :---: |",
    ]
    for name, cold, whole_cold, whole, first, endpoint, anchor in rows:
        lines.append(
            f"| {name} | {_seconds(cold)} | {_seconds(whole_cold)} | {_seconds(whole)} "
            f"| {_seconds(first)} "
            f"| {_seconds(endpoint)} "
            f"| {_seconds(anchor)} | {_ratio(endpoint, anchor)} | {_met(whole, TARGETS['whole'])} "
            f"| {_met(first, TARGETS['first-page'])} |"
        )
    (mixed, sparql, anchored) = loads
    lines += [
        "",
        f"Entity page (`/page/{ENTITY}`, HTML): {_seconds(entity_times[1])} s (target ≤ "
        f"0.050 s: {_met(entity_times[1], TARGETS['entity-page'])}; the first request "
        f"{_seconds(entity_times[0])} s); its Turtle (`/data/{ENTITY}.ttl`): "
        f"{_seconds(entity_data)} s.",
        "",
        f"{options.clients} concurrent clients for {options.load_seconds:g} s each:",
        "",
        "| load | requests | errors | p95 latency (s) |",
        "| --- | ---: | ---: | ---: |",
        f"| serve: SPARQL texts, entity pages, API | {mixed[0]} | {mixed[1]} | {mixed[2]:.3f} |",
        f"| serve: SPARQL texts only | {sparql[0]} | {sparql[1]} | {sparql[2]:.3f} |",
        f"| oxigraph: the same SPARQL texts | {anchored[0]} | {anchored[1]} | {anchored[2]:.3f} |",
        "",
        f"Peak memory of the server (its processes together, shared pages counted once: sum "
        f"of PSS): {peak:.0f} MB (target ≤ {TARGETS['memory']} MB: "
        f"{_met(peak, TARGETS['memory'])}); oxigraph at the end: {anchor_memory:.0f} MB.",
    ]
    return lines


if __name__ == "__main__":
    main()
