"""The hostile corpus (tests/hostile/, described in its README.md): every file through the CLI.

Each file runs as ``python -m inceptionspec.cli validate FILE`` in a subprocess limited to 300 MB of
address space (``RLIMIT_AS``) and 2 s of CPU; its wall time must stay under 2 s, Python's start-up
included. The exit code and the first location must be the ones in tests/hostile/expected.yaml, every
diagnostic must be located, and nothing may print a traceback or run a command.

The limits are the development machine's: a slower or busier machine scales them by the pace
measured at the start (tests/pace.py: CPU and wall time of validating a trivial spec). Time and
peak memory are the CLI process's own (a small launcher process waits for it), never those of the
pytest process that starts it. ``python tests/test_hostile.py`` prints the time
and memory of every file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from limited import Run
from limited import run_limited as launch
from pace import Pace

import inceptionspec.lang.loader as loader
from inceptionspec.core.errors import SpecError
from inceptionspec.lang.library import shipped

CORPUS = Path(__file__).parent / "hostile"
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))

WALL_LIMIT = 2.0  # seconds, Python start-up included
CPU_LIMIT = 2.0  # seconds of user + system time
MEMORY_LIMIT = 300 << 20  # bytes of address space
PWNED = Path("/tmp/inceptionspec-hostile-pwned")  # what the python/object tags in the corpus would create

HEADER = "version: 1\nname: hostile\ninput: [32, 32, 3]\nclasses: 10\n"
STAGES = "stages:\n  - conv: {filters: 8, kernel: 3}\n"
LOCATED = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): \S")


# --- running the CLI with limits -------------------------------------------------------------------


def run_limited(args: list[str], cwd: Path, kill_after: float) -> Run:
    """The CLI under tests/limited.py's launcher: its own CPU time and peak memory, a hard stop for a
    runaway (SIGXCPU at 9 s, room for a slow machine); the tests hold CPU time to its limit."""
    return launch(args, cwd, memory_mb=MEMORY_LIMIT >> 20, cpu_seconds=int(CPU_LIMIT * 4) + 1, kill_after=kill_after)


# --- files too big or too special to commit -----------------------------------------------------


def _big_5mb(path: Path) -> None:
    line = "# " + "padding " * 12 + "\n"
    path.write_text(HEADER + STAGES + line * (5 * (1 << 20) // len(line) + 1), encoding="utf-8")


def _huge_scalar(path: Path) -> None:
    path.write_text(HEADER + STAGES + "title: " + "a" * ((1 << 20) - 200) + "\n", encoding="utf-8")


def _too_many_values(path: Path) -> None:
    path.write_text("# 60,000 values\n" + HEADER + STAGES + "title: [" + ",".join(["1"] * 60_000) + "]\n")


def _many_type_errors(path: Path) -> None:
    path.write_text("# 4,000 mistakes\n" + HEADER + "stages:\n" + "  - conv: {filters: x, kernel: 3}\n" * 4000)


def _many_unknown_keys(path: Path) -> None:
    path.write_text("# 15,000 keys\n" + HEADER + STAGES + "".join(f"key{i}: 1\n" for i in range(15_000)))


def _extends_symlink_escape(path: Path) -> None:
    (path.parent / "inside.yaml").symlink_to("/etc/passwd")
    path.write_text("version: 1\nextends: inside.yaml\nname: escape\n")


def _extends_fifo(path: Path) -> None:
    os.mkfifo(path.parent / "fifo.yaml")
    path.write_text("version: 1\nextends: fifo.yaml\nname: fifo\n")


def _dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere" / "spec.yaml")


def _fifo(path: Path) -> None:
    os.mkfifo(path)  # opening it for reading would wait forever for a writer


GENERATORS = {
    "big_5mb.yaml": _big_5mb,
    "huge_scalar.yaml": _huge_scalar,
    "too_many_values.yaml": _too_many_values,
    "many_type_errors.yaml": _many_type_errors,
    "many_unknown_keys.yaml": _many_unknown_keys,
    "extends_symlink_escape.yaml": _extends_symlink_escape,
    "extends_fifo.yaml": _extends_fifo,
    "dangling_link.yaml": _dangling_link,
    "fifo.yaml": _fifo,
}


# --- the pace (tests/pace.py) and a summary ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pace(tmp_path_factory: pytest.TempPathFactory) -> Pace:
    """How much slower than the reference machine, and than its own CPU time, a trivial run takes here now."""
    folder = tmp_path_factory.mktemp("baseline")
    (folder / "ok.yaml").write_text(HEADER + STAGES)
    runs = [run_limited(["validate", "ok.yaml"], folder, kill_after=60) for _ in range(3)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    return Pace.from_trivial_runs([(r.wall, r.cpu) for r in runs])


STATS: list[tuple[str, Run]] = []


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest):
    yield
    if not STATS:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    wall = max(STATS, key=lambda s: s[1].wall)
    cpu = max(STATS, key=lambda s: s[1].cpu)
    rss = max(STATS, key=lambda s: s[1].rss_mb)
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nhostile corpus: {len(STATS)} files; slowest {wall[0]} {wall[1].wall:.2f} s wall; "
                f"most CPU {cpu[0]} {cpu[1].cpu:.2f} s; most memory {rss[0]} {rss[1].rss_mb:.0f} MB"
            )


# --- the test ------------------------------------------------------------------------------------


def test_the_peak_memory_measured_is_the_cli_process_own(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(HEADER + STAGES)
    ballast = bytearray(400 << 20)  # pytest's own resident set grows by 400 MB (zero-filled: touched)
    run = run_limited(["validate", "ok.yaml"], tmp_path, kill_after=60)
    del ballast
    assert run.returncode == 0, run.stderr
    # The CLI validating a trivial spec needs some tens of MB, nowhere near pytest's 400 MB and more.
    assert 10 < run.rss_mb < 200, f"{run.rss_mb:.0f} MB"
    assert 0 < run.cpu < CPU_LIMIT and 0 < run.wall


def test_every_file_in_the_corpus_has_an_expectation():
    on_disk = {p.name for p in CORPUS.iterdir() if p.name not in ("README.md", "expected.yaml", "chain")}
    committed = {name for name, e in EXPECTED.items() if not e.get("generate")}
    assert on_disk == committed
    assert set(GENERATORS) == {name for name, e in EXPECTED.items() if e.get("generate")}
    assert len(EXPECTED) >= 30


def _params():
    for name, expect in EXPECTED.items():
        marks = [pytest.mark.xfail(reason=expect["xfail"], strict=True)] if expect.get("xfail") else []
        yield pytest.param(name, expect, id=name, marks=marks)


@pytest.mark.parametrize("name, expect", list(_params()))
def test_hostile_file(name: str, expect: dict, pace: Pace, tmp_path: Path) -> None:
    if expect.get("generate"):
        cwd = tmp_path
        GENERATORS[name](tmp_path / name)
    else:
        cwd = CORPUS
    PWNED.unlink(missing_ok=True)
    wall_limit, cpu_limit = pace.wall_limit(WALL_LIMIT), pace.cpu_limit(CPU_LIMIT)
    run = run_limited(["validate", name], cwd, kill_after=max(2 * wall_limit, 5.0))
    STATS.append((name, run))
    output = run.stdout + run.stderr

    assert not run.killed, f"{name}: killed after {run.wall:.1f} s"
    assert run.returncode == expect["exit"], output
    assert "Traceback" not in output and "internal error" not in output, output
    assert not PWNED.exists(), f"{name} ran a command"
    assert run.cpu <= cpu_limit, f"{name}: {run.cpu:.2f} s of CPU (limit {cpu_limit:.2f} s; {pace})"
    assert run.wall <= wall_limit, f"{name}: {run.wall:.2f} s wall (limit {wall_limit:.2f} s; {pace})"

    if expect["exit"] == 1:
        # Every diagnostic is located: `file:line:col: message`, with via notes and a summary line.
        lines = [line for line in run.stderr.splitlines() if line and not line.startswith(("    ", "... and "))]
        assert lines, output
        for line in lines:
            match = LOCATED.match(line)
            assert match and int(match["line"]) >= 1 and int(match["col"]) >= 1, line
    if expect["at"] is None:
        assert expect["message"] in output, output
        return
    at = expect["at"] if expect["at"].count(":") == 2 else f"{name}:{expect['at']}"
    located = [line for line in run.stderr.splitlines() if line.startswith(f"{at}: ")]
    assert located, f"no diagnostic at {at}:\n{run.stderr[:2000]}"
    assert any(expect["message"] in line for line in located), f"at {at}, expected {expect['message']!r}:\n{located}"


def test_python_tags_did_not_run_anything():
    """After the corpus ran, the command the python/object tags would have run left no file behind."""
    assert not PWNED.exists()


if __name__ == "__main__":  # pragma: no cover - a measuring tool: python tests/test_hostile.py
    import tempfile

    print(f"{'file':34} {'exit':>4} {'wall s':>7} {'cpu s':>6} {'rss MB':>7}")
    for name, expect in EXPECTED.items():
        with tempfile.TemporaryDirectory() as folder:
            cwd = Path(folder) if expect.get("generate") else CORPUS
            if expect.get("generate"):
                GENERATORS[name](cwd / name)
            r = run_limited(["validate", name], cwd, kill_after=30)
            print(f"{name:34} {r.returncode:>4} {r.wall:7.2f} {r.cpu:6.2f} {r.rss_mb:7.0f}")


# --- the pure-Python parser (PyYAML without libyaml) agrees with libyaml -------------------------


def _parse(path: Path) -> object:
    try:
        return ("ok", loader.to_plain(loader.load_file(path)))
    except SpecError as err:
        d = err.errors[0]
        return ("error", d.loc.line, d.loc.col, d.message.split(":")[0])


@pytest.mark.parametrize(
    "path",
    sorted(p for p in CORPUS.glob("*.yaml") if p.is_file()) + sorted(shipped().values()),
    ids=lambda p: p.name,
)
def test_pure_python_parser_agrees_with_libyaml(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if loader._CParser is None:
        pytest.skip("PyYAML without libyaml: only the pure-Python parser is there")
    fast = _parse(path)
    monkeypatch.setattr(loader, "_CParser", None)
    assert _parse(path) == fast
