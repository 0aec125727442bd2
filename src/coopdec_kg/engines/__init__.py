"""The engines that answer SPARQL: the persistent store, remote endpoints, named queries.

Owns the pyoxigraph store (build, reopen, extra files), the SPARQL protocol client for remote
endpoints, the named queries (their headers, typed binding, running them), the result formats,
query text as tokens, the ORDER BY done in Python and the cached outline of a query. May import
`coopdec_kg.content` and the top-level modules (errors, terminal), never law, publish or cli.
"""
