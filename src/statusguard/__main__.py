"""``python -m statusguard`` runs the CLI."""

from statusguard.cli import main

main()
