"""``python -m statusguard`` runs the CLI."""

from statusguard._cli import main

main()
