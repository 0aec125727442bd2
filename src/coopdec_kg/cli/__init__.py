"""The command line: the only layer that talks to people (prints, exits, reads options).

Owns the Typer application (`app`, with the top-level options and the error handling that makes
every failure one line and a documented exit code) and one module per group of commands, all at
the top level of `coopdec-kg`. May import every other layer; nothing imports it.
"""

from coopdec_kg.cli.app import app, main

__all__ = ["app", "main"]
