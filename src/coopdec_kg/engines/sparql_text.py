"""SPARQL query text read as tokens, for the rewrites done on queries before an engine runs them.

Why tokens and not a parser: a rewrite (binding parameters, compiling shapes, sorting results in
Python) must leave the rest of the query as written, and rdflib's parser gives back an algebra,
not text. Parameters are bound by writing each one's value, an RDF term already parsed and
checked, in its N-Triples form where the variable stood: never by pasting the user's text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coopdec_kg.errors import ContentError

if TYPE_CHECKING:
    import pyoxigraph

# Any character from U+00C0 on, written as a negated class: a class with the range
# \u00C0-\uFFFF takes Python 3 ms to compile (it fills a table entry by entry), and the
# pattern would cost 20-40 ms at every start.
_HIGH = r"[^\x00-\xbf]"
_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
    |(?P<comment>\#[^\n]*)
    |(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
        |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    |(?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
    |(?P<var>[?$](?:[A-Za-z0-9_\u00B7]|{_HIGH})+)
    |(?P<pname>(?:(?:[A-Za-z]|{_HIGH})(?:(?:[\w\-.\u00B7]|{_HIGH})*(?:[\w\-\u00B7]|{_HIGH}))?)?
        :(?:[\w\-:%\u00B7]|{_HIGH}|\\[^\s]|\.(?=[\w\-:%\u00B7]|{_HIGH}))*)
    |(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    |(?P<number>\d+\.\d*[eE][+-]?\d+|\.\d+[eE][+-]?\d+|\d+[eE][+-]?\d+|\d*\.\d+|\d+)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>\^\^|&&|\|\||<=|>=|!=|[{{}}()\[\].,;*+?/|^!=<>\-])
    """,
    re.VERBOSE,
)


@dataclass
class Token:
    """One token: its kind (a group name of the pattern) and its text as written."""

    kind: str
    text: str


def tokenize(text: str, where: str) -> list[Token]:
    """The query as tokens, whitespace and comments included (`where` names it in errors)."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ContentError(f"{where}: cannot read the SPARQL query at «{text[position:][:30]}»")
        kind = match.lastgroup or "punct"
        tokens.append(Token(kind, match.group()))
        position = match.end()
    return tokens


def untokenize(tokens: Sequence[Token]) -> str:
    """The text the tokens were read from."""
    return "".join(token.text for token in tokens)


def significant(tokens: Sequence[Token]) -> list[int]:
    """Indexes of the tokens that are neither whitespace nor comments."""
    return [i for i, token in enumerate(tokens) if token.kind not in ("ws", "comment")]


def is_symbol(token: Token, *texts: str) -> bool:
    """Whether the token is one of these punctuation marks or bare words (as written)."""
    return token.kind in ("punct", "name") and token.text in texts


def keyword(token: Token) -> str:
    """A bare word in upper case (SPARQL keywords ignore case), else the empty string."""
    return token.text.upper() if token.kind == "name" else ""


_CLOSING = {"(": ")", "{": "}", "[": "]"}
_OPENING = {closing: opening for opening, closing in _CLOSING.items()}


def closing_bracket(tokens: Sequence[Token], sig: Sequence[int], at: int, where: str) -> int:
    """Position in `sig` of the bracket closing the one opening at position `at`."""
    return _matching_bracket(tokens, sig, at, where, _CLOSING, range(at, len(sig)))


def opening_bracket(tokens: Sequence[Token], sig: Sequence[int], at: int, where: str) -> int:
    """Position in `sig` of the bracket opening the one closing at position `at`."""
    return _matching_bracket(tokens, sig, at, where, _OPENING, range(at, -1, -1))


def _matching_bracket(
    tokens: Sequence[Token],
    sig: Sequence[int],
    at: int,
    where: str,
    partners: dict[str, str],
    positions: range,
) -> int:
    """Walk `positions` from the bracket at `at` to its partner, counting the nesting."""
    here = tokens[sig[at]].text
    partner = partners[here]
    depth = 0
    for position in positions:
        text = tokens[sig[position]].text if tokens[sig[position]].kind == "punct" else ""
        if text == here:
            depth += 1
        elif text == partner:
            depth -= 1
            if depth == 0:
                return position
    raise ContentError(f"{where}: unbalanced {here!r} in the SPARQL query")


# ---------------------------------------------------------------------------- bound parameters


def term_text(term: pyoxigraph.NamedNode | pyoxigraph.Literal) -> str:
    """An RDF term as SPARQL text: its canonical N-Triples form, with two rewrites of escapes.

    Why: SPARQL lets `\\uXXXX` stand for a character anywhere in a query, and some engines
    (rdflib) replace those sequences before they read the query, backslash pairs or not, and
    read `\\u` followed by 8 hex digits as one code point: a user's text `\\u0022` would become
    a quote, and the escape of a control character followed by hex digits another character.
    So a `u` or `U` after an escaped backslash is written `\\U00000075` / `\\U00000055`, and
    every `\\uXXXX` escape `\\U0000XXXX` (never longer than 8 digits): the value reads back
    the same on every engine. The result is checked to read as one term.
    """
    written = _ESCAPE.sub(_portable_escape, str(term))
    kinds = [t.kind for t in tokenize(written, "a parameter value") if t.kind != "ws"]
    if kinds not in _TERM_SHAPES:  # pragma: no cover - pyoxigraph writes well-formed terms
        raise ContentError(f"cannot write the parameter value {written[:40]!r} as one term")
    return written


# One escape of an N-Triples string, read left to right: an escaped backslash followed by u or
# U, a \uXXXX escape, or any other.
_ESCAPE = re.compile(r"\\(?:\\([uU])|u([0-9A-Fa-f]{4})|.)")
_U_ESCAPES = {"u": "\\U00000075", "U": "\\U00000055"}


def _portable_escape(match: re.Match[str]) -> str:
    letter, code = match.group(1), match.group(2)
    if letter:
        return "\\\\" + _U_ESCAPES[letter]
    if code:
        return "\\U0000" + code
    return match.group(0)


_TERM_SHAPES = (["iri"], ["string"], ["string", "lang"], ["string", "punct", "iri"])


def with_terms(text: str, terms: Mapping[str, str], where: str) -> str:
    """The query with each variable of `terms` (name → term text, see `term_text`) written as
    that term, where the variable stands for a value.

    A projected variable becomes `(term AS ?name)` so that the column stays; `BOUND(?name)`
    becomes `true`. A variable the query assigns (`AS ?name`) or lists in a VALUES block
    cannot be bound this way: ContentError. Whitespace, comments and the rest of the text are
    kept as written.
    """
    if not terms:
        return text
    tokens = tokenize(text, where)
    sig = significant(tokens)
    projected = _projected(tokens, sig, where)
    listed = _values_variables(tokens, sig)
    written: dict[int, str] = {}  # token index -> new text ("" drops the token)
    for position, index in enumerate(sig):
        token = tokens[index]
        name = token.text[1:]
        if token.kind != "var" or name not in terms:
            continue
        if position > 0 and keyword(tokens[sig[position - 1]]) == "AS":
            raise ContentError(f"{where}: ?{name} is a parameter: the query may not assign it")
        if position in listed:
            raise ContentError(f"{where}: ?{name} is a parameter: a VALUES block may not list it")
        if _is_bound_call(tokens, sig, position):
            written[sig[position - 2]] = "true"
            for dropped in sig[position - 1 : position + 2]:
                written[dropped] = ""
        elif position in projected:
            written[index] = f"({terms[name]} AS {token.text})"
        else:
            written[index] = terms[name]
    return "".join(written.get(i, token.text) for i, token in enumerate(tokens))


def _is_bound_call(tokens: Sequence[Token], sig: Sequence[int], position: int) -> bool:
    """Whether the variable at `position` is the argument of `BOUND( … )`."""
    return (
        2 <= position < len(sig) - 1
        and keyword(tokens[sig[position - 2]]) == "BOUND"
        and is_symbol(tokens[sig[position - 1]], "(")
        and is_symbol(tokens[sig[position + 1]], ")")
    )


def _projected(tokens: Sequence[Token], sig: Sequence[int], where: str) -> set[int]:
    """Positions (in `sig`) of the variables a SELECT clause projects, sub-queries included."""
    found: set[int] = set()
    for start, index in enumerate(sig):
        if keyword(tokens[index]) != "SELECT":
            continue
        position = start + 1
        while position < len(sig):
            token = tokens[sig[position]]
            if keyword(token) in ("WHERE", "FROM") or is_symbol(token, "{"):
                break
            if is_symbol(token, "("):  # an expression: its variables are not projected
                position = closing_bracket(tokens, sig, position, where)
            elif token.kind == "var":
                found.add(position)
            position += 1
    return found


def _values_variables(tokens: Sequence[Token], sig: Sequence[int]) -> set[int]:
    """Positions (in `sig`) of the variables VALUES blocks list."""
    found: set[int] = set()
    for start, index in enumerate(sig):
        if keyword(tokens[index]) != "VALUES":
            continue
        position = start + 1
        while position < len(sig) and not is_symbol(tokens[sig[position]], "{"):
            if tokens[sig[position]].kind == "var":
                found.add(position)
            position += 1
    return found
