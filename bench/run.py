"""Benchmark of coopdec-kg at national scale: fast paths beside the rdflib reference, in one run.

Not a test: it prints figures (medians, and ratios to the rdflib baseline measured in the same
run) and, with --write, records them in bench/RESULTS.md. Usage from the repository root:

    python bench/run.py                 # scale 1.0 (about 1.5 M triples), 3 repeats
    python bench/run.py --scale 0.01 --repeats 1 --quick   # a smoke run

Besides the national scale, it validates a valid submission of 50 000 triples
(--submission-triples) on the report's own graph, end to end, beside the rdflib reference
(`validate --engine rdflib`, pySHACL on the merged graph).

Time limits (seconds) can be set with BENCH_STEP_LIMIT (each rdflib baseline query or export,
default 30), BENCH_VALIDATION_LIMIT (each baseline pySHACL run, 120) and BENCH_COMMAND_LIMIT
(each coopdec-kg process, 600). Every fast-path figure is a fresh `coopdec-kg` process,
end to end (start to last byte written).
The rdflib baseline parses the same files with rdflib and runs the same work with rdflib and
pySHACL; because one rdflib parse of the atlas takes tens of seconds, it is measured once and
each baseline query is timed on that parsed graph, its end-to-end figure being parse + query.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from results_file import record

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "coopdec_kg"]
# The required queries, with a value for each required parameter.
QUERIES: dict[str, list[str]] = {
    "national-context": [],
    "ca-legal-definition": [],
    "legal-texts": [],
    "engagement-levels": [],
    "ca-by-level": [],
    "links-by-area": [],
    "partner-countries": [],
    "partners-of-ca": ["-p", "ca=authority:ca-cergy-pontoise"],
    "actions-of-ca": ["-p", "ca=authority:ca-cergy-pontoise"],
    "actions-by-domain": [],
    "cross-border": [],
    "amounts": [],
    "speciality-check": [],
    "report-audit": [],
    "place-of-groupings": [],
    "specialisation": [],
}
EXPORT_FORMATS = {"ntriples": "nt", "turtle": "ttl", "jsonld": "jsonld", "trig": "trig"}
# name, coopdec-kg seconds, rdflib baseline seconds, peak RSS (MB), baseline stopped at a limit,
# and for a query the seconds of pyoxigraph alone on the same store (see ENGINE_ALONE)
Row = tuple[str, float, float | None, int, bool, float | None]
TARGETS = {
    "build": 6.0,
    "query": 1.0,
    "validate-submission": 2.0,
    "validate-large-submission": 5.0,
    "validate-full": 60.0,
    "export-ntriples": 5.0,
    "export-turtle": 15.0,
    "help": 0.3,
}


COMMAND_LIMIT = float(os.environ.get("BENCH_COMMAND_LIMIT", "600"))


def timed(
    command: Sequence[str], env: dict[str, str], limit: float = COMMAND_LIMIT
) -> tuple[float, int]:
    """Wall time of one fresh process, and its peak RSS in MB (via GNU time).

    A process still running after `limit` seconds is stopped and counted at the limit.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        try:
            done = subprocess.run(
                ["/usr/bin/time", "-f", "%M", "-o", rss.name, *command],
                env=env,
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                timeout=limit,
            )
        except subprocess.TimeoutExpired:
            return limit, 0
        elapsed = time.perf_counter() - start
        peak = int(rss.read().strip().splitlines()[-1] or 0) // 1024
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-400:]}")
    return elapsed, peak


def median_of(command: Sequence[str], env: dict[str, str], repeats: int) -> tuple[float, int]:
    runs = [timed(command, env) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


BASELINE = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from coopdec_kg.content.project import Project
from coopdec_kg.content.graph import load_graph_with
from coopdec_kg.engines.queries import find_query, run
from coopdec_kg.engines.store import rdf_files
root, atlas, submission, *names = sys.argv[1:]
project = Project.at(Path(root))
graph = load_graph_with(project, rdf_files([Path(atlas)]))
out = {"parse": time.perf_counter() - t0, "triples": len(graph), "queries": {}, "exports": {}}
params = json.loads(names.pop(0))
limit = float(names.pop(0))
import signal
class Late(Exception):
    pass
def late(*_):
    raise Late
signal.signal(signal.SIGALRM, late)
def measure(work):
    # Each step gets `limit` seconds; a step still running is stopped and counted at the limit.
    t = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        work()
    except Late:
        return limit
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return time.perf_counter() - t
for name in names:
    query = find_query(project, name)
    out["queries"][name] = measure(lambda: run(graph, query, params.get(name, {})))
for fmt in ("nt", "turtle", "json-ld", "trig"):
    out["exports"][fmt] = measure(lambda: graph.serialize(format=fmt, encoding="utf-8"))
print(json.dumps(out))
"""
STEP_LIMIT = float(os.environ.get("BENCH_STEP_LIMIT", "30"))

# The floor under a query's end-to-end time: a process that only starts Python, opens the store
# and reads every value of the rows pyoxigraph gives for the text coopdec-kg sends it (no rdflib
# terms, no ordering, no output). No layer above this engine and store can be faster.
ENGINE_ALONE = r"""
import sys
import pyoxigraph
store = pyoxigraph.Store.read_only(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as text:
    solutions = store.query(text.read())
width = range(len(solutions.variables))
for solution in solutions:
    for index in width:
        solution[index]
"""


def engine_alone_commands(
    queries: dict[str, list[str]], work: Path, store_location: Path | None = None
) -> dict[str, list[str]]:
    """For each query, the ENGINE_ALONE command on the store `build` made in `work` (or at
    `store_location`)."""
    from coopdec_kg.content.project import Project
    from coopdec_kg.engines.queries import find_query, parse_assignments, store_text
    from coopdec_kg.engines.store import open_current

    project = Project.at(REPO)
    store, info = open_current(project, store_location or work / "store")
    del store  # only its folder is needed; each measured process opens it read-only
    commands = {}
    for name, args in queries.items():
        text, _ = store_text(find_query(project, name), parse_assignments(args[1::2]))
        path = work / f"{name}.rq"
        path.write_text(text, encoding="utf-8")
        commands[name] = [sys.executable, "-c", ENGINE_ALONE, str(info.path), str(path)]
    return commands


# pySHACL on the whole rdflib graph (the naive path), alone in its process: it may not finish
# within the time limit, in which case the figure is reported as a lower bound.
BASELINE_VALIDATION = r"""
import sys, time
from pathlib import Path
from pyshacl import validate
from rdflib import Graph
from coopdec_kg.content.project import Project
from coopdec_kg.content.graph import load_graph_with
from coopdec_kg.engines.store import rdf_files
root, atlas, submission = sys.argv[1:]
project = Project.at(Path(root))
graph = load_graph_with(project, rdf_files([Path(atlas)]))
if submission != "-":
    graph.parse(submission)
shapes = Graph().parse(project.shapes_file)
t = time.perf_counter()
validate(graph, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
print(time.perf_counter() - t)
"""
VALIDATION_LIMIT = float(os.environ.get("BENCH_VALIDATION_LIMIT", "120"))


def baseline_validation(atlas: Path, submission: Path | None, env: dict[str, str]) -> float:
    """pySHACL's time on the whole graph, or the time limit when it runs past it."""
    command = [sys.executable, "-c", BASELINE_VALIDATION, str(REPO), str(atlas)]
    command.append(str(submission) if submission else "-")
    try:
        done = subprocess.run(
            command,
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=VALIDATION_LIMIT,
        )
    except subprocess.TimeoutExpired:
        return VALIDATION_LIMIT
    return float(done.stdout.strip().splitlines()[-1])


def submission_for(out: Path) -> Path:
    """A 50-triple submission about existing synthetic groupings and partners (its new
    resources named by relative IRIs, in the submission's own namespace)."""
    lines = [
        "@prefix cdo: <https://w3id.org/coopdec-kg/ontology#> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix synth: <https://w3id.org/coopdec-kg/synthetic/> .",
        "@prefix domain: <https://w3id.org/coopdec-kg/id/intervention-domain/> .",
    ]
    for index in range(10):
        lines.append(
            f"<action-{index}> a cdo:CooperationAction ;"
            f' skos:prefLabel "Action soumise {index}"@fr ;'
            f" cdo:actor synth:grouping-{index:05d} ; cdo:partOf synth:link-{index:05d} ;"
            " cdo:domain domain:urbanisme ;"
            f" dct:source <https://example.org/bench/deliberation-{index}> ."
        )
    path = out / "submission.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def large_submission_for(out: Path, triples: int) -> Path:
    """A valid submission of about `triples` triples on the report's graph: actions of the
    Conseil régional d'Aquitaine (a region: no speciality rule), seven triples each."""
    lines = [
        "@prefix cdo: <https://w3id.org/coopdec-kg/ontology#> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix authority: <https://w3id.org/coopdec-kg/id/authority/> .",
        "@prefix domain: <https://w3id.org/coopdec-kg/id/intervention-domain/> .",
    ]
    for index in range(max(1, triples // 7)):
        lines.append(
            f'<action-{index}> a cdo:CooperationAction ; skos:prefLabel "Action {index}"@fr ;'
            " cdo:actor authority:conseil-regional-d-aquitaine ; cdo:domain domain:culture ;"
            " cdo:year 2006 ; cdo:amount 8000.00 ;"
            f" dct:source <https://example.org/aquitaine/deliberation-{index}> ."
        )
    path = out / "large-submission.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the rdflib baseline")
    parser.add_argument("--write", action="store_true", help="record in bench/RESULTS.md")
    parser.add_argument(
        "--submission-triples",
        type=int,
        default=50_000,
        help="size of the large submission validated on the report's graph",
    )
    options = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="coopdec-bench-"))
    env = dict(os.environ, COOPDEC_KG_STORE=str(work / "store"), COOPDEC_KG_ROOT=str(REPO))
    rows: list[Row] = []
    atlas = work / "atlas"  # synth's folder of parts, which build loads on several cores
    atlas.mkdir()
    try:
        subprocess.run(
            [*CLI, "synth", "-o", str(atlas), "--scale", str(options.scale), "--seed", "1"],
            env=env,
            check=True,
            cwd=REPO,
            capture_output=True,
        )
        submission = submission_for(work)
        baseline: dict[str, object] = {}
        if not options.quick:
            params = {
                name: dict(v.split("=", 1) for v in args[1::2]) for name, args in QUERIES.items()
            }
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    BASELINE,
                    str(REPO),
                    str(atlas),
                    str(submission),
                    json.dumps(params),
                    str(STEP_LIMIT),
                    *QUERIES,
                ],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            )
            baseline = json.loads(done.stdout)
            baseline["validate-submission"] = baseline_validation(atlas, submission, env)
            baseline["validate-full"] = baseline_validation(atlas, None, env)
        parse = float(baseline.get("parse", 0.0)) or None  # type: ignore[arg-type]

        seconds, peak = median_of([*CLI, "build", "--extra", str(atlas)], env, options.repeats)
        rows.append(("build", seconds, parse, peak, False, None))
        alone = engine_alone_commands(QUERIES, work)
        for name, args in QUERIES.items():
            seconds, peak = median_of(
                [*CLI, "query", name, *args, "--format", "csv"], env, options.repeats
            )
            floor, _ = median_of(alone[name], env, options.repeats)
            step = float(baseline["queries"][name]) if parse else 0.0  # type: ignore[index]
            reference = parse + step if parse else None
            rows.append((f"query {name}", seconds, reference, peak, step >= STEP_LIMIT, floor))
        seconds, peak = median_of([*CLI, "validate", str(submission)], env, options.repeats)
        step = float(baseline["validate-submission"]) if parse else 0.0  # type: ignore[arg-type]
        reference = parse + step if parse else None
        rows.append(
            ("validate-submission", seconds, reference, peak, step >= VALIDATION_LIMIT, None)
        )
        seconds, peak = median_of([*CLI, "validate", "--all"], env, 1)
        step = float(baseline["validate-full"]) if parse else 0.0  # type: ignore[arg-type]
        reference = parse + step if parse else None
        rows.append(("validate-full", seconds, reference, peak, step >= VALIDATION_LIMIT, None))
        rows.append(large_submission_row(work, options))
        rdflib_names = {"ntriples": "nt", "turtle": "turtle", "jsonld": "json-ld", "trig": "trig"}
        for fmt, suffix in EXPORT_FORMATS.items():
            target = work / f"export.{suffix}"
            seconds, peak = median_of(
                [*CLI, "export", "--format", fmt, "-o", str(target)], env, options.repeats
            )
            step = float(baseline["exports"][rdflib_names[fmt]]) if parse else 0.0  # type: ignore[index]
            reference = parse + step if parse else None
            rows.append((f"export-{fmt}", seconds, reference, peak, step >= STEP_LIMIT, None))
        seconds, peak = median_of([*CLI, "--help"], env, max(options.repeats, 5))
        rows.append(("help", seconds, None, peak, False, None))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    report = render(rows, options, baseline)
    print(report)
    if options.write:
        record("run", report)


def large_submission_row(work: Path, options: argparse.Namespace) -> Row:
    """The large valid submission validated on the report's graph (a store without the atlas),
    end to end, beside `validate --engine rdflib` (pySHACL on the merged graph)."""
    env = dict(os.environ, COOPDEC_KG_STORE=str(work / "report-store"), COOPDEC_KG_ROOT=str(REPO))
    submission = large_submission_for(work, options.submission_triples)
    subprocess.run([*CLI, "build"], env=env, cwd=REPO, check=True, capture_output=True)
    seconds, peak = median_of([*CLI, "validate", str(submission)], env, options.repeats)
    reference = None
    if not options.quick:
        command = [*CLI, "validate", "--engine", "rdflib", str(submission)]
        reference, _ = timed(command, env, VALIDATION_LIMIT)
    bounded = reference is not None and reference >= VALIDATION_LIMIT
    return ("validate-large-submission", seconds, reference, peak, bounded, None)


def target_for(name: str) -> float | None:
    return TARGETS.get("query" if name.startswith("query ") else name)


def render(
    rows: list[Row],
    options: argparse.Namespace,
    baseline: dict[str, object],
) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    lines = [
        "# Benchmark results",
        "",
        f"Scale {options.scale} ({baseline.get('triples', '?')} triples in the rdflib graph), "
        f"median of {options.repeats} fresh processes; machine: {machine}; "
        f"{time.strftime('%Y-%m-%d')}. Produced by `python bench/run.py"
        f"{' --scale ' + str(options.scale) if options.scale != 1.0 else ''} --write`.",
        "",
        "| measure | coopdec-kg (s) | rdflib baseline (s) | ratio | target (s) | met "
        "| peak RSS (MB) | engine alone (s) |",
        "| --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: |",
    ]
    for name, seconds, reference, peak, bounded, floor in rows:
        bound = ">" if bounded else ""
        ratio = f"{bound}{reference / seconds:.1f}×" if reference else "–"
        target = target_for(name)
        met = "–" if target is None else ("yes" if seconds <= target else "**no**")
        lines.append(
            f"| {name} | {seconds:.2f} | {bound}{f'{reference:.2f}' if reference else '–'} "
            f"| {ratio} "
            f"| {target if target is not None else '–'} | {met} | {peak} "
            f"| {'–' if floor is None else f'{floor:.2f}'} |"
        )
    lines += [
        "",
        "The rdflib baseline's end-to-end figure is its parse of the same files "
        f"({float(baseline.get('parse', 0.0)):.1f} s, measured once) plus the work itself. "  # type: ignore[arg-type]
        "A baseline figure with `>` ran past its limit and was stopped there (each rdflib query "
        f"or export {STEP_LIMIT:.0f} s, each pySHACL run {VALIDATION_LIMIT:.0f} s): "
        "the real ratio is larger. "
        "Targets from issue 6: each required query ≤ 1 s and ≥ 10× faster than rdflib; "
        "peak memory of a query ≤ 1.5 GB. "
        f"validate-large-submission: a valid submission of {options.submission_triples} "
        "triples validated on the report's graph (a store without the atlas), end to end; its "
        "baseline is `validate --engine rdflib` (pySHACL on the merged graph), target from "
        "issue 12: ≤ 5 s. "
        "Engine alone: a process that starts Python, opens the store and reads every value "
        "pyoxigraph gives for the query's text, and nothing else (no rdflib terms, ordering or "
        "output): the floor under the query's end-to-end figure on this engine and store.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
