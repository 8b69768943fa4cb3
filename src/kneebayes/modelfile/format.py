"""The model file format's vocabulary: its version tag, keys, limits, defaults and conventions.

Everything that reads or writes a model file (the loader, :mod:`.save`,
``with_parameters``) takes these from here, so the format is stated once.
``docs/model-file-format.md`` describes it for people.
"""

from __future__ import annotations

import re

from .schema import Parameter

__all__ = [
    "FORMAT", "MAX_MODEL_FILE_BYTES", "SUM_TOLERANCE", "CLAIM_CHECKS", "DEFAULT_COST", "DEFAULT_COST_LEVEL",
    "KNOWN_KINDS", "NODE_ID", "ID_LISTS", "TOP_KEYS", "GRADED_ANSWER_KEYS", "NODE_KEYS", "PARAMETER_KEYS", "DATA_RECORD_KEYS",
    "INTERVIEW_KEYS",
    "RED_FLAG_KEYS", "ESCALATION_KEYS", "CARE_KEYS", "CLAIM_KEYS", "complement",
]

FORMAT = "kneebayes-model/1"

#: The largest model file read: a model file is hand-written (the knee's is about 65 kB). Without
#: libyaml the YAML reader is pure Python (about a second per 100-300 kB; with it, ten times
#: faster), so the bound also bounds the time; a network of thousands of nodes is better imported
#: as BIF (kneebayes.load_bif).
MAX_MODEL_FILE_BYTES = 4 * 1024 * 1024

#: How far from 1 the states of a prior or a table column may sum.
SUM_TOLERANCE = 1e-9

#: Each claim check and the fields it needs.
CLAIM_CHECKS: dict[str, tuple[str, ...]] = {
    "raises": ("cause", "given", "versus"),
    "raises_most": ("cause", "given", "versus"),
    "more_probable": ("cause", "than"),
    "ranks_first": ("cause", "given"),
    "edges_raise": ("parent_kind", "child_kind"),
    "explains_first": ("cause", "given"),
    "lifts": ("cause", "given", "by"),
}

#: A node without ``cost`` costs the level of this name if the file has one, else DEFAULT_COST.
DEFAULT_COST = 1.0
DEFAULT_COST_LEVEL = "question"

#: The kinds the library gives meaning to; a file may use words of its own beside them.
KNOWN_KINDS = ("cause", "risk_factor", "finding")

#: A node id or cost level, used with fullmatch (a trailing newline is no part of an id): no blanks,
#: and none of the characters that parameter addresses use (``X.table[p=s][state]``).
NODE_ID = re.compile(r"[^\s=\[\],{}\x00-\x1f\x7f-\x9f]+")   # no control characters either: ids are printed

#: Top-level lists whose items are named by their ``id``.
ID_LISTS = ("claims", "red_flags", "escalations", "care")

# The keys each part of a file may have.
TOP_KEYS = frozenset({"format", "name", "version", "title", "description", "source_document", "disclaimer", "scale",
                      "nodes", "claims", "costs", "interview", "graded_answers", "red_flags", "escalations", "care"})
#: The keys of one graded answer (``graded_answers.<word>``).
GRADED_ANSWER_KEYS = frozenset({"ratio", "text", "source", "rationale"})

# The words the command line reads itself, in any case: a firm yes or no, and the interview's own commands. A
# graded answer's word or text may not be one of them (it could not be typed, or would mean two things).
YES_WORDS = frozenset({"y", "yes", "true"})
NO_WORDS = frozenset({"n", "no", "false"})
SKIP_WORDS = frozenset({"skip", "s", "?", "dont know", "don't know", "unknown"})
UNDO_WORDS = frozenset({"undo", "u", "back"})
QUIT_WORDS = frozenset({"quit", "q", "exit"})
ANSWER_WORDS = YES_WORDS | NO_WORDS | SKIP_WORDS | UNDO_WORDS | QUIT_WORDS
NODE_KEYS = frozenset({"id", "label", "kind", "question", "states", "askable", "description", "cost", "normal_state",
                       "prior", "noisy_or", "table"})
PARAMETER_KEYS = frozenset({"value", "range", "source", "rationale", "data"})
DATA_RECORD_KEYS = frozenset({"name", "cases", "date"})
INTERVIEW_KEYS = frozenset({"confidence", "cost_weight", "min_gain"})
RED_FLAG_KEYS = frozenset({"id", "node", "state", "text", "source"})
ESCALATION_KEYS = frozenset({"id", "cause", "threshold", "text", "source", "rationale"})
CARE_KEYS = frozenset({"id", "title", "advice", "source", "causes", "when", "applies_when"})
CLAIM_KEYS = frozenset({"id", "statement", "source", "check", "cause", "than", "given", "versus", "parent_kind",
                        "child_kind", "screened", "by"})


def complement(p: Parameter) -> Parameter:
    """P(no) of a yes/no prior written as P(yes): the value, range and provenance mirrored.

    >>> complement(Parameter(0.2, "s", "r", (0.1, 0.3))).range
    (0.7, 0.9)
    """
    rng = None if p.range is None else (1.0 - p.range[1], 1.0 - p.range[0])
    return Parameter(1.0 - p.value, p.source, f"complement of P(yes): {p.rationale}", rng, None)
