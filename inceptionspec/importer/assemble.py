"""The draft of the imported spec: stages, heads, templates, defaults and names, from the decomposition."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from inceptionspec.core.names import ROOT, SpecPath
from inceptionspec.importer.archive import refuse
from inceptionspec.importer.compact import (
    CLASSIFIER_KINDS,
    HEAD_KINDS,
    Group,
    Run,
    all_ops,
    choose_defaults,
    find_runs,
    find_templates,
    leaf_names,
    name_scope,
    name_top,
    set_leaves,
    structure,
    template_def,
    template_name,
    to_items,
    unify_names,
    unit_paths,
)
from inceptionspec.importer.fold import Folded
from inceptionspec.importer.names import meaningful, param_name, sanitize, unique
from inceptionspec.importer.structure import Decomposed
from inceptionspec.importer.tree import BNode, Node, ONode, build_tree
from inceptionspec.lang.writer import Draft, HeadDef


@dataclass
class Assembled:
    draft: Draft
    #: residual add unit → the unit its shortcut reads
    shortcut_of: dict[int, int]
    #: output unit ids in the order the spec's heads produce them
    outputs: list[int]


def _units_in(node: Node) -> set[int]:
    if isinstance(node, ONode):
        return {node.uid} if node.uid is not None else set()
    found = set(node.units.values())
    for branch in node.branches:
        for child in branch:
            found |= _units_in(child)
    return found


def _split_main_head(trunk: list[Node], taps: set[int], has_aux: bool, display: str) -> int:
    """Where the main head starts in the trunk: the trailing classifier ops, after every tapped item."""
    start = len(trunk)
    while start > 1 and isinstance(trunk[start - 1], ONode) and trunk[start - 1].kind in HEAD_KINDS:
        start -= 1
    tapped = [i for i, node in enumerate(trunk) if _units_in(node) & taps]
    if tapped:
        start = max(start, tapped[-1] + 1)
    suffix = trunk[start:]
    if any(isinstance(n, ONode) and n.kind in CLASSIFIER_KINDS for n in suffix):
        return start
    if not has_aux:
        return len(trunk)  # no heads: the network's output is the end of its stages
    if start < len(trunk):
        return start
    raise refuse(display, "another output reads the main output's last layer; a spec's heads start in its stages")


def _templates(groups: list[Group]) -> dict[str, tuple[BNode, list[str]]]:
    """Turn each group into a template body (with its parameters) and its instances into calls."""
    bodies: dict[str, tuple[BNode, list[str]]] = {}
    candidates = [template_name(group) for group in groups]
    shared = {c for c in candidates if candidates.count(c) > 1}
    taken: set[str] = set()
    letters: dict[str, int] = {}
    for group, candidate in zip(groups, candidates, strict=True):
        if candidate in shared:  # mixed, mixed, mixed → mixed_a, mixed_b, mixed_c
            letters[candidate] = letters.get(candidate, 0) + 1
            candidate = f"{candidate}_{_letters(letters[candidate])}"
        group.name = unique(candidate, taken)
        first = group.instances[0]
        body = copy.deepcopy(first.copies[0] if isinstance(first, Run) else first)
        places = leaf_names(body)
        used: set[str] = set()
        names = [unique(param_name(places[indices[0]]), used) for indices in group.params]
        set_leaves(body, {i: f"${name}" for name, indices in zip(names, group.params, strict=True) for i in indices})
        bodies[group.name] = (body, names)
        for instance in group.instances:
            node = instance.copies[0] if isinstance(instance, Run) else instance
            values = structure(node)[1]
            node.template = group.name
            node.call_args = [values[indices[0]] for indices in group.params] or None
    return bodies


def _letters(n: int) -> str:
    """1 → a, 26 → z, 27 → aa."""
    text = ""
    while n:
        n, rest = divmod(n - 1, 26)
        text = chr(ord("a") + rest) + text
    return text


def assemble(folded: Folded, decomposed: Decomposed, name: str | None, source: str) -> Assembled:
    builder, trunk, head_nodes = build_tree(folded, decomposed)
    taps = {head.tap for head in decomposed.heads}
    start = _split_main_head(trunk, taps, bool(decomposed.heads), folded.display)
    stages, main_items = trunk[:start], trunk[start:]

    tops = find_runs(stages)
    groups = find_templates(tops)
    grouped = {id(i) for g in groups for i in g.instances}
    for group in groups:
        unify_names([copy for i in group.instances for copy in (i.copies if isinstance(i, Run) else [i])])
    for top in tops:
        if isinstance(top, Run) and id(top) not in grouped:
            unify_names(list(top.copies))
    name_top(tops)

    heads: dict[str, list[Node]] = {}
    head_taken = {"main"}
    main_name = "main"
    if main_items:
        heads[main_name] = main_items
    for index, (path, items) in enumerate(zip(decomposed.heads, head_nodes, strict=True), 1):
        label = sanitize(path.name) if path.name else meaningful(folded.units[path.output].layer)
        heads[unique(label or f"aux{index}", head_taken)] = items
    for items in heads.values():
        name_scope(items, nested=False)

    paths: dict[int, SpecPath] = {}
    unit_paths(tops, ROOT, paths, top=True)
    bodies = _templates(groups)

    classes = _classes(heads)
    for items in heads.values():
        last = items[-1]
        if classes is not None and isinstance(last, ONode) and last.kind == "dense" and last.args["units"] == classes:
            last.args["units"] = "$classes"

    written: list[Node] = [*all_ops(tops)]
    for body, _ in bodies.values():
        written += all_ops([BNode(None, body.branches, body.branch_names, body.merge)])
    for items in heads.values():
        written += all_ops(items)
    defaults = choose_defaults([n for n in written if isinstance(n, ONode)])

    templates = {tname: template_def(body, params, defaults) for tname, (body, params) in bodies.items()}
    head_defs: dict[str, HeadDef] = {}
    if main_items:
        head_defs[main_name] = HeadDef(to_items(main_items, defaults))
    for (head_name, items), path in zip(list(heads.items())[1 if main_items else 0 :], decomposed.heads, strict=True):
        if path.tap not in paths:
            layer = folded.units[path.tap].layer
            raise refuse(folded.display, f"{layer}: an output reads a layer the spec cannot name")
        training_only = path.output in folded.training_only
        tap = paths[path.tap].dotted
        head_defs[head_name] = HeadDef(to_items(items, defaults), tap=tap, training_only=training_only)
    draft = Draft(
        name=name or sanitize(folded.name) or "imported",
        input=list(folded.input_shape),
        stages=to_items(tops, defaults),
        classes=classes,
        title=f"Imported from {source}",
        header=[f"Imported by `inceptionspec import` from {source}."],
        defaults=defaults,
        templates=templates,
        heads=head_defs,
    )
    outputs = [decomposed.main_output] + [head.output for head in decomposed.heads]
    return Assembled(draft, builder.shortcut_of, outputs)


def _classes(heads: dict[str, list[Node]]) -> int | None:
    for items in heads.values():
        last = items[-1]
        if isinstance(last, ONode) and last.kind == "dense" and isinstance(last.args.get("units"), int):
            return int(last.args["units"])
    return None
