"""``python -m prep`` runs the command line."""

from .cli import main

main()
