"""What the live explorer shows and changes, without a widget in sight.

:func:`kneebayes.explore` is a thin layer of ipywidgets over the pure
functions here, so what a slider move does, which answers a toggle offers
and what the output says are all testable without a notebook:

* :func:`slider_bounds`: a number's slider spans its stated range widened
  by half its width on each side (``WIDEN``), clipped to [0, 1];
* :func:`column_move` and :func:`changes_from`: the numbers one slider move
  sets, and the ``with_parameters`` changes that give them from the file's
  model (a value outside its stated range goes with the range stretched
  just enough to hold it; a column that must sum to one rescales its other
  states);
* :func:`answer_options`: the answers one question offers (its states, the
  model's graded answers between yes and no, and :data:`UNKNOWN`);
* :func:`explorer_html`: the live output as one HTML fragment (:func:`output_html`
  puts it together from its parts).

>>> import kneebayes
>>> model = kneebayes.load_model()
>>> slider_bounds(model.parameters["bakers_cyst.leak"])   # range [0.01, 0.25], widened by 0.12 each side
(0.0, 0.37)
>>> changes_from(model.parameters, {"bakers_cyst.leak": 0.3})   # outside the range: the range stretches to 0.3
{'bakers_cyst.leak': (0.3, (0.01, 0.3))}
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Union

from ..errors import UnknownNodeError
from ..modelfile.checks import contains
from .html import diagnosis_html

if TYPE_CHECKING:
    from ..claims import ClaimReport
    from ..diagnosis import Diagnosis
    from ..likelihood import Likelihood
    from ..model import Model
    from ..modelfile.schema import Parameter
    from ..research.parameters import NewValue

__all__ = ["WIDEN", "UNKNOWN", "Unanswered", "Answer", "slider_bounds", "column_of", "column_move",
           "changes_from", "answer_options", "answer_for", "evidence_of", "chosen_nodes", "claims_html",
           "changes_html", "explorer_html", "output_html", "diagnosis_part", "node_title"]

#: A slider reaches this many widths of the stated range beyond each end of it.
WIDEN = 0.5

#: Digits kept when a rescaled state is shown; the model keeps every digit.
_SHOWN = 4


class Unanswered(Enum):
    """The answer "unknown": the question is left open (not evidence). Its one member is :data:`UNKNOWN`."""

    UNKNOWN = "unknown"

    def __repr__(self) -> str:
        return "UNKNOWN"


#: The toggle value of a question left unanswered (an object, so no state name can clash with it).
UNKNOWN = Unanswered.UNKNOWN

#: What a toggle can hold: a state, a graded word, a soft answer given at the start, or UNKNOWN.
Answer = Union[str, "Likelihood", Unanswered]


# -- numbers ---------------------------------------------------------------------------------
def slider_bounds(parameter: Parameter) -> tuple[float, float]:
    """The span of a number's slider: its range widened by ``WIDEN`` widths each side, clipped to [0, 1].

    A number without a range spans [0, 1]; a "certain" or "impossible" one
    (range of zero width) spans that single value, so its slider cannot move.

    >>> from kneebayes.modelfile.schema import Parameter
    >>> slider_bounds(Parameter(0.3, "s", "r", range=(0.2, 0.4)))
    (0.1, 0.5)
    >>> slider_bounds(Parameter(0.9, "s", "r", range=(0.8, 0.95)))
    (0.725, 1.0)
    """
    if parameter.range is None:
        return (0.0, 1.0)
    low, high = parameter.range
    extra = WIDEN * (high - low)
    return (round(max(0.0, low - extra), 12), round(min(1.0, high + extra), 12))


def column_of(model: Model, node_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """For each number of the given nodes, the addresses that must sum to one with it (itself included).

    A table column's cells and a multi-state prior's states form one
    column; a noisy-OR's leak and weights, and a yes/no prior's P(yes), stand
    alone (a column of one).

    >>> import kneebayes
    >>> column_of(kneebayes.load_model(), ["bakers_cyst"])["bakers_cyst.leak"]
    ('bakers_cyst.leak',)
    """
    from ..research.parameters import parameters_by_node

    wanted = set(node_ids)
    out: dict[str, tuple[str, ...]] = {}
    for node, numbers in parameters_by_node(model.spec).items():
        if node not in wanted:
            continue
        groups: dict[str, list[str]] = {}
        for address, _ in numbers:
            rest = address[len(node) + 1:]
            in_column = rest.startswith("prior[") or rest.startswith("table[")
            groups.setdefault(address[:address.rindex("[")] if in_column else address, []).append(address)
        for members in groups.values():
            for address in members:
                out[address] = tuple(members)
    return out


def column_move(values: Mapping[str, float], address: str, value: float,
                column: Sequence[str]) -> dict[str, float]:
    """The new values of a column when ``address`` moves to ``value``: the others rescaled to fill the rest.

    The other states keep their proportions, as ``Model.with_parameters``
    rescales them; the largest takes the rounding so the column sums to 1.
    Where the others are all 0 they stay 0 (``with_parameters`` then says
    the column cannot sum to one).

    >>> moved = column_move({"x.prior[a]": 0.2, "x.prior[b]": 0.6, "x.prior[c]": 0.2}, "x.prior[a]", 0.4,
    ...                     ["x.prior[a]", "x.prior[b]", "x.prior[c]"])
    >>> {address: round(value, 9) for address, value in moved.items()}
    {'x.prior[a]': 0.4, 'x.prior[b]': 0.45, 'x.prior[c]': 0.15}
    """
    out = {address: value}
    others = [a for a in column if a != address]
    old_rest = math.fsum(values[a] for a in others)
    if not others or old_rest == 0.0:
        return out | {a: values[a] for a in others}
    rest = max(0.0, 1.0 - value)
    for a in others:
        out[a] = values[a] * rest / old_rest
    big = max(others, key=lambda a: values[a])
    out[big] = max(0.0, 1.0 - math.fsum([value] + [out[a] for a in others if a != big]))
    return out


def _stretched(value: float, rng: tuple[float, float] | None) -> NewValue:
    """``value`` alone inside its range; outside it, with the range stretched just enough to hold it."""
    if rng is None or contains(rng, value):
        return value
    if value in (0.0, 1.0):   # the model file's rule: "impossible" and "certain" have a range of one value
        return (value, (value, value))
    return (value, (min(rng[0], value), max(rng[1], value)))


def changes_from(original: Mapping[str, Parameter], values: Mapping[str, float]) -> dict[str, NewValue]:
    """The ``with_parameters`` changes that turn the file's numbers into ``values`` (unchanged ones left out).

    A value outside its stated range is given as ``(value, (low, high))``
    with the range stretched just enough to reach it (to 0 or 1 exactly, the
    range of that single value), so a saved file says how far it went.

    >>> import kneebayes
    >>> numbers = kneebayes.load_model().parameters
    >>> changes_from(numbers, {"bakers_cyst.leak": 0.05, "poor_warmup.prior": 0.5})
    {'poor_warmup.prior': 0.5}
    """
    return {address: _stretched(value, original[address].range)
            for address, value in values.items() if value != original[address].value}


# -- answers ---------------------------------------------------------------------------------
def _label(word: str) -> str:
    return word.replace("_", " ")


def answer_options(model: Model, node: str) -> tuple[tuple[str, Answer], ...]:
    """The (label, value) answers a question offers, ending with ("unknown", :data:`UNKNOWN`).

    A yes/no question of a model with graded answers offers them between
    yes and no, in the model file's order.

    >>> import kneebayes
    >>> [label for label, _ in answer_options(kneebayes.load_model(), "limping")]
    ['yes', 'probably', 'not sure', 'probably not', 'no', 'unknown']
    """
    states = model.node(node).states
    options: list[tuple[str, Answer]] = [(_label(s), s) for s in states]
    graded = model.graded_answers
    if set(states) == {"yes", "no"} and graded:
        options = [("yes", "yes"), *((_label(w), w) for w in graded), ("no", "no")]
    return (*options, ("unknown", UNKNOWN))


def answer_for(model: Model, node: str, given: object) -> tuple[Answer, tuple[str, Answer] | None]:
    """The toggle value of a starting answer, and an extra (label, value) option when none fits it.

    ``given`` is what ``evidence`` said for the node (already accepted by
    ``model.diagnose``): a state, a graded word, True/False for a yes/no
    node, or a :class:`~kneebayes.Likelihood` (a graded answer's own
    likelihood shows as its word; any other gets an option "given").

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> answer_for(model, "limping", True), answer_for(model, "limping", "probably")
    (('yes', None), ('probably', None))
    """
    values = [value for _, value in answer_options(model, node)]
    if isinstance(given, bool):
        given = "yes" if given else "no"
    for word, soft in model.graded_answers.items():
        if not isinstance(given, str) and given == soft and word in values:
            return word, None
    if isinstance(given, str) and given in values:
        return given, None
    return given, ("given", given)  # type: ignore[return-value]


def evidence_of(answers: Mapping[str, Answer]) -> dict[str, str | Likelihood]:
    """The evidence the toggles say: every answer but :data:`UNKNOWN`.

    >>> evidence_of({"limping": "yes", "sharp_pain": UNKNOWN})
    {'limping': 'yes'}
    """
    return {node: value for node, value in answers.items() if value is not UNKNOWN}  # type: ignore[misc]


def chosen_nodes(model: Model, nodes: Iterable[str] | str | None) -> tuple[str, ...]:
    """The nodes whose numbers get sliders: ``nodes`` checked (a single id allowed), or the model's causes.

    Raises UnknownNodeError for an id the model does not have.

    >>> import kneebayes
    >>> chosen_nodes(kneebayes.load_model(), "bakers_cyst")
    ('bakers_cyst',)
    """
    if nodes is None:
        return tuple(model.causes)
    wanted = [nodes] if isinstance(nodes, str) else list(nodes)
    ids = [n.id for n in model.nodes]
    known = set(ids)
    for node in wanted:
        if not isinstance(node, str) or node not in known:
            raise UnknownNodeError(node, ids, context=" in nodes")
    return tuple(dict.fromkeys(wanted))


# -- the live output -------------------------------------------------------------------------
_MUTED = "color:#666666"
_ERROR = "color:#a40000;font-weight:600"


def claims_html(report: ClaimReport | None, *, stale: bool = False) -> str:
    """How many of the article's claims the model keeps, and each broken one with its numbers.

    ``report`` None: not checked yet. ``stale``: the numbers changed since
    (the count is the last check's, said so).

    >>> import kneebayes
    >>> claims_html(kneebayes.load_model().check_claims()).count("claims hold")
    1
    """
    if report is None:
        return (f"<div class='kb-claims'><b>The article's claims</b>: <span style='{_MUTED}'>not checked yet; "
                "press <i>check claims</i></span></div>")
    held = sum(r.held for r in report)
    note = (f" <span style='{_MUTED}'>(checked before the last change; press <i>check claims</i>)</span>"
            if stale else "")
    items = "".join(f"<li><code>{html.escape(r.id)}</code>: {html.escape(r.statement)} "
                    f"<span style='{_MUTED}'>({html.escape(r.detail)})</span></li>" for r in report.broken)
    broken = f"<div style='{_ERROR}'>broken:</div><ul style='margin:0.2em 0'>{items}</ul>" if items else ""
    return (f"<div class='kb-claims' style='margin-bottom:0.3em'><b>The article's claims</b>: "
            f"<span class='kb-claims-count'>{held} of {len(report)} claims hold</span>{note}{broken}</div>")


def changes_html(original: Mapping[str, Parameter], now: Mapping[str, Parameter]) -> str:
    """The numbers that differ from the model file, each as file value -> now (and a stretched range).

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> "no number changed" in changes_html(model.parameters, model.parameters)
    True
    """
    rows = []
    for address, p in now.items():
        before = original.get(address)
        if before is None or (p.value == before.value and p.range == before.range):
            continue
        stretched = "" if p.range == before.range or p.range is None else (
            f" <span style='{_MUTED}'>(range now [{p.range[0]:.{_SHOWN}g}, {p.range[1]:.{_SHOWN}g}])</span>")
        rows.append(f"<li><code>{html.escape(address)}</code>: {before.value:.{_SHOWN}g} &rarr; "
                    f"<b>{p.value:.{_SHOWN}g}</b>{stretched}</li>")
    if not rows:
        return f"<div class='kb-changes' style='{_MUTED}'>no number changed from the model file</div>"
    return (f"<div class='kb-changes'>{len(rows)} number{'s' if len(rows) != 1 else ''} changed from the model file:"
            f"<ul style='margin:0.2em 0'>{''.join(rows)}</ul></div>")


def explorer_html(diagnosis: Diagnosis, claims: ClaimReport | None, *, original: Mapping[str, Parameter],
                  claims_stale: bool = False, error: str | None = None) -> str:
    """The explorer's live output: a refused change (if any), the claims, the changed numbers, the diagnosis.

    The claims and the changed numbers come first, short as they are; then
    the diagnosis (``display.html.diagnosis_html`` without the care
    advice): what the answers point to (the explaining causes), the
    posterior bars, triage and the next question. ``error`` is the message
    of the last change that could not be made. Every text is escaped.
    The explorer builds the same page from its parts (:func:`output_html`),
    rebuilding only the parts a change touched.

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> text = explorer_html(model.diagnose({"limping": "yes"}), None, original=model.parameters, error="a <b>")
    >>> "a &lt;b&gt;" in text and text.index("kb-claims") < text.index("How likely each cause is present")
    True
    """
    return output_html(claims_html(claims, stale=claims_stale), changes_html(original, diagnosis.model.parameters),
                       diagnosis_part(diagnosis), error=error)


def diagnosis_part(diagnosis: Diagnosis) -> str:
    """The diagnosis as the explorer shows it: ``display.html.diagnosis_html`` without the care advice.

    >>> import kneebayes
    >>> "How likely each cause is present" in diagnosis_part(kneebayes.load_model().diagnose({"limping": "yes"}))
    True
    """
    return diagnosis_html(diagnosis, care=0)


def output_html(claims: str, changes: str, diagnosis: str, *, error: str | None = None) -> str:
    """The explorer's output from its parts' HTML (:func:`claims_html`, :func:`changes_html`, the
    diagnosis's), after the refused change ``error`` (escaped here) if there is one.

    >>> output_html("<p>claims</p>", "<p>changes</p>", "<p>diagnosis</p>", error="1 > 0")
    "<div class='kb-explorer'><div class='kb-error' style='color:#a40000;font-weight:600;white-space:pre-wrap'>not applied: 1 &gt; 0</div><p>claims</p><p>changes</p><p>diagnosis</p></div>"
    """
    refused = (f"<div class='kb-error' style='{_ERROR};white-space:pre-wrap'>not applied: "
               f"{html.escape(error)}</div>" if error else "")
    return f"<div class='kb-explorer'>{refused}{claims}{changes}{diagnosis}</div>"


def node_title(model: Model, node: str) -> str:
    """A node's label with its id, for a heading (escaped).

    >>> import kneebayes
    >>> node_title(kneebayes.load_model(), "bakers_cyst")
    "Baker's (popliteal) cyst <code>bakers_cyst</code>"
    """
    found = model.node(node)
    return f"{html.escape(found.label or node, quote=False)} <code>{html.escape(node)}</code>"

