"""``python -m preflight`` runs the command line."""

from .cli import main

main()
