"""Where the two sides come from: paths, shipped names, loaded specs, PATH@REV (git)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from inceptionspec.analysis import analyze_graph
from inceptionspec.compare.compare import compare
from inceptionspec.compare.records import Diff, Side
from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Loc, SourceError, SpecError, UsageError
from inceptionspec.ir import lower
from inceptionspec.lang.library import find
from inceptionspec.lang.loader import decode
from inceptionspec.lang.models import Spec
from inceptionspec.lang.pipeline import load
from inceptionspec.lang.resolve import SpecText

# --- loading: paths, shipped names, PATH@REV, loaded specs ---------------------------------


SpecSource = str | Path | Spec


def diff(
    a: SpecSource,
    b: SpecSource,
    include_aux: bool = True,
    overrides: list[str] | None = None,
    budget: Budget | None = None,
) -> Diff:
    """What changed from A to B.

    A and B are paths, shipped names, ``PATH@REV`` (the file at a git revision) or
    loaded :class:`Spec` objects; ``overrides`` (``--set`` strings) apply to both.
    Raises SpecError for an invalid spec (SourceError for a source that cannot be read)."""
    budget = budget or Budget()
    side_a = _side(a, overrides, include_aux, budget)
    if _same_source(a, b):  # read, lowered and analysed once: the same file could not differ from itself
        side_b = Side(str(b) if not isinstance(b, Spec) else b.name, side_a.name, side_a.analysis)
    else:
        side_b = _side(b, overrides, include_aux, budget)
        count_a, count_b = len(side_a.analysis.layers), len(side_b.analysis.layers)
        budget.spend(
            "max_diff_layers",
            count_a + count_b,
            side_b.analysis.graph.spec.loc or Loc(side_b.source, 1, 1),
            f"A has {count_a:,} layers, B {count_b:,}; the largest shipped network has 781",
        )
    return compare(side_a, side_b, include_aux, budget)


def _same_source(a: SpecSource, b: SpecSource) -> bool:
    """Whether A and B name one source: the same loaded spec, the same name or ``PATH@REV``, the same file."""
    if isinstance(a, Spec) or isinstance(b, Spec):
        return a is b
    if str(a) == str(b):
        return True
    try:
        return Path(a).is_file() and Path(b).is_file() and Path(a).samefile(b)
    except OSError:
        return False


def _side(source: SpecSource, overrides: list[str] | None, include_aux: bool, budget: Budget) -> Side:
    if isinstance(source, Spec):
        if overrides:
            raise UsageError(f"{source.name}: overrides apply to a path or name, not to an already loaded spec")
        spec, label = source, source.name
    else:
        label = str(source)
        spec = load(_readable(source, budget), overrides, budget)
    graph = lower(spec, include_aux, budget)
    return Side(label, spec.name, analyze_graph(graph, budget))


def _readable(source: str | Path, budget: Budget) -> str | Path | SpecText:
    """The source itself, or for ``PATH@REV`` the file's text at that revision."""
    text = str(source)
    from inceptionspec.importer import is_model_source, readable

    if is_model_source(source):  # a .keras file or keras:NAME, imported on the fly
        return readable(source, budget)
    if isinstance(source, Path) or "@" not in text or Path(text).exists():
        return source
    return read_revision(text, budget)


def read_revision(source: str, budget: Budget | None = None) -> SpecText:
    """``PATH@REV``: the file as it was at git revision REV (``git show REV:path`` in its repository).

    PATH may be a shipped name.  Relative ``extends`` of the old text resolve at the same
    revision (the parent as it was then); shipped names resolve to the installed specs.
    SourceError when git, the repository, the revision or the file at that revision is missing."""
    budget = budget or Budget()
    spelled, _, rev = source.rpartition("@")
    if not spelled or not rev or rev.startswith("-"):
        raise _source_error(f"{source}: expected PATH@REV, e.g. specs/googlenet.yaml@HEAD")
    path = Path(spelled)
    if not path.exists():
        try:
            path = find(spelled)
        except SourceError:
            pass  # a file that exists only at the revision
    path = path.absolute()
    if not path.parent.is_dir():
        raise _source_error(f"{source}: no directory {path.parent}")
    top = _git(["rev-parse", "--show-toplevel"], path.parent, f"{source}: {path.parent} is not in a git repository")
    root = Path(top.decode().strip()).resolve()
    folder = path.parent.resolve()
    try:
        relative = (folder / path.name).relative_to(root).as_posix()
    except ValueError:
        raise _source_error(f"{source}: {path} is outside its git repository {root}") from None
    data = _git(["show", f"{rev}:{relative}"], root, f"{source}: no {relative} at revision {rev}")
    return _at_revision(data, folder / path.name, root, rev, budget)


def _at_revision(data: bytes, path: Path, root: Path, rev: str, budget: Budget) -> SpecText:
    """A file's text at ``rev``, able to read the files beside it at the same revision."""
    display = f"{path.relative_to(root).as_posix()}@{rev}"
    if len(data) > budget.max_file_bytes:
        raise SpecError.at(
            Loc(display, 1, 1), f"the file is {len(data)} bytes; specs are limited to {budget.max_file_bytes} bytes"
        )

    def sibling(other: Path) -> SpecText | None:
        try:
            relative = other.relative_to(root).as_posix()
        except ValueError:
            return None  # outside the repository (only with --allow-outside-extends)
        if not _is_file_at(root, rev, relative):
            return None
        data = _git(["show", f"{rev}:{relative}"], root, f"no {relative} at revision {rev}")
        return _at_revision(data, other, root, rev, budget)

    return SpecText(decode(data, display), path, display, sibling, f"revision {rev}")


def _source_error(message: str) -> SourceError:
    """``"SOURCE: reason"`` as a SourceError (a SpecError: the API raises nothing else for bad input)."""
    source, _, reason = message.partition(": ")
    return SourceError(source, reason) if reason else SourceError(message, "cannot be read")


def _git(args: list[str], cwd: Path, failure: str) -> bytes:
    """Run git (an argv list, no shell) in ``cwd``; SourceError(failure + git's reason) if it fails."""
    done = _run_git(args, cwd, failure)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise _source_error(failure + (f" (git: {reason[0].removeprefix('fatal: ')})" if reason else ""))
    return done.stdout


def _is_file_at(root: Path, rev: str, relative: str) -> bool:
    done = _run_git(["cat-file", "-t", f"{rev}:{relative}"], root, f"{relative}@{rev}")
    return done.returncode == 0 and done.stdout.strip() == b"blob"


def _run_git(args: list[str], cwd: Path, failure: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise _source_error(f"{failure} (git is not installed)")
    try:
        return subprocess.run([git, *args], cwd=cwd, capture_output=True, timeout=60, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _source_error(f"{failure} ({exc})") from None
