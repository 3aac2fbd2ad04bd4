"""Stage 3b — expand: templates, repeats, defaults, width scaling and names.

Input: the validated, merged spec as located data.  Output: located data for a
spec with no templates, defaults or scaling left, where every op has all its
arguments and a name, every repeat is unrolled and every head says what it
taps.  The output is itself a valid spec, so expanding it again changes
nothing.  Values taken from a template carry a note saying through which
template and block they came, so later errors point at the right line.
"""

from __future__ import annotations

from typing import Any

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Collector, Loc, SpecError, did_you_mean
from inceptionspec.lang.depth import scale_repeat
from inceptionspec.lang.loader import LocDict, LocList
from inceptionspec.lang.node import quote_key
from inceptionspec.lang.resolve import scope_names
from inceptionspec.ops import USER_OPS

Env = dict[str, tuple[Any, Loc | None]]

_META_KEYS = ("version", "name", "title", "description", "references", "input", "classes", "weights")


def round_filters(filters: int, multiplier: float, divisor: int, minimum: int) -> int:
    """Width scaling as MobileNet/EfficientNet do it: to a multiple of ``divisor``,
    at least ``minimum``, never more than 10% below the exact product."""
    if multiplier == 1.0:
        return filters
    exact = filters * multiplier
    rounded = max(minimum, int(exact + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * exact:
        rounded += divisor
    return rounded


class Expander:
    def __init__(self, doc: LocDict, budget: Budget) -> None:
        self.doc = doc
        self.budget = budget
        self.errors = Collector()
        self.templates: dict[str, Any] = doc.get("templates") or {}
        width = doc.get("width") or {}
        self.multiplier = float(width.get("multiplier", 1.0))
        self.divisor = int(width.get("divisor", 1))
        self.min_filters = int(width.get("min_filters", 1))
        self.depth_multiplier = float((doc.get("depth") or {}).get("multiplier", 1.0))
        self.layers = 0
        self.globals: Env = {"classes": (doc.get("classes", 1000), doc.value_loc("classes"))}
        self._sizes: dict[str, int] = {}  # layers of each template's body, once counted
        self._cut = False  # the count under way stopped at a cycle or at the depth limit
        self.depth = 0  # blocks being expanded, one inside the other
        self.path_bytes = 0  # length of the dotted path of the scope being expanded (`block.branch.`)
        self.template: str | None = None  # the template whose body is being expanded

    def _copies(self, body: Any) -> int:
        """How many copies a block unrolls: its ``repeat``, scaled by ``depth`` when it has one."""
        if "repeat" not in body:
            return 1
        return scale_repeat(body["repeat"], self.depth_multiplier)

    @property
    def _scaled(self) -> str:
        return f" (`depth.multiplier` {self.depth_multiplier:g} applied)" if self.depth_multiplier != 1.0 else ""

    # --- the size, before anything is expanded ---------------------------------------
    def check_size(self) -> None:
        """Count the layers the expansion will make, without making them: a ``repeat``
        multiplies its body, a template call counts its template's body (once per
        template).  Refuses a ``repeat`` over the limit, and a network over the layer
        budget, before a single copy exists.  Every sum stops as soon as it passes the
        budget, so counting costs at most about ``max_layers × max_block_depth`` steps."""
        self.count_layers(refuse=True)
        self.errors.raise_if_any()

    def count_layers(self, refuse: bool = False) -> int:
        """The layers of stages and heads, counted before expansion (at most the primitive layers of
        the IR: an op counts one, a merge one); past the budget the count stops early, and with
        ``refuse`` the item that crosses the budget is a located error."""
        limit = self.budget.max_layers
        doc = self.doc
        scopes: list[Any] = [doc.get("stages") or []]
        heads = doc.get("heads")
        if isinstance(heads, dict):
            scopes += [head.get("layers") or [] for head in heads.values() if isinstance(head, dict)]
        total = 0
        for items in scopes:
            for index, item in enumerate(items):
                size = self._size_item(item, (), 0)
                total += size
                if total > limit and refuse:
                    loc = (items.item_loc(index) if isinstance(items, LocList) else None) or doc.loc
                    alone = f"{size:,}" if size <= limit else f"more than {limit:,}"
                    raise SpecError.at(
                        loc or Loc("<spec>", 1, 1),
                        f"the network has more than {limit:,} layers (this item alone expands to {alone})",
                        "lower a `repeat`",
                    )
        return total

    def _size_items(self, items: Any, stack: tuple[str, ...], depth: int) -> int:
        total = 0
        for item in items if isinstance(items, list) else ():
            total += self._size_item(item, stack, depth)
            if total > self.budget.max_layers:
                break  # the caller refuses it; counting further is wasted work
        return total

    def _size_item(self, item: Any, stack: tuple[str, ...], depth: int) -> int:
        """``stack``: the templates being counted (for cycles); ``depth``: the blocks around the
        item, as :meth:`block` counts them (one per block item, template call or not)."""
        if not (isinstance(item, dict) and len(item) == 1):
            return 1
        key, body = next(iter(item.items()))
        if key in USER_OPS or not isinstance(body, dict):
            return 1
        if depth >= self.budget.max_block_depth:
            self._cut = True
            return 1  # too deep: `block` reports it where it happens
        repeat = body.get("repeat", 1)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            repeat = 1
        elif (repeat := self._copies(body)) > self.budget.max_repeat:
            self.errors.add(
                (body.value_loc("repeat") if isinstance(body, LocDict) else None) or item.loc or Loc("<spec>", 1, 1),
                f"repeat {repeat}{self._scaled} is more than the limit of {self.budget.max_repeat}",
            )
            repeat = 1
        return repeat * max(1, self._size_body(body, stack, depth + 1))

    def _size_body(self, body: Any, stack: tuple[str, ...], depth: int) -> int:
        branches = body.get("branches")
        if isinstance(branches, dict):
            total = 1  # the merge
            for branch in branches.values():
                total += self._size_items(branch.get("layers") if isinstance(branch, dict) else branch, stack, depth)
                if total > self.budget.max_layers:
                    break
            return total
        if body.get("layers") is not None:
            return self._size_items(body["layers"], stack, depth)
        name = next((k for k in body if k != "repeat"), None)
        if not isinstance(name, str) or not isinstance(self.templates.get(name), dict):
            return 1
        if name in stack:  # a cycle: the expander reports it and stops there
            self._cut = True
            return 1
        if name in self._sizes:
            return self._sizes[name]
        # A template's size does not depend on where it is called, unless counting it stopped at
        # a cycle or at the depth limit (which depend on the callers): only whole counts are kept.
        outer, self._cut = self._cut, False
        size = self._size_body(self.templates[name], (*stack, name), depth)
        if not self._cut:
            self._sizes[name] = size
        self._cut = self._cut or outer
        return size

    # --- the document ---------------------------------------------------------------
    def expand(self) -> LocDict:
        self.check_size()
        doc = self.doc
        out = LocDict(loc=doc.loc)
        for key in _META_KEYS:
            if key in doc:
                out.set(key, doc[key], doc.key_locs.get(key), doc.value_locs.get(key))
        chain = [doc["defaults"]] if doc.get("defaults") else []
        stages = self.items(doc["stages"], chain, self.globals, (), ())
        out.set("stages", stages, doc.key_locs.get("stages"), doc.value_locs.get("stages"))
        heads = LocDict(loc=doc.value_loc("heads"))
        last = _last_name(stages)
        known = _layer_names(stages, "")
        for name, head in (doc.get("heads") or {}).items():
            h = LocDict(loc=head.loc)
            tap = last if head.get("from") is None else head["from"]
            if head.get("from") is not None and not _taps_known(tap, known):
                self.errors.add(
                    head.value_loc("from") or head.loc,
                    f"head `{name}` taps unknown block or layer `{tap}`",
                    did_you_mean(tap, known, self.budget),
                )
            h.set("from", tap, head.key_locs.get("from"), head.value_locs.get("from") or head.loc)
            head_chain = chain + ([head["defaults"]] if head.get("defaults") else [])
            self.path_bytes = len(str(name)) + 1
            h.set(
                "layers", self.items(head["layers"], head_chain, self.globals, (), ()), None, head.value_loc("layers")
            )
            self.path_bytes = 0
            for key in ("loss_weight", "training_only"):
                if key in head:
                    h.set(key, head[key], head.key_locs.get(key), head.value_locs.get(key))
            heads.set(name, h, doc["heads"].key_locs.get(name), head.loc)
        out.set("heads", heads, doc.key_locs.get("heads"), doc.value_locs.get("heads"))
        for key in ("training", "preprocessing"):
            if doc.get(key) is not None:
                out.set(key, doc[key], doc.key_locs.get(key), doc.value_locs.get(key))
        self.errors.raise_if_any()
        return out

    # --- items ----------------------------------------------------------------------
    def items(
        self, items: list[Any], chain: list[Any], env: Env, via: tuple[str, ...], stack: tuple[str, ...]
    ) -> LocList:
        out = LocList(loc=getattr(items, "loc", None))
        names = scope_names([self._entry(i, env) for i in items])
        taken = {name for name in names if name}  # block keys and op names, explicit or default
        used: dict[str, Loc] = {}
        for index, item in enumerate(items):
            loc = _at(items.item_loc(index) if isinstance(items, LocList) else None, via)
            key, body = next(iter(item.items()))
            if key in USER_OPS:
                expanded = self.op(key, body, item, chain, env, via, loc)
                name = names[index]
                self.count_name(name, loc)
                expanded[key]["name"] = name
                self._unique(name, loc, used)
                out.append(expanded)
                out.item_locs.append(loc)
                self.layers += 1
            else:
                written = body.get("repeat", 1)
                repeat = self._copies(body)
                if repeat > self.budget.max_repeat:
                    self.errors.add(
                        _at(body.value_loc("repeat"), via),
                        f"repeat {repeat}{self._scaled} is more than the limit of {self.budget.max_repeat}",
                    )
                    continue
                suffix = 0
                for copy in range(1, repeat + 1):
                    if written == repeat == 1:
                        name = key
                    else:
                        suffix += 1
                        # A copy `depth` added is named on, past the names written beside it (Inception-
                        # ResNet-v2's nine `block8` copies are followed by its own `block8_10`).
                        while isinstance(written, int) and copy > written and f"{key}_{suffix}" in taken:
                            suffix += 1
                        name = f"{key}_{suffix}"
                    self.count_name(name, loc)
                    self._unique(name, loc, used)
                    block = self.block(name, body, chain, env, via, loc, stack)
                    if block is not None:
                        entry = LocDict(loc=item.loc)
                        entry.set(name, block, item.key_locs.get(key), loc)
                        out.append(entry)
                        out.item_locs.append(loc)
            if self.layers > self.budget.max_layers:
                raise SpecError.at(loc, f"the network has more than {self.budget.max_layers} layers")
        return out

    def count_name(self, name: object, loc: Loc) -> None:
        """Count the bytes of a layer's or block's dotted name before it is made (a long name copied
        by `repeat` would otherwise cost gigabytes before anything could refuse it)."""
        size = self.path_bytes + (len(name) if isinstance(name, str) else 0)
        self.budget.spend("max_name_bytes", size, loc, "shorten the names, or lower a `repeat`")

    def _entry(self, item: Any, env: Env) -> tuple[str | None, str | None]:
        key, body = next(iter(item.items()))
        if key not in USER_OPS:
            return None, key
        if isinstance(body, dict) and "name" in body:
            value = self.subst(body["name"], env, None, ())
            return key, value if isinstance(value, str) else None
        return key, None

    def _unique(self, name: str, loc: Loc, used: dict[str, Loc]) -> None:
        if name in used:
            self.errors.add(
                loc, f"duplicate name `{name}` (also at line {used[name].line})", "give one of them another `name`"
            )
        else:
            used[name] = loc

    def op(
        self, kind: str, body: Any, item: LocDict, chain: list[Any], env: Env, via: tuple[str, ...], loc: Loc
    ) -> LocDict:
        op = USER_OPS[kind]
        if body is None:
            args = LocDict(loc=loc)
        elif isinstance(body, dict):
            args = body
        else:
            args = LocDict(loc=loc)
            args.set(op.shorthand, body, loc, item.value_loc(kind))
        merged: Any = LocDict(loc=args.loc or loc)
        for defaults in chain:
            if isinstance(defaults, dict) and isinstance(defaults.get(kind), dict):
                merged = _deep_merge(merged, defaults[kind])
        merged = _deep_merge(merged, args)
        merged = self.subst(merged, env, loc, via)
        merged.loc = _at(args.loc or loc, via)
        for arg in op.width_scaled:
            if isinstance(merged.get(arg), int) and not isinstance(merged[arg], bool):
                merged[arg] = round_filters(merged[arg], self.multiplier, self.divisor, self.min_filters)
        out = LocDict(loc=item.loc)
        out.set(kind, merged, item.key_locs.get(kind), merged.loc)
        return out

    def block(
        self,
        name: str,
        body: LocDict,
        chain: list[Any],
        env: Env,
        via: tuple[str, ...],
        loc: Loc,
        stack: tuple[str, ...],
    ) -> LocDict | None:
        if self.depth >= self.budget.max_block_depth:
            self.errors.add(
                loc,
                f"blocks nested more than {self.budget.max_block_depth} deep",
                "a template that calls templates counts one level per call",
            )
            return None
        self.depth += 1
        self.path_bytes += len(name) + 1
        try:
            return self._block(name, body, chain, env, via, loc, stack)
        finally:
            self.depth -= 1
            self.path_bytes -= len(name) + 1

    def _block(
        self,
        name: str,
        body: LocDict,
        chain: list[Any],
        env: Env,
        via: tuple[str, ...],
        loc: Loc,
        stack: tuple[str, ...],
    ) -> LocDict | None:
        if body.get("branches") is not None or body.get("layers") is not None:
            return self.body(body, body.get("kind"), chain, env, via, stack)
        template = next(k for k in body if k != "repeat")
        if template in stack:
            cycle = " → ".join((*stack, template))
            self.errors.add(loc, f"template `{template}` uses itself ({cycle})")
            return None
        if template not in self.templates:
            self.errors.add(
                loc, f"unknown template {quote_key(template)}", did_you_mean(template, self.templates, self.budget)
            )
            return None
        definition = self.templates[template]
        bound = self.bind(template, definition, body[template], body.value_loc(template) or loc, env, via)
        if bound is None:
            return None
        note = f"in template `{template}` (used by `{name}` at {loc})"
        outer, self.template = self.template, template
        try:
            return self.body(definition, template, chain, {**self.globals, **bound}, (*via, note), (*stack, template))
        finally:
            self.template = outer

    def bind(
        self, template: str, definition: LocDict, args: Any, loc: Loc, env: Env, via: tuple[str, ...]
    ) -> Env | None:
        params = definition.get("params") or []
        names = [str(p) for p in params]
        defaults = params if isinstance(params, dict) else {}
        bound: Env = {}
        ok = True
        if isinstance(args, list):
            if len(args) > len(names):
                extra = args.item_loc(len(names)) if isinstance(args, LocList) else loc
                self.errors.add(
                    _at(extra, via),
                    f"template `{template}` takes {len(names)} arguments ({', '.join(names)}); got {len(args)}",
                )
                ok = False
            for i, value in enumerate(args[: len(names)]):
                arg_loc = _at(args.item_loc(i) if isinstance(args, LocList) else loc, via)
                bound[names[i]] = (self.subst(value, env, arg_loc, via), arg_loc)
        elif isinstance(args, dict):
            for key, value in args.items():
                arg_loc = _at(args.value_loc(key) if isinstance(args, LocDict) else loc, via)
                if key not in names:
                    key_loc = _at(args.key_loc(key) if isinstance(args, LocDict) else loc, via)
                    self.errors.add(
                        key_loc,
                        f"template `{template}` has no parameter `{key}`",
                        did_you_mean(key, names, self.budget) or f"parameters: {', '.join(names) or 'none'}",
                    )
                    ok = False
                    continue
                bound[key] = (self.subst(value, env, arg_loc, via), arg_loc)
        for key in names:
            if key not in bound:
                default = defaults.get(key) if isinstance(defaults, dict) else None
                default_loc = defaults.value_loc(key) if isinstance(defaults, LocDict) else None
                if default is None:
                    self.errors.add(_at(loc, via), f"template `{template}` needs argument `{key}`")
                    ok = False
                elif isinstance(default, str) and default.startswith("$") and default[1:] not in self.globals:
                    self.errors.add(
                        default_loc or _at(loc, via),
                        f"the default of parameter `{key}` is `{default}`: a default is a value, not a parameter",
                        "write the value, or `$classes`",
                    )
                    ok = False
                else:
                    # `$classes` in a default means the spec's classes, as it does anywhere.
                    bound[key] = (self.subst(default, self.globals, default_loc, via), default_loc)
        return bound if ok else None

    def body(
        self, body: LocDict, kind: str | None, chain: list[Any], env: Env, via: tuple[str, ...], stack: tuple[str, ...]
    ) -> LocDict:
        out = LocDict(loc=_at(body.loc, via))
        inner = chain + ([body["defaults"]] if body.get("defaults") else [])
        if kind:
            out["kind"] = kind
        if body.get("branches") is not None:  # a template may say `layers: [...]` beside `branches: null`
            branches = LocDict(loc=body.value_loc("branches"))
            for bname, branch in body["branches"].items():
                branch_chain = inner
                if isinstance(branch, dict):
                    branch_chain = inner + ([branch["defaults"]] if branch.get("defaults") else [])
                    branch = branch["layers"]
                self.path_bytes += len(str(bname)) + 1
                expanded = self.items(branch, branch_chain, env, via, stack)
                self.path_bytes -= len(str(bname)) + 1
                branches.set(bname, expanded, body["branches"].key_locs.get(bname), getattr(branch, "loc", None))
            out.set("branches", branches, body.key_locs.get("branches"), body.value_locs.get("branches"))
            merge = self.subst(body.get("merge", "concat"), env, body.value_loc("merge"), via)
            out.set("merge", merge, body.key_locs.get("merge"), _at(body.value_loc("merge"), via))
        else:
            out.set(
                "layers",
                self.items(body["layers"], inner, env, via, stack),
                body.key_locs.get("layers"),
                body.value_locs.get("layers"),
            )
        return out

    # --- parameters ---------------------------------------------------------------
    def subst(self, value: Any, env: Env, loc: Loc | None, via: tuple[str, ...]) -> Any:
        """Replace ``$name`` values; the replacement keeps the location of the argument."""
        if isinstance(value, str) and value.startswith("$"):
            key = value[1:]
            if key in env:
                return env[key][0]
            # At the template line only, without the call that led there: one report, not one per call.
            where = Loc(loc.file, loc.line, loc.col) if loc is not None else Loc("<unknown>", 1, 1)
            inside = [k for k in env if k not in self.globals]
            hint = did_you_mean(key, env, self.budget) or (
                "parameters exist only inside templates" if not inside else f"parameters: {', '.join(sorted(env))}"
            )
            inner = f" in template `{self.template}`" if self.template else ""
            self.errors.add(where, f"unknown parameter `{value}`{inner}", hint)
            return value
        if isinstance(value, dict):
            out = LocDict(loc=getattr(value, "loc", None))
            for k, v in value.items():
                vloc = value.value_locs.get(k) if isinstance(value, LocDict) else None
                new = self.subst(v, env, vloc or loc, via)
                arg_loc = env[v[1:]][1] if isinstance(v, str) and v.startswith("$") and v[1:] in env else None
                out.set(
                    k,
                    new,
                    value.key_locs.get(k) if isinstance(value, LocDict) else None,
                    _at(arg_loc, via) or _at(vloc, via),
                )
            return out
        if isinstance(value, list):
            out_list = LocList(loc=getattr(value, "loc", None))
            for i, v in enumerate(value):
                iloc = value.item_loc(i) if isinstance(value, LocList) else None
                out_list.append(self.subst(v, env, iloc or loc, via))
                out_list.item_locs.append(_at(iloc, via))
            return out_list
        return value


def _deep_merge(base: Any, patch: Any) -> Any:
    if not (isinstance(base, dict) and isinstance(patch, dict)):
        return patch
    out = LocDict(loc=getattr(patch, "loc", None) or getattr(base, "loc", None))
    for src in (base, patch):
        for key, value in src.items():
            merged = _deep_merge(out[key], value) if key in out else value
            out.set(
                key,
                merged,
                src.key_locs.get(key) if isinstance(src, LocDict) else None,
                src.value_locs.get(key) if isinstance(src, LocDict) else None,
            )
    return out


def _at(loc: Loc | None, via: tuple[str, ...]) -> Loc | None:
    if loc is None or not via or loc.via:
        return loc
    return Loc(loc.file, loc.line, loc.col, via)


def _last_name(items: LocList) -> str | None:
    if not items:
        return None
    key, body = next(iter(items[-1].items()))
    return body.get("name") if key in USER_OPS else key


def _layer_names(items: list[Any], prefix: str) -> set[str]:
    """Dotted names of every op and block in expanded items (what a head may tap)."""
    names: set[str] = set()
    for item in items:
        key, body = next(iter(item.items()))
        if key in USER_OPS:
            names.add(prefix + body["name"])
            continue
        names.add(prefix + key)
        if "branches" in body:
            for branch, inner in body["branches"].items():
                names |= _layer_names(inner, f"{prefix}{key}.{branch}.")
        else:
            names |= _layer_names(body["layers"], f"{prefix}{key}.")
    return names


def _taps_known(tap: Any, known: set[str]) -> bool:
    """A known name, or a primitive inside one (``conv1.relu``, ``inception_3a.concat``)."""
    if not isinstance(tap, str):
        return False
    return tap in known or tap.rpartition(".")[0] in known


def expand(doc: LocDict, budget: Budget | None = None) -> LocDict:
    return Expander(doc, budget or Budget()).expand()
