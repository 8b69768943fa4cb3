"""``kneebayes nodes``: every node id with its label, kind and states, the words ``diagnose`` and ``--answers`` take."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .saving import write_line
from .text import Printer

#: Kinds in the order a reader meets them: what is diagnosed, then what raises it, then what is felt.
KIND_ORDER = ("cause", "risk_factor", "finding")
KIND_TITLES = {"cause": "Causes", "risk_factor": "Risk factors", "finding": "Findings"}


def run(args: argparse.Namespace) -> int:
    from .models import load

    model = load(args.model, args.targets)
    red_flags = set(model.red_flag_nodes)
    rows: list[dict[str, Any]] = [
        {"id": n.id, "label": n.label, "kind": n.kind, "states": list(n.states), "askable": n.askable,
         "question": n.question if n.askable else None, "warning_sign": n.id in red_flags,
         "target": n.id in model.causes}
        for n in model.nodes]
    if args.kind is not None:
        rows = [r for r in rows if r["kind"] == args.kind or (args.kind == "cause" and r["target"])]
    if args.json:
        print(json.dumps({"model": model.name, "version": model.version, "nodes": rows}, indent=2))
        return 0
    out = Printer(write_line)
    kinds = [k for k in KIND_ORDER if any(r["kind"] == k for r in rows)]
    kinds += sorted({r["kind"] for r in rows} - set(kinds))
    width = min(max((len(r["id"]) for r in rows), default=0), 32)
    for kind in kinds:
        group = [r for r in rows if r["kind"] == kind]
        out.line(f"{KIND_TITLES.get(kind, kind)} ({len(group)}):")
        for r in group:
            notes = [] if r["askable"] or kind == "cause" else ["not asked"]
            if r["target"] and kind != "cause":
                notes.append("diagnosed")
            if r["warning_sign"]:
                notes.append("warning sign")
            tail = f" ({', '.join(notes)})" if notes else ""
            out.line(f"  {r['id']:<{width}}  {r['label']} [{'/'.join(r['states'])}]{tail}", hang=width + 4)
        out.line()
    out.line(f"Answer with ID=STATE, e.g. kneebayes diagnose {_example(rows)}")
    return 0


def _example(rows: list[dict[str, Any]]) -> str:
    asked = [r for r in rows if r["askable"]]
    return f"{asked[0]['id']}={asked[0]['states'][0]}" if asked else "ID=STATE"
