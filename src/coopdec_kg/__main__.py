"""`python -m coopdec_kg` runs the CLI."""

from coopdec_kg.cli import main

main()
