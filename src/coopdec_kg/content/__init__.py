"""The content: where it lives, how it is read, and how files are written safely.

Owns the project folder (ontology/, data/, queries/) and the shipped content, the namespaces and
the JSON-LD context, the only RDF parser (graph), the locks and the journal that make `add` all
or nothing, the date of the last change, atomic file writes, the byte-stable Turtle writer, and
the synthetic atlas. May import only `coopdec_kg.errors` and `coopdec_kg.terminal`: every other
layer builds on this one.
"""
