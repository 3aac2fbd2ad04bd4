"""Stage 3a — resolve variants: ``extends``, ``overrides`` and ``--set``, on located data.

A spec that ``extends`` another is deep-merged onto it (mappings merge key by
key, ``null`` removes a key, lists replace), then its ``overrides`` are applied.
An override addresses a place by names, never by list positions:

* ``classes: 10``, ``width.multiplier: 0.5``, ``heads.aux1: null`` — keys;
* ``inception_4c.n3x3: 320`` — a template argument of a stage block, by name;
* ``templates.inception.branches.5x5.conv.kernel: 3`` — a layer of a branch,
  by its name (explicit, or generated as the expander will: ``conv``, ``conv_2``);
* ``inception_4e: null`` — remove a block; ``inception_4e@after: [...]`` /
  ``@before`` — insert items next to it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Collector, Loc, SourceError, SpecError, UsageError, did_you_mean, one_of
from inceptionspec.core.files import reason
from inceptionspec.lang.library import find, shipped
from inceptionspec.lang.loader import LocDict, LocList, load_file, parse_text
from inceptionspec.lang.text import TITLE_CHARS
from inceptionspec.ops import USER_OPS

#: Top-level keys an override path can start with (anything else names a stage item).
TOP_KEYS = (
    "version",
    "name",
    "title",
    "description",
    "references",
    "input",
    "classes",
    "width",
    "depth",
    "defaults",
    "templates",
    "stages",
    "heads",
    "training",
    "preprocessing",
    "weights",
)


def merge(base: Any, patch: Any) -> Any:
    """Deep merge of located data: mappings by key (null deletes), anything else replaces."""
    if not (isinstance(base, dict) and isinstance(patch, dict)):
        return patch
    out = LocDict(loc=base.loc if isinstance(base, LocDict) else None)
    for key, value in base.items():
        out.set(key, value, base.key_locs.get(key), base.value_locs.get(key))
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
            continue
        merged = merge(out[key], value) if key in out else value
        out.set(key, merged, patch.key_locs.get(key), patch.value_locs.get(key))
    return out


@dataclass(frozen=True)
class SpecText:
    """A spec's text read from elsewhere than its file (the file at a git revision, for ``diff``).

    ``path`` is the file it is a version of: relative ``extends`` resolve next to it.
    ``display`` names it in messages (``specs/googlenet.yaml@HEAD``).  ``sibling``, when
    given, reads another file of the same version (a relative ``extends`` parent at the same
    git revision): it returns the parent's :class:`SpecText`, or None when that version has
    no such file; without it, relative parents are read from disk."""

    text: str
    path: Path
    display: str
    sibling: Callable[[Path], SpecText | None] | None = field(default=None, compare=False, repr=False)
    #: Where the version comes from, for messages (``revision HEAD``).
    origin: str = ""

    def __str__(self) -> str:
        return self.display


def read(source: str | Path | SpecText, budget: Budget | None = None, _chain: tuple[Path, ...] = ()) -> LocDict:
    """Load a spec file (or a :class:`SpecText`) with its ``extends`` chain and ``overrides`` applied."""
    budget = budget or Budget()
    if isinstance(source, SpecText):
        path, display = source.path, source.display
        doc = parse_text(source.text, display, budget)
    else:
        path = find(source)
        display = _display(path)
        doc = load_file(path, budget, display)
    real = path.resolve()
    root_loc = Loc(display, 1, 1)
    if doc is None:
        raise SpecError.at(root_loc, "the file is empty", "a spec starts with `version: 1`")
    if not isinstance(doc, LocDict):
        raise SpecError.at(
            getattr(doc, "loc", None) or root_loc, "a spec is a mapping of keys (`version: 1`, `name: ...`, ...)"
        )
    if "extends" in doc:
        parent_name = doc["extends"]
        loc = doc.value_loc("extends") or root_loc
        if not isinstance(parent_name, str):
            raise SpecError.at(loc, "`extends` is a shipped spec name or a relative path")
        parent = _parent(parent_name, source, path, loc, budget)
        parent_real = (parent.path if isinstance(parent, SpecText) else parent).resolve()
        chain = (*_chain, real)
        if parent_real in chain:
            names = " → ".join(p.name for p in (*chain, parent_real))
            raise SpecError.at(loc, f"`extends` cycle: {names}")
        if len(chain) > budget.max_extends_depth:
            raise SpecError.at(loc, f"`extends` chain longer than {budget.max_extends_depth}")
        try:
            base = read(parent, budget, chain)
        except SourceError as exc:  # the file named was there a moment ago: a spec problem, located
            raise SpecError.at(loc, f"`extends: {parent_name}` cannot be read: {exc.reason}") from None
        own = LocDict(loc=doc.loc)
        for key, value in doc.items():
            if key not in ("extends", "overrides"):
                own.set(key, value, doc.key_locs.get(key), doc.value_locs.get(key))
        overrides = doc.get("overrides")
        if "title" not in own:
            # The parent's title would present the variant as the parent (`render`'s header, the docs).
            label = own["name"] if isinstance(own.get("name"), str) else path.stem
            title = f"{label} — extends {parent_name}"
            title = title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"  # a title is bounded
            own.set("title", title, None, loc)
        doc = merge(base, own)
        if overrides is not None:
            doc["overrides"] = overrides
            doc.value_locs["overrides"] = own.loc
    return apply_overrides(doc, doc.pop("overrides", None), budget=budget)


def _display(path: Path) -> str:
    """How messages name a spec file: a path that opens from the current directory. A path the user
    gave stays as given; a shipped spec (found by name, wherever the package lives) is relative to
    the current directory when it lies under it, else absolute."""
    if not path.is_absolute():
        return str(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)  # as found: resolving links would rename `/proc/self/status` `/proc/1234/status`


#: An `extends` value names a file: at most this many characters (and no control characters, which
#: the loader refuses in every string).
MAX_EXTENDS_CHARS = 255


def _parent(name: str, source: str | Path | SpecText, child: Path, loc: Loc, budget: Budget) -> Path | SpecText:
    """The file a spec ``extends``: a shipped spec, a file next to the child, or — for a child read
    at a git revision — the file next to it at that same revision."""
    if len(name) > MAX_EXTENDS_CHARS:
        raise SpecError.at(
            loc, f"`extends` is {len(name):,} characters long; a file name has at most {MAX_EXTENDS_CHARS}"
        )
    if isinstance(source, SpecText) and source.sibling is not None and _is_relative(name):
        # Lexically, inside the repository as it was: the working tree's files and links do not count.
        folder = posixpath.normpath(child.parent.as_posix())
        target = posixpath.normpath(posixpath.join(folder, name))
        if not budget.allow_outside_extends and not target.startswith(folder.rstrip("/") + "/"):
            raise SpecError.at(
                loc, f"`extends: {name}` leaves the spec's directory", "pass --allow-outside-extends to permit it"
            )
        parent = source.sibling(Path(target))
        if parent is None:
            where = f" at {source.origin}" if source.origin else ""
            raise SpecError.at(loc, f"`extends`: no file {name} next to {child.name}{where}")
        return parent
    return _parent_path(name, child, loc, budget)


def _is_relative(name: str) -> bool:
    return name.endswith(".yaml") or "/" in name and not name.startswith("examples/")


def _parent_path(name: str, child: Path, loc: Loc, budget: Budget) -> Path:
    """The file ``extends: name`` names; a located SpecError when it cannot be followed (a symlink
    loop, a name the file system refuses) as when it is outside the directory or missing."""
    try:
        return _find_parent(name, child, loc, budget)
    except (OSError, RuntimeError, ValueError) as exc:  # ELOOP, ENAMETOOLONG; a loop before Python 3.13; NUL
        raise SpecError.at(loc, f"`extends: {name}` cannot be followed: {reason(exc)}") from None


def _find_parent(name: str, child: Path, loc: Loc, budget: Budget) -> Path:
    if _is_relative(name):
        candidate = child.parent / name
        # The directory check comes first, so a spec cannot probe which files exist elsewhere.
        base = child.parent.resolve()
        if not budget.allow_outside_extends and not candidate.resolve().is_relative_to(base):
            raise SpecError.at(
                loc,
                f"`extends: {name}` leaves the spec's directory",
                "pass --allow-outside-extends to permit it",
            )
        if not candidate.is_file():
            raise SpecError.at(loc, f"`extends`: no file {name} next to {child.name}")
        return candidate
    specs = shipped()
    if name in specs:
        return specs[name]
    raise SpecError.at(
        loc, f"`extends`: unknown spec `{name}`", did_you_mean(name, specs, budget) or "see `inceptionspec list`"
    )


# --- overrides ----------------------------------------------------------------------


def parse_set(text: str, index: int = 0) -> tuple[str, Any, Loc]:
    """``path=value`` from the command line; the value is read as YAML."""
    path, sep, raw = text.partition("=")
    file = f"<--set {index + 1}>"
    if not sep or not path.strip():
        raise UsageError(f"--set {text!r}: expected PATH=VALUE, e.g. inception_4c.n3x3=320")
    value = parse_text(raw, file) if raw.strip() else None
    return path.strip(), value, Loc(file, 1, len(path) + 2)


@dataclass
class _Edit:
    """What applying overrides carries along: the budget (for suggestions) and the names of each
    list of items, made once and kept until that list changes (3,000 overrides of a 3,000-item
    list once named every item for every override: 7 s)."""

    budget: Budget
    scopes: dict[int, tuple[list[Any], list[str | None], dict[str, int]]] = field(default_factory=dict)

    def names(self, items: list[Any]) -> tuple[list[str | None], dict[str, int]]:
        cached = self.scopes.get(id(items))
        if cached is None or cached[0] is not items:  # the list is kept, so its id is not reused
            names = scope_names([item_entry(item) for item in items])
            index = {name: i for i, name in reversed(list(enumerate(names))) if name is not None}
            cached = self.scopes[id(items)] = (items, names, index)
        return cached[1], cached[2]

    def changed(self, items: list[Any]) -> None:
        self.scopes.pop(id(items), None)


def apply_overrides(
    doc: LocDict, overrides: Any, extra: list[tuple[str, Any, Loc]] | None = None, budget: Budget | None = None
) -> LocDict:
    """Apply the ``overrides`` mapping of a spec, then command-line ``--set`` edits."""
    edit = _Edit(budget or Budget())
    edits: list[tuple[str, Any, Loc]] = []
    if overrides is not None:
        if not isinstance(overrides, LocDict):
            raise SpecError.at(doc.value_loc("overrides") or doc.loc, "`overrides` is a mapping of `path: value`")
        for key, value in overrides.items():
            edits.append((str(key), value, overrides.key_loc(key) or overrides.loc))
    edits.extend(extra or [])
    errors = Collector()
    for path, value, loc in edits:
        try:
            _apply(doc, path, value, loc, edit)
        except SpecError as err:
            errors.extend(err)
    errors.raise_if_any()
    return doc


def scope_names(entries: list[tuple[str | None, str | None]]) -> list[str | None]:
    """Names of the items of one scope, given (op kind or None for a block, explicit name).

    The expander and override addressing both call this, so they always agree."""
    taken = {name for _, name in entries if name}
    ordinals: dict[str, int] = {}  # the last ordinal given to each kind
    out: list[str | None] = []
    for kind, explicit in entries:
        if explicit or kind is None:
            out.append(explicit)
            continue
        # Starting after the last ordinal given (not at the count of unnamed items) gives the same
        # names in linear time: 2,500 explicit `conv_N` and 2,500 unnamed convs once cost 6M steps.
        ordinal = ordinals.get(kind, 0) + 1
        name = kind if ordinal == 1 else f"{kind}_{ordinal}"
        while name in taken:
            ordinal += 1
            name = f"{kind}_{ordinal}"
        ordinals[kind] = ordinal
        taken.add(name)
        out.append(name)
    return out


def item_entry(item: Any) -> tuple[str | None, str | None]:
    """(op kind, explicit name) of an op item, (None, block name) of a block item."""
    if not (isinstance(item, dict) and len(item) == 1):
        return None, None
    key, body = next(iter(item.items()))
    if key not in USER_OPS:
        return None, str(key)
    explicit = body.get("name") if isinstance(body, dict) and isinstance(body.get("name"), str) else None
    return key, explicit


def default_name(kind: str, ordinal: int, taken: set[str]) -> str:
    """``conv`` for the first unnamed conv of a scope, then ``conv_2``, ``conv_3`` ...

    Skips a suffix a named item already uses, so names stay unique."""
    name = kind if ordinal == 1 else f"{kind}_{ordinal}"
    while name in taken:
        ordinal += 1
        name = f"{kind}_{ordinal}"
    return name


def _apply(doc: LocDict, path: str, value: Any, loc: Loc, edit: _Edit) -> None:
    depth = edit.budget.max_depth
    parts = path.split(".", depth)
    if len(parts) > depth:
        # Nothing in a spec is deeper than the YAML nesting bound; the walk below recurses per part.
        raise SpecError.at(loc, f"override path `{path[:80]}…` has more than {depth} parts")
    if any(not p for p in parts):
        raise SpecError.at(loc, f"override path `{path}` has an empty part")
    if parts[0] == "stages" or parts[0] not in TOP_KEYS:
        if parts[0] == "stages":
            parts = parts[1:]
        stages = doc.get("stages")
        if not isinstance(stages, list):
            raise SpecError.at(loc, f"override `{path}`: the spec has no `stages`")
        if not parts:
            _set(doc, "stages", value, loc)
            return
        _walk_items(stages, parts, value, loc, path, doc, edit)
    else:
        _walk(doc, parts, value, loc, path, doc, edit)


def _set(container: LocDict, key: Any, value: Any, loc: Loc) -> None:
    if value is None:
        container.pop(key, None)
    else:
        container.set(key, value, loc, getattr(value, "loc", None) or loc)


def _walk(node: Any, parts: list[str], value: Any, loc: Loc, path: str, doc: LocDict, edit: _Edit) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        _walk_items(node, parts, value, loc, path, doc, edit)
        return
    if not isinstance(node, dict):
        raise SpecError.at(loc, f"override `{path}`: `{head}` is inside a value that is not a mapping or list")
    if head not in node:
        # `mixed.b.conv_2` reads like the layer's name: `branches` and `layers` may be left out.
        for container in ("branches", "layers"):
            inner = node.get(container)
            if (isinstance(inner, dict) and head in inner) or (
                isinstance(inner, list) and head.partition("@")[0] in edit.names(inner)[1]
            ):
                _walk(inner, parts, value, loc, path, doc, edit)
                return
    if not rest:
        _set(node, head, value, loc)
        return
    if head not in node:
        if isinstance(node, LocDict):
            node.set(head, LocDict(loc=loc), loc, loc)
        else:
            raise SpecError.at(loc, f"override `{path}`: no `{head}`", did_you_mean(head, node, edit.budget))
    child = node[head]
    if isinstance(child, (str, int, float, bool)) or child is None:
        # A shorthand (`dropout: 0.4`) or an empty body becomes a mapping to edit into.
        op = USER_OPS.get(head)
        child = (
            LocDict(loc=loc)
            if child is None
            else LocDict({op.shorthand: child} if op and op.shorthand else {}, loc=loc)
        )
        node[head] = child
    _walk(child, rest, value, loc, path, doc, edit)


def _is_call(node: dict) -> bool:
    keys = [k for k in node if k != "repeat"]
    return (
        len(keys) == 1
        and keys[0] not in ("branches", "layers", "merge", "kind", "defaults")
        and keys[0] not in USER_OPS
    )


def _walk_call(node: dict, parts: list[str], value: Any, loc: Loc, path: str, doc: LocDict, edit: _Edit) -> None:
    """An edit of a template call's argument, by parameter name."""
    template = next(k for k in node if k != "repeat")
    params = _template_params(doc, template)
    head = parts[0]
    if params is None:
        raise SpecError.at(loc, f"override `{path}`: unknown template `{template}`")
    if head not in params or len(parts) > 1:
        raise SpecError.at(
            loc,
            f"override `{path}`: `{head}` is not a parameter of template `{template}`",
            did_you_mean(head, params, edit.budget) or f"parameters: {one_of(params)}; or edit `templates.{template}`",
        )
    args = node[template]
    if args is None:
        args = node[template] = LocDict(loc=loc)
    if isinstance(args, list):
        index = params.index(head)
        if index >= len(args):
            raise SpecError.at(loc, f"override `{path}`: the call gives only {len(args)} positional arguments")
        args[index] = value
        if isinstance(args, LocList) and index < len(args.item_locs):
            args.item_locs[index] = loc
    elif isinstance(args, dict):
        _set(args, head, value, loc)
    else:
        raise SpecError.at(loc, f"override `{path}`: the call's arguments are not a list or mapping")


def _template_params(doc: LocDict, template: str) -> list[str] | None:
    templates = doc.get("templates")
    if not isinstance(templates, dict) or not isinstance(templates.get(template), dict):
        return None
    params = templates[template].get("params") or []
    return [str(p) for p in params] if isinstance(params, (list, dict)) else []


def _walk_items(items: list[Any], parts: list[str], value: Any, loc: Loc, path: str, doc: LocDict, edit: _Edit) -> None:
    head, rest = parts[0], parts[1:]
    name, _, where = head.partition("@")
    names, index_of = edit.names(items)
    if name not in index_of:
        repeated = _repeat_instance(items, names, name)
        hint = (
            f"`{name}` is made by `repeat` on `{repeated}`; edit `{repeated}` (all its copies)"
            if repeated
            else did_you_mean(name, [n for n in names if n], edit.budget)
            or f"names here: {one_of(n for n in names if n)}"
        )
        raise SpecError.at(loc, f"override `{path}`: no item named `{name}`", hint)
    index = index_of[name]
    if where or not rest or rest[0] == "name":
        edit.changed(items)  # an item added, removed, replaced or renamed: name the list again
    if where:
        if where not in ("after", "before") or rest:
            raise SpecError.at(loc, f"override `{path}`: `@{where}` must be `@after` or `@before` at the end")
        new = value if isinstance(value, list) else [value]
        at = index + 1 if where == "after" else index
        items[at:at] = new
        if isinstance(items, LocList):
            items.item_locs[at:at] = [getattr(v, "loc", None) or loc for v in new]
        return
    if not rest:
        if value is None:
            del items[index]
            if isinstance(items, LocList) and index < len(items.item_locs):
                del items.item_locs[index]
            return
        if isinstance(value, list) and value and all(isinstance(v, dict) and len(v) == 1 for v in value):
            raise SpecError.at(
                loc,
                f"override `{path}`: a list of items cannot replace the one item `{name}`",
                f"insert the new items, then remove it: `{name}@before: [...]` and `{name}: null`; "
                f"on the command line, --set '{name}@before=[...]' --set {name}=null",
            )
        key = next(iter(items[index]))
        items[index][key] = value
        if isinstance(items[index], LocDict):
            items[index].value_locs[key] = getattr(value, "loc", None) or loc
        return
    key, body = next(iter(items[index].items()))
    if key not in USER_OPS and isinstance(body, dict) and _is_call(body) and rest[0] not in body:
        _walk_call(body, rest, value, loc, path, doc, edit)
        return
    _walk(items[index], [key, *rest], value, loc, path, doc, edit)


def _repeat_instance(items: list[Any], names: list[str | None], name: str) -> str | None:
    base, _, number = name.rpartition("_")
    if base in names and number.isdigit():
        body = items[names.index(base)][base]
        if isinstance(body, dict) and isinstance(body.get("repeat"), int) and body["repeat"] > 1:
            return base
    return None
