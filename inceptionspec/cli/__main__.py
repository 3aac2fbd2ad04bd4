"""``python -m inceptionspec.cli``."""

from inceptionspec.cli import main

main()
