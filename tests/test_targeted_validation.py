"""Targeted validation (the neighbourhood read from the store) gives the same verdict and results
as validating the submission merged with the whole graph, on every fixture and on violations
planted in a synthetic atlas."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef

from coopdec_kg.content.graph import Submission, load_graph
from coopdec_kg.content.project import Project
from coopdec_kg.content.synth import PLANTABLE, SYNTH, write_atlas
from coopdec_kg.engines import store
from coopdec_kg.law.validation import ValidationReport, Validator, parse_all

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "submissions").glob("*.ttl"))
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def outcome(report: ValidationReport) -> tuple[bool, list[tuple[str, ...]]]:
    def term(node: object) -> str:
        # A complex path (sh:alternativePath …) is a blank node, labelled anew in each report.
        return "[complex path]" if isinstance(node, BNode) else str(node)

    findings = sorted(
        (str(f.focus), str(f.shape), str(f.severity), term(f.path), str(f.value))
        for f in report.findings
    )
    return report.conforms, findings


@pytest.fixture(scope="module")
def validators(project: Project) -> tuple[Validator, Validator]:
    return Validator(project), Validator(project, targeted=True)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda path: path.stem)
def test_targeted_equals_merged_on_every_fixture(
    validators: tuple[Validator, Validator], fixture: Path
) -> None:
    merged, targeted = validators
    submissions = parse_all([fixture])
    reference = outcome(merged.validate(submissions, CREATED))
    assert outcome(targeted.validate(submissions, CREATED)) == reference


@pytest.fixture(scope="module")
def atlas_content(
    tmp_path_factory: pytest.TempPathFactory, project: Project
) -> Iterator[tuple[Project, Path, list[dict[str, str]]]]:
    """A content copy whose store holds a small atlas; the planted violations kept apart."""
    work = tmp_path_factory.mktemp("atlas")
    root = work / "content"
    for name in ("ontology", "data", "queries"):
        shutil.copytree(project.root / name, root / name)
    content = Project.at(root)
    summary = write_atlas(content, load_graph(content), work, 0.001, 7, len(PLANTABLE))
    (path,) = summary.paths
    atlas = Graph().parse(path)
    planted, rest = Graph(), Graph()
    for triple in atlas:
        subject = str(triple[0])
        (planted if subject.startswith(SYNTH + "violation-") else rest).add(triple)
    rest.serialize(work / "atlas-clean.nt", format="nt", encoding="utf-8")
    planted.serialize(work / "planted.ttl", format="turtle")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(store.STORE_VARIABLE, str(work / "store"))
        store.build(content, [work / "atlas-clean.nt"])
        yield content, work, summary.violations


def by_the_shapes(validator: Validator, submissions: list[Submission]) -> ValidationReport:
    """The shapes alone (not the submission boundary, which the atlas's own IRIs cross)."""
    return validator.validate_graphs(submissions, validator.stored(submissions, CREATED))


def test_planted_violations_are_found_alike_by_both_validators(
    atlas_content: tuple[Project, Path, list[dict[str, str]]],
) -> None:
    content, work, planted = atlas_content
    submissions = parse_all([work / "planted.ttl"])
    reference = by_the_shapes(Validator(content), submissions)
    targeted = by_the_shapes(Validator(content, targeted=True), submissions)
    assert not reference.crossings
    assert outcome(targeted) == outcome(reference)
    assert not reference.conforms
    violating = {f.focus for f in reference.findings if str(f.severity).endswith("#Violation")}
    for violation in planted:
        assert URIRef(violation["focus"]) in violating, violation
    assert json.loads((work / "violations.json").read_text()) == planted


def test_a_submission_about_atlas_nodes_is_validated_in_their_context(
    atlas_content: tuple[Project, Path, list[dict[str, str]]],
) -> None:
    content, work, _ = atlas_content
    submission = work / "about-atlas.ttl"
    submission.write_text(
        "@prefix cdo: <https://w3id.org/coopdec-kg/ontology#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "@prefix dct: <http://purl.org/dc/terms/> .\n"
        "@prefix synth: <https://w3id.org/coopdec-kg/synthetic/> .\n"
        "<a> a cdo:CooperationLink ; skos:prefLabel 'Lien'@fr ;\n"
        "    cdo:frenchParty synth:grouping-00001 ; cdo:foreignPartner synth:commune-00002 ;\n"
        "    dct:source <https://example.org/deliberation> .\n",
        encoding="utf-8",
    )
    submissions = parse_all([submission])
    reference = Validator(content).validate(submissions, CREATED)
    targeted = Validator(content, targeted=True).validate(submissions, CREATED)
    assert outcome(targeted) == outcome(reference)
    # A French commune of the atlas is no foreign partner (circulaire du 26 mai 1994).
    assert not reference.conforms and not reference.crossings
