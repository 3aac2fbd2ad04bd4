"""`import`: a Keras model back into a spec."""

from __future__ import annotations

from pathlib import Path

import click

from inceptionspec.cli import _guard, _stderr, _stdout, main


@main.command("import")
@click.argument("source")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the spec to a file.")
@click.option("--name", default=None, help="The spec's name (default: the Keras model's).")
@_guard
def import_command(source: str, output: Path | None, name: str | None) -> None:
    """Write the spec of a Keras model: a .keras file, or keras:InceptionV3 / keras:InceptionResNetV2.

    A .keras file is read as untrusted data: only its config.json, with size and depth limits; no layer
    class is looked up and nothing from the file runs, so a Lambda or any layer outside Keras and
    inceptionspec is refused. The spec is checked layer by layer against the model before it is written.
    """
    from inceptionspec.importer import import_spec

    imported = import_spec(source, name)
    lines = len(imported.text.splitlines())
    if output:
        output.write_text(imported.text, encoding="utf-8")
        _stderr(f"wrote {output} ({lines} lines; {imported.layers} layers checked against {source})")
    else:
        _stdout(imported.text, nl=False)
