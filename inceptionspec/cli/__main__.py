"""``python -m inceptionspec.cli``."""

from inceptionspec.cli import run

run()
