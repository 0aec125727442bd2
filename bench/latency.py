"""Latency of coopdec-kg (issue 15): small answers, parameterised queries, large answers, exports.

Not a test: it prints Markdown tables of figures measured side by side in one run (medians of
fresh processes, end to end), each beside the floor it cannot beat where there is one:

- the report's own graph: `query engagement-levels`, `report` and `--help`, first run (empty
  user cache, no store: the store is built and the query texts parsed) and later runs;
- at each --scale (a synthetic atlas loaded with `build --extra`): every parameterised query,
  and the three 75 000-row answers (at 1.0) as CSV, beside pyoxigraph alone on the same text;
  `export --format ntriples`; `query actions-by-domain --endpoint` against an in-memory Oxigraph
  server holding the same graph, beside the server alone (the same request, answer read whole);
- where the start-up of `query engagement-levels` goes (`python -X importtime`).

Usage from the repository root:

    python bench/latency.py --scales 1.0 2.0 --repeats 5
    python bench/latency.py --scales 0.001 --repeats 1      # a smoke run
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from run import CLI, REPO, engine_alone_commands, median_of, timed

# Each parameterised query with a value the report names (line of the report: see queries/).
PARAMETERISED: dict[str, list[str]] = {
    "partners-of-ca": ["-p", "ca=authority:ca-cergy-pontoise"],
    "actions-of-ca": ["-p", "ca=authority:ca-cergy-pontoise"],
    "ca-by-level": ["-p", "level=engagement-level:cooperation-avancee"],
    "partner-countries": ["-p", "area=world-area:asie"],
    "actions-by-domain": ["-p", "domain=domain:amenagement-de-l-espace"],
    "search": ["-p", "text=cergy"],
}
LARGE: dict[str, list[str]] = {"actions-by-domain": [], "amounts": [], "speciality-check": []}
SMALL = {
    "query engagement-levels": [*CLI, "query", "engagement-levels", "--format", "csv"],
    "report": [*CLI, "report"],
    "--help": [*CLI, "--help"],
}
TARGETS = {"query engagement-levels": 0.15, "report": 0.6, "--help": 0.15, "export": 4.5}
Line = tuple[str, float, float | None, float | None]  # measure, seconds, floor, target


def table(title: str, lines: Sequence[Line], floor_name: str) -> str:
    rows = [
        f"### {title}",
        "",
        f"| measure | coopdec-kg (s) | {floor_name} (s) | target (s) | met |",
        "| --- | ---: | ---: | ---: | :---: |",
    ]
    for name, seconds, floor, target in lines:
        met = "–" if target is None else ("yes" if seconds <= target else "**no**")
        shown_floor = "–" if floor is None else f"{floor:.3f}"
        shown_target = "–" if target is None else f"{target:g}"
        rows.append(f"| {name} | {seconds:.3f} | {shown_floor} | {shown_target} | {met} |")
    return "\n".join(rows) + "\n"


def small_graph(work: Path, repeats: int) -> str:
    """The report's graph: first runs (no cache, no store) then later runs."""
    lines: list[Line] = []
    for name, command in SMALL.items():
        cache = work / f"cache-{len(lines)}"
        env = dict(
            os.environ,
            COOPDEC_KG_ROOT=str(REPO),
            COOPDEC_KG_STORE=str(work / f"small-store-{len(lines)}"),
            XDG_CACHE_HOME=str(cache),
        )
        first, _ = timed(command, env)
        later, _ = median_of(command, env, repeats)
        lines.append((f"{name}, first run", first, None, None))
        lines.append((f"{name}, later runs", later, None, TARGETS[name]))
    return table("The report's graph", lines, "floor")


def at_scale(work: Path, scale: float, repeats: int) -> str:
    atlas, store = work / f"atlas-{scale}", work / f"store-{scale}"
    atlas.mkdir()
    env = dict(os.environ, COOPDEC_KG_ROOT=str(REPO), COOPDEC_KG_STORE=str(store))
    synth = [*CLI, "synth", "-o", str(atlas), "--scale", str(scale), "--seed", "1"]
    subprocess.run(synth, env=env, cwd=REPO, check=True, capture_output=True)
    build = [*CLI, "build", "--extra", str(atlas)]
    subprocess.run(build, env=env, cwd=REPO, check=True, capture_output=True)
    lines: list[Line] = []
    for group, target in (("parameterised", 0.3), ("large", 2.0)):
        queries = PARAMETERISED if group == "parameterised" else LARGE if scale == 1.0 else {}
        alone = engine_alone_commands(queries, work, store)
        for name, args in queries.items():
            command = [*CLI, "query", name, *args, "--format", "csv"]
            timed(command, env)  # the first run parses the text once (kept in the user's cache)
            seconds, _ = median_of(command, env, repeats)
            floor, _ = median_of(alone[name], env, repeats)
            label = f"query {name} {' '.join(args[1::2])}".strip()
            lines.append((label, seconds, floor, target))
    export = [*CLI, "export", "--include-extra", "--format", "ntriples", "-o", str(work / "d.nt")]
    seconds, _ = median_of(export, env, repeats)
    lines.append(("export --format ntriples", seconds, None, TARGETS["export"]))
    lines.append(endpoint_line(work, env, repeats))
    return table(f"Scale {scale}", lines, "pyoxigraph alone")


def endpoint_line(work: Path, env: dict[str, str], repeats: int) -> Line:
    """`query actions-by-domain --endpoint` on an in-memory Oxigraph server holding the graph,
    beside the server alone (the same POST, the answer read whole)."""
    oxigraph = Path(sys.executable).parent / "oxigraph"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(oxigraph), "serve", "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        push = [*CLI, "push", "--include-extra", "--endpoint", base + "/store"]
        subprocess.run(push, env=env, check=True, capture_output=True)
        from coopdec_kg.content.project import Project
        from coopdec_kg.engines.queries import bound_text, find_query

        text = bound_text(find_query(Project.at(REPO), "actions-by-domain"))
        command = [*CLI, "query", "actions-by-domain", "--endpoint", base + "/query"]
        seconds, _ = median_of([*command, "--format", "csv"], env, repeats)
        alone = []
        for _ in range(repeats):
            request = urllib.request.Request(
                base + "/query",
                data=text.encode(),
                headers={
                    "Content-Type": "application/sparql-query",
                    "Accept": "text/tab-separated-values",
                },
            )
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=600) as response:
                response.read()
            alone.append(time.perf_counter() - start)
        return ("query actions-by-domain --endpoint (server alone)", seconds, min(alone), None)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def startup(repeats: int) -> str:
    """Where the start of `query engagement-levels` goes: the modules imported, by cumulative
    time (the median over runs of each module's self + children microseconds)."""
    env = dict(os.environ, COOPDEC_KG_ROOT=str(REPO))
    command = [sys.executable, "-X", "importtime", "-m", "coopdec_kg", "query"]
    totals: dict[str, list[int]] = {}
    every: set[str] = set()
    for _ in range(max(repeats, 3)):
        done = subprocess.run(
            [*command, "engagement-levels", "--format", "csv"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in done.stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            _, cumulative, name = line.split("|")
            every.add(name.strip())
            if cumulative.strip().isdigit() and not name.startswith("  "):  # top level
                totals.setdefault(name.strip(), []).append(int(cumulative))
    top = sorted(totals.items(), key=lambda item: -statistics.median(item[1]))[:12]
    rows = [
        "### Start-up of `query engagement-levels` (`python -X importtime`, top-level imports)",
        "",
        "| module | cumulative (ms) |",
        "| --- | ---: |",
    ]
    rows += [f"| {name} | {statistics.median(times) / 1000:.1f} |" for name, times in top]
    heavy = ("rdflib", "pydantic", "yaml", "rich", "importlib.metadata", "pyparsing")
    rows += [
        "",
        f"Not imported: {', '.join(m for m in heavy if m not in every) or 'none'}; "
        f"imported: {', '.join(m for m in heavy if m in every) or 'none'}.",
    ]
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="*", default=[1.0, 2.0])
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args(argv)
    # As an installed package has them: the modules' bytecode, written now (a shell with
    # PYTHONDONTWRITEBYTECODE would otherwise compile every changed module in every process).
    fresh = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    compile_all = [sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "coopdec_kg")]
    subprocess.run(compile_all, env=fresh, check=True)
    work = Path(tempfile.mkdtemp(prefix="coopdec-latency-"))
    try:
        parts = [small_graph(work, options.repeats), startup(options.repeats)]
        parts += [at_scale(work, scale, options.repeats) for scale in options.scales]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(parts))


if __name__ == "__main__":
    main()
