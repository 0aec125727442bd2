"""`validate`: every legal rule against conforming and violating submissions, and the reports.

Each fixture in tests/fixtures/submissions/ states, in `# expect:` comment lines, the exact set
of results it must produce: severity, source shape and focus node (or `none`). Fixtures name
their new resources `ex:…` with `@prefix ex: <>`: relative IRIs, which land in the
submission's own namespace (submission:<id>/), the only place a submission may describe.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, SH
from typer.testing import CliRunner

from coopdec_kg.cli import app
from coopdec_kg.content.graph import SUBMISSION_NAMESPACE
from coopdec_kg.content.namespaces import prefixes
from coopdec_kg.content.project import Project
from coopdec_kg.law.validation import ValidationReport, Validator, validate_files

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
SHAPES = "https://w3id.org/coopdec-kg/shapes#"
NAMESPACES = {**prefixes(), "cds": SHAPES}
EXPECT = re.compile(r"^# expect: (.+)$", re.MULTILINE)
ALL_FIXTURES = sorted(FIXTURES.glob("*.ttl"))

Expected = set[tuple[str, str, str]]


def own(path: Path) -> str:
    """The namespace of a submission file: where its `ex:` (relative) IRIs land."""
    return f"{SUBMISSION_NAMESPACE}{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}/"


def expand(curie: str, ex: str = "") -> str:
    prefix, _, local = curie.partition(":")
    return (ex if prefix == "ex" else NAMESPACES[prefix]) + local


def expectations(path: Path) -> Expected:
    expected: Expected = set()
    for line in EXPECT.findall(path.read_text(encoding="utf-8")):
        if line.strip() == "none":
            continue
        severity, shape, focus = line.split()
        expected.add((severity, expand(shape), expand(focus, own(path))))
    return expected


def found(report: ValidationReport) -> Expected:
    return {(f.severity_name, str(f.shape), str(f.focus)) for f in report.findings}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER = (FIXTURES / "rule1-ok-partner.ttl").read_text(encoding="utf-8")
PREFIXES = "".join(line + "\n" for line in HEADER.splitlines() if line.startswith("@prefix"))


# ---------------------------------------------------------------- the fixtures, rule by rule


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.stem)
def test_fixture_gives_exactly_the_expected_results(project: Project, fixture: Path) -> None:
    expected = expectations(fixture)
    report = validate_files(project, [fixture])
    assert found(report) == expected
    violations = {e for e in expected if e[0] == "Violation"}
    assert report.conforms is not bool(violations)


def test_each_sparql_text_is_parsed_once_however_many_focus_nodes(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rdflib.plugins.sparql.processor as processor

    from coopdec_kg.law import validation

    queried: list[tuple[str, frozenset[tuple[str, object]]]] = []  # text, and the namespaces
    parsed: list[str] = []
    real_query, real_parse = validation._PreparingGraph.query, processor.parseQuery

    def spy_query(self: Graph, query_object: object, *args: object, **kwargs: object) -> object:
        if isinstance(query_object, str):
            queried.append((query_object, frozenset(self.namespaces())))
        return real_query(self, query_object, *args, **kwargs)  # type: ignore[arg-type]

    def spy_parse(text: str) -> object:
        parsed.append(text)
        return real_parse(text)

    monkeypatch.setattr(validation, "_PREPARED", {})
    monkeypatch.setattr(validation._PreparingGraph, "query", spy_query)
    monkeypatch.setattr(processor, "parseQuery", spy_parse)
    fixture = FIXTURES / "rule3-bad-competence-not-held.ttl"
    report = validate_files(project, [fixture])
    assert found(report) == expectations(fixture), "the same results"
    assert len(queried) > len(set(queried)), "pySHACL asks for some constraint text again"
    assert sorted(parsed) == sorted(text for text, _ in set(queried)), "each parsed once"


def test_every_rule_has_a_conforming_and_two_failing_fixtures() -> None:
    for rule in range(1, 10):
        files = [p for p in ALL_FIXTURES if p.name.startswith(f"rule{rule}-")]
        clean = [p for p in files if not expectations(p)]
        failing = [p for p in files if expectations(p)]
        assert clean, f"rule {rule}: no conforming fixture"
        assert len(failing) >= 2, f"rule {rule}: fewer than two failing fixtures"


LEGAL_RULE = "https://w3id.org/coopdec-kg/id/legal-rule/"
RULES = {
    1: {"partenaires-collectivites-territoriales-etrangeres"},
    2: {"droit-de-conclure-des-conventions", "responsabilite-de-la-collectivite"},
    3: {"principe-de-specialite"},
    4: {"principe-d-exclusivite"},
    5: {"definition-communaute-d-agglomeration"},
    6: {"adoption-et-signature-des-conventions", "charte-d-amitie-sans-effet-juridique"},
    7: {"oudin-1-pourcent"},
    8: {"cooperation-n-est-pas-une-competence"},
    9: set(),  # well-formedness: defined by the ontology, no legal rule
}


def test_each_failing_fixture_breaks_a_shape_of_its_rule(project: Project) -> None:
    shapes = Graph().parse(project.shapes_file)
    for fixture in ALL_FIXTURES:
        rule = int(fixture.name[4])
        for _, shape, _ in expectations(fixture):
            sources = {
                str(o).removeprefix(LEGAL_RULE)
                for o in shapes.objects(URIRef(shape), DCTERMS.source)
            }
            if RULES[rule] & sources or (rule == 9 and not sources):
                break
        else:
            assert not expectations(fixture), f"{fixture.name} breaks no shape of rule {rule}"


# ---------------------------------------------------------------- context and cross-file rules


def test_a_submission_refers_to_an_existing_ca(project: Project) -> None:
    # The agreement names the CA Angers Loire Métropole of the report (data/survey.ttl) as a
    # party: the submission links to it, and says nothing about the CA itself.
    report = validate_files(project, [FIXTURES / "rule6-ok-agreement-in-force.ttl"])
    assert report.conforms and not report.findings


def test_files_are_validated_together(project: Project, tmp_path: Path) -> None:
    partner = write(
        tmp_path,
        "partner.ttl",
        PREFIXES
        + """
ex:partenaire a cdo:ForeignTerritorialAuthority ; skos:prefLabel "Partenaire"@fr ;
    cdo:country country:TGO ; cdo:domesticLegalStatus "commune"@fr ;
    dct:source <https://example.org/s> .
""",
    )
    # Another file's resource is named by its full IRI, in that file's namespace.
    link = write(
        tmp_path,
        "link.ttl",
        PREFIXES
        + f"""
ex:lien a cdo:CooperationLink ; skos:prefLabel "Lien"@fr ; dct:source <https://example.org/s> ;
    cdo:frenchParty authority:ca-cergy-pontoise ; cdo:foreignPartner <{own(partner)}partenaire> .
""",
    )
    alone = validate_files(project, [link])
    lien = own(link) + "lien"
    # alone, the partner exists nowhere: an unknown resource, not a partner of the wrong kind
    assert ("Violation", SHAPES + "SubmissionPointsAtExistingResources", lien) in found(alone)
    together = validate_files(project, [link, partner])
    assert together.conforms and not together.findings


def test_two_files_describe_two_resources_even_with_the_same_names(
    project: Project, tmp_path: Path
) -> None:
    ca = (FIXTURES / "rule5-ok-new-ca.ttl").read_text(encoding="utf-8")
    first = write(tmp_path, "a.ttl", ca)
    second = write(tmp_path, "b.ttl", ca.replace("cdo:population 62000", "cdo:population 75000"))
    together = validate_files(project, [first, second])
    assert together.conforms and not together.findings
    assert own(first) != own(second)
    populations = {
        str(subject)
        for graph in (s.graph for s in together.submissions)
        for subject in graph.subjects(URIRef(prefixes()["cdo"] + "population"))
    }
    assert populations == {own(first) + "ca-du-val-fictif", own(second) + "ca-du-val-fictif"}


def boundary_crossings(report: ValidationReport) -> set[tuple[str, str, str, str]]:
    """(rule, subject, predicate, object) of each refused triple."""
    return {
        (str(f.shape).removeprefix(SHAPES), str(f.focus), str(f.path), str(f.value))
        for f in report.findings
    }


def test_a_report_entity_is_never_described_by_a_submission(
    project: Project, tmp_path: Path
) -> None:
    # The survey puts Cergy-Pontoise at level E (report l. 558-559): a submission may neither
    # give it another level nor retype it (as a company, which would make the report's actions
    # it leads break rule 2).
    path = write(
        tmp_path,
        "cergy.ttl",
        PREFIXES
        + "authority:ca-cergy-pontoise cdo:engagementLevel "
        + "engagement-level:cooperation-naissante ; a cdo:Company .\n",
    )
    report = validate_files(project, [path])
    cergy = "https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise"
    rule = "SubmissionDescribesItsOwnResources"
    assert boundary_crossings(report) == {
        (rule, cergy, prefixes()["cdo"] + "engagementLevel", prefixes()["engagement-level"]
         + "cooperation-naissante"),
        (rule, cergy, str(RDF.type), prefixes()["cdo"] + "Company"),
    }  # fmt: skip
    assert not report.conforms and report.crossings == 2
    assert "the shapes (the law) were not applied" in report.to_text("en")


def test_a_submission_may_not_rewrite_the_law(project: Project, tmp_path: Path) -> None:
    # Making water a mandatory competence of every CA would silence the speciality principle:
    # neither on the legal definition, nor with a definition of its own.
    cdo = prefixes()["cdo"]
    path = write(
        tmp_path,
        "law.ttl",
        PREFIXES
        + "@prefix legal-definition: <https://w3id.org/coopdec-kg/id/legal-definition/> .\n"
        + "legal-definition:communaute-d-agglomeration cdo:mandatoryCompetence competence:eau .\n"
        + "domain:eau cdo:outsideCompetences true .\n"
        + "ex:definition cdo:defines cdo:AgglomerationCommunity ;\n"
        + "    cdo:mandatoryCompetence competence:culture .\n",
    )
    report = validate_files(project, [path])
    rules = {(rule, predicate) for rule, _, predicate, _ in boundary_crossings(report)}
    assert rules == {
        ("SubmissionDescribesItsOwnResources", cdo + "mandatoryCompetence"),
        ("SubmissionDescribesItsOwnResources", cdo + "outsideCompetences"),
        ("SubmissionStatesNoReportFigureOrLaw", cdo + "defines"),
        ("SubmissionStatesNoReportFigureOrLaw", cdo + "mandatoryCompetence"),
    }


@pytest.mark.parametrize("targeted", [False, True])
def test_existing_warnings_do_not_drown_the_submission(project: Project, targeted: bool) -> None:
    """The submission mentions Cergy-Pontoise, whose statutory competence was already flagged
    (report l. 731-734): that warning is counted apart, the same on both engines."""
    path = FIXTURES / "rule3-ok-mandatory-competence.ttl"
    report = validate_files(project, [path], targeted=targeted)
    assert not report.findings
    assert report.hidden == 1
    text = report.to_text("en")
    assert (
        text.splitlines()[0]
        == "Summary: 0 violation, 0 warning, 0 info due to the submission; 1 older."
    )
    assert "coopdec-kg validate --all shows" in text


def test_severity_shows_the_graver_results_and_says_how_many_are_left_out(
    project: Project,
) -> None:
    report = validate_files(project, [FIXTURES / "rule8-warn-new-competence.ttl"])
    assert report.counts()["Warning"] >= 1 and report.conforms
    assert report.shown("violation") == []
    assert report.shown("warning") == report.shown("info") == report.findings
    text = report.to_text("en", "violation")
    assert f"Note: {len(report.findings)} result(s) less severe than “violation”" in text
    assert "WARNING" not in text
    assert json.loads(report.to_json("en", "violation"))["results"] == []


def test_new_nodes_are_held_to_the_full_law_even_when_they_cite_the_report(
    project: Project, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "cite.ttl",
        PREFIXES
        + """
@prefix passage: <https://w3id.org/coopdec-kg/id/passage/> .
ex:partenaire-cite a cdo:ForeignTerritorialAuthority ; skos:prefLabel "Partenaire"@fr ;
    dct:source passage:l975-978 .
""",
    )
    report = validate_files(project, [path])
    partner = own(path) + "partenaire-cite"
    assert ("Violation", SHAPES + "SubmittedForeignAuthorityCountry", partner) in found(report)


# ---------------------------------------------------------------- the real data


def test_the_real_data_has_no_violation(project: Project) -> None:
    findings = Validator(project).existing_findings()
    violations = [(str(f.focus), str(f.shape)) for f in findings if f.severity == SH.Violation]
    assert not violations
    # report l. 731-734: Cergy-Pontoise's statutes list « politique de soutien aux échanges
    # internationaux », which rule 8 rightly flags (a warning)
    cergy = URIRef("https://w3id.org/coopdec-kg/id/authority/ca-cergy-pontoise")
    assert ("Warning", SHAPES + "CooperationIsNotACompetence", str(cergy)) in {
        (f.severity_name, str(f.shape), str(f.focus)) for f in findings
    }


# ---------------------------------------------------------------- renderings and the CLI


@pytest.fixture(scope="module")
def failing_report(project: Project) -> ValidationReport:
    return validate_files(project, [FIXTURES / "rule7-bad-no-water-competence.ttl"])


def test_text_report_groups_by_focus_with_labels_counts_and_one_language(
    failing_report: ValidationReport,
) -> None:
    french = failing_report.to_text("fr")
    english = failing_report.to_text("en")
    assert "« Adduction d'eau »" in french
    assert "Principe de spécialité" in french and "Speciality principle" not in french
    assert "Speciality principle" in english and "Principe de spécialité" not in english
    # the summary first: what the submission caused, and what was there before it
    assert french.startswith("Bilan : 2 violations, 0 avertissement, 0 information dus à la")
    assert english.startswith("Summary: 2 violations, 0 warning, 0 info due to the submission;")
    assert "legal-rule:oudin-1-pourcent" in french and "legal-text:loi-2005-95" in french
    # one heading for the focus node, both results under it
    assert french.count("« Adduction d'eau »") == 1


def test_json_report_parses_and_carries_labels(failing_report: ValidationReport) -> None:
    document = json.loads(failing_report.to_json("en"))
    assert document["conforms"] is False
    assert document["counts"] == {"Violation": 2, "Warning": 0, "Info": 0}
    shapes = {r["sourceShape"] for r in document["results"]}
    assert shapes == {SHAPES + "OudinCompetence", SHAPES + "SpecialityCompetenceHeld"}
    oudin = next(r for r in document["results"] if r["sourceShape"].endswith("OudinCompetence"))
    assert oudin["focusLabel"] == "Adduction d'eau"
    assert oudin["message"].startswith("Only the communes and EPCIs")
    assert {"iri": "https://w3id.org/coopdec-kg/id/legal-rule/oudin-1-pourcent"}.items() <= (
        oudin["rules"][0].items()
    )


def test_turtle_report_is_a_shacl_report_with_both_languages(
    failing_report: ValidationReport,
) -> None:
    graph = Graph().parse(data=failing_report.to_turtle(), format="turtle")
    assert len(list(graph.subjects(None, SH.ValidationReport))) == 1
    messages = list(graph.objects(None, SH.resultMessage))
    assert {m.language for m in messages} == {"fr", "en"}


def run(runner: CliRunner, root: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--root", str(root), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def root(project: Project) -> Path:
    return project.root


def test_cli_exit_0_when_conforming_with_warnings(runner: CliRunner, root: Path) -> None:
    code, out, _ = run(
        runner, root, "validate", "--lang", "fr", str(FIXTURES / "rule3-warn-unmapped-domain.ttl")
    )
    assert code == 0
    assert "AVERTISSEMENT" in out and "n'empêchent pas l'ajout" in out


def test_cli_severity_filters_the_results_not_the_verdict(runner: CliRunner, root: Path) -> None:
    fixture = str(FIXTURES / "rule3-warn-unmapped-domain.ttl")
    code, out, _ = run(runner, root, "validate", "--lang", "fr", "--severity", "Violation", fixture)
    assert code == 0
    assert out.startswith("Bilan : 0 violation, 1 avertissement")
    assert "AVERTISSEMENT" not in out and "moins graves que « violation »" in out


def test_cli_exit_1_on_violations(runner: CliRunner, root: Path) -> None:
    fixture = str(FIXTURES / "rule1-bad-state-partner.ttl")
    code, out, _ = run(runner, root, "validate", "--lang", "en", fixture)
    assert code == 1
    assert "foreign territorial authority" in out and "Does not conform" in out


@pytest.mark.parametrize("fmt", ["json", "turtle"])
def test_cli_machine_formats_parse(runner: CliRunner, root: Path, fmt: str) -> None:
    fixture = str(FIXTURES / "rule9-bad-numbers.ttl")
    code, out, _ = run(runner, root, "validate", "--format", fmt, fixture)
    assert code == 1
    if fmt == "json":
        assert json.loads(out)["counts"]["Violation"] == 4
    else:
        assert len(Graph().parse(data=out, format="turtle")) > 0


def test_cli_exit_2_on_unreadable_input(runner: CliRunner, root: Path, tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.ttl", "@prefix ex: <https://example.org/> .\nex:a ex:b ")
    code, out, err = run(runner, root, "validate", str(broken))
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and "Traceback" not in err
    code, _, err = run(runner, root, "validate", str(tmp_path / "missing.ttl"))
    assert code == 2 and "cannot read" in err
    unknown = write(tmp_path, "data.csv", "a,b\n")
    code, _, err = run(runner, root, "validate", str(unknown))
    assert code == 2 and "--input-format" in err


def test_cli_input_format_overrides_the_extension(
    runner: CliRunner, root: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "action.txt"
    shutil.copy(FIXTURES / "rule2-ok-region-action.ttl", copy)
    code, _, _ = run(runner, root, "validate", "--input-format", "turtle", str(copy))
    assert code == 0


def test_the_readmes_example_submission_conforms(project: Project, tmp_path: Path) -> None:
    """README's "Submit your data" example is kept true: it validates with no result."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("```turtle\n", 1)[1].split("```", 1)[0]
    report = validate_files(project, [write(tmp_path, "my-link.ttl", example)])
    assert report.conforms and not report.findings


@pytest.mark.parametrize("targeted", [False, True])
def test_a_mistyped_project_iri_is_an_unknown_resource_not_a_bad_party(
    project: Project, tmp_path: Path, targeted: bool
) -> None:
    """The French party's IRI misspelt: the report names the unknown resource and what was
    meant, instead of blaming the link's party for not being a CA."""
    example = (FIXTURES / "rule1-ok-partner.ttl").read_text(encoding="utf-8")
    mistyped = example.replace("authority:ca-cergy-pontoise ;", "authority:ca-cergy-pontoize ;")
    assert mistyped != example
    report = validate_files(project, [write(tmp_path, "typo.ttl", mistyped)], targeted=targeted)
    assert not report.conforms
    (finding,) = report.findings
    assert str(finding.shape) == SHAPES + "SubmissionPointsAtExistingResources"
    assert str(finding.value) == expand("authority:ca-cergy-pontoize")
    assert "Unknown resource" in finding.message("en")
    assert "Did you mean authority:ca-cergy-pontoise (Cergy-Pontoise)" in finding.message("en")
    assert "Ressource inconnue" in finding.message("fr")
