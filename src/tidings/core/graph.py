"""Checks on the shape of a workflow's step graph, read from the raw document.

They run on the raw steps so that a typo in one step's fields does not hide a dead end
or an endless loop elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tidings.core.problems import Problem, suggest

END = "(end)"
_WAITING = {"wait", "approval"}


@dataclass(frozen=True)
class _Node:
    index: int
    id: str
    kind: str
    edges: tuple[tuple[str, str], ...]  # (path of the field, target id or END)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _event_wait_edges(base: str, raw: Mapping[str, Any], nxt: str) -> list[tuple[str, str]]:
    """A wait for an event (or for any of several): where each event leads, and the timeout."""
    edges = []
    if isinstance(raw.get("events"), list):
        for j, option in enumerate(raw["events"]):
            if isinstance(option, Mapping):
                edges.append((f"{base}.events[{j}].next", _str(option.get("next")) or nxt))
    else:
        edges.append((f"{base}.on_event", _str(raw.get("on_event")) or nxt))
    edges.append((f"{base}.on_timeout", _str(raw.get("on_timeout")) or nxt))
    return edges


def _nodes(steps: Sequence[Any]) -> list[_Node]:
    ids = [_str(s.get("id")) if isinstance(s, Mapping) else None for s in steps]
    nodes = []
    for i, raw in enumerate(steps):
        if not isinstance(raw, Mapping) or ids[i] is None:
            continue
        following = (ids[i + 1] or END) if i + 1 < len(ids) else END
        base = f"steps[{i}]"
        kind = _str(raw.get("type")) or ""
        nxt = _str(raw.get("next")) or following
        edges: list[tuple[str, str]] = []
        if kind == "exit":
            pass
        elif kind == "branch":
            for j, arm in enumerate(raw.get("branches") or []):
                if isinstance(arm, Mapping) and _str(arm.get("next")):
                    edges.append((f"{base}.branches[{j}].next", arm["next"]))
            edges.append((f"{base}.else", _str(raw.get("else")) or following))
        elif kind == "split":
            for j, path in enumerate(raw.get("paths") or []):
                if isinstance(path, Mapping) and _str(path.get("next")):
                    edges.append((f"{base}.paths[{j}].next", path["next"]))
        elif kind == "wait" and (raw.get("event") is not None or raw.get("events")):
            edges += _event_wait_edges(base, raw, nxt)
        elif kind == "approval":
            edges.append((f"{base}.on_approve", _str(raw.get("on_approve")) or nxt))
            edges.append((f"{base}.on_reject", _str(raw.get("on_reject")) or END))
            edges.append((f"{base}.on_timeout", _str(raw.get("on_timeout")) or END))
        else:
            edges.append((f"{base}.next", nxt))
        nodes.append(_Node(i, str(ids[i]), kind, tuple(edges)))
    return nodes


def check_graph(steps: Sequence[Any]) -> list[Problem]:  # noqa: C901 (one pass over the graph; each branch is one named check)
    """Duplicate ids, unknown targets, unreachable steps, loops with no wait, dead ends."""
    problems: list[Problem] = []
    nodes = _nodes(steps)
    by_id: dict[str, _Node] = {}
    for node in nodes:
        if node.id in by_id:
            first = by_id[node.id].index
            problems.append(
                Problem(
                    f"steps[{node.index}].id",
                    f"duplicate step id {node.id!r}",
                    f"steps[{first}] has it too; ids must be unique",
                )
            )
        else:
            by_id[node.id] = node
    dangling = bool(problems)
    for node in nodes:
        for path, target in node.edges:
            if target != END and target not in by_id:
                hint = suggest(target, by_id) or "name a step id from this workflow"
                problems.append(Problem(path, f"unknown step {target!r}", hint))
                dangling = True
    if not nodes:
        return problems

    succ = {n.id: [t for _, t in n.edges if t == END or t in by_id] for n in by_id.values()}
    if dangling:
        return problems  # with a broken link or a doubled id the shape cannot be judged yet
    reachable = _reach(nodes[0].id, succ)
    problems += _loops_without_wait(by_id, succ, reachable)
    problems += _messaged_holdouts(steps, by_id, succ)
    for node in by_id.values():
        if node.id not in reachable:
            problems.append(
                Problem(
                    f"steps[{node.index}]",
                    f"step {node.id!r} is unreachable: no step leads to it",
                    "link it with next, or remove it",
                )
            )

    pred: dict[str, list[str]] = {}
    for source, targets in succ.items():
        for t in targets:
            pred.setdefault(t, []).append(source)
    ends = {n.id for n in by_id.values() if n.kind == "exit"} | {END}
    can_finish: set[str] = set()
    for terminal in ends:
        can_finish |= _reach(terminal, pred)
    for node in by_id.values():
        if node.id in reachable and node.id not in can_finish:
            problems.append(
                Problem(
                    f"steps[{node.index}]",
                    f"step {node.id!r} has no way out: every path from it loops forever",
                    "add a path to an exit step or to the end",
                )
            )
    return problems


def _messaged_holdouts(
    steps: Sequence[Any], by_id: Mapping[str, _Node], succ: Mapping[str, list[str]]
) -> list[Problem]:
    """A holdout path that can lead to a send would message the group meant to measure
    what messages add."""
    problems = []
    for node in by_id.values():
        if node.kind != "split":
            continue
        for j, path in enumerate(steps[node.index].get("paths") or []):
            if not (isinstance(path, Mapping) and path.get("holdout") is True):
                continue
            target = _str(path.get("next"))
            if target is None or target not in by_id:
                continue
            sends = sorted(
                (by_id[n] for n in _reach(target, succ) if n in by_id and by_id[n].kind == "send"),
                key=lambda n: n.index,
            )
            if sends:
                problems.append(
                    Problem(
                        f"steps[{node.index}].paths[{j}]",
                        f"the holdout path reaches the send step {sends[0].id!r} "
                        f"(steps[{sends[0].index}]); a holdout must never be messaged",
                        "send the holdout to its own wait and exit, apart from the treated path",
                    )
                )
    return problems


def _reach(start: str, edges: Mapping[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _loops_without_wait(
    by_id: Mapping[str, _Node], succ: Mapping[str, list[str]], reachable: set[str]
) -> list[Problem]:
    """Cycles through steps that never pause would run forever in one instant."""
    quick = {n for n, node in by_id.items() if node.kind not in _WAITING}
    graph = {n: [t for t in succ[n] if t in quick] for n in quick}
    problems = []
    for component in _strongly_connected(graph):
        looped = len(component) > 1 or component[0] in graph[component[0]]
        if looped and reachable & set(component):
            ordered = sorted(component, key=lambda n: by_id[n].index)
            first = by_id[ordered[0]]
            cycle = " -> ".join([*ordered, ordered[0]])
            problems.append(
                Problem(
                    f"steps[{first.index}]",
                    f"loop with no wait: {cycle}",
                    "add a wait step inside the loop",
                )
            )
    return problems


def _strongly_connected(graph: Mapping[str, list[str]]) -> list[list[str]]:  # noqa: C901 (Tarjan's algorithm, kept whole as published)
    """Tarjan's algorithm, iterative so a long workflow cannot exhaust the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(graph[node])):
                child = graph[node][j]
                if child not in index:
                    work.append((node, j + 1))
                    work.append((child, 0))
                    recurse = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                result.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result
