"""SPARQL query text read as tokens, for the rewrites done on queries before an engine runs them.

Why tokens and not a parser: a rewrite (compiling shapes, sorting results in Python) must leave
the rest of the query as written, and rdflib's parser gives back an algebra, not text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from coopdec_kg.errors import ContentError

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<comment>\#[^\n]*)
    |(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
        |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    |(?P<pname>(?:[A-Za-z\u00C0-\uFFFF](?:[\w\-.\u00B7\u00C0-\uFFFF]*[\w\-\u00B7\u00C0-\uFFFF])?)?
        :(?:[\w\-:%\u00B7\u00C0-\uFFFF]|\\[^\s]|\.(?=[\w\-:%\u00B7\u00C0-\uFFFF]))*)
    |(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    |(?P<number>\d+\.\d*[eE][+-]?\d+|\.\d+[eE][+-]?\d+|\d+[eE][+-]?\d+|\d*\.\d+|\d+)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<punct>\^\^|&&|\|\||<=|>=|!=|[{}()\[\].,;*+?/|^!=<>\-])
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
