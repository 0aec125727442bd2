"""A deterministic synthetic national atlas, for benchmarks and validation at national scale.

Everything synthetic lives in its own namespace (`synth:`), cites `synth:atlas` as its source and
never enters data/. The vocabulary it draws on (engagement levels, world areas and their listed
countries, intervention domains and the competences they relate to, the CA's mandatory and
optional competences) is read from the project's graph, so the atlas follows the ontology and the
law the shapes enforce. `violations` plants that many breaches of known rules and lists them in
`violations.json` beside the atlas.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from rdflib import Graph

from coopdec_kg.content.files import output_folder
from coopdec_kg.content.project import Project
from coopdec_kg.errors import ExportError

SYNTH = "https://w3id.org/coopdec-kg/synthetic/"
# The atlas is written in parts of about PART_TRIPLES triples (each a whole Turtle file), so that
# `build` loads them on several cores: one 1.5 M-triple file parses on one core only.
ATLAS_PART = "atlas-{:03d}.ttl"
ATLAS_PARTS = "atlas-[0-9][0-9][0-9].ttl"
PART_TRIPLES = 400_000
VIOLATIONS_FILE = "violations.json"
# Sizes at scale 1.0 (about 1.5 million triples).
SIZES = {"communes": 35_000, "groupings": 1_300, "engaged": 5_000, "links": 15_000}
ACTIONS_PER_LINK = 5
GROUPING_MIX = (
    ("AgglomerationCommunity", 0.1),
    ("UrbanCommunity", 0.012),
    ("NewTownSyndicate", 0.004),
)
DEPARTMENTS, REGIONS = 100, 18
PLANTABLE = (
    "state-as-partner",
    "negative-amount",
    "competence-not-held",
    "friendship-charter-funds-action",
    "oudin-over-one-percent",
    "small-agglomeration-community",
)

PREFIXES = """@prefix cdo: <https://w3id.org/coopdec-kg/ontology#> .
@prefix synth: <https://w3id.org/coopdec-kg/synthetic/> .
@prefix competence: <https://w3id.org/coopdec-kg/id/competence/> .
@prefix country: <http://publications.europa.eu/resource/authority/country/> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


@dataclass(frozen=True)
class Vocabulary:
    """What the atlas borrows from the project's graph."""

    levels: list[str]
    roles: list[str]
    area_countries: list[tuple[str, str]]
    domains: dict[str, set[str]]
    mandatory: list[str]
    optional: list[str]
    water_domains: list[str]


@dataclass
class AtlasSummary:
    """Counts of what was written, and the planted violations."""

    paths: list[Path] = field(default_factory=list)
    triples: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    violations: list[dict[str, str]] = field(default_factory=list)


def _select(graph: Graph, query: str) -> list[tuple[str, ...]]:
    return [tuple(str(term) for term in row) for row in graph.query(query)]  # type: ignore[union-attr]


def read_vocabulary(graph: Graph) -> Vocabulary:
    """The concepts the atlas uses, as the project's data defines them."""
    prefix = "PREFIX cdo: <https://w3id.org/coopdec-kg/ontology#>\n"
    levels = [
        r[0]
        for r in _select(graph, prefix + "SELECT ?l WHERE { ?l a cdo:EngagementLevel } ORDER BY ?l")
    ]
    roles = [r[0] for r in _select(graph, prefix + "SELECT ?r WHERE { ?r a cdo:Role } ORDER BY ?r")]
    area_countries: list[tuple[str, str]] = [
        (area, country)
        for area, country in _select(
            graph,
            prefix + "SELECT DISTINCT ?a ?c WHERE { ?a cdo:listedCountry ?l . ?l cdo:country ?c }"
            " ORDER BY ?a ?c",
        )
    ]
    domains: dict[str, set[str]] = {}
    for domain, competence in _select(
        graph,
        prefix + "SELECT ?d ?c WHERE { ?d a cdo:InterventionDomain ; cdo:relatedCompetence ?c "
        "FILTER NOT EXISTS { ?d cdo:outsideCompetences true } } ORDER BY ?d ?c",
    ):
        domains.setdefault(domain, set()).add(competence)
    definition = (
        "SELECT ?c WHERE { ?def cdo:defines cdo:AgglomerationCommunity ; cdo:%s ?c } ORDER BY ?c"
    )
    mandatory = [r[0] for r in _select(graph, prefix + definition % "mandatoryCompetence")]
    optional = [r[0] for r in _select(graph, prefix + definition % "optionalCompetence")]
    water = [
        d
        for d, held in domains.items()
        if held & {c for c in optional if c.endswith(("/eau", "/assainissement"))}
    ]
    if not (levels and roles and area_countries and domains and mandatory and optional):
        raise ExportError("the project's data lacks the vocabulary the atlas needs")
    return Vocabulary(levels, roles, area_countries, domains, mandatory, optional, water)


def _iri(value: str) -> str:
    return f"<{value}>"


class _Writer:
    """Turtle written node by node: fast enough for millions of triples, and deterministic.

    A new part (`open_part`, then the prefixes) starts once the current one holds `part_triples`.
    """

    def __init__(self, open_part: Callable[[], Callable[[str], object]], part_triples: int) -> None:
        self.open_part = open_part
        self.part_triples = part_triples
        self.triples = 0
        self.in_part = 0
        self.emit: Callable[[str], object] | None = None

    def node(self, subject: str, pairs: list[tuple[str, str]]) -> None:
        if self.emit is None or self.in_part >= self.part_triples:
            self.emit = self.open_part()
            self.emit(PREFIXES + "\n")
            self.in_part = 0
        body = " ;\n    ".join(f"{p} {o}" for p, o in pairs)
        self.emit(f"{subject} {body} .\n")
        self.triples += len(pairs)
        self.in_part += len(pairs)


def _literal(text: str, lang: str = "fr") -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + f'"@{lang}'


def generate(
    project_graph: Graph, scale: float, seed: int, violations: int, out: _Writer
) -> AtlasSummary:
    """Write the atlas through `out`; return its counts and planted violations."""
    if scale <= 0:
        raise ExportError("--scale must be positive")
    vocab = read_vocabulary(project_graph)
    rng = random.Random(seed)
    sizes = {name: max(1, round(count * scale)) for name, count in SIZES.items()}
    sizes["groupings"] = min(sizes["groupings"], sizes["communes"])
    summary = AtlasSummary()
    source = ("dct:source", "synth:atlas")
    out.node(
        "synth:atlas",
        [
            ("a", "prov:Entity"),
            ("skos:prefLabel", _literal(f"Atlas synthétique (échelle {scale}, graine {seed})")),
            ("skos:prefLabel", _literal(f"Synthetic atlas (scale {scale}, seed {seed})", "en")),
            ("dct:description", _literal("Données synthétiques : aucun fait réel.")),
        ],
    )

    # Groupings first: their communes and competences follow from them.
    groupings: list[tuple[str, str, set[str]]] = []
    for index in range(sizes["groupings"]):
        draw, kind = rng.random(), "CommunityOfCommunes"
        threshold = 0.0
        for candidate, share in GROUPING_MIX:
            threshold += share
            if draw < threshold:
                kind = candidate
                break
        chosen = set(vocab.mandatory) | set(
            rng.sample(vocab.optional, rng.randint(3, len(vocab.optional)))
        )
        groupings.append((f"synth:grouping-{index:05d}", kind, chosen))
    members: dict[str, list[int]] = {g[0]: [] for g in groupings}
    populations = [rng.randint(80, 4_000) for _ in range(sizes["communes"])]
    for index in range(sizes["communes"]):
        members[groupings[index % len(groupings)][0]].append(index)
    for name, kind, competences in groupings:
        communes = members[name]
        if kind != "CommunityOfCommunes" and communes:  # the legal thresholds of a CA-like body
            populations[communes[0]] = max(populations[communes[0]], rng.randint(15_000, 90_000))
            while sum(populations[i] for i in communes) <= 50_000:
                populations[communes[-1]] += 10_000
        total = sum(populations[i] for i in communes)
        centre = max((populations[i] for i in communes), default=0)
        out.node(
            name,
            [
                ("a", f"cdo:{kind}"),
                ("skos:prefLabel", _literal(f"Groupement synthétique {name[-5:]}")),
                ("cdo:population", str(total)),
                ("cdo:centreCommunePopulation", str(centre)),
                ("cdo:singleBlockWithoutEnclave", "true"),
                *[("cdo:hasCompetence", _iri(c)) for c in sorted(competences)],
                ("cdo:engagementLevel", _iri(rng.choice(vocab.levels))),
                source,
            ],
        )
    for index, population in enumerate(populations):
        out.node(
            f"synth:commune-{index:05d}",
            [
                ("a", "cdo:Commune"),
                ("skos:prefLabel", _literal(f"Commune synthétique {index:05d}")),
                ("skos:notation", f'"S{index:05d}"'),
                ("cdo:population", str(population)),
                ("org:memberOf", groupings[index % len(groupings)][0]),
                source,
            ],
        )
    for kind, count, label in (
        ("Department", DEPARTMENTS, "Département"),
        ("Region", REGIONS, "Région"),
    ):
        for index in range(count):
            out.node(
                f"synth:{kind.lower()}-{index:03d}",
                [
                    ("a", f"cdo:{kind}"),
                    ("skos:prefLabel", _literal(f"{label} synthétique {index:03d}")),
                    source,
                ],
            )

    # The French parties engaged abroad: every grouping, the collectivities, then communes.
    engaged: list[tuple[str, set[str] | None]] = [(g[0], g[2]) for g in groupings]
    engaged += [(f"synth:department-{i:03d}", None) for i in range(DEPARTMENTS)]
    engaged += [(f"synth:region-{i:03d}", None) for i in range(REGIONS)]
    engaged += [
        (f"synth:commune-{i:05d}", None)
        for i in range(max(0, min(sizes["communes"], sizes["engaged"] - len(engaged))))
    ]
    partners = max(1, sizes["links"] * 3 // 5)
    partner_country: list[tuple[str, str]] = []
    for index in range(partners):
        area, country = vocab.area_countries[index % len(vocab.area_countries)]
        partner_country.append((area, country))
        out.node(
            f"synth:partner-{index:05d}",
            [
                ("a", "cdo:ForeignTerritorialAuthority"),
                ("skos:prefLabel", _literal(f"Collectivité partenaire synthétique {index:05d}")),
                ("cdo:country", _iri(country)),
                ("cdo:domesticLegalStatus", _literal("commune")),
                source,
            ],
        )

    domains = sorted(vocab.domains)
    for index in range(sizes["links"]):
        party, held = engaged[index % len(engaged)]
        partner = rng.randrange(partners)
        area, country = partner_country[partner]
        link, agreement = f"synth:link-{index:05d}", f"synth:agreement-{index:05d}"
        year = rng.randint(1975, 2005)
        out.node(
            link,
            [
                ("a", "cdo:CooperationLink"),
                ("skos:prefLabel", _literal(f"Lien synthétique {index:05d}")),
                ("cdo:frenchParty", party),
                ("cdo:foreignPartner", f"synth:partner-{partner:05d}"),
                ("cdo:country", _iri(country)),
                ("cdo:worldArea", _iri(area)),
                ("cdo:engagementLevel", _iri(rng.choice(vocab.levels))),
                ("cdo:startYear", str(year)),
                ("cdo:inSurveyTable", "false"),
                ("cdo:agreement", agreement),
                source,
            ],
        )
        parties = [party, f"synth:partner-{partner:05d}"]
        out.node(
            agreement,
            [
                ("a", "cdo:CooperationConvention"),
                ("skos:prefLabel", _literal(f"Convention synthétique {index:05d}")),
                *[(p, o) for o in parties for p in ("cdo:party", "cdo:adoptedBy", "cdo:signedBy")],
                ("cdo:signatureDate", f'"{year}-06-01"^^xsd:date'),
                ("cdo:inForce", "true"),
                source,
            ],
        )
        for number in range(ACTIONS_PER_LINK):
            allowed = [d for d in domains if held is None or vocab.domains[d] & held]
            domain = rng.choice(allowed or domains)
            action = [
                ("a", "cdo:CooperationAction"),
                ("skos:prefLabel", _literal(f"Action synthétique {index:05d}-{number}")),
                ("dct:description", _literal("Action synthétique générée pour les essais.")),
                ("cdo:actor", party),
                ("cdo:partOf", link),
                ("cdo:domain", _iri(domain)),
                ("cdo:role", _iri(rng.choice(vocab.roles))),
                ("cdo:beneficiary", f"synth:partner-{partner:05d}"),
                ("cdo:amount", f'"{rng.randint(1, 500) * 100}"^^xsd:decimal'),
                ("cdo:year", str(rng.randint(year, 2005))),
                ("cdo:fundedUnder", agreement),
                source,
            ]
            out.node(f"synth:action-{index:05d}-{number}", action)
    summary.counts = {
        "communes": sizes["communes"],
        "groupings": len(groupings),
        "french_parties": len(engaged),
        "foreign_partners": partners,
        "links": sizes["links"],
        "actions": sizes["links"] * ACTIONS_PER_LINK,
    }
    summary.violations = list(_plant(out, rng, violations, groupings, vocab))
    summary.triples = out.triples
    return summary


def _plant(
    out: _Writer,
    rng: random.Random,
    count: int,
    groupings: list[tuple[str, str, set[str]]],
    vocab: Vocabulary,
) -> Iterator[dict[str, str]]:
    """Extra nodes that each break one known rule; they are listed for the benchmark to find."""
    source = ("dct:source", "synth:atlas")
    grouping = groupings[0][0]
    for index in range(count):
        rule = PLANTABLE[index % len(PLANTABLE)]
        node = f"synth:violation-{index:04d}"
        label = ("skos:prefLabel", _literal(f"Infraction plantée {index:04d} ({rule})"))
        if rule == "state-as-partner":
            state = f"{node}-state"
            out.node(
                state,
                [
                    ("a", "cdo:State"),
                    ("skos:prefLabel", _literal(f"État synthétique {index}")),
                    source,
                ],
            )
            out.node(
                node,
                [
                    ("a", "cdo:CooperationLink"),
                    label,
                    ("cdo:frenchParty", grouping),
                    ("cdo:foreignPartner", state),
                    source,
                ],
            )
        elif rule == "negative-amount":
            out.node(
                node,
                [
                    ("a", "cdo:CooperationAction"),
                    label,
                    ("cdo:actor", grouping),
                    ("cdo:domain", _iri(sorted(vocab.domains)[0])),
                    ("cdo:amount", '"-500"^^xsd:decimal'),
                    source,
                ],
            )
        elif rule == "competence-not-held" and vocab.water_domains:
            # A community of communes holding only the CA's mandatory competences, acting on
            # water: speciality forbids it (CGCT L. 1114-1).
            holder = f"{node}-grouping"
            out.node(
                holder,
                [
                    ("a", "cdo:CommunityOfCommunes"),
                    ("skos:prefLabel", _literal(f"Communauté synthétique {index}")),
                    ("cdo:population", "20000"),
                    *[("cdo:hasCompetence", _iri(c)) for c in vocab.mandatory],
                    source,
                ],
            )
            out.node(
                node,
                [
                    ("a", "cdo:CooperationAction"),
                    label,
                    ("cdo:actor", holder),
                    ("cdo:domain", _iri(vocab.water_domains[0])),
                    source,
                ],
            )
        elif rule == "friendship-charter-funds-action":
            charter = f"{node}-charter"
            out.node(
                charter,
                [
                    ("a", "cdo:FriendshipCharter"),
                    ("skos:prefLabel", _literal(f"Charte synthétique {index}")),
                    ("cdo:party", grouping),
                    source,
                ],
            )
            out.node(
                node,
                [
                    ("a", "cdo:CooperationAction"),
                    label,
                    ("cdo:actor", grouping),
                    ("cdo:domain", _iri(sorted(vocab.domains)[0])),
                    ("cdo:fundedUnder", charter),
                    source,
                ],
            )
        elif rule == "oudin-over-one-percent" and vocab.water_domains:
            out.node(
                node,
                [
                    ("a", "cdo:CooperationAction"),
                    label,
                    ("cdo:actor", grouping),
                    ("cdo:domain", _iri(vocab.water_domains[0])),
                    ("cdo:fundedFromServiceBudget", "true"),
                    ("cdo:serviceResources", '"100000"^^xsd:decimal'),
                    ("cdo:amount", '"5000"^^xsd:decimal'),
                    source,
                ],
            )
        else:
            rule = "small-agglomeration-community"
            out.node(
                node,
                [
                    ("a", "cdo:AgglomerationCommunity"),
                    label,
                    ("cdo:population", str(rng.randint(1_000, 40_000))),
                    ("cdo:centreCommunePopulation", "900"),
                    ("cdo:singleBlockWithoutEnclave", "true"),
                    *[("cdo:hasCompetence", _iri(c)) for c in vocab.mandatory + vocab.optional[:3]],
                    source,
                ],
            )
        yield {"focus": SYNTH + node.removeprefix("synth:"), "rule": rule}


def write_atlas(
    project: Project,
    project_graph: Graph,
    out_dir: Path,
    scale: float,
    seed: int,
    violations: int,
    part_triples: int = PART_TRIPLES,
) -> AtlasSummary:
    """Generate the atlas into out_dir/atlas-NNN.ttl (+ violations.json); out_dir is created
    when its parent exists.

    The parts are written to temporary files and renamed into place only once all are complete;
    parts left by an earlier, larger atlas are removed.
    """
    out_dir = out_dir.resolve()
    if out_dir == project.data_dir.resolve() or project.data_dir.resolve() in out_dir.parents:
        raise ExportError("synthetic data never enters data/: choose another output folder")
    output_folder(out_dir)
    streams: list[TextIO] = []
    temps: list[Path] = []

    def open_part() -> Callable[[str], object]:
        handle, temp = tempfile.mkstemp(dir=out_dir, prefix=".atlas-", suffix=".ttl")
        temps.append(Path(temp))
        streams.append(os.fdopen(handle, "w", encoding="utf-8", buffering=1 << 20))
        return streams[-1].write

    try:
        summary = generate(project_graph, scale, seed, violations, _Writer(open_part, part_triples))
        for stream in streams:
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
        summary.paths = [out_dir / ATLAS_PART.format(n) for n in range(1, len(temps) + 1)]
        for temp, path in zip(temps, summary.paths, strict=True):
            os.chmod(temp, 0o644)
            os.replace(temp, path)
    except BaseException:
        for stream in streams:
            stream.close()
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    for stale in set(out_dir.glob(ATLAS_PARTS)) - set(summary.paths):
        stale.unlink()
    listing = json.dumps(summary.violations, indent=2)
    (out_dir / VIOLATIONS_FILE).write_text(listing + "\n", encoding="utf-8")
    return summary
