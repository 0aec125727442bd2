"""Text from the graph, a submission or an endpoint, made safe to show on a terminal.

Values may hold any character. An ESC starts a terminal command (a window title, a hyperlink, a
colour that never ends, in some terminals worse), a carriage return overwrites the line, and
bidirectional controls reorder what is shown. Tables, reports for people and messages show such
characters escaped (`\\x1b`, `\\u202e`); the machine formats (CSV, TSV, JSON, Turtle) keep every
value exact.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, bidirectional controls, and lone surrogates (an undecodable byte of
# a file name or an argument), which a UTF-8 terminal stream cannot even write.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def printable(text: str, keep: str = "") -> str:
    """The text with every unsafe character but those in `keep` written as an escape."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE.sub(escape, text)
