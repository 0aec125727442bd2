"""The shapes' SPARQL as text: prefixes, forbidden keywords, star paths rewritten, sub-selects and
`$this`, and the locality analysis on rdflib's algebra that makes running with `$this` unbound
exact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Variable

from coopdec_kg.engines.sparql_text import (
    Token,
    closing_bracket,
    is_symbol,
    keyword,
    opening_bracket,
    significant,
    tokenize,
    untokenize,
)
from coopdec_kg.errors import ContentError

# ---------------------------------------------------------------- SPARQL text

_PATH_TOKENS = {"|", "/", "^", "!", "(", ")", "?", "*", "+"}
# What a SPARQL constraint may not contain (SHACL 5.3.1, as pySHACL checks), and what no query
# of the shapes may do here (read other graphs or the network).
_FORBIDDEN_IN_CONSTRAINTS = frozenset({"MINUS", "VALUES", "SERVICE", "GRAPH", "FROM"})
_FORBIDDEN_IN_TARGETS = frozenset({"SERVICE", "GRAPH", "FROM"})
_DEFAULT_PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL)}


def _expand_prefixes(tokens: list[Token], prefixes: Mapping[str, str], where: str) -> None:
    """Prefixed names written as full IRIs, so queries combine without PREFIX clashes."""
    for token in tokens:
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            namespace = prefixes.get(prefix)
            if namespace is None:
                raise ContentError(f"{where}: the prefix {prefix!r} is not declared")
            local = re.sub(r"\\(.)", r"\1", local)
            token.kind, token.text = "iri", f"<{namespace}{local}>"


def _check_keywords(tokens: Sequence[Token], forbidden: frozenset[str], where: str) -> None:
    for token in tokens:
        if keyword(token) in forbidden:
            raise ContentError(f"{where}: {token.text.upper()} is not allowed in this query")
        if token.kind == "var" and token.text[1:].startswith("__"):
            raise ContentError(f"{where}: variables named ?__… are reserved")


def _substitute(tokens: list[Token], values: Mapping[str, str], where: str) -> None:
    """Pre-bound variables replaced by their value (SHACL's pre-binding, as text)."""
    sig = significant(tokens)
    for position, index in enumerate(sig):
        token = tokens[index]
        if token.kind == "var" and token.text[1:] in values:
            before = tokens[sig[position - 1]] if position else None
            if before is not None and (keyword(before) in ("SELECT", "AS", "DISTINCT")):
                raise ContentError(f"{where}: the pre-bound {token.text} cannot be projected")
            token.kind, token.text = "raw", values[token.text[1:]]


def _is_path_primary_end(tokens: Sequence[Token], sig: Sequence[int], at: int, where: str) -> bool:
    token = tokens[sig[at]]
    if token.kind == "iri" or (token.kind == "name" and token.text == "a"):
        return True
    if is_symbol(token, ")"):
        start = opening_bracket(tokens, sig, at, where)
        inner = [tokens[sig[p]] for p in range(start + 1, at)]
        return bool(inner) and all(
            t.kind == "iri" or (t.kind == "name" and t.text == "a") or is_symbol(t, *_PATH_TOKENS)
            for t in inner
        )
    return False


def _element_back(tokens: Sequence[Token], sig: Sequence[int], end: int, where: str) -> int:
    """Start (position in `sig`) of the path element ending at `end`."""
    position = end
    if is_symbol(tokens[sig[position]], "?", "*", "+"):
        position -= 1
    if position < 0 or not _is_path_primary_end(tokens, sig, position, where):
        return -1
    if is_symbol(tokens[sig[position]], ")"):
        position = opening_bracket(tokens, sig, position, where)
    if position > 0 and is_symbol(tokens[sig[position - 1]], "^", "!"):
        position -= 1
    return position


def _element_forward(tokens: Sequence[Token], sig: Sequence[int], start: int, where: str) -> int:
    """End (position in `sig`) of the path element starting at `start`, or -1."""
    position = start
    if is_symbol(tokens[sig[position]], "^", "!"):
        position += 1
    if position >= len(sig):
        return -1
    token = tokens[sig[position]]
    if is_symbol(token, "("):
        position = closing_bracket(tokens, sig, position, where)
    elif not (token.kind == "iri" or (token.kind == "name" and token.text == "a")):
        return -1
    if position + 1 < len(sig) and is_symbol(tokens[sig[position + 1]], "?", "*", "+"):
        position += 1
    return position


def _rewrite_one_star(tokens: list[Token], where: str) -> bool:
    """Rewrite the first `s/e*` sequence as `(s|s/e+)` (exact); False when none is left."""
    sig = significant(tokens)
    for position, index in enumerate(sig):
        if not is_symbol(tokens[index], "*") or position == 0:
            continue
        if not _is_path_primary_end(tokens, sig, position - 1, where):
            continue
        start = _element_back(tokens, sig, position, where)
        if start < 0:
            continue
        elements = [(start, position)]
        while elements[0][0] > 1 and is_symbol(tokens[sig[elements[0][0] - 1]], "/"):
            end = elements[0][0] - 2
            begin = _element_back(tokens, sig, end, where)
            if begin < 0:
                break
            elements.insert(0, (begin, end))
        star = len(elements) - 1
        while elements[-1][1] + 2 < len(sig) and is_symbol(tokens[sig[elements[-1][1] + 1]], "/"):
            begin = elements[-1][1] + 2
            end = _element_forward(tokens, sig, begin, where)
            if end < 0:
                break
            elements.append((begin, end))
        if len(elements) == 1:
            continue
        texts = [untokenize(tokens[sig[a] : sig[b] + 1]) for a, b in elements]
        plus = [*texts[:star], texts[star][:-1] + "+", *texts[star + 1 :]]
        without = texts[:star] + texts[star + 1 :]
        replacement = Token("raw", f"(({'/'.join(without)})|({'/'.join(plus)}))")
        first, last = sig[elements[0][0]], sig[elements[-1][1]]
        tokens[first : last + 1] = [replacement]
        return True
    return False


def _rewrite_star_paths(text: str, where: str) -> str:
    for _ in range(100):
        tokens = tokenize(text, where)
        if not _rewrite_one_star(tokens, where):
            return text
        text = untokenize(tokens)
    raise ContentError(f"{where}: too many property paths to rewrite")


@dataclass(frozen=True)
class _SubSelect:
    """A nested SELECT: where its WHERE group opens, and whether it mentions $this."""

    brace: int
    mentions_this: bool


def _sub_selects(tokens: Sequence[Token], where: str) -> list[_SubSelect]:
    sig = significant(tokens)
    found: list[_SubSelect] = []
    depth = 0
    for position, index in enumerate(sig):
        token = tokens[index]
        if is_symbol(token, "{"):
            depth += 1
        elif is_symbol(token, "}"):
            depth -= 1
        elif keyword(token) == "SELECT" and depth > 0:
            brace = next(
                (p for p in range(position, len(sig)) if is_symbol(tokens[sig[p]], "{")), None
            )
            if brace is None:
                raise ContentError(f"{where}: a nested SELECT without a WHERE group")
            end = closing_bracket(tokens, sig, brace, where)
            mentions = any(
                tokens[sig[p]].kind == "var" and tokens[sig[p]].text[1:] == "this"
                for p in range(brace, end)
            )
            found.append(_SubSelect(sig[brace], mentions))
    return found


def _inject(tokens: Sequence[Token], pattern: str, where: str) -> str:
    """The query with `pattern` opening every nested SELECT that mentions $this."""
    copy = list(tokens)
    for sub in reversed(_sub_selects(copy, where)):
        if sub.mentions_this:
            copy.insert(sub.brace + 1, Token("raw", f" {pattern} "))
    return untokenize(copy)


def _exists_bodies_select(tokens: Sequence[Token], where: str) -> bool:
    """Whether some FILTER [NOT] EXISTS block holds a nested SELECT."""
    sig = significant(tokens)
    for position, index in enumerate(sig):
        if keyword(tokens[index]) == "EXISTS" and position + 1 < len(sig):
            end = closing_bracket(tokens, sig, position + 1, where)
            if any(keyword(tokens[sig[p]]) == "SELECT" for p in range(position + 1, end)):
                return True
    return False


def _project_this(tokens: list[Token], where: str) -> None:
    """Add ?this to the main projection (rows must name their focus node)."""
    sig = significant(tokens)
    select = next((p for p in sig if keyword(tokens[p]) == "SELECT"), None)
    if select is None:
        raise ContentError(f"{where}: only SELECT queries are supported")
    position = sig.index(select) + 1
    if position < len(sig) and keyword(tokens[sig[position]]) in ("DISTINCT", "REDUCED"):
        position += 1
    projection: list[Token] = []
    for index in sig[position:]:
        if is_symbol(tokens[index], "{") or keyword(tokens[index]) == "WHERE":
            break
        projection.append(tokens[index])
    if any(is_symbol(t, "*") for t in projection) or any(
        t.kind == "var" and t.text[1:] == "this" for t in projection
    ):
        return
    tokens.insert(sig[position - 1] + 1, Token("raw", " ?this"))


# ---------------------------------------------------------------- query analysis (rdflib algebra)


def _variables(node: object, skip_exists: bool = False) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Variable):
            found.add(str(item))
        elif isinstance(item, dict):
            name = getattr(item, "name", "")
            if skip_exists and name in ("Builtin_EXISTS", "Builtin_NOTEXISTS"):
                continue
            stack.extend(value for key, value in item.items() if key != "_vars")
        elif isinstance(item, list | tuple | set):
            stack.extend(item)
    return found


class _Locality:
    """Checks that evaluating a constraint with $this unbound equals pre-binding it."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, why: str) -> ContentError:
        return ContentError(f"{self.where}: {why}; the full-validation engine cannot run it")

    def check(self, text: str) -> None:
        """Raise unless the text can run with $this unbound (a pass is remembered on disk)."""
        from coopdec_kg.engines.query_outline import passed, remember_pass

        if passed("locality", text):
            return
        from rdflib.plugins.sparql.algebra import translateQuery
        from rdflib.plugins.sparql.parser import parseQuery

        try:
            query = translateQuery(parseQuery(text))
        except Exception as error:  # pyparsing and rdflib raise many types for bad queries
            raise ContentError(f"{self.where}: the SPARQL query does not parse ({error})") from None
        algebra = query.algebra
        if algebra.name != "SelectQuery":
            raise self.fail("only SELECT queries are supported")
        if "this" not in self.certain(algebra.p):
            raise self.fail("$this is not bound by a triple pattern of the query's main group")
        remember_pass("locality", text)

    def certain(self, part: Any) -> set[str]:
        """The variables every solution of `part` binds."""
        name = part.name
        if name == "BGP":
            return {str(t) for triple in part.triples for t in triple if isinstance(t, Variable)}
        if name == "Join":
            return self.certain(part.p1) | self.certain(part.p2)
        if name == "LeftJoin":
            left = self.certain(part.p1)
            if "this" in _variables(part.p2) and "this" not in left:
                raise self.fail("an OPTIONAL uses $this before the main group binds it")
            self.expression(part.get("expr"), left)
            return left
        if name == "Filter":
            inner = self.certain(part.p)
            self.expression(part.expr, inner)
            return inner
        if name == "Union":
            return self.certain(part.p1) & self.certain(part.p2)
        if name == "Extend":
            inner = self.certain(part.p)
            self.expression(part.expr, inner)
            if isinstance(part.expr, Variable) and str(part.expr) in inner:
                inner = inner | {str(part.var)}
            return inner
        if name == "ToMultiSet":
            return self.sub_select(part.p)
        if name == "Project":
            return self.certain(part.p) & {str(v) for v in part.PV}
        if name == "Slice" and "this" in _variables(part.p):
            raise self.fail("LIMIT or OFFSET would apply to all focus nodes at once")
        if name in ("Distinct", "Reduced", "OrderBy", "Slice"):
            return self.certain(part.p)
        if name == "AggregateJoin":
            group = part.p
            grouped = {str(e) for e in (group.expr or []) if isinstance(e, Variable)}
            inner = self.certain(group.p) & grouped
            for aggregate in part.A:
                if aggregate.name == "Aggregate_Sample" and str(aggregate.vars) in inner:
                    inner = inner | {str(aggregate.res)}
            return inner
        raise self.fail(f"the {name} operator is not supported")

    def sub_select(self, part: Any) -> set[str]:
        project = part
        while project.name in ("Distinct", "Reduced", "OrderBy", "Slice"):
            project = project.p
        if project.name != "Project":
            raise self.fail(f"the {project.name} operator is not supported")
        projected = {str(v) for v in project.PV}
        if "this" in _variables(project.p) and "this" not in projected:
            raise self.fail("a nested SELECT uses $this without selecting it")
        return self.certain(part)

    def expression(self, expr: object, bound: set[str]) -> None:
        mentions = expr is not None and "this" in _variables(expr, skip_exists=True)
        if mentions and "this" not in bound:
            raise self.fail("an expression uses $this before the main group binds it")
