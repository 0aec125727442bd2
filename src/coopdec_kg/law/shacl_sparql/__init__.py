"""Full SHACL validation at national scale: the project's shapes compiled to SPARQL on the store.

Why. pySHACL validates focus node by focus node and runs each SPARQL-based constraint once per
node with rdflib's engine: on the 1.5 M-triple synthetic atlas that takes far more than ten
minutes, and reading the graph into rdflib alone takes 20-40 s. Here each (shape, constraint)
becomes one query that finds the violations of *all* focus nodes at once, on the persistent
pyoxigraph store.

How (measured at scale 1.0 on 2 cores: 47 782 results, the same as pySHACL's):

* Targets are computed once per declaration (sh:targetClass through the subclass closure read
  from the store, SPARQL targets as written) and kept as sets: cds:HeldToFullLaw costs about a
  second and seven property shapes share it. Constraint queries run over every node that has
  values for the path; Python keeps the rows whose node is a focus node.
* Counting constraints (min/max counts, qualified counts, unique languages, property
  sh:hasValue) are one DISTINCT or GROUP BY query each; sh:class and shape-based constraints
  (sh:not, sh:or, sh:node…) are exact SPARQL conditions.
* SPARQL-based constraints run with `$this` unbound. That equals pySHACL's pre-binding only when
  `$this` is bound by a triple pattern of the main group before any OPTIONAL, expression or
  LIMIT uses it: the compiler checks this on rdflib's algebra of the query and refuses anything
  else. A nested SELECT that mentions `$this` gets the focus pattern injected, so that it still
  runs once per focus node (a count of zero stays a count of zero).
* Oxigraph plans `?x rdf:type/rdfs:subClassOf* ?c` inside FILTER NOT EXISTS badly when neither
  end is bound yet (the zero-length step enumerates every node): one constraint ran more than
  10 minutes at scale 0.05. Such sequences are rewritten to the equivalent
  `(rdf:type|rdf:type/rdfs:subClassOf+)`: 5 s at scale 1.0.
* Exactness. The store keeps literals in canonical form ("1.50"^^xsd:decimal comes back as
  "1.5", "5"^^xsd:int as "5"^^xsd:integer); rdflib keeps what was written. The typed literals of
  the sources are read once (graph.read_ntriples, ≈ 2.5 s at scale 1.0, overlapped with the
  queries) and every literal a result needs is given back in its written form. pySHACL compares
  values with rdflib's rules, which differ from SPARQL's at the edges (an integer is "after" a
  date, "abc"^^xsd:integer is ill-typed…): value checks (datatype, ranges, patterns, sh:in and
  logical constraints made of them) are two-stage — SPARQL keeps only the values it cannot prove
  conforming (none, in valid data) and pySHACL's own constraint component decides those.
* pyoxigraph holds the GIL while it evaluates, so the queries are answered by two worker
  processes that open the store read-only: 23 s for the engine instead of 40 s in one process,
  28 s for `validate --all` end to end, peak RSS 0.96 GB (the workers ≈ 0.2 GB each). Loading
  the atlas into an in-memory store in each worker was only 2 s faster, for 0.7 GB more each
  (copying the disk store into memory takes 15 s).
* Anything the compiler cannot evaluate exactly raises a ContentError at compile time, naming
  the shape and the construct: no shape is ever skipped silently.

Known limits, all from the store's representation of RDF: language tags come back lowercased;
two literals of one value written differently on one node ("1.0" and "1.00") are one value in
the store; a string written "x"^^xsd:string is the plain "x"; blank nodes get the store's labels.

Layout, in the order a run uses it: `compiler` (shapes to checks; `CompiledShapes.run`), `plan`
(the checks, their results and what one run shares), `conditions` (value tests as SPARQL),
`rewrite` (the shapes' SPARQL text and its analysis), `literals` (store vs rdflib), `workers`
(the query processes). The underscore names are this subpackage's internals, shared among its
modules; the rest of the library uses only what this module exports.
"""

from coopdec_kg.law.shacl_sparql.compiler import CompiledShapes, compile_shapes
from coopdec_kg.law.shacl_sparql.plan import Result

__all__ = ["CompiledShapes", "Result", "compile_shapes"]
