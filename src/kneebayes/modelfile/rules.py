"""Reading a model file's rules: cost levels, interview settings, graded answers, red flags, escalations and care advice.

These sections say how the model is used (what a question costs, when to
stop, when to send the runner to a doctor, what to advise), not what it
believes. Each reads its section, checks what it names against the nodes,
and leaves out an item with a problem, its problems noted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import EvidenceError, quote
from ..likelihood import Likelihood
from ..settings import setting_problem
from .checks import is_positive
from .fields import FieldReader, line_of
from .format import (
    ANSWER_WORDS,
    CARE_KEYS,
    ESCALATION_KEYS,
    GRADED_ANSWER_KEYS,
    INTERVIEW_KEYS,
    NODE_ID,
    RED_FLAG_KEYS,
)
from .numbers import is_number
from .schema import BINARY_STATES, CARE_WHEN, CareItem, Escalation, GradedAnswer, InterviewSettings, RedFlag
from .yamlsafe import written

__all__ = ["read_costs", "read_interview", "read_graded_answers", "read_red_flags", "read_escalations", "read_care"]

_States = Mapping[str, tuple[str, ...]]


def read_costs(reader: FieldReader, raw: object, line: int | None) -> dict[str, float]:
    """The cost levels: name -> positive number."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        reader.problem(f"costs must map each cost level to a positive number, got {quote(raw)}", field="costs", line=line)
        return {}
    out: dict[str, float] = {}
    for level, v in raw.items():
        if not isinstance(level, str) or not NODE_ID.fullmatch(level):
            reader.problem(f"cost level {quote(level)} must be a name without spaces", field=f"costs.{level}",
                           line=line_of(raw, level))
        elif not is_positive(v):
            reader.problem(f"cost level {quote(level)} must be a positive number, got {quote(v)}", field=f"costs.{level}",
                           line=line_of(raw, level))
        else:
            out[level] = float(v)
    return out


def read_interview(reader: FieldReader, raw: object, line: int | None) -> InterviewSettings:
    """Stopping and cost settings; every key is optional and falls back to InterviewSettings' default."""
    if raw is None:
        return InterviewSettings()
    if not isinstance(raw, Mapping):
        reader.problem(f"interview must be a mapping of {', '.join(sorted(INTERVIEW_KEYS))}, got {quote(raw)}",
                       field="interview", line=line)
        return InterviewSettings()
    reader.unknown_keys(raw, INTERVIEW_KEYS, node=None, field="interview")
    values: dict[str, float] = {}
    for key in ("confidence", "cost_weight", "min_gain"):
        if key not in raw:
            continue
        why = setting_problem(key, raw[key])  # the one rule every entry point uses
        if why is not None:
            reader.problem(f"interview.{why}", field=f"interview.{key}", line=line_of(raw, key))
            continue
        values[key] = float(raw[key])
    return InterviewSettings(**values)


def read_graded_answers(reader: FieldReader, raw: object, line: int | None) -> tuple[GradedAnswer, ...]:
    """The answers between yes and no: word -> {ratio, text, source, rationale}, in file order.

    A word is a name without spaces other than ``yes`` and ``no`` (those are
    the firm answers); ``ratio`` a finite number above 0.
    """
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        reader.problem(f"graded_answers must map each answer word to its ratio, text, source and rationale, "
                       f"got {quote(raw)}", field="graded_answers", line=line)
        return ()
    out: list[GradedAnswer] = []
    for word, item in raw.items():
        field = f"graded_answers.{word}"
        wline = line_of(raw, word) or line
        if not isinstance(word, str) or not NODE_ID.fullmatch(word) or word in BINARY_STATES:
            reader.problem(f"graded answer {quote(word)} must be a name without spaces other than 'yes' and 'no' "
                           "(those are the firm answers)", field=field, line=wline)
            continue
        if not isinstance(item, Mapping):
            reader.problem(f"graded answer {quote(word)} must be a mapping of {', '.join(sorted(GRADED_ANSWER_KEYS))}",
                           field=field, line=wline)
            continue
        reader.unknown_keys(item, GRADED_ANSWER_KEYS, node=None, field=field)
        texts = [reader.text(item, key, node=None, field_prefix=f"{field}.") for key in ("text", "source", "rationale")]
        ratio = item.get("ratio")
        if not is_positive(ratio):
            reader.problem(f"graded answer {quote(word)}: ratio must be a finite number above 0 (P(answer | yes) / "
                           f"P(answer | no)), got {quote(ratio)}", field=f"{field}.ratio", line=line_of(item, "ratio") or wline)
            continue
        try:   # the one limit on a soft answer's weights, which every use of this answer meets
            Likelihood(yes=float(ratio), no=1.0)
        except EvidenceError as err:
            reader.problem(f"graded answer {quote(word)}: ratio {quote(ratio)}: {err}", field=f"{field}.ratio",
                           line=line_of(item, "ratio") or wline)
            continue
        if None in texts:
            continue
        text, source, rationale = texts
        spoken = {" ".join(word.casefold().replace("_", " ").split()), " ".join(str(text).casefold().split())}
        taken = sorted(spoken & ANSWER_WORDS)
        if taken:
            reader.problem(f"graded answer {quote(word)}: {quote(taken[0])} is a word the command line reads itself "
                           f"(a firm yes or no, or skip, undo, quit); give the answer another word and text",
                           field=field, line=wline)
            continue
        clash = next((a.word for a in out if spoken & {" ".join(a.word.casefold().replace("_", " ").split()),
                                                        " ".join(a.text.casefold().split())}), None)
        if clash is not None:
            reader.problem(f"graded answers {quote(clash)} and {quote(word)} share a word or text, so one of them "
                           "could not be typed; give each its own", field=field, line=wline)
            continue
        out.append(GradedAnswer(word, float(ratio), text or "", source or "", rationale or ""))   # type: ignore[arg-type]
    return tuple(out)


def _items(reader: FieldReader, raw: object, line: int | None, section: str, what: str,
           keys: frozenset[str]) -> list[tuple[str, Mapping[str, Any], int | None]]:
    """The mappings of a top-level list (red_flags, escalations, care) with their ids; unknown keys and duplicate ids reported."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.problem(f"{section} must be a list", field=section, line=line)
        return []
    out: list[tuple[str, Mapping[str, Any], int | None]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        iline = line_of(item) or line
        if not isinstance(item, Mapping):
            reader.problem(f"each {what} must be a mapping", field=f"{section}[{i}]", line=iline)
            continue
        raw_id = item.get("id")
        iid = raw_id if isinstance(raw_id, str) and raw_id.strip() else f"{section}[{i}]"
        reader.unknown_keys(item, keys, node=None, field=f"{section}.{iid}")
        if reader.text(item, "id", node=None, field_prefix=f"{section}.{iid}.") is None:
            continue
        if iid in seen:
            reader.problem(f"duplicate {what} id {quote(iid)}", field=f"{section}.{iid}.id", line=line_of(item, "id"))
            continue
        seen.add(iid)
        out.append((iid, item, iline))
    return out


def _unknown(reader: FieldReader, what: str, name: object, pool: Mapping[str, Any] | list[str], *, field: str,
             line: int | None) -> None:
    reader.problem(f"unknown {what} {quote(name)}{reader.hint(name, pool)}", field=field, line=line)


def _cause_ref(reader: FieldReader, name: object, *, field: str, line: int | None, node_states: _States,
               kinds: Mapping[str, str]) -> bool:
    """Is ``name`` a yes/no node of kind ``cause``? Report why not."""
    causes = [n for n, k in kinds.items() if k == "cause"]
    if not isinstance(name, str) or name not in kinds:
        _unknown(reader, "cause", name, causes, field=field, line=line)
        return False
    if kinds[name] != "cause":
        reader.problem(f"'{name}' is a {kinds[name] or 'node without a kind'}, not a cause (valid: {', '.join(causes)})",
                       field=field, line=line)
        return False
    if set(node_states[name]) != set(BINARY_STATES):
        reader.problem(f"cause '{name}' must be a yes/no node, but its states are {', '.join(node_states[name])}",
                       field=field, line=line)
        return False
    return True


def read_red_flags(reader: FieldReader, raw: object, line: int | None, node_states: _States,
                   askable: Mapping[str, bool]) -> tuple[RedFlag, ...]:
    """The red flags: an askable node's state that sends the runner to a doctor."""
    out: list[RedFlag] = []
    for fid, item, iline in _items(reader, raw, line, "red_flags", "red flag", RED_FLAG_KEYS):
        prefix = f"red_flags.{fid}."
        texts = {k: reader.text(item, k, node=None, field_prefix=prefix) for k in ("node", "text", "source")}
        if None in texts.values():
            continue
        node = texts["node"] or ""
        state = item.get("state", "yes")
        if node not in node_states:
            _unknown(reader, "node", node, list(node_states), field=prefix + "node", line=line_of(item, "node"))
            continue
        if isinstance(state, bool) or not isinstance(state, (str, int, float)) or written(state) not in node_states[node]:
            where = "state" if "state" in item else "node"
            default = "" if "state" in item else " (the default state)"
            reader.problem(f"{quote(state)}{default} is not a state of '{node}' (valid: {', '.join(node_states[node])})",
                           field=prefix + where, line=line_of(item, where))
            continue
        if node in askable and not askable[node]:
            reader.problem(f"red flag on '{node}', which is not askable: the interview could never ask it",
                           field=prefix + "node", line=line_of(item, "node"))
            continue
        out.append(RedFlag(fid, node, written(state), texts["text"] or "", texts["source"] or ""))
    return tuple(out)


def read_escalations(reader: FieldReader, raw: object, line: int | None, node_states: _States,
                     kinds: Mapping[str, str]) -> tuple[Escalation, ...]:
    """The escalations: a cause whose posterior past a threshold sends the runner to a doctor."""
    out: list[Escalation] = []
    for eid, item, iline in _items(reader, raw, line, "escalations", "escalation", ESCALATION_KEYS):
        prefix = f"escalations.{eid}."
        texts = {k: reader.text(item, k, node=None, field_prefix=prefix) for k in ("text", "source", "rationale")}
        ok = None not in texts.values()
        if "cause" not in item:
            reader.problem("missing cause", field=prefix + "cause", line=iline)
            ok = False
        elif not _cause_ref(reader, item["cause"], field=prefix + "cause", line=line_of(item, "cause"),
                            node_states=node_states, kinds=kinds):
            ok = False
        threshold = item.get("threshold")
        if "threshold" not in item:
            reader.problem("missing threshold", field=prefix + "threshold", line=iline)
            ok = False
        elif not (is_number(threshold) and 0.0 < float(threshold) <= 1.0):
            reader.problem(f"threshold must be a posterior probability in (0, 1], got {quote(threshold)}",
                           field=prefix + "threshold", line=line_of(item, "threshold"))
            ok = False
        if ok:
            out.append(Escalation(eid, item["cause"], float(threshold), texts["text"] or "", texts["source"] or "",
                                  texts["rationale"] or ""))
    return tuple(out)


def read_care(reader: FieldReader, raw: object, line: int | None, node_states: _States,
              kinds: Mapping[str, str]) -> tuple[CareItem, ...]:
    """The care advice: items tied to causes, to the answers (``applies_when``), or general."""
    out: list[CareItem] = []
    for cid, item, iline in _items(reader, raw, line, "care", "care item", CARE_KEYS):
        prefix = f"care.{cid}."
        texts = {k: reader.text(item, k, node=None, field_prefix=prefix) for k in ("title", "advice", "source")}
        ok = None not in texts.values()
        causes_raw = item.get("causes", [])
        causes: list[str] = []
        if not isinstance(causes_raw, list):
            reader.problem(f"causes must be a list of cause ids (empty for general advice), got {quote(causes_raw)}",
                           field=prefix + "causes", line=line_of(item, "causes"))
            ok = False
        else:
            for c in causes_raw:
                if not _cause_ref(reader, c, field=prefix + "causes", line=line_of(item, "causes"),
                                  node_states=node_states, kinds=kinds):
                    ok = False
                elif c in causes:
                    reader.problem(f"cause '{c}' listed twice", field=prefix + "causes", line=line_of(item, "causes"))
                    ok = False
                else:
                    causes.append(c)
        when = item.get("when", "always")
        if when not in CARE_WHEN:
            reader.problem(f"when must be one of {', '.join(CARE_WHEN)}, got {quote(when)}", field=prefix + "when",
                           line=line_of(item, "when"))
            ok = False
        condition = _care_condition(reader, item, prefix + "applies_when", node_states, kinds) if "applies_when" in item else ()
        if ok and condition is not None:
            out.append(CareItem(cid, texts["title"] or "", texts["advice"] or "", texts["source"] or "", tuple(causes), when,
                                condition))
    return tuple(out)


def _care_condition(reader: FieldReader, item: Mapping[str, Any], field: str, node_states: _States,
                    kinds: Mapping[str, str]) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """A care item's ``applies_when``: node -> a state or a list of states; None (and problems) if it is wrong."""
    raw, line = item["applies_when"], line_of(item, "applies_when")
    if not isinstance(raw, Mapping) or not raw:
        why = "names no node (leave it out for advice that applies whatever the answers)" if isinstance(raw, Mapping) \
            else f"must map node ids to the states under which the advice applies, e.g. {{instability: \"yes\"}}, got {quote(raw)}"
        reader.problem(f"applies_when {why}", field=field, line=line)
        return None
    out: list[tuple[str, tuple[str, ...]]] = []
    for key, value in raw.items():
        node, kline = written(key), line_of(raw, key)
        if node not in node_states:
            _unknown(reader, "node", node, list(node_states), field=field, line=kline)
            continue
        if kinds.get(node) == "cause":
            reader.problem(f"'{node}' is a cause, which no answer settles: tie the advice to it with causes, "
                           "which rank it by the cause's posterior", field=field, line=kline)
            continue
        valid = node_states[node]
        listed = value if isinstance(value, list) else [value]
        states: list[str] = []
        for s in listed:
            if isinstance(s, bool) or not isinstance(s, (str, int, float)) or written(s) not in valid:
                reader.problem(f"{quote(s)} is not a state of '{node}' (valid: {', '.join(valid)})",
                               field=f"{field}.{node}", line=kline)
            elif written(s) in states:
                reader.problem(f"state '{written(s)}' listed twice", field=f"{field}.{node}", line=kline)
            else:
                states.append(written(s))
        if not listed:
            reader.problem(f"no state listed for '{node}' (valid: {', '.join(valid)})", field=f"{field}.{node}", line=kline)
        elif len(states) == len(listed):
            out.append((node, tuple(states)))
    return tuple(out) if len(out) == len(raw) else None
