"""Compaction: the tree as a person would write it. Identical consecutive blocks become one block with
``repeat``; blocks of the same structure that differ only in values become one template with
parameters (the values that differ) called once per block; values most ops of a kind share go into
``defaults``; names are made valid and unique, generated where the source has none.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from inceptionspec.core.names import SpecPath
from inceptionspec.importer.names import block_name, sanitize, unique
from inceptionspec.importer.tree import BNode, Node, ONode
from inceptionspec.ir import INPUT
from inceptionspec.lang.resolve import scope_names
from inceptionspec.lang.writer import BlockItem, Item, OpItem, TemplateDef
from inceptionspec.ops import OPS, BNSettings

#: A template with more parameters than this is harder to read than the blocks written out.
MAX_PARAMS = 12
#: Arguments put in ``defaults`` when most ops of the kind share them (the rest tell one op from the next).
DEFAULTABLE = {
    "conv": {"strides", "dilation", "padding", "bias", "norm", "bn", "activation", "order"},
    "maxpool": {"size", "strides", "padding", "ceil"},
    "avgpool": {"size", "strides", "padding", "ceil", "count_pad"},
    "bn": {"epsilon", "momentum", "scale", "center"},
    "lrn": {"size", "alpha", "beta", "bias"},
}
#: (op kind, argument) that may differ between the blocks one template writes.
PARAMETRIC = {
    ("conv", "filters"),
    ("dense", "units"),
    ("dropout", "rate"),
    ("residual", "scale"),
    ("residual", "activation"),
    ("conv", "bn"),
}
#: Ops of a kind that must share a value before it becomes a default.
MIN_SHARED = 3
#: Kinds that may end a network as its main head (a classifier).
HEAD_KINDS = {
    "avgpool",
    "maxpool",
    "global_avgpool",
    "global_maxpool",
    "adaptive_avgpool",
    "flatten",
    "dropout",
    "dense",
    "act",
}
CLASSIFIER_KINDS = {"dense", "global_avgpool", "global_maxpool", "flatten"}


@dataclass
class Run:
    """Identical consecutive blocks: written once with ``repeat``, named ``base_1`` … ``base_N``."""

    copies: list[BNode]
    base: str | None


Top = ONode | BNode | Run


# --- structure and values ------------------------------------------------------------------------


def _arg_order(kind: str, args: dict[str, Any]) -> list[str]:
    fields = list(OPS[kind].model_fields)
    return sorted(args, key=lambda k: (fields.index(k) if k in fields else len(fields), k))


def walk(node: Node, tokens: list[Any], values: list[Any]) -> None:
    """The node's structure as tokens and its values (leaves) in a fixed order."""
    if isinstance(node, ONode):
        tokens.append(("op", node.kind))
        for key in _arg_order(node.kind, node.args):
            value = node.args[key]
            if isinstance(value, dict):
                for sub in sorted(value):
                    tokens.append(("leaf", node.kind, key, sub))
                    values.append(value[sub])
            else:
                tokens.append(("leaf", node.kind, key))
                values.append(value)
        return
    residual = node.merge != "concat"
    tokens.append(("block", residual, len(node.branches)))
    if residual:
        for key, value in node.merge["residual"].items():
            tokens.append(("leaf", "residual", key))
            values.append(value)
    for branch in node.branches:
        tokens.append(("branch", len(branch)))
        for child in branch:
            walk(child, tokens, values)


def structure(node: Node) -> tuple[str, list[Any]]:
    tokens: list[Any] = []
    values: list[Any] = []
    walk(node, tokens, values)
    return json.dumps(tokens), values


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# --- repeats and templates ---------------------------------------------------------------------------


def find_runs(items: list[Node]) -> list[Top]:
    """Consecutive equal blocks → runs, when their names allow it (``x_1`` … ``x_N``, or none)."""
    out: list[Top] = []
    k = 0
    while k < len(items):
        node = items[k]
        end = k + 1
        if isinstance(node, BNode):
            key = structure(node)
            while end < len(items) and isinstance(items[end], BNode) and _same(structure(items[end]), key):
                end += 1
        copies = items[k:end]
        base = _run_base([c.name for c in copies]) if len(copies) > 1 else None  # type: ignore[union-attr]
        if len(copies) > 1 and base is not False:
            out.append(Run(copies, base))  # type: ignore[arg-type]
        else:
            out.extend(copies[:1])
            end = k + 1
        k = end
    return out


def _run_base(names: list[str | None]) -> str | None | bool:
    """``block35`` for ``block35_1`` … ``block35_N``; None when no copy is named; False otherwise."""
    if all(n is None for n in names):
        return None
    first = names[0]
    match = re.fullmatch(r"(.+)_1", first or "")
    if match and all(n == f"{match.group(1)}_{i}" for i, n in enumerate(names, 1)):
        return match.group(1)
    return False


@dataclass
class Group:
    """Blocks of one structure written as one template: the instances and which values vary."""

    name: str
    instances: list[Top]
    #: Parameters: each a list of leaf indices that always hold the same value.
    params: list[list[int]]


def find_templates(tops: list[Top]) -> list[Group]:
    """Blocks with the same structure and geometry (kernels, strides, padding …) that differ only in
    widths, rates, residual scales and activations: one group per template."""
    by_structure: dict[str, list[Top]] = {}
    for top in tops:
        if isinstance(top, ONode):
            continue
        first = top.copies[0] if isinstance(top, Run) else top
        tokens, values = structure(first)
        leaves = [t for t in json.loads(tokens) if t[0] == "leaf"]
        fixed = [v for leaf, v in zip(leaves, values, strict=True) if tuple(leaf[1:3]) not in PARAMETRIC]
        by_structure.setdefault(tokens + json.dumps(fixed, sort_keys=True), []).append(top)
    groups = []
    for instances in by_structure.values():
        if len(instances) < 2:
            continue
        rows = [structure(i.copies[0] if isinstance(i, Run) else i)[1] for i in instances]
        columns: dict[str, list[int]] = {}
        for index in range(len(rows[0])):
            column = [row[index] for row in rows]
            if any(not _same(column[0], v) for v in column[1:]):
                columns.setdefault(json.dumps(column, sort_keys=True), []).append(index)
        if len(columns) > MAX_PARAMS:
            continue
        groups.append(Group("", instances, list(columns.values())))
    return groups


def unify_names(trees: list[Node], root: bool = True) -> None:
    """Names inside copies of one structure: kept where every copy agrees, else left to be generated.
    The copies' own names (``root``) stay theirs."""
    first = trees[0]
    if isinstance(first, ONode):
        if any(t.name != first.name for t in trees):  # type: ignore[union-attr]
            for t in trees:
                t.name = None  # type: ignore[union-attr]
        return
    blocks: list[BNode] = trees  # type: ignore[assignment]
    if not root and any(b.name != first.name for b in blocks):
        for b in blocks:
            b.name = None
    for i in range(len(first.branches)):
        if any(b.branch_names[i] != first.branch_names[i] for b in blocks):
            for b in blocks:
                b.branch_names[i] = None
        for j in range(len(first.branches[i])):
            unify_names([b.branches[i][j] for b in blocks], root=False)


# --- names -----------------------------------------------------------------------------------------


def name_inside(node: BNode) -> None:
    """Generate the missing names inside a block, and make every name unique in its scope."""
    taken: set[str] = set()
    names = []
    for name in node.branch_names:
        names.append(unique(name, taken) if name else None)
    for index, name in enumerate(names):
        names[index] = name or unique(f"branch_{index}", taken)
    node.branch_names = names
    for branch in node.branches:
        name_scope(branch, nested=True)


def name_scope(items: list[Node], nested: bool) -> None:
    taken: set[str] = set()
    for item in items:
        if isinstance(item, BNode):
            if nested and item.source_path is None:
                item.name = None
            if item.name:
                item.name = unique(block_name(item.name), taken)
        elif item.name:
            item.name = unique(item.name, taken)
    for item in items:
        if isinstance(item, BNode):
            if not item.name:
                item.name = unique("split", taken)
            name_inside(item)
    drop_redundant_names(items)


def drop_redundant_names(items: list[Any]) -> None:
    """An op's name that the expander would give it anyway is left out."""
    entries = [_entry(i) for i in items]
    final = scope_names(entries)
    for index, item in enumerate(items):
        if isinstance(item, ONode) and item.name is not None:
            trial = list(entries)
            trial[index] = (item.kind, None)
            if scope_names(trial) == final:
                item.name = None
                entries = trial


def _entry(item: Any) -> tuple[str | None, str | None]:
    if isinstance(item, ONode):
        return item.kind, item.name
    return None, item.base if isinstance(item, Run) else item.name


def name_top(tops: list[Top]) -> None:
    """Names of the stages: blocks and repeat bases unique, generated ``block1`` … where missing."""
    taken: set[str] = {INPUT}  # the IR's name for the network's input
    for top in tops:
        if isinstance(top, ONode) and top.name:
            top.name = unique(top.name, taken)
        elif isinstance(top, BNode) and top.name:
            top.name = unique(block_name(top.name), taken)
        elif isinstance(top, Run) and top.base:
            copies = [f"{top.base}_{i}" for i in range(1, len(top.copies) + 1)]
            if top.base in taken or any(c in taken for c in copies):
                top.base = None
            else:
                taken.update([top.base, *copies])
    counter = 0
    for top in tops:
        if isinstance(top, BNode) and not top.name:
            counter += 1
            while f"block{counter}" in taken:
                counter += 1
            top.name = unique(f"block{counter}", taken)
        elif isinstance(top, Run) and not top.base:
            counter += 1
            while any(n in taken for n in _run_names(f"block{counter}", top)):
                counter += 1
            top.base = f"block{counter}"
            taken.update(_run_names(top.base, top))
        if isinstance(top, Run):
            for index, copy in enumerate(top.copies, 1):
                copy.name = f"{top.base}_{index}"
    for top in tops:
        for block in top.copies if isinstance(top, Run) else [top] if isinstance(top, BNode) else []:
            name_inside(block)
    drop_redundant_names(tops)


def _run_names(base: str, run: Run) -> list[str]:
    return [base] + [f"{base}_{i}" for i in range(1, len(run.copies) + 1)]


def template_name(group: Group) -> str:
    names = []
    for instance in group.instances:
        names.append(instance.base if isinstance(instance, Run) else instance.name)
    prefix = names[0] or ""
    for name in names[1:]:
        while not (name or "").startswith(prefix):
            prefix = prefix[:-1]
    if prefix not in names:  # inception_3a, inception_3b → inception; block8, block8_10 → block8
        prefix = re.sub(r"[_\d]+$", "", prefix)
    return block_name(sanitize(prefix) or "block")


# --- paths (what the expander will call every layer) -------------------------------------------------


def op_output_part(node: ONode) -> str | None:
    """The name of the primitive that gives an op's output (``relu`` after ``conv``, ``bn``, ``relu``);
    None when that is the op's own layer."""
    op = OPS[node.kind].model_validate({**node.args, "name": "x"})
    return op.lower()[-1].name


def unit_paths(items: list[Any], prefix: SpecPath, paths: dict[int, SpecPath], top: bool) -> None:
    """IR paths of the units' outputs; a top-level item's output is tapped by the item's name."""
    names = scope_names([_entry(i) for i in items])
    for item, name in zip(items, names, strict=True):
        if isinstance(item, ONode):
            if item.uid is not None:
                part = None if top else op_output_part(item)
                paths[item.uid] = prefix / name / part if part else prefix / name
            continue
        for block in item.copies if isinstance(item, Run) else [item]:
            path = prefix / block.name
            block_paths(block, path, paths)
            if top:
                paths[block.out] = path


def block_paths(block: BNode, path: SpecPath, paths: dict[int, SpecPath]) -> None:
    for branch_name, branch in zip(block.branch_names, block.branches, strict=True):
        unit_paths(branch, path / branch_name, paths, top=False)
    for role in ("concat", "projection", "add"):
        if role in block.units:
            paths[block.units[role]] = path / role
    if "act" in block.units:
        paths[block.units["act"]] = path / block.merge["residual"]["activation"]


# --- defaults and items ---------------------------------------------------------------------------------


def builtin_defaults(kind: str) -> dict[str, Any]:
    out = {}
    for key, field in OPS[kind].model_fields.items():
        if key == "name" or field.is_required():
            continue
        default = field.get_default(call_default_factory=True)
        out[key] = default.model_dump() if isinstance(default, BNSettings) else default
    return out


def choose_defaults(ops: list[ONode]) -> dict[str, dict[str, Any]]:
    """For each kind used at least three times: the values more than half of its ops share."""
    by_kind: dict[str, list[ONode]] = {}
    for op in ops:
        by_kind.setdefault(op.kind, []).append(op)
    chosen: dict[str, dict[str, Any]] = {}
    for kind, group in by_kind.items():
        if kind not in DEFAULTABLE or len(group) < MIN_SHARED:
            continue
        builtin = builtin_defaults(kind)
        counts: dict[str, Counter[str]] = {}
        for op in group:
            for key, value in op.args.items():
                if key not in DEFAULTABLE[kind] or _is_param(value):
                    continue
                counts.setdefault(key, Counter())[json.dumps(value, sort_keys=True)] += 1
        picked: dict[str, Any] = {}
        for key in _arg_order(kind, counts):
            text, count = counts[key].most_common(1)[0]
            value = json.loads(text)
            if count >= MIN_SHARED and count * 2 > len(group) and not _same(value, builtin.get(key)):
                if isinstance(value, dict):
                    value = {k: v for k, v in value.items() if not _same(v, builtin[key].get(k))}
                    if not value:
                        continue
                picked[key] = value
        if picked:
            chosen[kind] = picked
    return chosen


def _is_param(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def written_args(op: ONode, defaults: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The arguments an op must write: those that differ from its defaults (bn settings key by key)."""
    effective = builtin_defaults(op.kind)
    for key, value in defaults.get(op.kind, {}).items():
        effective[key] = {**effective[key], **value} if isinstance(value, dict) else value
    out = {}
    args = {**{key: None for key in defaults.get(op.kind, {})}, **op.args}  # an unset argument is None
    for key in _arg_order(op.kind, args):
        value = args[key]
        if value is None and effective.get(key) is not None:
            value = _resolved(op, key)  # what the op does unset, said explicitly: the defaults say otherwise
        if isinstance(value, dict) and isinstance(effective.get(key), dict):
            diff = {k: v for k, v in value.items() if not _same(v, effective[key].get(k))}
            if diff:
                out[key] = diff
        elif not _same(value, effective.get(key)):
            out[key] = value
    return out


def _resolved(op: ONode, key: str) -> Any:
    """The value an argument left unset resolves to, for the arguments whose builtin default is None."""
    if key == "strides":
        return op.args["size"]  # strides equal to the window
    if op.kind == "avgpool" and key == "count_pad":
        return OPS["avgpool"].model_construct(**op.args).counts_padding
    raise AssertionError(f"no explicit form of an unset `{key}` on {op.kind}")


def to_items(nodes: list[Any], defaults: dict[str, dict[str, Any]]) -> list[Item]:
    items: list[Item] = []
    for node in nodes:
        if isinstance(node, ONode):
            items.append(OpItem(node.kind, written_args(node, defaults), node.name))
        elif isinstance(node, Run):
            block = to_block(node.copies[0], defaults)
            block.name, block.repeat = node.base or "", len(node.copies)
            items.append(block)
        else:
            items.append(to_block(node, defaults))
    return items


def to_block(node: BNode, defaults: dict[str, dict[str, Any]]) -> BlockItem:
    if node.template is not None:
        return BlockItem(node.name or "", template=node.template, args=node.call_args)
    branches = {
        name or "": to_items(branch, defaults) for name, branch in zip(node.branch_names, node.branches, strict=True)
    }
    return BlockItem(node.name or "", branches=branches, merge=written_merge(node.merge))


def written_merge(merge: Any) -> Any:
    if merge == "concat":
        return merge
    args = merge["residual"]
    out = {"scale": args["scale"], "activation": args["activation"]}
    for key in ("projection", "projection_bias"):
        if args[key] is not True:
            out[key] = args[key]
    return {"residual": out}


def template_def(body: BNode, params: list[str], defaults: dict[str, dict[str, Any]]) -> TemplateDef:
    block = to_block(body, defaults)
    return TemplateDef(params, block.branches, block.merge)


def all_ops(nodes: list[Any]) -> list[ONode]:
    found: list[ONode] = []
    for node in nodes:
        if isinstance(node, ONode):
            found.append(node)
        elif isinstance(node, Run):
            found.extend(all_ops([node.copies[0]]))
        elif node.template is None:
            for branch in node.branches:
                found.extend(all_ops(branch))
    return found


def set_leaves(node: Node, replace: dict[int, Any]) -> None:
    """Put values (``$param``) at leaf positions, in :func:`walk` order."""
    counter = [0]

    def visit(n: Node) -> None:
        def take(value: Any) -> Any:
            index = counter[0]
            counter[0] += 1
            return replace.get(index, value)

        if isinstance(n, ONode):
            for key in _arg_order(n.kind, n.args):
                value = n.args[key]
                if isinstance(value, dict):
                    n.args[key] = {sub: take(value[sub]) for sub in sorted(value)}
                else:
                    n.args[key] = take(value)
            return
        if n.merge != "concat":
            residual = n.merge["residual"]
            for key in list(residual):
                residual[key] = take(residual[key])
        for branch in n.branches:
            for child in branch:
                visit(child)

    visit(node)


def leaf_names(node: BNode) -> list[list[str]]:
    """For each leaf (in :func:`walk` order), where it is: branch, block, op and argument names."""
    found: list[list[str]] = []

    def visit(n: Node, where: list[str], own_name: str) -> None:
        if isinstance(n, ONode):
            own = [] if own_name == n.kind else [own_name]
            for key in _arg_order(n.kind, n.args):
                label = [] if key in ("filters", "units") else [key]
                value = n.args[key]
                for sub in sorted(value) if isinstance(value, dict) else [None]:
                    found.append([*where, *own, *label, *([sub] if sub else [])])
            return
        inside = [*where, own_name] if own_name else where
        if n.merge != "concat":
            found.extend([[*inside, key] for key in n.merge["residual"]])
        for branch_name, branch in zip(n.branch_names, n.branches, strict=True):
            names = scope_names([_entry(i) for i in branch])
            for child, name in zip(branch, names, strict=True):
                visit(child, [*inside, branch_name or ""], name or "")

    visit(node, [], "")
    return found
