"""Write a spec as a model file that loads back to the same spec.

The output follows ``docs/model-file-format.md``: every number with its
value (the verbal term where the author wrote one, else the float, written
so it reads back exactly), range, source and rationale. Loading the saved
file gives an equal spec (apart from ``path`` and line numbers) and so the
same ``content_hash``. Comments of the original file are not kept.

Two things are written in a form of their own:

* table cells without a range (imported networks) are bare numbers under
  the table's ``source`` and ``rationale``, as the format allows;
* a root whose numbers have no range (an imported root) is written as a
  table without parents, the one place the format allows bare numbers.

A hand-set number without a range (a noisy-OR weight, say) cannot be
written: the format requires one, so :func:`dump` raises ParameterError
naming its address.

The text is deterministic: the same spec always gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ModelFileError, ParameterError, quote
from ..files import output_path, write_atomic
from .format import CLAIM_CHECKS, DEFAULT_COST, DEFAULT_COST_LEVEL, FORMAT
from .load import parse_spec
from .schema import BINARY_STATES, ModelSpec, NodeSpec, NoisyOr, Parameter, Prior, Table
from .yamlsafe import parse_yaml

__all__ = ["dump", "save"]

HEADER = ("# A kneebayes model file (format: docs/model-file-format.md), written by kneebayes.\n"
          "# Comments are not kept when a model is saved again.\n")


_ODD_BREAKS = "\r\x85\u2028\u2029"


class _Flow(list):  # type: ignore[type-arg]
    """A list written on one line: ``[0.1, 0.3]``."""


class _FlowMap(dict):  # type: ignore[type-arg]
    """A mapping written on one line: ``{knee_trauma: 'yes'}``."""


def _dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        """SafeDumper (plain data only) with indented lists and one-line ranges and evidence."""

        def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
            return super().increase_indent(flow, False)

    def text(d: Any, v: str) -> Any:
        # Several lines read best as a literal block; never with kept trailing blank lines
        # (``|+``), whose content a blank line between sections would change. Unicode line
        # breaks and carriage returns go double-quoted, as escapes: PyYAML's single quotes
        # turn them into spaces.
        style = None
        if any(c in v for c in _ODD_BREAKS):
            style = '"'
        elif "\n" in v and not v.endswith("\n\n"):
            style = "|"
        return d.represent_scalar("tag:yaml.org,2002:str", v, style=style)

    Dumper.add_representer(str, text)
    Dumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
    Dumper.add_representer(_FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
    return Dumper


def _number(p: Parameter) -> float | str:
    return p.term if p.term is not None else float(p.value)


def _parameter(p: Parameter, address: str) -> dict[str, Any]:
    if p.range is None:
        raise ParameterError(f"{address} has no range, which a model file requires for this number; give it one "
                             f"with with_parameters({{{quote(address)}: (value, (low, high))}})")
    out: dict[str, Any] = {"value": _number(p), "range": _Flow([float(p.range[0]), float(p.range[1])]),
                           "source": p.source, "rationale": p.rationale}
    if p.data:
        out["data"] = [_FlowMap(name=r.name, cases=int(r.cases), date=r.date) for r in p.data]
    return out


def _states_map(node: NodeSpec, cells: tuple[Parameter, ...], address: str, bare: tuple[str, str] | None) -> dict[str, Any]:
    """A mapping state -> parameter; cells without a range become bare numbers under ``bare`` provenance."""
    if all(c.range is None for c in cells) and bare is not None:
        return _FlowMap((s, float(c.value)) for s, c in zip(node.states, cells))
    out: dict[str, Any] = {}
    for s, c in zip(node.states, cells):
        if c.range is None and bare is not None:
            out[s] = float(c.value)
        else:
            out[s] = _parameter(c, f"{address}[{s}]")
    return out


def _table(node: NodeSpec, t: Table) -> dict[str, Any]:
    out: dict[str, Any] = {"parents": _Flow(t.parents)}
    if t.source is not None:
        out["source"] = t.source
    if t.rationale is not None:
        out["rationale"] = t.rationale
    bare = (t.source, t.rationale) if t.source and t.rationale else None
    columns = []
    for col in t.columns:
        given = ",".join(f"{p}={s}" for p, s in col.given)
        columns.append({"given": _FlowMap(col.given),
                        "probabilities": _states_map(node, col.probabilities, f"{node.id}.table[{given}]", bare)})
    out["columns"] = columns
    return out


def _root_as_table(node: NodeSpec, p: Prior) -> dict[str, Any]:
    """A root without ranges (imported): a table without parents, its cells bare numbers."""
    sources = {(c.source, c.rationale) for c in p.probabilities}
    if len(sources) != 1:
        raise ParameterError(f"{node.id}.prior: its numbers have no range and differing sources, which a model file "
                             "cannot hold; give each a range with with_parameters")
    (source, rationale), = sources
    return {"parents": _Flow(), "source": source, "rationale": rationale,
            "columns": [{"given": _FlowMap(), "probabilities": _FlowMap((s, float(c.value)) for s, c in zip(node.states, p.probabilities))}]}


def _node(node: NodeSpec, costs: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "label": node.label, "kind": node.kind, "question": node.question}
    if tuple(node.states) != BINARY_STATES:
        out["states"] = _Flow(node.states)
    if node.askable != (node.kind != "cause"):
        out["askable"] = node.askable
    if node.normal_state is not None:
        out["normal_state"] = node.normal_state
    default = (costs[DEFAULT_COST_LEVEL], DEFAULT_COST_LEVEL) if DEFAULT_COST_LEVEL in costs else (DEFAULT_COST, None)
    if (float(node.cost), node.cost_level) != default:
        level = node.cost_level
        out["cost"] = level if level is not None and costs.get(level) == node.cost else float(node.cost)
    if node.description is not None:
        out["description"] = node.description
    p = node.parameters
    if isinstance(p, Prior):
        if p.derived_last:
            yes = node.states.index("yes")
            out["prior"] = _parameter(p.probabilities[yes], f"{node.id}.prior")
        elif all(c.range is None for c in p.probabilities):
            out["table"] = _root_as_table(node, p)
        else:
            out["prior"] = _states_map(node, p.probabilities, f"{node.id}.prior", None)
    elif isinstance(p, NoisyOr):
        out["noisy_or"] = {
            "leak": _parameter(p.leak, f"{node.id}.leak"),
            "weights": {parent: _parameter(w, f"{node.id}.weight[{parent}]") for parent, w in p.weights},
        }
    else:
        out["table"] = _table(node, p)
    return out


def _document(spec: ModelSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"format": FORMAT, "name": spec.name, "version": spec.version, "title": spec.title}
    if spec.description is not None:
        doc["description"] = spec.description
    if spec.source_document is not None:
        doc["source_document"] = spec.source_document
    if spec.disclaimer is not None:
        doc["disclaimer"] = spec.disclaimer
    if spec.scale:
        doc["scale"] = {t: float(v) for t, v in spec.scale}
    costs = {level: float(c) for level, c in spec.costs}
    if costs:
        doc["costs"] = costs
    iv = spec.interview
    doc["interview"] = {"confidence": float(iv.confidence), "cost_weight": float(iv.cost_weight),
                        "min_gain": float(iv.min_gain)}
    if spec.graded_answers:
        doc["graded_answers"] = {a.word: {"ratio": float(a.ratio), "text": a.text, "source": a.source,
                                          "rationale": a.rationale} for a in spec.graded_answers}
    doc["nodes"] = [_node(n, costs) for n in spec.nodes]
    if spec.claims:
        claims = []
        for c in spec.claims:
            item: dict[str, Any] = {"id": c.id, "statement": c.statement, "source": c.source, "check": c.check}
            required = CLAIM_CHECKS.get(c.check, ())
            for key in ("cause", "than"):
                if getattr(c, key) is not None:
                    item[key] = getattr(c, key)
            for key in ("given", "versus"):
                if getattr(c, key) or key in required:
                    item[key] = _FlowMap(getattr(c, key))
            for key in ("parent_kind", "child_kind", "by"):
                if getattr(c, key) is not None:
                    item[key] = getattr(c, key)
            if c.screened:
                item["screened"] = True
            claims.append(item)
        doc["claims"] = claims
    if spec.red_flags:
        doc["red_flags"] = [{"id": f.id, "node": f.node, "state": f.state, "text": f.text, "source": f.source}
                            for f in spec.red_flags]
    if spec.escalations:
        doc["escalations"] = [{"id": e.id, "cause": e.cause, "threshold": float(e.threshold), "text": e.text,
                               "source": e.source, "rationale": e.rationale} for e in spec.escalations]
    if spec.care:
        care = []
        for item in spec.care:
            entry: dict[str, Any] = {"id": item.id, "title": item.title, "advice": item.advice, "source": item.source}
            if item.causes:
                entry["causes"] = _Flow(item.causes)
            if item.when != "always":
                entry["when"] = item.when
            if item.applies_when:   # one state as a scalar, as an author writes it; several as a list
                entry["applies_when"] = _FlowMap((node, states[0] if len(states) == 1 else _Flow(states))
                                                 for node, states in item.applies_when)
            care.append(entry)
        doc["care"] = care
    return doc


def _spaced(text: str) -> str:
    """Blank lines around top-level blocks and between the items of top-level lists (layout only).

    Only lines that cannot sit inside a multi-line scalar are touched: a
    top-level key (column 0) and, under a key that opens a block (``nodes:``),
    its list items at indent 2.
    """
    out: list[str] = []
    in_block = False  # under a top-level key that opens a block, not one with a scalar value
    previous = ""
    for line in text.splitlines():
        if line[:1] not in ("", " "):  # a top-level key
            opens = line.endswith(":")
            if out and (opens or previous.startswith(" ")):
                out.append("")
            in_block = opens
        elif in_block and line.startswith("  - ") and not previous.endswith(":"):
            out.append("")
        out.append(line)
        previous = line
    return "\n".join(out) + "\n"


def dump(spec: ModelSpec) -> str:
    """The model file text for ``spec``: YAML in the documented format, deterministic.

    Raises ParameterError if a number cannot be written (a hand-set number
    without a range).

    >>> import kneebayes
    >>> text = dump(kneebayes.load_model().spec)
    >>> text.splitlines()[2]
    'format: kneebayes-model/1'
    """
    import yaml

    body = yaml.dump(_document(spec), Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)
    return HEADER + _spaced(body)


def save(spec: ModelSpec, path: str | Path) -> Path:
    """Write ``spec`` as a model file at ``path`` and return the path.

    The text is checked with the model-file validator before anything is
    written, so a file is only replaced by one that loads (ModelFileError
    otherwise); the write goes through a temporary file beside the target.
    """
    path = output_path(path)   # a bad name is refused before the model is written out and checked
    text = dump(spec)
    _, problems = parse_spec(parse_yaml(text), str(path))
    if problems:
        raise ModelFileError(problems)
    write_atomic(path, text)
    return path
