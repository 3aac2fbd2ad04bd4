"""The examples of README.md and docs/: found in the markdown, and run in a sandbox.

Used by ``tests/test_docs_examples.py``; the conventions are documented in docs/design.md
("The docs"). In short:

* ```` ```sh ```` / ```` ```bash ````: one command per line (``\\`` continues it), each run by bash;
  it must exit 0, or the status its comment names: ``inceptionspec diff a b  # exits 1: they differ``.
* ```` ```console ````: ``$ command`` lines, each followed by what it prints (standard output and
  error, as a terminal shows them); ``…`` in the output stands for any text, and a line of its own
  ``…`` for any number of lines. Exit statuses as for ``sh``.
* ```` ```python ````: the page's Python blocks run in order in one interpreter, like one session.
* A ```` ```text ```` block right after an ``sh`` or ``python`` block is that block's output.
* ``<!-- spec: NAME.yaml -->`` before a ```` ```yaml ```` block (the site's directive) writes the block
  to NAME.yaml for the blocks after it (``spec(1)``: the spec must be invalid).
* ``<!-- illustrative: WHY -->`` on the line before a fence: the block is not run (WHY is required).
  ``<!-- heavy -->``: the block runs only with ``pytest -m heavy`` (it builds full-size Keras models).

The sandbox is a temporary directory holding a copy of ``specs/`` committed to a fresh git
repository (what a checkout shows), with ``inceptionspec`` and ``python`` on ``PATH`` running this
interpreter. It has no network, so ImageNet weights are replaced by random ones of the same shapes:
``weights="imagenet"`` → ``weights=None``, ``keras:InceptionV3`` → ``keras:InceptionV3@none``.

Run as a script (``python docs_examples.py PLAN.json``) this module is the sandbox's runner: it
executes a page's steps in order and prints one JSON result per step.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: Languages the harness runs; other fences (yaml, json, text) are shown, not run.
RUNNABLE = {"sh": "sh", "bash": "sh", "shell": "sh", "console": "console", "python": "python", "py": "python"}
OUTPUT_LANGS = ("text", "output")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
_MARKER = re.compile(r"^\s*<!-- (?P<kind>illustrative|heavy|spec)(?:\((?P<code>\d+)\))?(?::\s*(?P<arg>.*?))?\s*-->\s*$")
_EXITS = re.compile(r"\s#.*\bexits? (?P<code>\d+)\b")

#: The sandbox has no network: these edits make the ImageNet examples run with random weights.
OFFLINE = [
    (re.compile(r"""weights\s*=\s*["']imagenet["']"""), "weights=None"),
    (re.compile(r"\bkeras:(InceptionV3|InceptionResNetV2)\b(?!@)"), r"keras:\1@none"),
]


def pages() -> list[Path]:
    """README.md and every page under docs/ (the hook's own folder excepted)."""
    docs = sorted(p for p in (ROOT / "docs").rglob("*.md") if "_hooks" not in p.parts)
    return [ROOT / "README.md", *docs]


@dataclass
class Block:
    page: str  # relative to the repository
    line: int  # the opening fence's line, 1-based
    lang: str  # the fence's first word, lower-case ("" when none)
    code: str
    marker: str = ""  # "illustrative", "heavy", "spec" or ""
    reason: str = ""  # an illustrative block's why; a spec block's file name
    spec_exit: int = 0
    output: str | None = None  # the text block that follows, for sh and python

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def kind(self) -> str:
        """sh, console, python, spec, or "" for a block that is only shown."""
        if self.marker == "spec":
            return "spec"
        return RUNNABLE.get(self.lang, "")


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a markdown file, in order, with their markers."""
    page = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = previous_end = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = len(m["indent"]), m["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            close = _FENCE.match(lines[j])
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence) and not close["info"]:
                break
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j].lstrip())
            j += 1
        block = Block(page, i + 1, (m["info"].split() or [""])[0].lower(), "\n".join(body))
        marker = _MARKER.match(lines[i - 1]) if i > 0 else None
        if marker:
            block.marker = marker["kind"]
            block.reason = (marker["arg"] or "").strip()
            block.spec_exit = int(marker["code"] or 0)
        previous = out[-1] if out else None
        if (
            previous is not None
            and block.lang in OUTPUT_LANGS
            and previous.kind in ("sh", "python")
            and previous.output is None
            and all(not line.strip() for line in lines[previous_end + 1 : i])
        ):
            previous.output = block.code
        else:
            out.append(block)
        previous_end = j
        i = j + 1
    return out


# --- the plan: what a page's run does ---------------------------------------------------------


def _offline(text: str) -> str:
    for pattern, replacement in OFFLINE:
        text = pattern.sub(replacement, text)
    return text


def _commands(code: str) -> list[str]:
    """The commands of a shell block: one per line, ``\\`` continuing it; comments kept."""
    out: list[str] = []
    pending = ""
    for line in code.splitlines():
        if pending:
            line = pending + "\n" + line
            pending = ""
        if line.rstrip().endswith("\\"):
            pending = line
            continue
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line)
    if pending:
        out.append(pending)
    return out


def _expected_exit(command: str) -> int:
    m = _EXITS.search(command.splitlines()[-1])
    return int(m["code"]) if m else 0


def _console(code: str) -> list[tuple[str, str]]:
    """``$ command`` lines and the output printed under each."""
    out: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out and out[-1][1] == [] and out[-1][0].rstrip().endswith("\\") and line.startswith("> "):
            out[-1] = (out[-1][0] + "\n" + line[2:], [])
        elif out:
            out[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in out]


#: Commands that would change the environment the tests run in: their blocks must be illustrative.
_INSTALLS = re.compile(r"\b(pip|pip3|uv|conda|apt-get|apt)\s+(install|uninstall|add|remove)\b")


class NotRunnable(ValueError):
    """A block that must not run in a test and is not marked illustrative."""


def plan(page_blocks: list[Block], heavy: bool) -> list[dict[str, Any]]:
    """The steps that run a page: files to write, commands, Python code; heavy blocks only if asked."""
    for b in page_blocks:
        if b.kind in ("sh", "console") and b.marker != "illustrative" and _INSTALLS.search(b.code):
            raise NotRunnable(f"{b.where}: the block installs packages; mark it <!-- illustrative: WHY -->")
    steps: list[dict[str, Any]] = []
    for b in page_blocks:
        if b.marker == "illustrative" or (b.marker == "heavy" and not heavy):
            continue
        if b.kind == "spec":
            steps.append({"kind": "file", "where": b.where, "path": b.reason, "text": b.code + "\n"})
            steps.append({"kind": "spec", "where": b.where, "path": b.reason, "exit": b.spec_exit})
        elif b.kind == "sh":
            commands = _commands(b.code)
            for n, command in enumerate(commands):
                last = n == len(commands) - 1
                steps.append(
                    {
                        "kind": "sh",
                        "where": b.where,
                        "command": _offline(command),
                        "exit": _expected_exit(command),
                        "output": b.output if last else None,
                    }
                )
        elif b.kind == "console":
            for command, output in _console(b.code):
                steps.append(
                    {
                        "kind": "sh",
                        "where": b.where,
                        "command": _offline(command),
                        "exit": _expected_exit(command),
                        "output": output,
                    }
                )
        elif b.kind == "python":
            steps.append({"kind": "python", "where": b.where, "code": _offline(b.code), "output": b.output})
    return steps


# --- output ------------------------------------------------------------------------------------


def output_pattern(expected: str) -> re.Pattern[str]:
    """The shown output as a pattern: exact, but for trailing spaces and ``…`` (any text; alone on
    a line, any lines)."""
    parts: list[str] = []
    for line in expected.strip("\n").splitlines():
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(r"[^\n]*?".join(re.escape(piece) for piece in line.rstrip().split("…")) + r"[ \t]*\n")
    return re.compile("".join(parts))


def output_matches(expected: str, actual: str) -> bool:
    text = "\n".join(line.rstrip() for line in actual.strip("\n").splitlines()) + "\n"
    return output_pattern(expected).fullmatch(text) is not None


# --- the sandbox -------------------------------------------------------------------------------


@dataclass
class Sandbox:
    folder: Path
    env: dict[str, str] = field(default_factory=dict)


def make_sandbox(folder: Path) -> Sandbox:
    """A checkout's view in ``folder/work``: specs/ committed to git; the commands on PATH."""
    work, bin_dir = folder / "work", folder / "bin"
    work.mkdir()
    bin_dir.mkdir()
    shutil.copytree(ROOT / "specs", work / "specs")
    for name, line in (
        ("inceptionspec", f'exec "{sys.executable}" -m inceptionspec.cli "$@"'),
        ("python", f'exec "{sys.executable}" "$@"'),
    ):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\n{line}\n", encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ)
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        NO_COLOR="1",
        COLUMNS="100",
        TF_CPP_MIN_LOG_LEVEL="3",
        GIT_AUTHOR_NAME="docs",
        GIT_AUTHOR_EMAIL="docs@example.invalid",
        GIT_COMMITTER_NAME="docs",
        GIT_COMMITTER_EMAIL="docs@example.invalid",
    )
    env.pop("FORCE_COLOR", None)
    for args in (["init", "-q"], ["add", "specs"], ["commit", "-q", "-m", "specs"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    return Sandbox(work, env)


def run_page(sandbox: Sandbox, steps: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    """Run the steps in the sandbox (one interpreter for the page); one result per step run."""
    plan_file = sandbox.folder.parent / "plan.json"
    plan_file.write_text(json.dumps(steps), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(plan_file)],
        cwd=sandbox.folder,
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 and (not results or results[-1]["ok"]):
        message = f"the runner exited {proc.returncode}:\n{proc.stderr[-3000:]}"
        results.append({"where": "runner", "ok": False, "message": message})
    return results


# --- the runner (in the sandbox's interpreter) --------------------------------------------------


def _report(where: str, ok: bool, message: str = "") -> None:
    sys.__stdout__.write(json.dumps({"where": where, "ok": ok, "message": message}) + "\n")
    sys.__stdout__.flush()


def _check_output(step: dict[str, Any], shown: str) -> str:
    expected = step.get("output")
    if expected is None or output_matches(expected, shown):
        return ""
    return f"the output differs from the page's.\n--- the page shows:\n{expected}\n--- it printed:\n{shown}"


def main(plan_path: str) -> int:
    steps = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for step in steps:
        where, kind = step["where"], step["kind"]
        if kind == "file":
            path = Path(step["path"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(step["text"], encoding="utf-8")
            continue
        if kind in ("sh", "spec"):
            command = step["command"] if kind == "sh" else f"inceptionspec validate {step['path']}"
            proc = subprocess.run(
                ["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
            )
            shown = proc.stdout
            problem = ""
            if proc.returncode != step["exit"]:
                problem = f"`{command.strip()}` exited {proc.returncode}, not {step['exit']}:\n{shown[-3000:]}"
            else:
                problem = _check_output(step, shown)
        else:
            buffer = io.StringIO()
            problem = ""
            try:
                with contextlib.redirect_stdout(buffer):
                    exec(compile(step["code"], where, "exec"), namespace)  # noqa: S102 - the docs' own code
            except BaseException:
                problem = "the Python block raised:\n" + traceback.format_exc(limit=-4)
            if not problem:
                problem = _check_output(step, buffer.getvalue())
        _report(where, not problem, problem)
        if problem:
            return 1
    return 0


def describe(results: list[dict[str, Any]]) -> str:
    return "\n".join(f"{r['where']}: {r['message']}" for r in results if not r["ok"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
