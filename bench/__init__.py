"""inceptionspec's benchmark: ``python -m bench [--quick] [--only SECTIONS]`` (see bench/README.md)."""
