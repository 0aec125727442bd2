"""`add`: only fully valid data gets in, all files of a batch or none, atomically.

Every test works on a copy of the content folder: the real data/ is never written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content import journal
from coopdec_kg.content.graph import SUBMISSION_NAMESPACE, load_data
from coopdec_kg.content.project import Project
from coopdec_kg.errors import ContentError, InputError
from coopdec_kg.law import submission as submission_module
from coopdec_kg.law.submission import add_files
from coopdec_kg.law.validation import Validator

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
GOOD = FIXTURES / "rule6-ok-agreement-in-force.ttl"
OTHER_GOOD = FIXTURES / "rule2-ok-region-action.ttl"
BAD = FIXTURES / "rule1-bad-state-partner.ttl"


def own(path: Path) -> str:
    """The namespace of a submission file, where its relative IRIs land."""
    return f"{SUBMISSION_NAMESPACE}{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}/"


@pytest.fixture
def content(project: Project, tmp_path: Path) -> Project:
    """A private copy of the content folder."""
    root = tmp_path / "content"
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    return Project.at(root)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of the folder (hidden ones too) and the hash of its bytes."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
    }


def test_accepted_submission_becomes_a_new_data_file(content: Project) -> None:
    before = snapshot(content.data_dir)
    outcome = add_files(content, [GOOD])
    assert outcome.accepted and len(outcome.written) == 1
    written = outcome.written[0]
    assert written.parent == content.data_dir and written.name.startswith("submission-")
    after = snapshot(content.data_dir)
    assert {k: v for k, v in after.items() if k != written.name} == before
    stored = Graph().parse(written, format="turtle")
    agreement = URIRef(own(GOOD) + "convention-angers-bamako")
    record = stored.value(agreement, PROV.wasDerivedFrom)
    assert isinstance(record, URIRef) and own(GOOD) == f"{record}/"
    assert (record, DCTERMS.title, Literal(GOOD.name)) in stored
    digest = hashlib.sha256(GOOD.read_bytes()).hexdigest()
    assert (record, DCTERMS.identifier, Literal(f"sha256:{digest}")) in stored
    # the existing CA is only linked to: the file says nothing about it
    angers = URIRef("https://w3id.org/coopdec-kg/id/authority/ca-angers-loire-metropole")
    assert not list(stored.triples((angers, None, None)))
    # every subject is the submission's own, with its provenance (the record is its own too)
    subjects = set(stored.subjects()) - {record}
    assert all(str(s).startswith(own(GOOD)) for s in subjects)
    assert all(stored.value(s, PROV.wasDerivedFrom) == record for s in subjects)
    # the file's name is in the record only, never in the comments
    comments = [line for line in written.read_text().splitlines() if line.startswith("#")]
    assert comments and not any(GOOD.name in line for line in comments)


def test_data_still_has_no_violation_after_an_add(content: Project) -> None:
    add_files(content, [GOOD, OTHER_GOOD])
    findings = Validator(content).existing_findings()
    assert not [f for f in findings if f.severity_name == "Violation"]


def test_rejected_submission_leaves_data_untouched(content: Project) -> None:
    before = snapshot(content.data_dir)
    outcome = add_files(content, [BAD])
    assert not outcome.accepted and outcome.written == []
    assert snapshot(content.data_dir) == before


def test_a_batch_is_all_or_nothing(content: Project) -> None:
    before = snapshot(content.data_dir)
    outcome = add_files(content, [GOOD, BAD])
    assert not outcome.accepted
    assert snapshot(content.data_dir) == before


def test_an_unreadable_file_stops_the_whole_batch(content: Project, tmp_path: Path) -> None:
    before = snapshot(content.data_dir)
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix", encoding="utf-8")
    with pytest.raises(Exception, match="cannot parse"):
        add_files(content, [GOOD, broken])
    with pytest.raises(InputError):
        add_files(content, [GOOD, tmp_path / "missing.ttl"])
    assert snapshot(content.data_dir) == before


def test_interrupted_rename_leaves_data_untouched(
    content: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(content.data_dir)
    real_replace = os.replace
    calls: list[str] = []

    def failing_replace(source: str | Path, target: str | Path) -> None:
        calls.append(str(target))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(journal.os, "replace", failing_replace)
    with pytest.raises(ContentError, match="No space left on device"):
        add_files(content, [GOOD, OTHER_GOOD])
    assert len(calls) == 2  # the first file was in place before the failure
    assert snapshot(content.data_dir) == before


def test_interrupted_write_leaves_data_untouched(
    content: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(content.data_dir)

    def failing_fsync(_descriptor: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(journal.os, "fsync", failing_fsync)
    with pytest.raises(KeyboardInterrupt):
        add_files(content, [GOOD, OTHER_GOOD])
    assert snapshot(content.data_dir) == before


def test_adding_the_same_file_twice_changes_nothing(content: Project) -> None:
    first = add_files(content, [GOOD])
    after_first = snapshot(content.data_dir)
    second = add_files(content, [GOOD])
    assert second.accepted and second.written == []
    assert second.already_present == first.written
    assert snapshot(content.data_dir) == after_first


def test_blank_nodes_of_two_jsonld_submissions_stay_apart(content: Project, tmp_path: Path) -> None:
    def partner(name: str, town: str) -> Path:
        document = {
            "@context": {
                "cdo": "https://w3id.org/coopdec-kg/ontology#",
                "skos": "http://www.w3.org/2004/02/skos/core#",
                "dct": "http://purl.org/dc/terms/",
            },
            "@id": "_:b1",
            "@type": "cdo:ForeignTerritorialAuthority",
            "skos:prefLabel": {"@value": town, "@language": "fr"},
            "cdo:country": {"@id": "http://publications.europa.eu/resource/authority/country/TGO"},
            "cdo:domesticLegalStatus": {"@value": "commune", "@language": "fr"},
            "dct:source": {"@id": "https://example.org/source"},
        }
        path = tmp_path / name
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    outcome = add_files(content, [partner("a.jsonld", "Lomé"), partner("b.jsonld", "Kara")])
    assert outcome.accepted and len(outcome.written) == 2
    data = load_data(content)
    authority = URIRef("https://w3id.org/coopdec-kg/ontology#ForeignTerritorialAuthority")
    added = [
        s for s in data.subjects(RDF.type, authority) if str(s).startswith(SUBMISSION_NAMESPACE)
    ]
    assert len(added) == 2


def test_cli_add_exit_codes(runner: CliRunner, content: Project, tmp_path: Path) -> None:
    root = str(content.root)
    before = snapshot(content.data_dir)
    rejected = runner.invoke(app, ["--root", root, "add", "--lang", "fr", str(BAD)])
    assert rejected.exit_code == 1
    assert "rien n'a été écrit" in rejected.stderr
    assert snapshot(content.data_dir) == before
    broken = tmp_path / "broken.nt"
    broken.write_text("<a> <b> .", encoding="utf-8")
    unusable = runner.invoke(app, ["--root", root, "add", str(broken)])
    assert unusable.exit_code == 2 and "Traceback" not in unusable.stderr
    assert snapshot(content.data_dir) == before
    accepted = runner.invoke(app, ["--root", root, "add", "--lang", "en", str(GOOD)])
    assert accepted.exit_code == 0
    assert "Added:" in accepted.stderr
    again = runner.invoke(app, ["--root", root, "add", "--lang", "fr", str(GOOD)])
    assert again.exit_code == 0 and "Déjà présent" in again.stderr


def test_the_content_shipped_with_the_package_is_never_written(
    content: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(content.data_dir)
    monkeypatch.setattr(submission_module, "package_folder", lambda: content.root.parent)
    with pytest.raises(ContentError, match="--root"):
        add_files(content, [GOOD])
    assert snapshot(content.data_dir) == before


def test_a_file_name_cannot_inject_triples(
    runner: CliRunner, content: Project, tmp_path: Path
) -> None:
    # A carriage return ends a Turtle comment for pyoxigraph (not for rdflib): a name written raw
    # into the stored file's `# Added by … from NAME` comment added its triple past every check.
    crafted = tmp_path / 'a\r<urn:x:s> <urn:x:p> "injected" .\r#.ttl'
    shutil.copy(GOOD, crafted)
    before = snapshot(content.data_dir)
    result = runner.invoke(app, ["--root", str(content.root), "add", str(crafted)])
    assert result.exit_code == 2 and "control character" in result.stderr
    assert "\r" not in result.stderr
    assert snapshot(content.data_dir) == before
    from coopdec_kg.engines.store import open_current, select

    store, _ = open_current(content)
    assert select(store, "SELECT ?s WHERE { ?s <urn:x:p> ?o }")[1] == []


def test_a_forged_figure_is_refused_and_nothing_is_written(
    runner: CliRunner, content: Project, tmp_path: Path
) -> None:
    forged = tmp_path / "forged.ttl"
    forged.write_text(
        "@prefix cdo: <https://w3id.org/coopdec-kg/ontology#> .\n"
        "@prefix indicator: <https://w3id.org/coopdec-kg/id/indicator/> .\n"
        "[] cdo:indicator indicator:ca-par-niveau-d-engagement ; cdo:statedValue 999 .\n",
        encoding="utf-8",
    )
    before = snapshot(content.data_dir)
    result = runner.invoke(app, ["--root", str(content.root), "add", "--lang", "en", str(forged)])
    assert result.exit_code == 1
    assert "A submission states no figure of the report" in result.stdout
    assert "cdo:statedValue" in result.stdout and "Rejected" in result.stderr
    assert snapshot(content.data_dir) == before
