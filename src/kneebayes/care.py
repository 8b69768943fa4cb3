"""Care advice from the article, ordered by how much it matters given the posterior.

The advice, its sources and the causes it serves live in the model file
(``care``); this module only selects and orders it.

>>> import kneebayes
>>> from kneebayes.care import care_plan
>>> model = kneebayes.load_model()
>>> plan = care_plan(model.spec, model.diagnose({"localized_tenderness": "yes"}).posterior, "self_care")
>>> plan[0].id, plan[0].causes[0]
('ice_after_runs', 'tendonitis')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .errors import SettingError, quote
from .modelfile.schema import ModelSpec

__all__ = ["CareAdvice", "care_plan", "GENERAL_RELEVANCE", "LEVEL_ITEMS"]

#: Relevance of a general item (one that names no cause): core advice such as
#: rest stays near the top, above advice for causes less likely than even odds.
GENERAL_RELEVANCE = 0.5

#: The ``when`` values whose items each triage level includes. "incomplete" (no warning sign
#: so far, but some unanswered) gets the self-care items: nothing points to a doctor yet, and
#: the self-care item on when to get it checked lists the warning signs to watch for.
#: "not_assessed" (the model has no triage rules) gets only the advice for every level.
LEVEL_ITEMS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "see_doctor": ("always", "see_doctor"),
    "self_care": ("always", "self_care"),
    "incomplete": ("always", "self_care"),
    "not_assessed": ("always",),
})


@dataclass(frozen=True)
class CareAdvice:
    """One item of the care plan.

    ``relevance`` is the largest posterior among the causes it serves
    (:data:`GENERAL_RELEVANCE` for a general item); ``when`` is the triage
    level it is limited to, or ``"always"``.
    """

    id: str
    title: str
    advice: str
    source: str
    causes: tuple[str, ...]
    relevance: float
    when: str = "always"

    def __str__(self) -> str:
        return f"{self.title}: {self.advice} (source: {self.source})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this advice."""
        return {"id": self.id, "title": self.title, "advice": self.advice, "source": self.source,
                "causes": list(self.causes), "relevance": self.relevance, "when": self.when}


def care_plan(spec: ModelSpec, posterior: Mapping[str, float], level: str) -> tuple[CareAdvice, ...]:
    """The model's care items for this triage level, most relevant first.

    ``level`` is a triage level: ``"see_doctor"``, ``"self_care"``,
    ``"incomplete"`` or ``"not_assessed"``. An item is included when its
    ``when`` is one :data:`LEVEL_ITEMS` lists for the level: ``always``
    items at every level, ``see_doctor`` items at see_doctor, ``self_care``
    items at self_care and incomplete.

    Relevance is the **maximum** posterior P(cause = yes | evidence) over the
    causes the item serves, not the sum: it stays a probability in [0, 1]
    that reads as "the likeliest reason to do this", comparable with the
    constant for general items, and an item does not climb merely because
    the file attaches it to more causes. An item naming no cause is general
    advice and gets :data:`GENERAL_RELEVANCE` (0.5), except general advice
    written for the see_doctor level alone ("have the knee evaluated"),
    which is the point of that level and gets 1.0, so it comes first. A cause missing from ``posterior`` counts as 0. Ordered by
    relevance, largest first, then by id.
    """
    level = str(level)
    if level not in LEVEL_ITEMS:
        raise SettingError(f"level must be one of {', '.join(LEVEL_ITEMS)}, got {quote(level)}")
    ranked: list[tuple[tuple[float, ...], str, CareAdvice]] = []
    for item in spec.care:
        if item.when not in LEVEL_ITEMS[level]:
            continue
        if item.causes:
            values = sorted((float(posterior.get(c, 0.0)) for c in item.causes), reverse=True)
        else:
            values = [1.0 if item.when == level == "see_doctor" else GENERAL_RELEVANCE]
        advice = CareAdvice(item.id, item.title, item.advice, item.source, item.causes, values[0], item.when)
        ranked.append((tuple(-v for v in values), item.id, advice))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return tuple(a for _, _, a in ranked)
