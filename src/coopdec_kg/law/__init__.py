"""The law: what new data may state, and whether the graph keeps to it.

Owns the submission boundary, SHACL validation (pySHACL, and the shapes compiled to SPARQL for
the store in `shacl_sparql`), `add` (validate, then commit through the content's journal) and
OWL reasoning. May import `coopdec_kg.engines`, `coopdec_kg.content` and the top-level modules,
never publish or cli.
"""
