"""Checks across ops, after each op is read: ids, dependencies, volumes, local differences.

Errors here are what the node refuses when it runs the job (unknown, cross-group
or self dependencies) or can never run (duplicate ids, cycles). Warnings mark
each place where a local run behaves differently from a Nosana node.
"""

from __future__ import annotations

import re
from typing import Any

from ..diagnostics import Diagnostics
from ..model import Job, VolumeOp
from ..source.messages import MAX_DEPTH  # the parsers' bound, checked again for data given as values
from ..source.printable import UNPRINTABLE

_NOT_IN_COMPOSE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def check_text(data: Any, diags: Diagnostics) -> bool:
    """What a job must be before anything reads it: string keys, text Compose can hold, bounded nesting.

    Iterative, so hostile input cannot exhaust Python's stack here or in the passes after it; the path of a
    value is worked out only when it is wrong (each entry points at its parent), so a big job stays cheap.
    """
    ok = True
    parents: list[tuple[int, Any]] = [(-1, None)]  # (parent entry, key) for entries that hold containers
    stack: list[tuple[Any, int, Any, int]] = [(data, 0, None, 0)]  # (value, parent entry, key, depth)

    def path_of(parent: int, key: Any) -> tuple:
        out = [] if key is None else [key]
        while parent > 0:
            parent, key = parents[parent]
            if key is not None:  # the root has none
                out.append(key)
        return tuple(reversed(out))

    while stack:
        value, parent, key, depth = stack.pop()
        if isinstance(value, str):
            if _NOT_IN_COMPOSE.search(value):
                diags.error(path_of(parent, key), _NOT_STORABLE)
                ok = False
            continue
        if depth > MAX_DEPTH:
            diags.error(
                path_of(parent, key), f"nested more than {MAX_DEPTH} levels deep; a job definition never needs that"
            )
            return False
        if isinstance(value, dict):
            here = len(parents)
            parents.append((parent, key))
            for k, item in value.items():
                if not isinstance(k, str):
                    diags.error(path_of(here, None), f"expected text keys, found the key {k!r}; quote it in YAML")
                    ok = False
                    continue
                if _NOT_IN_COMPOSE.search(k):
                    diags.error(path_of(here, k), _NOT_STORABLE)
                    ok = False
                stack.append((item, here, k, depth + 1))
        elif isinstance(value, list):
            here = len(parents)
            parents.append((parent, key))
            stack.extend((item, here, i, depth + 1) for i, item in enumerate(value))
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if value.bit_length() > 64:
                diags.error(path_of(parent, key), "a number far too large for any field of a job")
                ok = False
        else:
            diags.error(
                path_of(parent, key),
                f"expected a JSON value, found {type(value).__name__} (YAML dates and other tags: quote them)",
            )
            ok = False
    return ok


_NOT_STORABLE = "holds a character Compose files cannot carry (a lone surrogate, U+FFFE or U+FFFF)"


def check_ids(raw_ops: list[Any], diags: Diagnostics) -> None:
    """Op ids: strings without spaces, unique in the job (checked on the raw list, so every copy is named);
    then the group names (_check_group_names), which validate and convert must judge alike too."""
    _check_group_names(raw_ops, diags)
    first: dict[str, int] = {}
    for index, raw in enumerate(raw_ops):
        op_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(op_id, str):
            continue
        if " " in op_id:
            diags.strict_rule(
                ("ops", index, "id"),
                f"op id '{op_id}' contains a space, which @nosana/types refuses (the node's @nosana/sdk accepts it)",
                "its service is renamed",
                code="NOS102",
            )
        if op_id in first:
            diags.error(
                ("ops", index, "id"),
                f"op id '{op_id}' is used twice (first at $.ops[{first[op_id]}].id); ids must be unique",
            )
        else:
            first[op_id] = index


def _check_group_names(raw_ops: list[Any], diags: Diagnostics) -> None:
    """A group name holding what no comment or message can show as it is (a control character, a line break,
    a bidi control): a warning once per name, at its first use; never an error, as the node takes the name."""
    seen: set[str] = set()
    for index, raw in enumerate(raw_ops):
        execution = raw.get("execution") if isinstance(raw, dict) else None
        group = execution.get("group") if isinstance(execution, dict) else None
        if not isinstance(group, str) or group in seen:
            continue
        seen.add(group)
        found = UNPRINTABLE.search(group)
        if found is not None:
            op_id = raw.get("id")
            diags.warning(
                ("ops", index, "execution", "group"),
                f"group name '{group}' holds U+{ord(found.group()):04X}, a character that cannot be shown as it is "
                "(the node accepts it): labels and x-nos2compose keep the name exactly, comments and messages "
                "show it escaped, group file names (-o) replace it with '-'; a plain name avoids this",
                op_id if isinstance(op_id, str) else None,
                "NOS910",
            )


def check_dependencies(job: Job, diags: Diagnostics) -> None:
    """Each op's depends_on: the node refuses unknown, self and cross-group dependencies; ops that both have no
    execution.group it accepts (and runs the dependent twice). One diagnostic per op and kind of problem, naming
    the ids, so a job with millions of edges stays linear and readable."""
    by_id = {op.id: op for op in job.ops}
    for op in job.run_ops:
        found: dict[str, list[tuple[int, str]]] = {}
        for i, dep in enumerate(op.depends_on):
            target = by_id.get(dep)
            if dep == op.id:
                kind = "self"
            elif target is None:
                kind = "unknown"
            elif target.group == op.group:
                continue
            elif not getattr(target, "grouped", True) and not op.grouped:
                kind = "ungrouped"
            else:
                kind = "cross"
            found.setdefault(kind, []).append((i, dep))
        for kind, deps in found.items():
            path = (*op.path, "execution", "depends_on", deps[0][0])
            names = _names(d for _, d in deps)
            if kind == "self":
                diags.error(path, "an op cannot depend on itself", op.id)
            elif kind == "unknown":
                diags.error(
                    path, f"depends on {names}, which {'is' if len(deps) == 1 else 'are'} not an op of this job", op.id
                )
            elif kind == "ungrouped":
                diags.warning(
                    path,
                    f"depends on {names}, and neither has an execution group: the node accepts this "
                    f"(it compares the groups as written), then runs each op in a group of its own, "
                    f"starting '{op.id}' once its dependency reports startup success and again when "
                    f"its own group's turn comes; `nos2compose up` runs '{op.id}' once, in its own "
                    "group (give them the same execution.group to run them together)",
                    op.id,
                    "NOS113",
                )
            else:
                groups = ", ".join(dict.fromkeys(f"'{by_id[d].group}'" for _, d in deps[:5]))
                diags.error(
                    path,
                    f"depends on {names} in group {groups}, but depends_on may only name ops of the "
                    f"same group ('{op.group}'), as the node requires",
                    op.id,
                )
    _check_cycles(job, diags)


def _names(ids, most: int = 5) -> str:
    ids = list(ids)
    shown = ", ".join(f"'{i}'" for i in ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _check_cycles(job: Job, diags: Diagnostics) -> None:
    """Depth-first search; each cycle is reported once, at the op that closes it."""
    graph = {op.id: [d for d in op.depends_on if d != op.id] for op in job.run_ops}
    index = {op.id: op.index for op in job.run_ops}
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(graph[start]))]
        trail = [start]
        state[start] = 1
        while stack:
            node, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                state[node] = 2
                stack.pop()
                trail.pop()
            elif dep in graph and state.get(dep) == 1:
                cycle = trail[trail.index(dep) :] + [dep]
                diags.error(
                    ("ops", index[node], "execution", "depends_on"),
                    "dependency cycle: " + " -> ".join(cycle) + " (the job would wait forever)",
                    node,
                )
            elif dep in graph and not state.get(dep):
                state[dep] = 1
                stack.append((dep, iter(graph[dep])))
                trail.append(dep)


def check_volumes(job: Job, diags: Diagnostics) -> None:
    created = {op.name for op in job.ops if isinstance(op, VolumeOp)}
    for op in job.run_ops:
        for i, mount in enumerate(op.mounts):
            if mount.volume not in created:
                diags.warning(
                    op.path + ("args", "volumes", i, "name"),
                    f"no container/create-volume op creates volume '{mount.volume}'; "
                    "it is declared anyway and starts empty",
                    op.id,
                    "NOS111",
                )


def check_images(job: Job, diags: Diagnostics) -> None:
    for op in job.run_ops:
        if not op.image.strip():
            diags.error(op.path + ("args", "image"), "the image name is empty", op.id)


def warn_local_differences(job: Job, diags: Diagnostics) -> None:
    """Where the node's group and dependency rules would play out differently from Compose."""
    dependencies = {dep for op in job.run_ops for dep in op.depends_on}
    last_group = _last_run_group(job)
    for op in job.run_ops:
        if op.id in dependencies and op.expose and not op.has_health_checks:
            diags.warning(
                op.path + ("args", "expose"),
                "a dependency that exposes ports without health checks never reports startup success on a node, "
                "so its dependents never start there; locally they start once it is running",
                op.id,
                "NOS108",
            )
        if op.expose and op.group != last_group:
            diags.warning(
                op.path + ("args", "expose"),
                f"a service (it exposes ports) in group '{op.group}', which is not the last: on a node the next "
                "group waits until it exits; locally the next group starts once it is ready",
                op.id,
                "NOS109",
            )


def _last_run_group(job: Job) -> str | None:
    run_groups = {op.group for op in job.run_ops}
    ordered = [g for g in job.groups if g in run_groups]
    return ordered[-1] if ordered else None
