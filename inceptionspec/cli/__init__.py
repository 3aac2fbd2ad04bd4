"""The ``inceptionspec`` command.

Exit codes: 0 success, 1 invalid spec, 2 usage or I/O error (a spec that cannot be read, an output
that cannot be written, not enough memory), 3 internal error (a bug), 141 the reader of the
output went away (``inceptionspec summary x | head -1``: nothing more is printed, as for any Unix
tool stopped by SIGPIPE). ``diff`` keeps GNU diff's 0 same, 1 different, 2 trouble.
No command on the static path (list, validate, expand, schema, summary) imports TensorFlow.
Everything printed for a person goes through :mod:`inceptionspec.core.escape`.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import mmap
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from inceptionspec.core import escape as esc
from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import SourceError, SpecError, UsageError
from inceptionspec.core.files import reason
from inceptionspec.data.errors import DataError

# The command is a process of its own: pydantic's plugin discovery (a scan of every installed
# distribution's entry points, a tenth of a second with TensorFlow installed) has nothing to
# instrument in it. A user's explicit setting wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INVALID, EXIT_USAGE, EXIT_BUG = 1, 2, 3
#: The reader of our output went away: 128 + SIGPIPE, what a shell reports for a tool SIGPIPE stopped.
EXIT_PIPE = 141


def _stderr(text: str) -> None:
    """A message for the person at the terminal: control characters shown, never sent."""
    click.echo(esc.terminal(text), err=True)


def _stdout(text: str, nl: bool = True) -> None:
    """Output a command produces (JSON, YAML, SVG ... escaped for their format); a failed write
    is an I/O error that says where it went, and a reader that went away ends the command."""
    try:
        click.echo(text, nl=nl)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise UsageError(f"standard output: cannot write: {reason(exc)}") from None


def _stdout_bytes(data: bytes) -> None:
    """Binary output (a PNG) or encoded text, as :func:`_stdout` treats text."""
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise UsageError(f"standard output: cannot write: {reason(exc)}") from None


def _reader_gone() -> None:
    """The pipe we print to was closed: print nothing more (the interpreter's final flush too)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(EXIT_PIPE)


def _flush() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:
        raise UsageError(f"standard output: cannot write: {reason(exc)}") from None


def _bug_report(exc: BaseException, spec: object) -> str:
    """What an unexpected exception tells the user: that it is a bug, which spec, where; no traceback
    (``INCEPTIONSPEC_TRACEBACK=1`` adds one, for the bug report)."""
    import traceback  # a bug report is rare: no start-up cost otherwise

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}inceptionspec{os.sep}" in f.filename] or frames
    where = f" at {Path(ours[-1].filename).name}:{ours[-1].lineno} in {ours[-1].name}" if ours else ""
    detail = esc.line(str(exc).splitlines()[0][:200]) if str(exc) else ""
    text = (
        f"internal error while processing {spec}: {type(exc).__name__}{': ' + detail if detail else ''}{where}\n"
        "this is a bug in inceptionspec, not a problem with the spec; please report it with the spec "
        "(set INCEPTIONSPEC_TRACEBACK=1 for the full trace)"
    )
    if os.environ.get("INCEPTIONSPEC_TRACEBACK"):
        text += "\n" + "".join(traceback.format_exception(exc))
    return text


def _guard(func: F | None = None, *, invalid: int = EXIT_INVALID) -> Any:
    """Turn every failure into a message and an exit code; never a traceback. ``invalid``: the
    exit code of an invalid spec (``diff`` says 2, trouble, as GNU diff does)."""

    def decorate(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                try:
                    return func(*args, **kwargs)
                finally:
                    _flush()  # here, so that a closed pipe or a full disk is reported like the rest
            except BrokenPipeError:
                _reader_gone()
            except SourceError as err:
                _stderr(f"error: {err.format()}")
                sys.exit(EXIT_USAGE)
            except (SpecError, DataError) as err:
                _stderr(err.format())
                sys.exit(invalid)
            except UsageError as err:
                _stderr(f"error: {err}")
                sys.exit(EXIT_USAGE)
            except MemoryError:
                _out_of_memory(_spec_of(None, kwargs))
            except OSError as err:
                if err.errno == errno.ENOMEM:  # a file operation that ran out of memory
                    _out_of_memory(_spec_of(None, kwargs))
                _stderr(f"error: {err.filename or 'standard output'}: {reason(err)}")
                sys.exit(EXIT_USAGE)
            except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
                raise
            except Exception as exc:  # a RecursionError too: every bound is checked first, so it is a bug
                _stderr(_bug_report(exc, _spec_of(exc, kwargs)))
                sys.exit(EXIT_BUG)

        return wrapper  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


#: Address space set aside by :func:`run` and given back when memory runs out, so that saying so
#: does not run out too (an anonymous mapping never touched: it costs no resident memory).
_reserve: mmap.mmap | None = None


def _out_of_memory(spec: str) -> NoReturn:
    """Say so and end: in the CLI's own process (:func:`run`) at once, since after a MemoryError the
    interpreter's shutdown (the SystemExit, thread and module teardown) can run out again and change
    the exit status to 1; called in another program's process (``main`` from a test), by SystemExit."""
    global _reserve
    message = (
        f"error: {spec}: out of memory (the process has less than the 300 MB docs/threat-model.md budgets "
        "for one command)"
    )
    if _reserve is None:
        _stderr(message)
        sys.exit(EXIT_USAGE)
    _reserve.close()
    _reserve = None
    with contextlib.suppress(Exception):
        sys.stderr.flush()
        os.write(2, (esc.terminal(message) + "\n").encode("utf-8", "replace"))
    os._exit(EXIT_USAGE)


def _spec_of(exc: BaseException | None, kwargs: dict[str, Any]) -> str:
    """The spec a command was working on, for a message."""
    spec = getattr(exc, "inceptionspec_spec", None)
    if spec:
        return str(spec)
    if kwargs.get("a") and kwargs.get("b"):
        return f"{kwargs['a']} and {kwargs['b']}"
    return str(next((a for a in kwargs.get("specs", ()) or [kwargs.get("spec")] if a), "?"))


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


def weights_options(command: Any) -> Any:
    """``--weights-from``, ``--weights-layout`` and ``--partial``: one meaning in every command that
    loads weights (`build`, `train`, `export`)."""
    options = [
        click.option(
            "--weights-from",
            "weights_from",
            metavar="SOURCE",
            help="Copy weights from a .keras / .weights.h5 file, keras:InceptionV3 / keras:InceptionResNetV2 "
            "(ImageNet weights; keras:NAME@none for random ones), or a PyTorch checkpoint (.safetensors; "
            ".pth / .pt / .bin with torch installed) of timm or torchvision.",
        ),
        click.option(
            "--weights-layout",
            metavar="NAME",
            help="The checkpoint's layout (timm_inception_v4, torchvision_googlenet, ...); "
            "recognised from its tensor names by default.",
        ),
        click.option(
            "--partial", is_flag=True, help="Load what fits; layers without weights of their shape keep theirs."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def check_weights_options(weights_from: str | None, weights_layout: str | None, partial: bool) -> None:
    if not weights_from and (weights_layout or partial):
        raise UsageError("--weights-layout and --partial apply to --weights-from")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inceptionspec")
def main() -> None:
    """Define, check, compare and build Inception-family networks from YAML specs.

    SPEC is a path to a YAML file or the name of a shipped spec (see `inceptionspec list`).
    """
    # One short-lived process: collecting cycles among the hundred thousand objects a large spec
    # makes took 40 % of the time of a 5,000-layer diff, and freed nothing.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    if not os.environ.get("INCEPTIONSPEC_TRACEBACK"):
        # A Rust extension (pydantic-core) that panics when memory runs out, with RUST_BACKTRACE=1
        # in the environment, deadlocks capturing the backtrace: the command would hang, not exit 2.
        os.environ["RUST_BACKTRACE"] = "0"


def run() -> None:
    """The console script and ``python -m inceptionspec.cli``: :func:`main`, with memory running out
    anywhere in it (click's parsing, a command, the guard's own handler) an exit 2 that says so."""
    global _reserve
    _reserve = mmap.mmap(-1, 4 << 20)
    try:
        main()
    except MemoryError:
        _out_of_memory(" ".join(sys.argv[1:3]) or "inceptionspec")


# The commands register themselves on `main`.
from inceptionspec.cli import (  # noqa: E402, F401
    build,
    compare,
    draw,
    evaluate,
    explore,
    export,
    importer,
    specs,
    summary,
    train,
)
