"""Benchmark of the web atlas's pages: time per page and page weight, on the report's graph and
with a synthetic national atlas loaded (`synth --scale`).

Not a test: it prints figures and, with --write, records them in bench/RESULTS.md (the section
after the `<!-- atlas -->` line). Usage from the repository root:

    python bench/atlas.py                  # the report's graph, then scale 1.0, 5 repeats
    python bench/atlas.py --scale 0.01 --repeats 1   # a smoke run

The time is the median wall time of a whole request on 127.0.0.1, one request at a time (the
server's own time plus a loopback round trip); the weight is the page's HTML plus the styles
and scripts it loads. Targets (issue 18): ≤ 100 ms a page on the report's graph, ≤ 300 ms for
a paged list at scale 1.0, ≤ 500 KB a page without the map's outline. Every request goes to
127.0.0.1 only and every loop is bounded.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from results_file import record

REPO = Path(__file__).resolve().parent.parent
BAD_FIXTURE = REPO / "tests" / "fixtures" / "submissions" / "rule1-bad-state-partner.ttl"
PAGE_MS, LIST_MS, WEIGHT_KB = 100.0, 300.0, 500.0
# (name, path, a paged list?)
PAGES = [
    ("home", "/", False),
    ("search senart", "/search?q=senart", False),
    ("resource (Sénart)", "/page/authority/san-senart", False),
    ("questions", "/questions", False),
    ("question form (partners-of-ca)", "/questions/partners-of-ca", False),
    ("question page (actions-by-domain)", "/questions/actions-by-domain?run=1", True),
    ("question page (partner-countries)", "/questions/partner-countries?run=1&offset=20", True),
    ("charts", "/charts", False),
    ("map", "/map", False),
    (
        "sparql page",
        "/query?run=1&query=" + urllib.parse.quote("SELECT * WHERE { ?s ?p ?o } LIMIT 100"),
        False,
    ),
    ("validate (form)", "/validate", False),
]


def _serve_bench() -> ModuleType:
    """bench/serve.py's helpers (fetch, timed, stop, start)."""
    spec = importlib.util.spec_from_file_location("bench_serve", REPO / "bench" / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _upload() -> tuple[bytes, dict[str, str]]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{BAD_FIXTURE.name}"\r\nContent-Type: text/turtle\r\n\r\n'
        ).encode()
        + BAD_FIXTURE.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _weight(helpers: ModuleType, base: str, path: str) -> int:
    """Bytes of the page and of the styles and scripts it loads."""
    try:
        with helpers._opener.open(base + path.lstrip("/"), timeout=120) as answer:
            html = answer.read()
    except urllib.error.HTTPError as error:  # a failed page: its time says so
        html = error.read()
    total = len(html)
    for asset in set(re.findall(rb'(?:href|src)="(/static/[^"]+)"', html)):
        with helpers._opener.open(base + asset.decode().lstrip("/"), timeout=120) as answer:
            total += len(answer.read())
    return total


# (name, seconds of the first request, median seconds of the next ones, weight, paged?)
Measured = tuple[str, float | None, float | None, int, bool]


def _measure(helpers: ModuleType, base: str, repeats: int) -> list[Measured]:
    rows = []
    for name, path, paged in PAGES:
        url = base + path.lstrip("/")
        first, seconds = helpers.cold_and_timed(lambda url=url: helpers.fetch(url), repeats)
        rows.append((name, first, seconds, _weight(helpers, base, path), paged))
    body, headers = _upload()
    first, seconds = helpers.cold_and_timed(
        lambda: helpers.fetch(base + "validate?lang=en", body, headers), repeats
    )
    rows.append(("validate (an upload)", first, seconds, 0, False))
    return rows


def _start(helpers: ModuleType, extra: Path | None, env: dict[str, str], log: Path):  # type: ignore[no-untyped-def]
    if extra is not None:
        return helpers.start_ours(extra, env, log)
    command = [*helpers.CLI, "serve", "--port", "0", "--timeout", "60"]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert process.stderr is not None
    first = process.stderr.readline().decode()
    found = re.search(r" at (http://\S+/) ", first)
    if found is None:
        process.kill()
        raise SystemExit(f"serve did not start: {first}")
    helpers.threading.Thread(target=helpers._keep_reading, args=(process, log), daemon=True).start()
    return helpers.Started(process, found.group(1), time.perf_counter() - start)


def render(report: list[Measured], scaled: list[Measured], scale: float) -> list[str]:
    lines = [
        f"| page | report graph (ms) | scale {scale:g} (ms) | scale {scale:g}, first request "
        "(ms) | target | weight (KB) |",
        "|---|---:|---:|---:|---|---:|",
    ]

    def ms(value: float | None) -> str:
        return "failed" if value is None else f"{value * 1000:.0f}"

    for (name, _, small, weight, paged), (_, cold, large, _, _) in zip(report, scaled, strict=True):
        target = f"≤ {PAGE_MS:.0f} / ≤ {LIST_MS:.0f} at scale" if paged else f"≤ {PAGE_MS:.0f}"
        met = small is not None and small * 1000 <= PAGE_MS
        if paged:
            met = met and large is not None and large * 1000 <= LIST_MS
        kilobytes = f"{weight / 1024:.0f}" if weight else "–"
        lines.append(
            f"| {name} | {ms(small)} | {ms(large)} | {ms(cold)} "
            f"| {target} {'met' if met else '**missed**'} | {kilobytes} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="record in bench/RESULTS.md")
    options = parser.parse_args(argv)
    helpers = _serve_bench()
    work = Path(tempfile.mkdtemp(prefix="coopdec-atlas-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(COOPDEC_KG_STORE=str(work / "store"), COOPDEC_KG_ROOT=str(REPO))
    atlas = work / "atlas"
    atlas.mkdir()
    subprocess.run(
        [*helpers.CLI, "synth", "-o", str(atlas), "--scale", str(options.scale), "--seed", "1"],
        env=env,
        check=True,
        capture_output=True,
    )
    results = []
    loads = [helpers.load_average()]
    for extra in (None, atlas):
        server = _start(helpers, extra, env, work / "serve.log")
        try:
            helpers.fetch(server.base)  # the first request warms the templates
            results.append(_measure(helpers, server.base, options.repeats))
        finally:
            helpers.stop(server)
    loads.append(helpers.load_average())
    lines = render(results[0], results[1], options.scale)
    print("\n".join(lines))
    if options.write:
        section = [
            f"Web atlas pages (`python bench/atlas.py --scale {options.scale:g}`), "
            f"{time.strftime('%Y-%m-%d')}; load average (1, 5, 15 min) at the start "
            f"{loads[0]}, at the end {loads[-1]} (2 cores, shared). The times are the median of "
            f"{options.repeats} requests after the first one, shown apart at scale "
            f"{options.scale:g} (a worker keeps what the first computed: web/answers).",
            "",
            *lines,
        ]
        record("atlas", "\n".join(section))


if __name__ == "__main__":
    main()
