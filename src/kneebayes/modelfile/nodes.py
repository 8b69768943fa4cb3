"""Reading a model file's ``nodes`` section: each node's fields, and the graph they make.

Two passes: the first reads every id and its states, so that the second can
check each node's fields and numbers (:mod:`.distributions`) against any
other node, wherever it is listed. Then the graph: parents exist, noisy-OR
parents are yes/no, there is no cycle, and some node is a cause.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import quote
from .checks import is_positive
from .distributions import noisy_or, prior, table
from .fields import FieldReader, line_of
from .format import DEFAULT_COST, DEFAULT_COST_LEVEL, KNOWN_KINDS, NODE_ID, NODE_KEYS
from .schema import BINARY_STATES, NodeSpec
from .yamlsafe import written

__all__ = ["NodeSection", "read_nodes", "find_cycle"]


@dataclass(frozen=True)
class NodeSection:
    """What the ``nodes`` section gives the rest of the file: the sound nodes, and every readable id's states and kind."""

    nodes: tuple[NodeSpec, ...]
    states: Mapping[str, tuple[str, ...]]
    kinds: Mapping[str, str]   # "" for a node without a kind


def _folded(kind: str) -> str:
    return kind.strip().casefold().replace("-", "_").replace(" ", "_")


def _states(reader: FieldReader, raw: Mapping[str, Any], node: str) -> tuple[str, ...] | None:
    if "states" not in raw:
        return BINARY_STATES
    states = raw["states"]
    line = line_of(raw, "states")
    if not isinstance(states, list) or len(states) < 2:
        reader.problem(f"states must be a list of at least two names, got {quote(states)}", node=node, field="states",
                       line=line)
        return None
    out: list[str] = []
    for s in states:
        if isinstance(s, bool) or not isinstance(s, (str, int, float)) or str(s).strip() == "" or not str(s).isprintable():
            reader.problem(f"state {quote(s)} is not a name (write it as text)", node=node, field="states", line=line)
            return None
        out.append(written(s))   # as written: a state 010 stays "010"
    dupes = sorted(s for s, n in Counter(out).items() if n > 1)   # linear: a file may list 200,000 states
    if dupes:
        reader.problem(f"duplicate state(s) {', '.join(dupes)}", node=node, field="states", line=line)
        return None
    return tuple(out)


def _normal_state(reader: FieldReader, raw: Mapping[str, Any], node: str, kind: str | None,
                  states: tuple[str, ...]) -> str | None:
    """A cause's ``normal_state`` (its no-fault state): one of its states; None when not written."""
    if "normal_state" not in raw:
        return None
    value = raw["normal_state"]
    line = line_of(raw, "normal_state")
    if kind is not None and kind != "cause":
        reader.problem(f"normal_state is only for nodes of kind cause (the targets); this node's kind is {quote(kind)}",
                       node=node, field="normal_state", line=line)
        return None
    name = written(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if name not in states:
        reader.problem(f"normal_state must be one of this node's states ({', '.join(states)}), got {quote(value)}",
                       node=node, field="normal_state", line=line)
        return None
    return name


def _cost(reader: FieldReader, raw: Mapping[str, Any], nid: str, costs: Mapping[str, float]) -> tuple[float, str | None]:
    """(cost, level name or None); default: the level ``question`` if the file has one, else 1."""
    default = (costs[DEFAULT_COST_LEVEL], DEFAULT_COST_LEVEL) if DEFAULT_COST_LEVEL in costs else (DEFAULT_COST, None)
    if "cost" not in raw:
        return default
    v = raw["cost"]
    line = line_of(raw, "cost")
    if isinstance(v, str):
        if v in costs:
            return costs[v], v
        if costs:
            hint = reader.hint(v, costs)
            levels = ", ".join(f"{k} ({c:g})" for k, c in costs.items())
            reader.problem(f"unknown cost level {quote(v)}{hint} (the costs are: {levels})", node=nid, field="cost", line=line)
        else:
            reader.problem(f"unknown cost level {quote(v)}: the file has no costs (add them, or give a positive number)",
                           node=nid, field="cost", line=line)
        return default
    if not is_positive(v):
        reader.problem(f"cost must be a level from costs or a positive number, got {quote(v)}", node=nid, field="cost",
                       line=line)
        return default
    return float(v), None  # type: ignore[arg-type]


def read_nodes(reader: FieldReader, data: Mapping[str, Any], costs: Mapping[str, float]) -> NodeSection | None:
    """Every node of ``data["nodes"]`` that is sound; None when there is no list of nodes at all."""
    nodes_raw = data.get("nodes")
    if not isinstance(nodes_raw, list) or not nodes_raw:
        reader.problem("nodes must be a non-empty list", field="nodes", line=line_of(data, "nodes"))
        return None

    # First pass: ids and states, so parameters can refer to any node.
    node_states: dict[str, tuple[str, ...]] = {}
    kinds: dict[str, str] = {}
    unusable: set[str] = set()  # nodes whose states are broken: children do not re-report them
    entries: list[tuple[str, Mapping[str, Any], tuple[str, ...]]] = []
    for i, raw in enumerate(nodes_raw):
        if not isinstance(raw, Mapping):
            reader.problem(f"each node must be a mapping, got {quote(raw)}", field=f"nodes[{i}]", line=line_of(nodes_raw))
            continue
        nid = raw.get("id")
        if not isinstance(nid, str) or not NODE_ID.fullmatch(nid) or not nid.isprintable():
            # isprintable: no control or invisible characters (a zero-width space would make two ids look alike)
            reader.problem(f"id must be printable text without spaces, '=', brackets or braces, got {quote(nid)}",
                           node=None, field=f"nodes[{i}].id", line=line_of(raw, "id"))
            continue
        if nid in node_states or nid in unusable:
            reader.problem(f"duplicate id {quote(nid)} (each node needs its own id)", node=nid, field="id",
                           line=line_of(raw, "id"))
            continue
        states = _states(reader, raw, nid)
        if states is None:
            unusable.add(nid)
            continue
        node_states[nid] = states
        kinds[nid] = raw.get("kind") if isinstance(raw.get("kind"), str) else ""
        entries.append((nid, raw, states))

    nodes = [node for nid, raw, states in entries
             if (node := _node(reader, nid, raw, states, costs, node_states, unusable)) is not None]

    # Checked once the nodes are otherwise sound (a broken file is not also told it lacks causes).
    if entries and not reader.problems and not any(k == "cause" for k in kinds.values()):
        reader.problem("no node has kind 'cause', so the model has nothing to diagnose; give at least one node "
                       "kind: cause (its targets)", field="nodes", line=line_of(data, "nodes"))
    cycle = find_cycle({n.id: n.parents for n in nodes})
    if cycle:
        # Name the edge that closes the loop: cycle[0] is a parent of cycle[1].
        parent, child = cycle[0], cycle[1]
        child_raw = next(r for i_, r, _ in entries if i_ == child)
        if "noisy_or" in child_raw:
            weights_raw = child_raw["noisy_or"]["weights"]
            pfield, pline = f"noisy_or.weights.{parent}", line_of(weights_raw, parent)
        else:
            pfield, pline = "table.parents", line_of(child_raw["table"], "parents")
        reader.problem(f"cycle: {' -> '.join(cycle)} (a node cannot be its own ancestor)", node=child, field=pfield,
                       line=pline)
    return NodeSection(tuple(nodes), node_states, kinds)


def _node(reader: FieldReader, nid: str, raw: Mapping[str, Any], states: tuple[str, ...], costs: Mapping[str, float],
          node_states: Mapping[str, tuple[str, ...]], unusable: set[str]) -> NodeSpec | None:
    """One node's fields, numbers and parents; None (with its problems noted) if any is wrong."""
    reader.unknown_keys(raw, NODE_KEYS, node=nid, field=None)
    label = reader.text(raw, "label", node=nid)
    kind = reader.text(raw, "kind", node=nid)
    if kind is not None and kind not in KNOWN_KINDS and _folded(kind) in KNOWN_KINDS:
        # "Cause" would make a model with no causes: kinds are names of your own, but not near-misses
        reader.problem(f"kind {quote(kind)} differs from {_folded(kind)!r} only in its writing; kinds are "
                       f"case-sensitive (write {_folded(kind)!r}, or a word of your own)",
                       node=nid, field="kind", line=line_of(raw, "kind"))
        kind = None
    question = reader.text(raw, "question", node=nid)
    desc = reader.text(raw, "description", node=nid, required=False)
    askable = raw.get("askable", kind != "cause")
    if not isinstance(askable, bool):
        reader.problem(f"askable must be true or false, got {quote(askable)}", node=nid, field="askable",
                       line=line_of(raw, "askable"))
        askable = kind != "cause"
    cost, cost_level = _cost(reader, raw, nid, costs)
    normal_state = _normal_state(reader, raw, nid, kind, states)
    given = [k for k in ("prior", "noisy_or", "table") if k in raw]
    params = None
    if len(given) != 1:
        msg = ("missing parameters: give one of prior, noisy_or, table" if not given
               else f"give only one of prior, noisy_or, table; got {', '.join(given)}")
        reader.problem(msg, node=nid, field="/".join(given) or "prior/noisy_or/table",
                       line=line_of(raw, given[1]) if given else line_of(raw))
    else:
        key = given[0]
        line = line_of(raw, key)
        if key == "prior":
            params = prior(reader, raw[key], node=nid, states=states, line=line)
        elif key == "noisy_or":
            params = noisy_or(reader, raw[key], node=nid, states=states, line=line)
        else:
            params = table(reader, raw[key], node=nid, states=states, line=line, node_states=node_states)
    # Parents must exist; noisy-OR parents must be yes/no. Each parent is
    # located at its own weight (noisy_or) or at the parents list (table).
    located: list[tuple[str, str, int | None]] = []  # parent, field, line
    noisy_raw = raw.get("noisy_or") if "noisy_or" in given else None
    table_raw = raw.get("table") if "table" in given else None
    if isinstance(noisy_raw, Mapping) and isinstance(noisy_raw.get("weights"), Mapping):
        weights_raw = noisy_raw["weights"]
        located = [(str(p), f"noisy_or.weights.{p}", line_of(weights_raw, p)) for p in weights_raw]
    elif isinstance(table_raw, Mapping) and isinstance(table_raw.get("parents"), list):
        located = [(str(p), "table.parents", line_of(table_raw, "parents")) for p in table_raw["parents"]]
    for p, pfield, pline in located:
        if p in unusable:
            params = None  # its own problem is reported already
        elif p not in node_states:
            hint = reader.hint(p, (n for n in node_states if n != nid))  # never itself
            reader.problem(f"unknown parent {quote(p)}{hint}", node=nid, field=pfield, line=pline)
            params = None
        elif p == nid:
            reader.problem("a node cannot be its own parent", node=nid, field=pfield, line=pline)
            params = None
        elif noisy_raw is not None and set(node_states[p]) != set(BINARY_STATES):
            reader.problem(f"noisy_or parent '{p}' must be a yes/no node, but its states are {', '.join(node_states[p])}",
                           node=nid, field=pfield, line=pline)
            params = None
    if label and kind and question and params is not None:
        return NodeSpec(nid, label, kind, question, states, params, askable, desc, line_of(raw), cost, cost_level,
                        normal_state)
    return None


def find_cycle(parents: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """One directed cycle as a list of ids (first repeated at the end), or None.

    A depth-first search with its own stack, not recursion: a valid chain of
    thousands of nodes listed children first must simply load.

    >>> find_cycle({"a": ("b",), "b": ("a",)}), find_cycle({"a": (), "b": ("a",)})
    (['a', 'b', 'a'], None)
    """
    state: dict[str, int] = {}   # 1 on the current path, 2 finished
    for root in parents:
        if root in state:
            continue
        path: list[str] = [root]
        todo: list[Iterator[str]] = [iter(parents.get(root, ()))]
        state[root] = 1
        while todo:
            p = next(todo[-1], None)
            if p is None:
                todo.pop()
                state[path.pop()] = 2
            elif state.get(p) == 1:
                return list(reversed(path[path.index(p):] + [p]))  # parent -> child order
            elif p not in state:
                state[p] = 1
                path.append(p)
                todo.append(iter(parents.get(p, ())))
    return None
