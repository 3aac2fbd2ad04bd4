"""The drawing tree: boxes that size themselves (sequences, branches, frames) and the diagram."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from inceptionspec.analysis.report import human
from inceptionspec.ops import fmt_shape

FORMATS = ("svg", "dot", "mermaid", "html")
DEPTHS = ("block", "layer")

# --- metrics (px) ---------------------------------------------------------------------

FONT = "'DejaVu Sans Mono', 'Menlo', 'Consolas', 'Liberation Mono', monospace"
FONT_SIZE = 12
SMALL_SIZE = 11
CHAR_W = 0.6 * FONT_SIZE + 0.1  # a monospace advance, with a little slack for other fonts
SMALL_CHAR_W = 0.6 * SMALL_SIZE + 0.1
LINE_H = 15  # baseline to baseline in multi-line boxes
PAD_X = 8  # text to box edge
UNIT_H = 22  # a one-line box
GAP_IN = 16  # the arrow between two layers inside a block
GAP_TOP = 34  # the arrow between two top-level rows (a shape label beside it)
SPLIT_H = 24  # block input → bar → branch tops
MERGE_H = 24  # branch bottoms → bar → first merge box
BAR = 8  # where the split / merge bar sits in those bands
BRANCH_GAP = 14
SHORTCUT_W = 26  # the lane of a residual block's shortcut
TITLE_H = 24
FRAME_PAD = 10
STACK = 4  # offset of each "card" behind a collapsed repeat
MARGIN = 20
HEADER_H = 46
SIDE_VGAP = 24
LEGEND_H = 16  # one line of the legend under the subtitle
LEGEND_W = 640  # the legend wraps at this width, or at the picture's when it is wider


def text_w(text: str, small: bool = False) -> float:
    return len(text) * (SMALL_CHAR_W if small else CHAR_W)


# --- the drawing tree ----------------------------------------------------------------

Span = tuple[str, str]  # (text, style): "" plain, "b" bold, "s" small grey, "m" muted


def spans_w(spans: list[Span]) -> float:
    return sum(text_w(t, small=(c == "s")) for t, c in spans)


@dataclass(eq=False)
class Box:
    """A node of the layout: size (w, h), axis (x offset where arrows enter and leave),
    position (x, y: top-left, absolute). ``shape`` is the output shape it hands on."""

    w: float = 0.0
    h: float = 0.0
    ax: float = 0.0
    x: float = 0.0
    y: float = 0.0
    shape: tuple[int, ...] = ()
    #: Extra CSS classes of the box (a diff picture marks added, removed and changed boxes).
    mark: str = ""

    def children(self) -> list[Box]:
        return []

    def measure(self) -> None:
        raise NotImplementedError

    def place(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    @property
    def axis(self) -> float:
        return self.x + self.ax

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def walk(self) -> Iterator[Box]:
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(eq=False)
class Unit(Box):
    """One box: a layer (a conv unit folded with its BN and activation), a merge, a whole
    block at block depth, or the input / an output."""

    id: str = ""
    lines: list[list[Span]] = field(default_factory=list)
    style: str = "misc"
    tip: str = ""
    layers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # block names a block box stands for

    def measure(self) -> None:
        self.w = max(spans_w(line) for line in self.lines) + 2 * PAD_X
        self.h = UNIT_H if len(self.lines) == 1 else len(self.lines) * LINE_H + 9
        self.ax = self.w / 2


@dataclass(eq=False)
class Seq(Box):
    """Items one under the other, aligned on their axes; ``labels[i]`` is written beside
    the arrow from item i to item i+1."""

    items: list[Box] = field(default_factory=list)
    gap: float = GAP_IN
    labels: list[str] | None = None

    def children(self) -> list[Box]:
        return list(self.items)

    def measure(self) -> None:
        for item in self.items:
            item.measure()
        left = max(i.ax for i in self.items)
        right = max(i.w - i.ax for i in self.items)
        if self.labels:
            left = max(left, max(text_w(t, small=True) for t in self.labels) + 12)
        self.w, self.ax = left + right, left
        self.h = sum(i.h for i in self.items) + self.gap * (len(self.items) - 1)
        self.shape = self.items[-1].shape

    def place(self, x: float, y: float) -> None:
        super().place(x, y)
        for item in self.items:
            item.place(x + self.ax - item.ax, y)
            y += item.h + self.gap


@dataclass(eq=False)
class Par(Box):
    """Branches side by side, then the merge boxes (concat; projection, add) under them."""

    branches: list[Seq] = field(default_factory=list)
    merges: list[Unit] = field(default_factory=list)
    residual: bool = False

    def children(self) -> list[Box]:
        return [*self.branches, *self.merges]

    @property
    def lane(self) -> float:
        return SHORTCUT_W if self.residual else 0.0

    def measure(self) -> None:
        for part in self.children():
            part.measure()
        self._bw = sum(b.w for b in self.branches) + BRANCH_GAP * (len(self.branches) - 1)
        self._bh = max(b.h for b in self.branches)
        content = max([self._bw, *(m.w for m in self.merges)])
        self.w = self.lane + content
        self.ax = self.lane + content / 2
        self.h = SPLIT_H + self._bh + (MERGE_H + sum(m.h for m in self.merges) + GAP_IN * (len(self.merges) - 1))
        if not self.merges:
            self.h = SPLIT_H + self._bh
        self.shape = self.merges[-1].shape if self.merges else self.branches[0].shape

    def place(self, x: float, y: float) -> None:
        super().place(x, y)
        bx = x + self.ax - self._bw / 2
        for branch in self.branches:
            branch.place(bx, y + SPLIT_H)
            bx += branch.w + BRANCH_GAP
        my = y + SPLIT_H + self._bh + MERGE_H
        for merge in self.merges:
            merge.place(x + self.ax - merge.ax, my)
            my += merge.h + GAP_IN


@dataclass(eq=False)
class Frame(Box):
    """A titled box around a block's body (a top-level block, a head, a collapsed repeat)."""

    id: str = ""
    title: list[Span] = field(default_factory=list)
    body: Box | None = None
    copies: int = 1
    tip: str = ""
    style: str = "frame"
    names: tuple[str, ...] = ()
    foldable: bool = False
    name: str = ""
    kind: str = ""
    params: int = 0

    def children(self) -> list[Box]:
        return [self.body] if self.body is not None else []

    @property
    def stack(self) -> float:
        return 2 * STACK if self.copies > 1 else 0.0

    @property
    def inner_w(self) -> float:
        return self.w - self.stack

    @property
    def summary(self) -> str:
        """What a folded frame shows on its right: ``17×17×1024 · 2.8M params``."""
        return f"{fmt_shape(self.shape)} · {human(self.params)} params"

    @property
    def folded_h(self) -> float:
        return TITLE_H + self.stack

    def title_x(self) -> float:
        return self.x + FRAME_PAD + (2 * CHAR_W if self.foldable else 0)

    def measure(self) -> None:
        assert self.body is not None
        self.body.measure()
        title = spans_w(self.title) + 2 * FRAME_PAD + (2 * CHAR_W if self.foldable else 0)
        inner = max(title, self.body.w + 2 * FRAME_PAD)
        self.w = inner + self.stack
        self.h = TITLE_H + FRAME_PAD + self.body.h + FRAME_PAD + self.stack
        self.ax = (inner - self.body.w) / 2 + self.body.ax
        self.shape = self.body.shape

    def place(self, x: float, y: float) -> None:
        super().place(x, y)
        assert self.body is not None
        self.body.place(x + self.ax - self.body.ax, y + TITLE_H + FRAME_PAD)


@dataclass(eq=False)
class Side:
    """A head drawn beside the main column, tapping row ``tap``."""

    group: Seq
    tap: int
    conn_y: float = 0.0
    gutter_x: float = 0.0


@dataclass(eq=False)
class Diagram:
    name: str
    title: str
    subtitle: str
    column: Seq
    sides: list[Side]
    width: float = 0.0
    height: float = 0.0
    #: What the abbreviations in the boxes mean, (abbreviation, meaning), those used only.
    legend: list[tuple[str, str]] = field(default_factory=list)
    #: The legend set in lines under the subtitle (made when the diagram is placed).
    legend_lines: list[list[Span]] = field(default_factory=list)

    @property
    def rows(self) -> list[Box]:
        return self.column.items

    def boxes(self) -> Iterator[Box]:
        yield from self.column.walk()
        for side in self.sides:
            yield from side.group.walk()
