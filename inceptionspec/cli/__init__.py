"""The ``inceptionspec`` command.

Exit codes: 0 success, 1 invalid spec, 2 usage or I/O error, 3 internal error (a bug).
No command on the static path (list, validate, expand, schema, summary) imports TensorFlow.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import SpecError, UsageError
from inceptionspec.data.errors import DataError

# The command is a process of its own: pydantic's plugin discovery (a scan of every installed
# distribution's entry points, a tenth of a second with TensorFlow installed) has nothing to
# instrument in it. A user's explicit setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INVALID, EXIT_USAGE, EXIT_BUG = 1, 2, 3


def _stderr(text: str) -> None:
    click.echo(text, err=True)


def _bug_report(exc: BaseException, spec: object) -> str:
    """What an unexpected exception tells the user: that it is a bug, which spec, where; no traceback
    (``INCEPTIONSPEC_TRACEBACK=1`` adds one, for the bug report)."""
    import traceback  # a bug report is rare: no start-up cost otherwise

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}inceptionspec{os.sep}" in f.filename] or frames
    where = f" at {Path(ours[-1].filename).name}:{ours[-1].lineno} in {ours[-1].name}" if ours else ""
    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
    text = (
        f"internal error while processing {spec}: {type(exc).__name__}{': ' + detail if detail else ''}{where}\n"
        "this is a bug in inceptionspec, not a problem with the spec; please report it with the spec "
        "(set INCEPTIONSPEC_TRACEBACK=1 for the full trace)"
    )
    if os.environ.get("INCEPTIONSPEC_TRACEBACK"):
        text += "\n" + "".join(traceback.format_exception(exc))
    return text


def _guard(func: F) -> F:
    """Turn every failure into a message and an exit code; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SpecError, DataError) as err:
            _stderr(err.format())
            sys.exit(EXIT_INVALID)
        except UsageError as err:
            _stderr(f"error: {err}")
            sys.exit(EXIT_USAGE)
        except OSError as err:
            _stderr(f"error: {err.filename or ''}: {err.strerror or err}")
            sys.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a RecursionError too: every bound is checked first, so it is a bug
            spec = getattr(exc, "inceptionspec_spec", None)
            spec = spec or next((a for a in kwargs.get("specs", ()) or [kwargs.get("spec")] if a), "?")
            _stderr(_bug_report(exc, spec))
            sys.exit(EXIT_BUG)

    return wrapper  # type: ignore[return-value]


def _budget(max_params: int | None, allow_outside: bool = False) -> Budget:
    budget = Budget(allow_outside_extends=allow_outside)
    if max_params is not None:
        budget.max_params = max_params
    return budget


set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a value by name, e.g. inception_4c.n3x3=320 or heads.aux1=null (repeatable).",
)
aux_option = click.option("--no-aux", is_flag=True, help="Leave out training-only (auxiliary) heads.")
max_params_option = click.option(
    "--max-params",
    type=click.IntRange(min=1),
    default=None,
    help=f"Parameter budget (default {Budget().max_params:,}).",
)
outside_option = click.option(
    "--allow-outside-extends", is_flag=True, help="Let `extends` read files outside the spec's directory."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inceptionspec")
def main() -> None:
    """Define, check, compare and build Inception-family networks from YAML specs.

    SPEC is a path to a YAML file or the name of a shipped spec (see `inceptionspec list`).
    """


# The commands register themselves on `main`.
from inceptionspec.cli import build, compare, draw, evaluate, explore, specs, summary, train  # noqa: E402, F401
