"""Publishing: what the graph gives to portals and to people.

Owns the dumps (Turtle, N-Triples, JSON-LD, TriG; frames.json the `--frame` layouts), the
DCAT-AP/VoID metadata (metadata.ttl), the HTML documentation (docs.html), the report's tables
recomputed from the graph, and `push` to a graph store. May import `coopdec_kg.law`,
`coopdec_kg.engines`, `coopdec_kg.content` and the top-level modules, never cli.
"""
