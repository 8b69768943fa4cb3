"""``kneebayes nodes``: every node id with its label, kind and states, the words ``diagnose`` and ``--answers`` take.

For a network file given without ``--targets`` it lists the network's nodes
as the file has them (roots first in a group of their own), which is where
to choose the targets from.
"""

from __future__ import annotations

import argparse
import json
import shlex
from typing import Any

from ..errors import KneeBayesError, quote
from ..interop.importer import network_nodes
from .models import is_network, load
from .saving import write_line
from .text import Printer

#: Kinds in the order a reader meets them: what is diagnosed, then what raises it, then what is felt.
KIND_ORDER = ("cause", "risk_factor", "finding")
KIND_TITLES = {"cause": "Causes", "risk_factor": "Risk factors", "finding": "Findings",
               "root": "Root nodes (no parents)", "node": "Other nodes"}


def run(args: argparse.Namespace) -> int:
    """``kneebayes nodes``: every node id by kind, with its label and states (``--kind`` for one kind); 0."""
    if is_network(args.model) and not args.targets:
        if args.normal:   # without targets, the file's nodes are listed as they are: --normal would do nothing
            raise KneeBayesError("--normal names the targets' no-fault states: give it with --targets (without "
                                 "--targets, nodes lists the file's nodes to choose the targets from)")
        rows, model_name, version = _network_rows(args.model), None, None
        lead = ""
    else:
        model = load(args.model, args.targets, args.normal)
        rows, model_name, version = _model_rows(model), model.name, model.version
        lead = _command_lead(args)
    kinds = _kinds(rows)
    if args.kind is not None:
        if args.kind not in kinds:
            raise KneeBayesError(f"no node is of kind {quote(args.kind)}; the kinds here are {', '.join(kinds)}")
        rows = [r for r in rows if r["kind"] == args.kind]
    if args.json:
        print(json.dumps({"model": model_name, "version": version, "nodes": rows}, indent=2))
        return 0
    out = Printer(write_line)
    width = min(max((len(r["id"]) for r in rows), default=0), 32)
    for kind in _kinds(rows):
        group = [r for r in rows if r["kind"] == kind]
        out.line(f"{KIND_TITLES.get(kind, kind)} ({len(group)}):")
        for r in group:
            notes = [] if r["askable"] or kind in ("cause", "root", "node") else ["not asked"]
            if r["warning_sign"]:
                notes.append("warning sign")
            tail = f" ({', '.join(notes)})" if notes else ""
            label = f"{r['label']} " if r["label"] != r["id"] else ""
            out.line(f"  {r['id']:<{width}}  {label}[{'/'.join(r['states'])}]{tail}", hang=width + 4)
        out.line()
    if lead:
        out.line(f"Answer with ID=STATE, e.g. {lead} {_example(rows)}")
    else:
        out.line(f"Choose the nodes to diagnose with --targets, e.g. kneebayes diagnose --model "
                 f"{shlex.quote(args.model)} --targets {','.join([r['id'] for r in rows if r['kind'] == 'root'][:3])}")
    return 0


def _model_rows(model: Any) -> list[dict[str, Any]]:
    red_flags = set(model.red_flag_nodes)
    targets = set(model.causes)
    return [{"id": n.id, "label": n.label, "kind": "cause" if n.id in targets else n.kind, "states": list(n.states),
             "askable": n.askable, "question": n.question if n.askable else None, "warning_sign": n.id in red_flags,
             "target": n.id in targets}
            for n in model.nodes]


def _network_rows(path: str) -> list[dict[str, Any]]:
    return [{"id": name, "label": name, "kind": "node" if parents else "root", "states": list(states),
             "askable": True, "question": None, "warning_sign": False, "target": False, "parents": list(parents)}
            for name, states, parents in network_nodes(path)]


def _kinds(rows: list[dict[str, Any]]) -> list[str]:
    order = [k for k in (*KIND_ORDER, "root", "node") if any(r["kind"] == k for r in rows)]
    return order + sorted({r["kind"] for r in rows} - set(order))


def _command_lead(args: argparse.Namespace) -> str:
    """``kneebayes diagnose`` with the options that name this model, ready to paste."""
    parts = ["kneebayes", "diagnose"]
    if args.model is not None:
        parts += ["--model", shlex.quote(args.model)]
    if args.targets:
        parts += ["--targets", shlex.quote(",".join(args.targets))]
    if args.normal:
        parts += ["--normal", shlex.quote(",".join(f"{k}={v}" for k, v in args.normal.items()))]
    return " ".join(parts)


def _example(rows: list[dict[str, Any]]) -> str:
    asked = [r for r in rows if r["askable"] and not r["target"]]
    return shlex.quote(f"{asked[0]['id']}={asked[0]['states'][0]}") if asked else "ID=STATE"
