"""Frozen dataclasses for what a model file says, after validation.

A spec holds resolved numbers (verbal terms already turned into values via
the file's scale) but keeps the word the author wrote, so nothing about a
number's origin is lost on the way to the model card or a saved file.

A :class:`ModelSpec` is what the loader returns and what the engine
compiles (:func:`kneebayes.network.compiled.compile_network`); its nodes are
:class:`NodeSpec` values whose ``parameters`` are a :class:`Prior`, a
:class:`NoisyOr` or a full :class:`Table`. Every number is a
:class:`Parameter` with its source, rationale and plausible range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BINARY_STATES: tuple[str, str] = ("yes", "no")


@dataclass(frozen=True)
class DataRecord:
    """Cases a number was learned from: the data set's ``name``, its ``cases`` and the ``date`` (YYYY-MM-DD).

    >>> DataRecord("clinic 2024", 20000, "2024-05-01").cases
    20000
    """

    name: str
    cases: int
    date: str


@dataclass(frozen=True)
class Parameter:
    """One hand-set probability with its provenance.

    ``term`` is the verbal-scale word the author wrote, if any. ``range`` is
    None only for bare table cells (imported networks), never for a
    hand-set number. ``data`` lists the data sets the number was learned
    from (:class:`DataRecord`, oldest first); empty for a number set by hand.

    >>> import kneebayes
    >>> leak = kneebayes.load_model().spec.node("meniscal_injury").parameters.leak
    >>> leak.value, leak.range, leak.source
    (0.04, (0.01, 0.24), '5. Meniscal Injury')
    """

    value: float
    source: str
    rationale: str
    range: tuple[float, float] | None = None
    term: str | None = None
    data: tuple[DataRecord, ...] = ()


@dataclass(frozen=True)
class Prior:
    """A root node's distribution: one Parameter per state, in state order.

    For a yes/no node only P(yes) is written; ``derived_last`` marks that the
    last state's value is 1 minus the others rather than a number of its own.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> prior = spec.node("poor_warmup").parameters
    >>> [p.value for p in prior.probabilities], prior.derived_last
    ([0.45, 0.55], True)
    """

    probabilities: tuple[Parameter, ...]
    derived_last: bool = False
    kind: Literal["prior"] = "prior"


@dataclass(frozen=True)
class NoisyOr:
    """Noisy-OR with a separate leak: P(no | pa) = (1 - leak) * prod_{present i} (1 - w_i).

    ``weights`` pairs each parent id with the probability that it alone, present, turns the node on.

    >>> import kneebayes
    >>> meniscus = kneebayes.load_model().spec.node("meniscal_injury").parameters
    >>> meniscus.kind, meniscus.leak.value, meniscus.parents[:2]
    ('noisy_or', 0.04, ('knee_trauma', 'previous_injury'))
    """

    leak: Parameter
    weights: tuple[tuple[str, Parameter], ...]
    kind: Literal["noisy_or"] = "noisy_or"

    @property
    def parents(self) -> tuple[str, ...]:
        """The parent ids, in the order of ``weights``."""
        return tuple(p for p, _ in self.weights)


@dataclass(frozen=True)
class TableColumn:
    """One column of a full table: the parents' states it is for, and one Parameter per node state.

    ``given`` pairs each parent id with its state, in the table's parent order.
    """

    given: tuple[tuple[str, str], ...]
    probabilities: tuple[Parameter, ...]


@dataclass(frozen=True)
class Table:
    """A full conditional table: one column per combination of parent states."""

    parents: tuple[str, ...]
    columns: tuple[TableColumn, ...]
    source: str | None = None
    rationale: str | None = None
    kind: Literal["table"] = "table"


Parameters = Prior | NoisyOr | Table


@dataclass(frozen=True)
class NodeSpec:
    """One node as the model file describes it: identity, wording, states and numbers.

    ``kind`` is the file's role for the node (``cause``, ``finding``,
    ``risk_factor``, ...; the causes are the model's targets unless the
    caller names others). ``question`` is what the interview asks,
    ``askable`` whether it may ask it, and ``cost`` what asking costs.
    ``parameters`` holds the node's table: a :class:`Prior` for a root, else
    a :class:`NoisyOr` or a :class:`Table` over its parents. ``line`` is
    where the node starts in the file, for messages.

    >>> import kneebayes
    >>> node = kneebayes.load_model().spec.node("locking_or_catching")
    >>> node.kind, node.states, node.parents
    ('finding', ('yes', 'no'), ('meniscal_injury', 'bakers_cyst'))
    >>> node.parameters.kind, node.askable
    ('noisy_or', True)
    """

    id: str
    label: str
    kind: str
    question: str
    states: tuple[str, ...]
    parameters: Parameters
    askable: bool
    description: str | None = None
    line: int | None = None
    cost: float = 1.0
    cost_level: str | None = None
    normal_state: str | None = None   # a cause's no-fault state, as the file (or importer) sets it

    @property
    def parents(self) -> tuple[str, ...]:
        """The parent ids its table conditions on (none for a root)."""
        p = self.parameters
        return () if isinstance(p, Prior) else p.parents


def implicit_normal_state(states: tuple[str, ...]) -> str | None:
    """The normal state a target has when none is set: ``no`` for a yes/no target, else none.

    >>> implicit_normal_state(("yes", "no")), implicit_normal_state(("low", "normal", "high"))
    ('no', None)
    """
    return "no" if set(states) == set(BINARY_STATES) and len(states) == 2 else None


def normal_state_of(node: NodeSpec) -> str | None:
    """A target's normal (no-fault) state: the one set, else ``no`` for a yes/no target, else None.

    >>> import kneebayes
    >>> normal_state_of(kneebayes.load_model().spec.node("meniscal_injury"))
    'no'
    """
    return node.normal_state if node.normal_state is not None else implicit_normal_state(node.states)


@dataclass(frozen=True)
class ClaimSpec:
    """A qualitative statement of the article, checkable against posteriors.

    ``check`` names the comparison (``raises``, ``raises_most``,
    ``more_probable``, ...); ``given`` and ``versus`` are the evidence it compares.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> claim = spec.claims[1]
    >>> claim.check, claim.cause, claim.given, claim.versus
    ('raises', 'popliteus_overload', (('downhill_or_uneven_running', 'yes'),), (('downhill_or_uneven_running', 'no'),))
    """

    id: str
    statement: str
    source: str
    check: str
    cause: str | None = None
    than: str | None = None
    given: tuple[tuple[str, str], ...] = ()
    versus: tuple[tuple[str, str], ...] = ()
    parent_kind: str | None = None
    child_kind: str | None = None
    screened: bool = False         # also answer "no" to every red-flag question that ``given`` leaves open
    by: float | None = None        # ``lifts``: the posterior must reach ``by`` times the prior


@dataclass(frozen=True)
class InterviewSettings:
    """When the interview stops and how it weighs a question's cost.

    ``confidence``: stop when ``Diagnosis.leading_probability`` reaches it
    (the largest probability that a cause is not in its normal state).
    ``cost_weight``: bits per unit of cost; a question's score is its
    expected information gain minus ``cost_weight * cost``.
    ``min_gain``: a question whose gain (bits) is below this is not worth asking.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> spec.interview
    InterviewSettings(confidence=0.9, cost_weight=0.01, min_gain=0.01)
    """

    confidence: float = 0.9
    cost_weight: float = 0.01
    min_gain: float = 0.01


@dataclass(frozen=True)
class GradedAnswer:
    """An answer between yes and no ("probably"): a soft answer to a yes/no question.

    ``ratio`` is its likelihood ratio, P(this answer | yes) / P(this answer
    | no): 4 multiplies the odds of "yes" by 4, 1 leaves them as they were,
    0.25 divides them by 4. ``text`` is how an interview offers it;
    ``source`` and ``rationale`` say where the number comes from.

    >>> import kneebayes
    >>> [(a.word, a.ratio) for a in kneebayes.load_model().spec.graded_answers]
    [('probably', 4.0), ('not_sure', 1.0), ('probably_not', 0.25)]
    """

    word: str
    ratio: float
    text: str
    source: str
    rationale: str


@dataclass(frozen=True)
class RedFlag:
    """A warning sign: ``node`` answered ``state`` sends the person to a doctor.

    ``text`` is the plain sentence shown as the reason; ``source`` the
    article heading it comes from.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> flag = spec.red_flags[0]
    >>> flag.id, flag.node, flag.state
    ('persistent_swelling', 'swelling_behind_knee', 'yes')
    """

    id: str
    node: str
    state: str
    text: str
    source: str


@dataclass(frozen=True)
class Escalation:
    """Send the person to a doctor when P(cause = yes | evidence) >= threshold.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> rule = spec.escalations[0]
    >>> rule.cause, rule.threshold
    ('meniscal_injury', 0.5)
    """

    id: str
    cause: str
    threshold: float
    text: str
    source: str
    rationale: str


CARE_WHEN: tuple[str, ...] = ("always", "self_care", "see_doctor")


@dataclass(frozen=True)
class CareItem:
    """One piece of the article's advice, attached to the causes it serves.

    ``causes`` empty means general advice. ``when`` is ``always``,
    ``self_care`` (only when triage says care at home) or ``see_doctor``
    (only when triage sends the person to a doctor).

    ``applies_when`` ties the advice to answers: pairs of a node and the
    states under which the advice applies, e.g. ``(("instability",
    ("yes",)),)``. Every node must be in one of its states: an answer outside
    them drops the item from the care plan, answers inside all of them make
    it fit, and an unanswered node leaves it in the plan without fitting.
    Empty means the advice applies whatever the answers.

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> item = next(c for c in spec.care if c.id == "bracing_for_instability")
    >>> item.applies_when, item.causes
    ((('instability', ('yes',)),), ('meniscal_injury', 'popliteus_overload'))
    """

    id: str
    title: str
    advice: str
    source: str
    causes: tuple[str, ...] = ()
    when: str = "always"
    applies_when: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    """A whole model file after validation: the nodes in file order, and everything said about them.

    Beside the nodes (:class:`NodeSpec`): the verbal-numerical ``scale``, the
    article's ``claims``, the interview's stopping rules (``interview``), the
    triage rules (``red_flags`` and ``escalations``), the ``care`` advice,
    the ``graded_answers`` (answers between yes and no), and the model's
    name, version and provenance. ``path`` is the file it
    was read from (None when built in code) and takes no part in equality.
    A :class:`kneebayes.Model` is a spec compiled once.

    The packaged knee model's spec:

    >>> import kneebayes
    >>> spec = kneebayes.load_model().spec
    >>> spec.name, len(spec.nodes), spec.node("meniscal_injury").kind
    ('knee', 32, 'cause')

    A spec built in code, one cause and one finding, is a model like any other:

    >>> from kneebayes.modelfile.schema import ModelSpec, NodeSpec, NoisyOr, Parameter, Prior
    >>> def number(value):
    ...     return Parameter(value, source="example", rationale="for illustration", range=(0.01, 0.99))
    >>> strain = NodeSpec("strain", "Strain", "cause", "Is it a strain?", ("yes", "no"),
    ...                   Prior((number(0.2), number(0.8)), derived_last=True), askable=False)
    >>> pain = NodeSpec("pain", "Pain", "finding", "Does it hurt?", ("yes", "no"),
    ...                 NoisyOr(leak=number(0.05), weights=(("strain", number(0.9)),)), askable=True)
    >>> tiny = ModelSpec("tiny", "1.0", "A cause and a finding", (strain, pain))
    >>> round(kneebayes.Model(tiny).diagnose({"pain": "yes"}).posterior["strain"], 3)
    0.819
    """

    name: str
    version: str
    title: str
    nodes: tuple[NodeSpec, ...]
    scale: tuple[tuple[str, float], ...] = ()
    claims: tuple[ClaimSpec, ...] = ()
    description: str | None = None
    source_document: str | None = None
    path: str | None = field(default=None, compare=False)
    disclaimer: str | None = None     # what a front end says about the model's standing
    costs: tuple[tuple[str, float], ...] = ()
    interview: InterviewSettings = field(default_factory=InterviewSettings)
    red_flags: tuple[RedFlag, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    care: tuple[CareItem, ...] = ()
    graded_answers: tuple[GradedAnswer, ...] = ()

    def node(self, node_id: str) -> NodeSpec:
        """The node with this id; KeyError when there is none."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)
