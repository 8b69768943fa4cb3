"""The small "graded" model file that several test modules build.

A three-state cause ``damage`` (``intact``, ``torn``, ``ruptured``; normal
state ``intact``) and yes/no findings whose tables depend on it, optionally
with a second cause ``kind`` (states ``a``, ``b``, ``c``, no normal state),
interview settings and red flags. One builder instead of a copy of the YAML
per test module, so that a change to the model-file format is made once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

# Three probabilities in the order of damage's states: intact, torn, ruptured.
ByDamage = tuple[float, float, float]

DAMAGE_STATES = ("intact", "torn", "ruptured")


def _number(p: float) -> str:
    """A probability as YAML text; rounded so that 1 - 0.9 is written 0.1."""
    return repr(round(p, 10))


def _text(s: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(s)


def _root(node_id: str, label: str, question: str, states: Mapping[str, float],
          normal_state: str | None = None) -> str:
    """A cause without parents, with its prior over ``states``."""
    lines = [f"  - id: {node_id}", f"    label: {label}", "    kind: cause",
             f"    question: {_text(question)}", f"    states: [{', '.join(states)}]"]
    if normal_state is not None:
        lines.append(f"    normal_state: {normal_state}")
    prior = ", ".join(f"{s}: {_number(p)}" for s, p in states.items())
    lines += ["    table:", "      parents: []", "      source: s", "      rationale: r", "      columns:",
              "        - given: {}", f"          probabilities: {{{prior}}}"]
    return "\n".join(lines) + "\n"


def _finding(node_id: str, p_yes: ByDamage) -> str:
    """A yes/no finding with P(yes | damage) = ``p_yes``."""
    lines = [f"  - id: {node_id}", f"    label: {node_id}", "    kind: finding",
             f"    question: {_text(node_id + '?')}",
             "    table:", "      parents: [damage]", "      source: s", "      rationale: r", "      columns:"]
    for state, p in zip(DAMAGE_STATES, p_yes, strict=True):
        lines += [f"        - given: {{damage: {state}}}",
                  f'          probabilities: {{"yes": {_number(p)}, "no": {_number(1.0 - p)}}}']
    return "\n".join(lines) + "\n"


def write_graded(path: Path, *, title: str, damage: ByDamage, findings: Mapping[str, ByDamage],
                 kind: tuple[float, float, float] | None = None,
                 interview: Mapping[str, float] | None = None,
                 red_flags: Mapping[str, str] | None = None) -> Path:
    """Write the graded model file to ``path`` and return ``path``.

    ``damage`` is the prior over (intact, torn, ruptured); ``findings`` maps a
    finding's id to its P(yes | intact), P(yes | torn), P(yes | ruptured), in
    node order. ``kind`` adds the cause ``kind`` after ``damage`` with prior
    (a, b, c). ``interview`` is the settings mapping. ``red_flags`` maps a
    finding's id to the flag's text (the flag has the finding's id, state yes).
    """
    out = ["format: kneebayes-model/1", "name: graded", 'version: "0.1"', f"title: {_text(title)}"]
    if interview is not None:
        out.append("interview: {" + ", ".join(f"{k}: {v!r}" for k, v in interview.items()) + "}")
    out.append("nodes:")
    text = "\n".join(out) + "\n"
    text += _root("damage", "Damage", "How damaged?", dict(zip(DAMAGE_STATES, damage, strict=True)), "intact")
    if kind is not None:
        text += _root("kind", "Kind", "Which kind?", dict(zip("abc", kind, strict=True)))
    text += "".join(_finding(node_id, p_yes) for node_id, p_yes in findings.items())
    if red_flags:
        text += "red_flags:\n" + "".join(
            f"  - id: {node_id}\n    node: {node_id}\n    text: {_text(flag)}\n    source: s\n"
            for node_id, flag in red_flags.items())
    path.write_text(text, encoding="utf-8")
    return path
