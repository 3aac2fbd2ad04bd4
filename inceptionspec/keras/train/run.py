"""The run directory: where a training run keeps what it made, and how it survives a crash.

``RUN_DIR`` holds ``model.keras``, ``best.keras``, ``history.csv``, ``metrics.json``,
``curves.png``, ``classes.json``, ``spec.yaml``, ``tensorboard/`` and ``checkpoint/``. Every
file is written to a temporary name and renamed into place, so a reader (or a killed run) never
sees half a file. ``checkpoint/state.json`` is the commit point of an epoch: it names the
weights file of the last completed epoch and holds the history; ``history.csv`` is rewritten
from it, so after a crash the same command continues at the next epoch and no row is repeated.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inceptionspec.core.errors import UsageError
from inceptionspec.data.errors import shown

HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
STATE = Path("checkpoint") / "state.json"


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed over it)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def fingerprint(settings: dict[str, Any]) -> str:
    """What makes two invocations the same run (the spec after expansion, the data, the settings)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class State:
    """What survives a crash: written at the end of every epoch, after that epoch's weights."""

    fingerprint: str
    seed: int
    epoch: int = 0  # epochs completed
    weights: str | None = None  # checkpoint/epoch-NNNN.weights.h5 of the last completed epoch
    rows: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    wall_seconds: float = 0.0
    finished: bool = False

    @classmethod
    def read(cls, run: Path) -> State | None:
        path = run / STATE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise UsageError(
                f"{shown(path)}: not a run's state ({exc}); remove the run directory to start over"
            ) from None

    def write(self, run: Path) -> None:
        (run / STATE).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(run / STATE, json.dumps(self.__dict__, indent=1))


def history_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, HISTORY_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in HISTORY_COLUMNS})
    return out.getvalue()


def choose(out: Path | None, name: str, fingerprint: str, runs: Path = Path("runs")) -> tuple[Path, State | None]:
    """The run directory, and its state when the run is to be continued.

    With ``--out``: a new or empty directory starts a run; one holding an unfinished run of the
    same settings continues it; anything else is refused. Without: the newest unfinished
    ``runs/NAME-N`` with the same settings continues, or a new ``runs/NAME-(N+1)`` starts."""
    if out is not None:
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {shown(out)}: not a directory")
        state = State.read(out) if out.is_dir() else None
        if state is None:
            if out.is_dir() and any(not p.name.startswith("worker-") for p in out.iterdir()):
                raise UsageError(f"--out {shown(out)}: not empty and not a run directory; choose a new one")
            out.mkdir(parents=True, exist_ok=True)
            return out, None
        if state.finished:
            raise UsageError(f"--out {shown(out)}: holds a finished run; choose another directory")
        if state.fingerprint != fingerprint:
            raise UsageError(
                f"--out {shown(out)}: holds an unfinished run with other settings (spec, data, batch size, "
                "epochs or seed); run the same command to continue it, or choose another directory"
            )
        return out, state
    pattern = re.compile(rf"^{re.escape(name)}-(\d+)$")
    numbered = sorted(
        ((int(m.group(1)), p) for p in (runs.iterdir() if runs.is_dir() else []) if (m := pattern.match(p.name))),
        reverse=True,
    )
    for _, path in numbered:
        state = State.read(path)
        if state is not None and not state.finished and state.fingerprint == fingerprint:
            return path, state
    n = numbered[0][0] + 1 if numbered else 1
    runs.mkdir(parents=True, exist_ok=True)
    while True:  # mkdir claims the number: two runs started together get two directories
        path = runs / f"{name}-{n}"
        with contextlib.suppress(FileExistsError):
            path.mkdir()
            return path, None
        n += 1


def plot_curves(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Loss and accuracy per epoch, training and validation, as a PNG (matplotlib, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [r["epoch"] for r in rows]
    figure = Figure(figsize=(8, 3.2), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)  # the Agg renderer: no display, no global backend switch
    for axis, metric, label in zip(figure.subplots(1, 2), ("loss", "accuracy"), ("loss", "accuracy"), strict=True):
        for prefix, style in (("", "-"), ("val_", "--")):
            values = [r.get(prefix + metric) for r in rows]
            if any(v is not None for v in values):
                axis.plot(
                    epochs, values, style, marker="o", markersize=3, label=f"{'validation' if prefix else 'training'}"
                )
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title, fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_atomic(path, buffer.getvalue())
