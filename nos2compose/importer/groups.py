"""depends_on -> execution groups and same-group depends_on.

A node runs groups one at a time and starts the next only when every op of the
current one has exited; `depends_on` may name ops of the same group only, and a
dependent starts once its dependency reports startup success. So:
- service_started / service_healthy: both services share a group, and the
  dependent `depends_on` the dependency;
- service_completed_successfully: the dependency runs in an earlier group.

Group order: each group runs as late as the service_completed_successfully
edges allow; among groups of the same rank, those without a server (an op that
exposes ports, restarts, or has a healthcheck) come first, then by name.
Group naming: a job with one group calls it "main"; with more, each group is
named after its first op (in job order: dependencies first, then by name).
"""

from __future__ import annotations

from ..compose import codec, contract
from ..diagnostics import Diagnostics
from .model import DraftOp, Edge, Group

SAME_GROUP = ("service_started", "service_healthy")
COMPLETED = "service_completed_successfully"


def collect_edges(
    services: dict,
    ops: dict[str, DraftOp],
    left_out: dict[str, str],
    helpers: set[str],
    diags: Diagnostics,
    probes: dict[str, str] | None = None,
) -> list[Edge]:
    """The depends_on edges between ops; edges to services that are not ops are warned and dropped.

    An edge to a probe sidecar (`probes`: sidecar -> op service) is an edge to the op it probes,
    whose readiness the sidecar reports; edges to other helpers (fetchers) are resources, not ops.
    """
    edges = []
    for name in ops:
        for dep, spec in (services[name].get("depends_on") or {}).items():
            spec = spec or {}
            path = ("services", name, "depends_on", dep)
            if dep in (probes or {}):
                if probes[dep] != name:
                    edges.append(Edge(name, probes[dep], spec.get("condition", "service_started")))
                continue
            if dep in helpers:
                continue
            if dep not in services:
                diags.warning(path, f"{dep} is not a service of the project (required: false): left out")
                continue
            if dep in left_out:
                diags.warning(path, f"{dep} is not in the job ({left_out[dep]}): this dependency is left out")
                continue
            condition = spec.get("condition", "service_started")
            if condition not in SAME_GROUP + (COMPLETED,):
                diags.warning(path + ("condition",), f"condition {condition} is unknown: treated as service_started")
                condition = "service_started"
            if spec.get("restart"):
                diags.warning(
                    path + ("restart",),
                    f"restart: true (Compose also sets it for links: and "
                    f"network_mode: service:) is not kept; a node does not restart "
                    f"{name} when {dep} restarts",
                )
            edges.append(Edge(name, dep, condition))
    return edges


class _Sets:
    """Union-find over op ids."""

    def __init__(self, ids: list[str]):
        self.parent = {i: i for i in ids}

    def find(self, i: str) -> str:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def plan_groups(
    order: list[str], edges: list[Edge], ops: dict[str, DraftOp], group_by: str, diags: Diagnostics
) -> tuple[list[Group], dict[str, list[str]]] | None:
    """(groups in run order, op id -> same-group dependencies); None after an error."""
    index = {op: n for n, op in enumerate(order)}
    sets = _Sets(order)
    for e in edges:
        if e.condition in SAME_GROUP:  # started/healthy tie two services
            sets.union(e.dependent, e.dependency)
    same, before = _split_completed(edges, sets, diags)  # completed: an earlier group, if it can
    components: dict[str, list[str]] = {}
    for op in order:
        components.setdefault(sets.find(op), []).append(op)
    rank = _levels(list(components), [(sets.find(e.dependency), sets.find(e.dependent)) for e in before])
    if rank is None:
        names = ", ".join(f"{e.dependent} -> {e.dependency}" for e in before)
        diags.error(
            ("services",),
            f"the service_completed_successfully dependencies ({names}) need groups in an "
            "order that does not exist: each would have to run before the other",
        )
        return None

    depends: dict[str, list[str]] = {op: [] for op in order}
    for e in same:
        if e.dependency not in depends[e.dependent]:
            depends[e.dependent].append(e.dependency)
    for op in order:
        depends[op].sort(key=index.__getitem__)
    groups = [
        Group("", _start_order(members, depends, index))
        for members in _group_members(components, rank, ops, index, group_by)
    ]
    for g in groups:
        g.name = "main" if len(groups) == 1 else g.ops[0]

    group_of = {op: g.name for g in groups for op in g.ops}
    for e in before:
        diags.warning(
            ("services", e.dependent, "depends_on", e.dependency, "condition"),
            f"service_completed_successfully: {e.dependency} runs in an earlier group "
            f'("{group_of[e.dependency]}"); a node starts group "{group_of[e.dependent]}" once every '
            f"op of the groups before it has exited, whatever its exit code",
        )
    _warn_dependency_readiness(same, ops, diags)
    _warn_blocking_groups(groups, ops, before, group_of, group_by, diags)
    return groups, depends


def _split_completed(edges: list[Edge], sets: _Sets, diags: Diagnostics) -> tuple[list[Edge], list[Edge]]:
    """(same-group edges, service_completed_successfully edges across groups).

    A completed edge between services that must share a group anyway becomes a
    same-group dependency: a node cannot wait inside a group for an op to exit.
    """
    same = [e for e in edges if e.condition in SAME_GROUP]
    before = []
    for e in edges:
        if e.condition != COMPLETED:
            continue
        if sets.find(e.dependent) != sets.find(e.dependency):
            before.append(e)
            continue
        diags.warning(
            ("services", e.dependent, "depends_on", e.dependency, "condition"),
            f"service_completed_successfully: {e.dependency} must share a group with {e.dependent} "
            f"(they are tied by service_started/service_healthy dependencies), and a node cannot wait "
            f"for an op of the same group to exit: {e.dependent} starts once {e.dependency} has started",
        )
        same.append(Edge(e.dependent, e.dependency, "service_started"))
    return same, before


def _group_members(
    components: dict[str, list[str]],
    rank: dict[str, int],
    ops: dict[str, DraftOp],
    index: dict[str, int],
    group_by: str,
) -> list[list[str]]:
    """The ops of each group, groups in run order."""
    if group_by == "single":  # one group per rank
        buckets: dict[int, list[str]] = {}
        for root, members in components.items():
            buckets.setdefault(rank[root], []).extend(members)
        return [sorted(buckets[r], key=index.__getitem__) for r in sorted(buckets)]
    servers = {r: any(ops[op].probably_long_running for op in members) for r, members in components.items()}
    roots = sorted(components, key=lambda r: (rank[r], servers[r], index[components[r][0]]))
    return [components[r] for r in roots]


def _levels(nodes: list[str], arcs: list[tuple[str, str]]) -> dict[str, int] | None:
    """Each node's rank in a DAG of (before, after) arcs, as late as the arcs allow; None if there is a cycle.

    As late as possible, so that a group nothing has to wait for runs last, beside the
    other servers, rather than first, where it would hold up every later group on a node.
    """
    incoming = dict.fromkeys(nodes, 0)
    after: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in sorted(set(arcs)):
        after[a].append(b)
        incoming[b] += 1
    ready = [n for n in nodes if incoming[n] == 0]
    topo: list[str] = []
    while ready:
        n = ready.pop()
        topo.append(n)
        for m in after[n]:
            incoming[m] -= 1
            if incoming[m] == 0:
                ready.append(m)
    if len(topo) != len(nodes):
        return None
    to_end: dict[str, int] = {}
    for n in reversed(topo):
        to_end[n] = max((to_end[m] + 1 for m in after[n]), default=0)
    top = max(to_end.values(), default=0)
    return {n: top - to_end[n] for n in nodes}


def _start_order(members: list[str], depends: dict[str, list[str]], index: dict[str, int]) -> list[str]:
    """Dependencies before dependents; otherwise by name (Compose's order)."""
    done: list[str] = []
    left = sorted(members, key=index.__getitem__)
    while left:
        ready = [op for op in left if all(d in done for d in depends[op] if d in members)]
        pick = ready[0] if ready else left[0]  # Compose refuses cycles; never stall regardless
        done.append(pick)
        left.remove(pick)
    return done


def _warn_dependency_readiness(same: list[Edge], ops: dict[str, DraftOp], diags: Diagnostics) -> None:
    for e in same:
        dep = ops[e.dependency]
        path = ("services", e.dependent, "depends_on", e.dependency)
        if dep.expose and not dep.has_health_checks:
            diags.warning(
                path,
                f"{e.dependency} exposes ports without an http health check, so on a node it never "
                f"reports startup success and {e.dependent} would never start: give {e.dependency} "
                "an HTTP healthcheck (curl or wget to localhost on an exposed port), or drop this "
                "dependency",
            )
        elif e.condition == "service_healthy" and not dep.expose:
            diags.warning(
                path + ("condition",),
                f"service_healthy: {e.dependency} exposes no port a node could "
                f"check, so on a node {e.dependent} starts as soon as "
                f"{e.dependency}'s container has started",
            )


def _warn_blocking_groups(
    groups: list[Group],
    ops: dict[str, DraftOp],
    before: list[Edge],
    group_of: dict[str, str],
    group_by: str,
    diags: Diagnostics,
) -> None:
    """A server in a group that is not the last keeps the later groups from ever starting on a node."""
    forced = {(group_of[e.dependency], group_of[e.dependent]) for e in before}
    for n, g in enumerate(groups[:-1]):
        servers = [op for op in g.ops if ops[op].probably_long_running]
        if not servers:
            continue
        first = servers[0]
        key, why = ops[first].server_sign
        later = groups[n + 1].name
        hint = ""
        if group_by != "single" and (g.name, later) not in forced:
            hint = "; --group-by single runs services that do not wait for each other's exit in one group"
        diags.warning(
            ("services", first, key),
            f'{first} runs in group "{g.name}", before group "{later}": a node '
            "starts the next group only after every op of this one has exited, "
            f"and {first} {why}, like a server that runs until stopped, so "
            f'"{later}" may never start{hint}',
        )


def plan_labelled_groups(
    order: list[str],
    edges: list[Edge],
    ops: dict[str, DraftOp],
    services: dict,
    known: list[str],
    diags: Diagnostics,
) -> tuple[list[Group], dict[str, list[str]]]:
    """Groups as a file convert wrote says: each service's io.nosana.group label, ordered by its
    io.nosana.group-order label (then the file's x-nos2compose groups, then first appearance).

    Edges within a group are the job's depends_on; an edge to an earlier group is the barrier the
    single file adds between groups (a node runs groups in order anyway), not a depends_on. A
    service without a group label (added by hand) joins the group of an op it is tied to by
    service_started/service_healthy, else the last group (where a node's long-running ops are).
    Needs at least one labelled service.
    """
    group_of: dict[str, str] = {}
    rank: dict[str, tuple] = {}
    for n, name in enumerate(order):
        marks = codec.read_labels(codec.labels_of(services[name]))
        if not marks.group:
            continue
        group = marks.group
        group_of[name] = group
        hint = known.index(group) if group in known else len(known)
        here = (_int(marks.group_order), hint, n)
        rank[group] = min(rank.get(group, here), here)
    _place_unlabelled(order, edges, group_of, rank, diags)
    names = sorted(rank, key=rank.__getitem__)
    position = {g: i for i, g in enumerate(names)}
    index = {op: n for n, op in enumerate(order)}
    depends: dict[str, list[str]] = {op: [] for op in order}
    for e in edges:
        mine, theirs = position[group_of[e.dependent]], position[group_of[e.dependency]]
        path = ("services", e.dependent, "depends_on", e.dependency)
        if theirs < mine:
            continue  # the single file's barrier: the next group waits for this one
        if theirs > mine:
            diags.warning(
                path,
                f'{e.dependency} runs in a later group ("{group_of[e.dependency]}"): a node runs groups in '
                "order and depends_on names ops of the same group only: left out",
            )
            continue
        if e.condition == COMPLETED:
            diags.warning(
                path + ("condition",),
                f"service_completed_successfully: a node cannot wait for an op of the same group to exit: "
                f"{e.dependent} starts once {e.dependency} has started",
            )
        if e.dependency not in depends[e.dependent]:
            depends[e.dependent].append(e.dependency)
    for op in order:
        depends[op].sort(key=index.__getitem__)
    groups = []
    for g in names:
        members = [op for op in order if group_of[op] == g]
        groups.append(Group(g, _start_order(members, depends, index)))
    return groups, depends


def _place_unlabelled(
    order: list[str], edges: list[Edge], group_of: dict[str, str], rank: dict[str, tuple], diags: Diagnostics
) -> None:
    changed = True
    while changed:  # started/healthy ties carry a labelled op's group to the services tied to it
        changed = False
        for e in edges:
            if e.condition not in SAME_GROUP:
                continue
            for a, b in ((e.dependent, e.dependency), (e.dependency, e.dependent)):
                if a not in group_of and b in group_of:
                    group_of[a] = group_of[b]
                    changed = True
    last = max(rank, key=rank.__getitem__)
    for name in order:
        if name in group_of:
            continue
        group_of[name] = last
        diags.warning(
            ("services", name, "labels"),
            f"{name} has no {contract.GROUP_LABEL} label, unlike the services nos2compose convert wrote, and no "
            f'started/healthy dependency ties it to one: it joins the last group ("{last}")',
        )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1 << 30
