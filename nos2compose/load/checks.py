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

MAX_DEPTH = 100
_NOT_IN_COMPOSE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def check_text(data: Any, diags: Diagnostics) -> bool:
    """What a job must be before anything reads it: string keys, text Compose can hold, bounded nesting.

    Iterative, so hostile input cannot exhaust Python's stack here or in the passes after it.
    """
    ok = True
    stack: list[tuple[Any, tuple, int]] = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            diags.error(path, f"nested more than {MAX_DEPTH} levels deep; a job definition never needs that")
            return False
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    diags.error(path, f"expected text keys, found the key {key!r}; quote it in YAML")
                    ok = False
                    continue
                stack.append((item, path + (key,), depth + 1))
                if _NOT_IN_COMPOSE.search(key):
                    diags.error(
                        path + (key,),
                        "holds a character Compose files cannot carry (a lone surrogate, U+FFFE or U+FFFF)",
                    )
                    ok = False
        elif isinstance(value, list):
            stack.extend((item, path + (i,), depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str) and _NOT_IN_COMPOSE.search(value):
            diags.error(path, "holds a character Compose files cannot carry (a lone surrogate, U+FFFE or U+FFFF)")
            ok = False
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
            diags.error(path, "a number far too large for any field of a job")
            ok = False
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            diags.error(
                path, f"expected a JSON value, found {type(value).__name__} (YAML dates and other tags: quote them)"
            )
            ok = False
    return ok


def check_ids(raw_ops: list[Any], diags: Diagnostics) -> None:
    """Op ids: strings without spaces, unique in the job (checked on the raw list, so every copy is named)."""
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
            )
        if op_id in first:
            diags.error(
                ("ops", index, "id"),
                f"op id '{op_id}' is used twice (first at $.ops[{first[op_id]}].id); ids must be unique",
            )
        else:
            first[op_id] = index


def check_dependencies(job: Job, diags: Diagnostics) -> None:
    by_id = {op.id: op for op in job.ops}
    for op in job.run_ops:
        for i, dep in enumerate(op.depends_on):
            path = op.path + ("execution", "depends_on", i)
            target = by_id.get(dep)
            if dep == op.id:
                diags.error(path, "an op cannot depend on itself", op.id)
            elif target is None:
                diags.error(path, f"depends on '{dep}', which is not an op of this job", op.id)
            elif target.group != op.group and not getattr(target, "grouped", True) and not op.grouped:
                diags.warning(
                    path,
                    f"depends on '{dep}', and neither has an execution group: the node accepts this (it compares the "
                    f"groups as written), then runs each op in a group of its own, starting '{op.id}' once '{dep}' "
                    f"reports startup success and again when its own group's turn comes; `nos2compose up` runs "
                    f"'{op.id}' once, in its own group (give both the same execution.group to run them together)",
                    op.id,
                )
            elif target.group != op.group:
                diags.error(
                    path,
                    f"depends on '{dep}' in group '{target.group}', but depends_on may only name ops of the same "
                    f"group ('{op.group}'), as the node requires",
                    op.id,
                )
    _check_cycles(job, diags)


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
            )
        if op.expose and op.group != last_group:
            diags.warning(
                op.path + ("args", "expose"),
                f"a service (it exposes ports) in group '{op.group}', which is not the last: on a node the next "
                "group waits until it exits; locally the next group starts once it is ready",
                op.id,
            )


def _last_run_group(job: Job) -> str | None:
    run_groups = {op.group for op in job.run_ops}
    ordered = [g for g in job.groups if g in run_groups]
    return ordered[-1] if ordered else None
