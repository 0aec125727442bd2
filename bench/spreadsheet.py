"""Benchmark of `coopdec-kg import`: a spreadsheet of N links, end to end, beside the RDF path.

Not a test: it prints figures and, with --write, records them in bench/RESULTS.md (section
« Spreadsheet import »). Usage from the repository root:

    python bench/spreadsheet.py --rows 4000        # the largest sheet one import takes
    python bench/spreadsheet.py --rows 200 --write

The sheet has N links of CA named by the report with N new foreign partners (12 triples a row,
so 4 000 rows come near the 50 000 triples of any submission). Each figure is a fresh process on
a fresh copy of the content, end to end: `import --dry-run` (read, map, validate on the store),
`import` (read, map, validate, commit through `add`'s path), and for the same content as
Turtle (the triples the mapping writes, saved as a file) `validate` and `add`.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_file import record

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "coopdec_kg"]
FRENCH_PARTIES = ["Cergy-Pontoise", "Evry Centre Essonne", "Sicoval", "Angers Loire Métropole"]
NOTE = (
    "The issue's target, 10 000 rows end to end in 15 s, is not met: one import takes at most "
    "5 000 rows (a links sheet of new partners comes to the 50 000 triples `add` takes in one "
    "submission at about 4 200 rows), and committing goes through `add`'s own validation, "
    "pySHACL on the merged graph, which takes the same time for the same content given as "
    "Turtle. What the spreadsheet adds is reading, resolving names and mapping: the difference "
    "between the two dry-run lines (`validate` runs the shapes compiled to SPARQL on the store)."
)
HEADER = [
    "Partie française",
    "Partenaire étranger",
    "Pays du partenaire",
    "Statut du partenaire dans son pays",
    "Année de début",
    "Source de l'information",
]


def sheet(rows: int) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for n in range(rows):
        writer.writerow(
            [FRENCH_PARTIES[n % 4], f"Commune {n}", "BEN", "commune", 2000 + n % 6,
             f"https://example.org/deliberations/{n}"]
        )  # fmt: skip
    return b"\xef\xbb\xbf" + text.getvalue().encode("utf-8")


def fresh_content(work: Path, name: str) -> Path:
    root = work / name
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(REPO / folder, root / folder)
    subprocess.run([*CLI, "--root", str(root), "build"], check=True, capture_output=True)
    return root


def timed(root: Path, *args: str) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([*CLI, "--root", str(root), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return elapsed, done.returncode


def turtle_of(path: Path) -> bytes:
    """The Turtle the mapping writes for the sheet (relative IRIs, as a submission file)."""
    sys.path.insert(0, str(REPO / "src"))
    from coopdec_kg.content.project import Project
    from coopdec_kg.tabular.importer import choose_sheets
    from coopdec_kg.tabular.mapping import load_mapping
    from coopdec_kg.tabular.names import load_names
    from coopdec_kg.tabular.rows import map_sheets
    from coopdec_kg.tabular.sheets import read_sheets

    mapping = load_mapping()
    project = Project.at(REPO)
    pairs = choose_sheets(mapping, read_sheets(path, path.read_bytes(), "csv", 10_000), None)
    mapped = map_sheets(mapping, pairs, load_names(project, mapping, "fr"))
    return ("\n".join(mapped.turtle) + "\n").encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--write", action="store_true", help="record in bench/RESULTS.md")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coopdec-sheet-") as folder:
        work = Path(folder)
        csv_file = work / "liens.csv"
        csv_file.write_bytes(sheet(options.rows))
        ttl_file = work / "liens.ttl"
        ttl_file.write_bytes(turtle_of(csv_file))
        runs = [
            ("import --dry-run (sheet)", ["import", str(csv_file), "--dry-run"]),
            ("import (sheet, commits)", ["import", str(csv_file)]),
            ("validate (same content as Turtle)", ["validate", str(ttl_file)]),
            ("add (same content as Turtle)", ["add", str(ttl_file)]),
        ]
        rows = []
        for index, (name, args) in enumerate(runs):
            root = fresh_content(work, f"content-{index}")
            seconds, code = timed(root, *args)
            rows.append((name, seconds, code))
            print(f"{name}: {seconds:.2f} s (exit {code})", flush=True)
    table = [
        f"{options.rows} rows ({options.rows * 12} triples before provenance), one fresh process "
        "each on a fresh copy of the content with its store built; produced by "
        "`python bench/spreadsheet.py`.",
        "",
        "| measure | seconds | exit |",
        "| --- | ---: | ---: |",
        *(f"| {name} | {seconds:.2f} | {code} |" for name, seconds, code in rows),
        "",
        NOTE,
    ]
    print("\n".join(table))
    if options.write:
        record("spreadsheet", "## Spreadsheet import\n\n" + "\n".join(table))


if __name__ == "__main__":
    main()
