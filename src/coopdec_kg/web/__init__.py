"""The web: `coopdec-kg serve`, a read-only server over the graph held in memory.

Owns the SPARQL 1.1 endpoint (`/sparql`), the resolvable IRIs (`/id/…` → `/page/…` or
`/data/…`, the ontology at `/ontology`, the dataset's description at `/.well-known/void`, the
dumps), the named queries as a web API (`/api/queries`, OpenAPI 3 at `/api/openapi.json`), the
pages people read (Jinja2 templates in templates/, words in texts.toml), and the query workers
that answer them (workers.py: processes sharing the in-memory store, killed at the deadline).
Modules: server (the ASGI app, running it), routes (one handler per route), pages (the
atlas's pages for people: home, search, questions, charts, map, SPARQL, validation), charts and
world (the charts and the map drawn as SVG), site (what routes share), jobs (what a worker does,
by calling the library), protocol (the endpoint's limits and refusals), negotiation (formats),
openapi, workers. May import publish, law, engines, content
and the top-level modules, never cli; it answers HTTP but never prints or exits: the CLI's
`serve` command starts it and reports its failures.
"""
