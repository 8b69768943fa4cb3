"""Care advice from the article: selected by triage level and answers, ordered by the posterior.

The advice, its sources, the causes it serves and the answers it is tied
to live in the model file (``care``); this module only selects, orders and
shortens it. :func:`care_plan` gives every item that applies, most relevant
first, each marked whether it ``fits`` the answers; :func:`split_care`
cuts that plan into the few items to show first and the rest, shown on
request.

>>> import kneebayes
>>> from kneebayes.care import care_plan, split_care
>>> model = kneebayes.load_model()
>>> answers = {"localized_tenderness": "yes"}
>>> plan = care_plan(model.spec, model.diagnose(answers).posterior, "self_care", evidence=answers)
>>> plan[0].id, plan[0].causes[0]
('ice_after_runs', 'tendonitis')
>>> first, rest = split_care(plan)
>>> [a.id for a in first]
['ice_after_runs', 'kinesiology_taping', 'sensible_progression', 'when_to_get_checked']
>>> len(rest)
8
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from .errors import SettingError, quote
from .likelihood import Likelihood
from .modelfile.schema import CareItem, ModelSpec

__all__ = ["CareAdvice", "care_plan", "condition_status", "split_care", "GENERAL_RELEVANCE", "LEVEL_ITEMS",
           "SHORT_PLAN"]

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

#: How many items :func:`split_care` puts in the short plan by default.
SHORT_PLAN = 4

Condition = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class CareAdvice:
    """One item of the care plan.

    ``relevance`` is the largest posterior among the causes it serves
    (:data:`GENERAL_RELEVANCE` for a general item, 1.0 for the level's key
    item at see_doctor and for an item whose ``applies_when`` the answers
    meet); ``when`` is the triage level it is limited to, or ``"always"``;
    ``applies_when`` the answers it is tied to (node, states), as in the
    model file.

    ``key`` marks the level's key item: general advice written for this
    level alone ("see a doctor" at see_doctor, "when to get it checked" at
    self_care and incomplete). ``fits`` says the item fits the answers: it
    is a key item, or the answers meet its ``applies_when``, or, having no
    ``applies_when``, it is general advice or serves one of the likeliest
    causes (those whose posterior is the largest). An item whose condition
    is still open (a node unanswered) does not fit, whatever it serves.

    A diagnosis lists them as its ``care_plan``:

    >>> import kneebayes
    >>> plan = kneebayes.load_model().diagnose({"swelling_behind_knee": "yes"}).care_plan
    >>> first = plan[0]
    >>> first.id, first.key, first.fits, first.relevance
    ('professional_evaluation', True, True, 1.0)
    >>> first.title
    'See a doctor or physical therapist'
    """

    id: str
    title: str
    advice: str
    source: str
    causes: tuple[str, ...]
    relevance: float
    when: str = "always"
    applies_when: Condition = ()
    fits: bool = False
    key: bool = False

    def __str__(self) -> str:
        return f"{self.title}: {self.advice} (source: {self.source})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this advice (``applies_when`` as node -> list of states)."""
        return {"id": self.id, "title": self.title, "advice": self.advice, "source": self.source,
                "causes": list(self.causes), "relevance": self.relevance, "when": self.when,
                "applies_when": {node: list(states) for node, states in self.applies_when},
                "fits": self.fits, "key": self.key}


def condition_status(condition: Condition, evidence: Mapping[str, object]) -> Literal["met", "open", "contradicted"]:
    """Whether answers meet a care item's ``applies_when``.

    ``"contradicted"`` when some node is answered outside its states,
    ``"met"`` when every node is answered inside them (always, for an empty
    condition), else ``"open"``. True and False read as yes and no; a soft
    answer (a Likelihood) settles nothing, so it leaves its node open.

    >>> cond = (("instability", ("yes",)),)
    >>> condition_status(cond, {"instability": "no"}), condition_status(cond, {"instability": "yes"})
    ('contradicted', 'met')
    >>> condition_status(cond, {"limping": "yes"})
    'open'
    """
    status: Literal["met", "open", "contradicted"] = "met"
    for node, states in condition:
        if node not in evidence:
            status = "open"
            continue
        value = evidence[node]
        if isinstance(value, Likelihood):
            status = "open"
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        if value not in states:
            return "contradicted"
    return status


def care_plan(spec: ModelSpec, posterior: Mapping[str, float], level: str, *,
              evidence: Mapping[str, object] | None = None) -> tuple[CareAdvice, ...]:
    """The model's care items for this triage level and these answers, most relevant first.

    ``level`` is a triage level: ``"see_doctor"``, ``"self_care"``,
    ``"incomplete"`` or ``"not_assessed"``. An item is included when its
    ``when`` is one :data:`LEVEL_ITEMS` lists for the level: ``always``
    items at every level, ``see_doctor`` items at see_doctor, ``self_care``
    items at self_care and incomplete. ``evidence`` (node -> state; None
    means nothing answered) then drops every item whose ``applies_when``
    an answer contradicts (:func:`condition_status`); an item whose node is
    unanswered stays.

    Relevance is the **maximum** posterior P(cause = yes | evidence) over the
    causes the item serves, not the sum: it stays a probability in [0, 1]
    that reads as "the likeliest reason to do this", comparable with the
    constant for general items, and an item does not climb merely because
    the file attaches it to more causes. An item naming no cause is general
    advice and gets :data:`GENERAL_RELEVANCE` (0.5), except general advice
    written for the see_doctor level alone ("have the knee evaluated"),
    which is the point of that level and gets 1.0, so it comes first. An
    item whose ``applies_when`` the answers meet gets 1.0 too: the answers
    ask for it. A cause missing from ``posterior`` counts as 0.

    Ordered by relevance, largest first; at equal relevance general advice
    first, then the item whose next cause is likelier; then by id. Each item says whether it
    ``fits`` and whether it is the level's ``key`` item (see
    :class:`CareAdvice`); :func:`split_care` uses both.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> unstable = care_plan(spec, {}, "see_doctor", evidence={"instability": "yes"})
    >>> [(a.id, a.fits) for a in unstable[:2]]
    [('professional_evaluation', True), ('bracing_for_instability', True)]
    >>> stable = care_plan(spec, {}, "see_doctor", evidence={"instability": "no"})
    >>> "bracing_for_instability" in [a.id for a in stable]
    False
    """
    level = str(level)
    if level not in LEVEL_ITEMS:
        raise SettingError(f"level must be one of {', '.join(LEVEL_ITEMS)}, got {quote(level)}")
    answers: Mapping[str, object] = {} if evidence is None else evidence
    top = max((float(p) for p in posterior.values()), default=0.0)
    likeliest = {c for c, p in posterior.items() if top > 0.0 and float(p) == top}
    ranked: list[tuple[tuple[Any, ...], CareAdvice]] = []
    for item in spec.care:
        if item.when not in LEVEL_ITEMS[level]:
            continue
        status = condition_status(item.applies_when, answers)
        if status == "contradicted":
            continue
        advice, order = _advice(item, level, posterior, status == "met" and bool(item.applies_when), likeliest)
        ranked.append((order, advice))
    ranked.sort(key=lambda r: r[0])
    return tuple(a for _, a in ranked)


def _advice(item: CareItem, level: str, posterior: Mapping[str, float], met: bool,
            likeliest: set[str]) -> tuple[CareAdvice, tuple[Any, ...]]:
    """One item as advice, with its sort key."""
    key = not item.causes and item.when != "always"   # general advice written for this level alone
    values = sorted((float(posterior.get(c, 0.0)) for c in item.causes), reverse=True)
    if met or (key and level == "see_doctor"):
        relevance = 1.0
    else:
        relevance = values[0] if values else GENERAL_RELEVANCE
    if item.applies_when:
        fits = key or met
    else:
        fits = key or not item.causes or bool(likeliest.intersection(item.causes))
    advice = CareAdvice(item.id, item.title, item.advice, item.source, item.causes, relevance, item.when,
                        item.applies_when, fits, key)
    return advice, (-relevance, tuple(-v for v in values), item.id)


def split_care(plan: tuple[CareAdvice, ...], limit: int = SHORT_PLAN) -> tuple[tuple[CareAdvice, ...], tuple[CareAdvice, ...]]:
    """The short plan to show first, and the rest to show on request.

    ``first``: every key item, then the other items that fit, in plan order,
    until it holds ``limit`` items (key items are never left out, even past
    ``limit``). ``rest``: every other item, in plan order. Both parts keep
    the plan's order, and together they hold the whole plan. When nothing
    fits, ``first`` is empty.

    Examples
    --------
    >>> from kneebayes.care import CareAdvice, split_care
    >>> def item(id, fits=True, key=False):
    ...     return CareAdvice(id, id, "", "", (), 0.5, fits=fits, key=key)
    >>> plan = (item("ice"), item("tape", fits=False), item("stretch"), item("rest"), item("check", key=True))
    >>> first, rest = split_care(plan, limit=3)
    >>> [a.id for a in first], [a.id for a in rest]
    (['ice', 'stretch', 'check'], ['tape', 'rest'])
    >>> [a.id for a in split_care(plan, limit=1)[0]]
    ['check']
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise SettingError(f"limit must be a whole number of items, at least 1, got {quote(limit)}")
    room = max(limit - sum(a.key for a in plan), 0)
    chosen: set[int] = set()
    for i, a in enumerate(plan):
        if a.key:
            chosen.add(i)
        elif a.fits and room > 0:
            chosen.add(i)
            room -= 1
    first = tuple(a for i, a in enumerate(plan) if i in chosen)
    rest = tuple(a for i, a in enumerate(plan) if i not in chosen)
    return first, rest
