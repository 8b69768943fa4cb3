"""The Diagnosis value: what a model concludes from one set of evidence.

A Diagnosis costs no more than its posterior: the question ranking,
stopping, triage, care plan, what the answers point to and explanations
are computed when first asked for, then cached on the (otherwise
immutable) value.

Two questions, two answers. *How probable is each cause now?*
(``posterior``, ``ranked_causes``, ``distributions``). *Which causes do
the answers point to?* (``bayes_factor``, ``weight_of_evidence``,
``explaining_causes``): how much more likely the answers are if the cause
is present than if it is absent, whatever its prior. A rare cause the
answers fit well can lead the second list while a common one leads the
first. ``most_probable_combinations`` gives the likeliest joint states of
all the causes together.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from .care import care_plan
from .display.html import diagnosis_html
from .errors import ImpossibleEvidenceError, InvalidStateError, KneeBayesError, ParameterError, UnknownNodeError, quote
from .evidence import hard_answers
from .explain import explain
from .inference.evidence_weight import EXPLANATION_MEASURE, FACTOR_MAX, decibans, explaining_order, leaders, weigh
from .inference.gain import expected_information_gains, gain_measure
from .inference.posterior import encode, target_joint
from .likelihood import Likelihood
from .pickling import reduce_frozen
from .questions import STOP_CODES, AnswerEffect, Question, Rationale, Settings, StopReason, decide, question_candidates
from .triage import triage

if TYPE_CHECKING:
    from .care import CareAdvice
    from .explain import Explanation
    from .inference.evidence_weight import Layout
    from .inference.posterior import TargetJoint
    from .model import Model
    from .triage import Triage

#: One number per target: a float for a yes/no target (its "yes"), else a mapping of every state.
PerTarget = Mapping[str, float | Mapping[str, float]]


class cached_property:  # noqa: N801 - a lock-free functools.cached_property (3.11's takes a lock per access)
    """A property computed on first access, then kept in the instance's ``__dict__`` (``functools.cached_property``).

    Without a lock: at worst two threads compute it at once, and as a
    diagnosis never changes, both get equal values.
    """

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func
        self.__doc__ = func.__doc__
        self.name = func.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value


@dataclass(frozen=True)
class ModelInfo:
    """Which model produced a result: name, version and the hash of its parameters.

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> model.info.name, len(model.info.content_hash)
    ('knee', 64)
    >>> model.diagnose({}).model_info == model.info
    True
    """

    name: str
    version: str
    content_hash: str


@dataclass(frozen=True)
class Combination:
    """One joint state of all the targets, with its probability given the evidence.

    Attributes
    ----------
    states : Mapping[str, str]
        Every target's state, in ``model.causes`` order.
    probability : float
        P(the targets are jointly in these states | evidence).
    present : tuple of str
        The targets not in their normal state (for yes/no causes: the causes
        that are "yes"), in model order. A target without a normal state
        (every state a fault) always counts as present.

    Examples
    --------
    >>> import kneebayes
    >>> dx = kneebayes.load_model().diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "yes"})
    >>> top = dx.most_probable_combinations(k=1)[0]
    >>> "meniscal_injury" in top.present, top.states["meniscal_injury"]
    (True, 'yes')
    >>> str(top).endswith("%")
    True
    """

    states: Mapping[str, str]
    probability: float
    present: tuple[str, ...]

    __reduce__ = reduce_frozen   # ``states`` is read-only (a mapping proxy, which pickle refuses)

    def __str__(self) -> str:
        names = [t if self.states[t] == "yes" else f"{t}={self.states[t]}" for t in self.present]
        return f"{' + '.join(names) if names else 'all normal'}: {self.probability:.1%}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``states``, ``probability`` and ``present``."""
        return {"states": dict(self.states), "probability": self.probability, "present": list(self.present)}


class Diagnosis:
    """Posterior of the causes given the evidence, and everything that follows from it.

    >>> import kneebayes
    >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
    >>> max(dx.posterior, key=dx.posterior.get)
    'nerve_irritation'
    >>> 0.0 < dx.evidence_probability < 1.0
    True
    >>> dx.next_question.expected_information_gain > 0
    True
    >>> dx.triage.level
    'see_doctor'
    """

    def __init__(self, model: Model, evidence: Mapping[str, str | Likelihood], target_marginals: np.ndarray,
                 joint: np.ndarray, log_evidence: float, indices: Mapping[int, int | np.ndarray], settings: Settings,
                 skipped: frozenset[str], tj: TargetJoint | None = None, lam: np.ndarray | None = None) -> None:
        d = self.__dict__   # the value is immutable: fields are set here once, never through setattr
        d["_model"] = model
        d["_evidence"] = MappingProxyType(evidence)   # a fresh dict made by the model, never shared
        d["_marg"] = target_marginals   # concatenated distributions of the targets
        d["_joint"] = joint             # (K,) P(targets' joint state | evidence)
        d["_log_evidence"] = log_evidence
        d["_indices"] = indices         # the evidence as {node index: state index or likelihood vector}
        d["_settings"] = settings
        d["_skipped"] = skipped
        if tj is not None:              # else made on first use: only the question ranking needs them
            d["_tj"] = tj
        if lam is not None:
            d["_lam"] = lam

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Diagnosis is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Diagnosis is immutable; cannot delete {name!r}")

    # -- travelling: pickle and copy ------------------------------------------------------
    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the model (by its own reduce), the evidence, the skipped questions and the settings.

        The arrays and every cached answer are left out: one ``diagnose`` on
        load recomputes them (the one function that makes a Diagnosis, on
        the same spec), at a fraction of the pickle's size: bit for bit,
        but on a network whose planning stops where it does not pay
        (DIABETES, PIGS; docs/engine.md), where the last bits may differ.
        """
        return (_unpickle_diagnosis, (self._model, dict(self._evidence), self._settings, sorted(self._skipped)))

    def __copy__(self) -> Diagnosis:
        return self   # immutable (its caches only remember what it would compute again): a copy is itself

    def __deepcopy__(self, memo: dict[int, Any]) -> Diagnosis:
        return self   # likewise; the model it refers to is immutable too

    @cached_property
    def _lam(self) -> np.ndarray:
        """The evidence as the general engine's likelihood vectors, (1, nodes, max card)."""
        return encode(self._model.network, [dict(self._indices)])

    @cached_property
    def _tj(self) -> TargetJoint:
        """The general engine's targets' joint with the parts the question ranking reuses.

        A diagnosis whose posterior came from the fast path (``inference.fast``)
        makes it only when the questions are ranked.
        """
        net = self._model.network
        return target_joint(net, self._lam, targets_observed=not set(net.enumerated).isdisjoint(self._indices))

    # -- the posterior ------------------------------------------------------------------
    @property
    def model(self) -> Model:
        """The model that produced this diagnosis (as ``Interview.model``); ``model_info`` names it.

        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> model.diagnose({}).model is model
        True
        """
        return self._model

    @property
    def model_info(self) -> ModelInfo:
        """Name, version and content hash of the model that produced this diagnosis.

        >>> import kneebayes
        >>> kneebayes.load_model().diagnose({}).model_info.name
        'knee'
        """
        return self._model.info

    @property
    def columns(self) -> np.ndarray:
        """The targets' posterior as one read-only row of columns, in the order of ``model.targets``.

        >>> import kneebayes
        >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
        >>> float(dx.columns[dx.model.targets.column("nerve_irritation", "yes")]) == dx.posterior["nerve_irritation"]
        True
        """
        view = self._marg.view()
        view.setflags(write=False)
        return view

    @property
    def evidence(self) -> Mapping[str, str | Likelihood]:
        """The evidence as used: node id -> state name, or the Likelihood of a soft answer."""
        return self._evidence

    @property
    def skipped(self) -> frozenset[str]:
        """Questions never to be asked again: answered "don't know", or answered softly and closed."""
        return self._skipped

    @property
    def settings(self) -> Settings:
        """The settings this diagnosis ranks questions and decides stopping with."""
        return self._settings

    @property
    def evidence_probability(self) -> float:
        """P(evidence) under the model."""
        return math.exp(self._log_evidence)

    @property
    def log_evidence_probability(self) -> float:
        """log P(evidence): exact even where P(evidence) itself would underflow."""
        return self._log_evidence

    @cached_property
    def distributions(self) -> Mapping[str, Mapping[str, float]]:
        """For every target: its posterior distribution over its states."""
        targets = self._model.targets
        values = self._marg.tolist()
        return MappingProxyType({t: MappingProxyType(dict(zip(states, values[o : o + len(states)])))
                                 for t, states, o in zip(targets.ids, targets.states, targets.offsets)})

    @cached_property
    def posterior(self) -> Mapping[str, float]:
        """For each cause: P(cause = yes | evidence). Needs yes/no targets; else see distributions."""
        yes = self._model.targets.yes_positions
        if yes is None:
            targets = self._model.targets
            other = next(t for t, states in zip(targets.ids, targets.states) if sorted(states) != ["no", "yes"])
            states = dict(zip(targets.ids, targets.states))[other]
            raise KneeBayesError(f"posterior is P(target = yes), and target {quote(other)} has the states "
                                 f"{', '.join(map(quote, states[:6]))}{' ...' if len(states) > 6 else ''}, not yes and "
                                 f"no: use Diagnosis.distributions")
        return MappingProxyType(dict(zip(self._model.causes, self._marg[yes].tolist())))

    @cached_property
    def ranked_causes(self) -> tuple[tuple[str, float], ...]:
        """Causes with P(yes | evidence), most probable first (ties by id)."""
        return tuple(sorted(self.posterior.items(), key=lambda kv: (-kv[1], kv[0])))

    @cached_property
    def leading_probability(self) -> float:
        """The largest, over the targets, of P(not in its normal state), or of its likeliest state for a
        target without a normal state: what the ``confident`` stop rule compares with ``confidence``.

        Each target counts one number, and this is the largest:

        * a target with a normal (no-fault) state (``Model.normal_states``;
          ``no`` for a yes/no cause) counts the probability that it is *not*
          normal, 1 - P(normal): for a yes/no cause, P(yes);
        * a target without one (CHILD's ``Disease``, whose six states are all
          diseases) counts its largest state probability.

        So "confident" means some target is confidently in an abnormal state
        (a fault or disease found), never that something is healthy.

        >>> import kneebayes
        >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
        >>> dx.leading_probability == max(dx.posterior.values())
        True
        """
        return float(self._model.targets.leading(self._marg)) if len(self._marg) else 0.0

    @property
    def leading_target(self) -> tuple[str, str, bool] | None:
        """Which target gives ``leading_probability``: ``(target, state, is_normal_state)``, or None without targets.

        With ``is_normal_state`` True the number is P(target is not ``state``);
        otherwise it is P(target = ``state``).

        >>> import kneebayes
        >>> kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"}).leading_target
        ('nerve_irritation', 'no', True)
        """
        return self._leading_target()

    def _leading_target(self) -> tuple[str, str, bool] | None:
        """Which target gives ``leading_probability``: (target, state, is_normal_state).

        With ``is_normal_state`` True the number is P(target is not ``state``);
        otherwise it is P(target = ``state``). None when there are no targets.
        """
        best: tuple[float, str, str, bool] | None = None
        normals = self._model.normal_states
        for t, dist in self.distributions.items():
            normal = normals[t]
            if normal is not None:
                value, state = math.fsum(p for s, p in dist.items() if s != normal), normal
            else:
                state = max(dist, key=lambda s: dist[s])
                value = dist[state]
            if best is None or value > best[0] or (value == best[0] and t < best[1]):   # ties by id
                best = (value, t, state, normal is not None)
        return None if best is None else best[1:]

    # -- what the answers point to --------------------------------------------------------
    def _by_target(self, values: list[float]) -> PerTarget:
        """Values in the model's column order, shaped per target: the "yes" value of a yes/no target,
        else a mapping of every state."""
        out: dict[str, float | Mapping[str, float]] = {}
        targets = self._model.targets
        for t, states, start in zip(targets.ids, targets.states, targets.offsets):
            if len(states) == 2 and set(states) == {"yes", "no"}:
                out[t] = values[start + states.index("yes")]
            else:
                out[t] = MappingProxyType(dict(zip(states, values[start : start + len(states)])))
        return MappingProxyType(out)

    @cached_property
    def prior(self) -> PerTarget:
        """Each target's probability with no evidence at all (computed once per model, then shared).

        A float for a yes/no target (P(yes)); for any other target, a
        mapping of every state to its probability.

        Examples
        --------
        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> dx = model.diagnose({"tingling_or_numbness": "yes"})
        >>> dx.prior == model.diagnose({}).posterior
        True
        """
        return self._by_target(self._model.weight_layout.prior.tolist())

    @cached_property
    def lift(self) -> PerTarget:
        """Posterior over prior, per target (the shape of ``prior``): how many times likelier it is now.

        A state whose prior is 0 has lift 1.0 (evidence cannot make it
        possible); lifts are capped at ``FACTOR_MAX`` (1e100), so none is
        infinite. Unlike the Bayes factor, lift is bounded by 1 / prior: a
        common cause cannot rise far however strong the evidence.

        Examples
        --------
        >>> import kneebayes
        >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
        >>> abs(dx.lift["nerve_irritation"] - dx.posterior["nerve_irritation"] / dx.prior["nerve_irritation"]) < 1e-12
        True
        """
        prior = self._model.weight_layout.prior
        lift = np.divide(self._marg, prior, out=np.ones_like(prior), where=prior > 0.0)
        return self._by_target(np.minimum(lift, FACTOR_MAX).tolist())

    @cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray, Layout]:
        """Every state's Bayes factor and posterior in the layout's column order, and the layout."""
        layout = self._model.weight_layout
        factors, posteriors = weigh(self._marg, layout)
        return factors, posteriors, layout

    @cached_property
    def bayes_factor(self) -> PerTarget:
        """Per target: posterior odds over prior odds of its abnormal state, P(evidence | state) / P(evidence | not).

        A float for a yes/no target (the factor of "yes"); for any other
        target, a mapping of every state to its factor against the target's
        other states. Above 1 the answers point towards the state, below 1
        away from it; the factor does not depend on the prior, so a rare
        cause and a common one are compared on what the answers say.

        Odds are formed from the separate state probabilities (never
        1 - p), so tiny probabilities keep their digits. Never NaN or
        infinite: factors are clipped to [1e-100, 1e100] (``FACTOR_MIN``,
        ``FACTOR_MAX`` in :mod:`kneebayes.inference.evidence_weight`), so a
        cause the evidence makes certain (observed, or ruled in or out by a
        deterministic table) has factor exactly 1e100 (or 1e-100); a
        target whose prior is already certain (0 or 1) has factor 1.0. With
        no evidence every factor is exactly 1.0.

        Examples
        --------
        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> dx = model.diagnose({"tingling_or_numbness": "yes"})
        >>> dx.bayes_factor["nerve_irritation"] > 1.0
        True
        >>> model.diagnose({"nerve_irritation": "yes"}).bayes_factor["nerve_irritation"]
        1e+100
        >>> set(model.diagnose({}).bayes_factor.values())
        {1.0}
        """
        factors, _, layout = self._weights
        values = factors.tolist()
        return self._by_target([values[i] for i in layout.inverse.tolist()])

    @cached_property
    def weight_of_evidence(self) -> PerTarget:
        """``bayes_factor`` in decibans, 10 * log10(factor): +10 dB is a factor of 10, 0 dB no evidence either way.

        The same shape as ``bayes_factor``; between -1000 and +1000 dB.

        Examples
        --------
        >>> import kneebayes
        >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
        >>> import math
        >>> math.isclose(dx.weight_of_evidence["nerve_irritation"], 10 * math.log10(dx.bayes_factor["nerve_irritation"]))
        True
        """
        values = self._decibans_by_column
        return self._by_target([values[i] for i in self._weights[2].inverse.tolist()])

    @cached_property
    def _decibans_by_column(self) -> list[float]:
        """Every state's weight of evidence, in the layout's column order (one computation for all uses)."""
        return decibans(self._weights[0]).tolist()

    @cached_property
    def _leading_columns(self) -> list[int]:
        """Each target's leading abnormal state (a column of the layout), best first."""
        self.explaining_causes   # noqa: B018 - computes and stores them
        return self.__dict__["_leading_columns"]

    @cached_property
    def explaining_causes(self) -> tuple[tuple[str, float], ...]:
        """Every cause with its Bayes factor, the one the answers point to most first.

        Each target counts by its leading abnormal state (see
        ``explaining_states``); targets are ordered by that state's factor,
        largest first, ties by posterior (higher first), then by id. Factors
        that agree to about nine significant digits count as tied
        (``TIE_GRID``), so causes the answers do not bear on (factor 1 up
        to rounding) keep their posterior order: with no evidence this is
        the order of ``ranked_causes``. ``explanation_measure`` names the
        rule.

        Examples
        --------
        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> dx = model.diagnose({"tingling_or_numbness": "yes", "locking_or_catching": "yes"})
        >>> cause, factor = dx.explaining_causes[0]
        >>> factor == max(dx.bayes_factor.values())
        True
        >>> [c for c, _ in model.diagnose({}).explaining_causes] == [c for c, _ in model.diagnose({}).ranked_causes]
        True
        """
        factors, posteriors, layout = self._weights
        order = explaining_order(factors, posteriors, layout).tolist()
        if not layout.one_each:
            order = leaders(order, layout)
        self.__dict__["_leading_columns"] = order
        values = factors.tolist()
        ids = layout.ids
        return tuple([(ids[c], values[c]) for c in order])

    @cached_property
    def explaining_states(self) -> Mapping[str, str]:
        """For each target, the state that represents it in ``explaining_causes`` ("yes" for a yes/no cause).

        Its leading abnormal state: of the states other than its normal
        state (``Model.normal_states``; all states when it has none), the
        one with the largest Bayes factor, ties by posterior, then by state
        order. Listed best first, as ``explaining_causes``.

        Examples
        --------
        >>> import kneebayes
        >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
        >>> set(dx.explaining_states.values())
        {'yes'}
        """
        layout = self._weights[2]
        return MappingProxyType({layout.ids[c]: layout.states[c] for c in self._leading_columns})

    @property
    def explanation_measure(self) -> str:
        """The name of the rule that ordered ``explaining_causes``: ``"bayes_factor"``.

        That is: each target's leading abnormal state, by Bayes factor
        (posterior odds over prior odds), ties by posterior, then id. Kept
        so that a stored result says how it was ranked.

        >>> import kneebayes
        >>> kneebayes.load_model().diagnose({}).explanation_measure
        'bayes_factor'
        """
        return EXPLANATION_MEASURE

    def _decibans(self, cause: str, state: str) -> float:
        """The weight of evidence of one state of one target (any state, normal ones too)."""
        column = int(self._weights[2].inverse[self._model.targets.column(cause, state)])
        return self._decibans_by_column[column]

    def most_probable_combinations(self, k: int = 3) -> tuple[Combination, ...]:
        """The ``k`` most probable joint states of all the targets given the evidence, most probable first.

        Exact, from the targets' enumerated joint: where causes interact
        (explaining away), the likeliest *combination* can differ from
        taking each cause's own likeliest state. Combinations of probability
        zero are never listed, so fewer than ``k`` may come back. Equal
        probabilities keep the order in which the joint enumerates the
        states (each target's states in file order, the first target
        varying slowest).

        Parameters
        ----------
        k : int, default 3
            How many combinations, a positive whole number.

        Returns
        -------
        tuple of Combination

        Raises
        ------
        ParameterError
            When ``k`` is not a positive whole number (also a ValueError).
        KneeBayesError
            When the targets' joint is too large to enumerate (more joint
            states than the model's joint limit); the message gives both.

        Examples
        --------
        >>> import kneebayes
        >>> dx = kneebayes.load_model().diagnose({"locking_or_catching": "yes", "swelling_behind_knee": "yes"})
        >>> first, second = dx.most_probable_combinations(k=2)
        >>> first.probability >= second.probability
        True
        >>> sorted(first.states) == sorted(dx.posterior)
        True
        """
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ParameterError(f"k must be a positive whole number (how many combinations to list), got {quote(k)}")
        model = self._model
        net = model.network
        if len(net.enumerated) != len(net.targets):
            size = math.prod(net.cards[t] for t in net.targets)
            why = {
                "bipartite": "and this bipartite noisy-OR network is answered cause by cause, never as their joint (",
                "memory_budget": (f"and a plan over them passes its memory budget of {model.memory_budget:,} bytes "
                                  "(build the model with a larger memory_budget, or "),
            }.get(net.unenumerated, f"more than its joint limit of {model.joint_limit:,} (build the model with a "
                                    "larger joint_limit, or ")
            raise KneeBayesError(
                f"most_probable_combinations needs the targets' joint enumerated, but this model's "
                f"{len(net.targets)} targets have {size:,} joint states, {why}see Diagnosis.distributions)")
        joint = self._joint
        order = np.argsort(-joint, kind="stable")[: int(k)]
        order = order[joint[order] > 0.0]
        normals = model.normal_states
        causes = model.causes
        out = []
        for row, p in zip(net.joint_states[order].tolist(), joint[order].tolist()):
            states = {t: net.states[i][s] for t, i, s in zip(causes, net.targets, row)}
            present = tuple(t for t in causes if states[t] != normals[t])
            out.append(Combination(MappingProxyType(states), min(p, 1.0), present))
        return tuple(out)

    # -- questions and stopping ---------------------------------------------------------
    @cached_property
    def ranked_questions(self) -> tuple[Question, ...]:
        """Every unanswered, unskipped askable node, best first (see ``Settings`` for the score)."""
        return self._questions[0]

    @property
    def gain_measure(self) -> str:
        """Which information the gains measure: ``"joint"`` (entropy of the targets' joint, while it
        has at most 4,096 states) or ``"sum_of_marginals"`` (the sum of each target's own gain; also on
        a QMR-style network of more than 16 causes, answered cause by cause whatever its targets)."""
        return self._questions[1]

    @cached_property
    def _questions(self) -> tuple[tuple[Question, ...], str, StopReason | None]:
        """The ranked open questions, the gain measure and the stop verdict: ``questions.decide`` on a batch of one."""
        model = self._model
        asked = hard_answers(self._evidence).keys() | self._skipped   # a soft answer leaves its question open
        candidates = question_candidates(model)
        open_ = np.array([[n.id not in asked for n in candidates.nodes]], dtype=bool)
        # With no question open the rules read no gain, and not even the targets' joint is needed (ASIA with
        # every node but the targets answered: a ranking after the posterior 134 -> 25 us). Otherwise every
        # candidate's, answered ones too: the same nodes each time keep the engine's layout of them memoised.
        if open_.any():
            gains = expected_information_gains(model.network, self._lam, self._tj, candidates.indices).gains
        else:
            gains = np.zeros(open_.shape)
        measure = gain_measure(model.network)
        decided = decide(gains, candidates.costs, candidates.red, open_, np.array([self.leading_probability]),
                         self._settings)
        values, scores = gains[0].tolist(), decided.score[0].tolist()
        ranked = []
        for k in decided.order[0, : int(decided.n_open[0])].tolist():
            n = candidates.nodes[k]
            ranked.append(Question(n.id, n.question, values[k], float(candidates.costs[k]), scores[k],
                                   bool(candidates.red[k])))
        return tuple(ranked), measure, STOP_CODES[int(decided.stop[0])]

    @property
    def next_question(self) -> Question | None:
        """The first of ``ranked_questions``, or None when nothing is left to ask.

        Stays available when ``should_stop`` is True, so a caller may go on.
        """
        ranked = self.ranked_questions
        return ranked[0] if ranked else None

    @property
    def stop_reason(self) -> StopReason | None:
        """Why asking could stop now, or None. Unanswered red flags keep the interview going."""
        return self._questions[2]

    @property
    def should_stop(self) -> bool:
        """True when the leading cause is confident enough, nothing is worth asking, or nothing is left."""
        return self.stop_reason is not None

    def rationale(self, question_id: str) -> Rationale:
        """How each answer to ``question_id`` would move each cause, with the answers' probabilities."""
        question = next((q for q in self.ranked_questions if q.id == question_id), None)
        if question is None:
            if question_id in self._evidence or question_id in self._skipped:   # known, but not open: say why
                done = "answered" if question_id in self._evidence else "skipped"
                raise UnknownNodeError(question_id, (), what="open question",
                                       context=f": it is {done}, and rationale explains a question still to ask")
            valid = [q.id for q in self.ranked_questions]
            raise UnknownNodeError(question_id, valid, what="open question")
        effects = []
        states = self._model.node(question_id).states
        soft = self._evidence.get(question_id)
        # A firm answer replaces a soft one, whose weight (largest 1, as the engine took it) P(evidence) included.
        weights = soft.vector(states) if isinstance(soft, Likelihood) else [1.0] * len(states)
        for state, weight in zip(states, weights):
            try:
                after = self._model.diagnose({**self._evidence, question_id: state})
            except ImpossibleEvidenceError:   # an answer that cannot be given; one past a limit is no such answer
                effects.append(AnswerEffect(state, 0.0, MappingProxyType(dict(self._summary()))))
                continue
            p = weight * math.exp(after.log_evidence_probability - self._log_evidence)
            effects.append(AnswerEffect(state, min(p, 1.0), MappingProxyType(dict(after._summary()))))
        return Rationale(question, MappingProxyType(dict(self._summary())), tuple(effects))

    def _summary(self) -> Mapping[str, float]:
        if self._model.targets.binary:
            return self.posterior
        return {f"{t}={s}": p for t, d in self.distributions.items() for s, p in d.items()}

    # -- triage, care, explanations -------------------------------------------------------
    @cached_property
    def triage(self) -> Triage:
        """The triage level (see_doctor, incomplete, self_care or not_assessed) with its reasons.

        Self-care only once every warning-sign question is answered with its
        all-clear state and nothing escalates; ``incomplete`` while some are
        unanswered; ``not_assessed`` for a model without triage rules.
        """
        return triage(self._model.spec, self._evidence, self._yes_probabilities)

    @cached_property
    def _yes_probabilities(self) -> Mapping[str, float]:
        """P(target = yes | evidence) for every target with a "yes" state, also in a model whose other
        targets have more states: what escalations and care relevance compare."""
        return {t: d["yes"] for t, d in self.distributions.items() if "yes" in d}

    @cached_property
    def care_plan(self) -> tuple[CareAdvice, ...]:
        """The article's advice for the likely causes, most relevant first, each with its source."""
        return care_plan(self._model.spec, self._yes_probabilities, self.triage.level, evidence=self._evidence)

    def explain(self, cause: str, state: str | None = None) -> Explanation:
        """Each answer's weight of evidence for ``cause`` being in ``state``: supporting and conflicting, largest first.

        An answer's contribution is its weight of evidence in decibans given
        the other answers: 10 * log10 of the posterior odds with every
        answer over the posterior odds without that one (all leave-one-out
        posteriors in one batched engine call). ``total`` is the weight of
        evidence of all the answers together (``weight_of_evidence``); the
        contributions add up to it when the answers are independent given
        the cause and given its absence (``additive``).

        ``state`` defaults to "yes" for a yes/no target and to the most
        probable state now for a multi-state target.

        Examples
        --------
        >>> import kneebayes
        >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes", "limping": "no"})
        >>> ex = dx.explain("nerve_irritation")
        >>> ex.supporting[0].node, ex.total == dx.weight_of_evidence["nerve_irritation"]
        ('tingling_or_numbness', True)
        """
        if cause not in self._model.causes:
            raise UnknownNodeError(cause, self._model.causes, what="cause")
        states = self._model.targets.states_of(cause)
        if state is None:
            dist = self.distributions[cause]
            state = "yes" if "yes" in states and len(states) == 2 else max(dist, key=lambda s: (dist[s], s))
        elif state not in states:
            raise InvalidStateError(cause, state, states)
        cache = self.__dict__.setdefault("_explanations", {})
        if (cause, state) not in cache:
            cache[(cause, state)] = explain(self._model, self._evidence, cause, state,
                                            total=self._decibans(cause, state))
        return cache[(cause, state)]

    # -- output ------------------------------------------------------------------------
    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        """A JSON-ready summary: model, evidence, posterior (or distributions), P(evidence) and what the answers point to.

        Always: ``prior`` and ``bayes_factor`` (shaped as the properties) and
        ``explaining_causes``, a list of ``{"cause", "state",
        "bayes_factor", "weight_of_evidence", "probability"}`` best first
        (``probability`` is the posterior of that state). With ``full=True``
        also the next question, stop state, triage, care plan and
        ``most_probable_combinations`` (k=3, each ``{"states",
        "probability", "present"}``); where the targets' joint is too large
        to enumerate that key is left out and ``note`` says why.

        Examples
        --------
        >>> import kneebayes
        >>> out = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"}).to_dict(full=True)
        >>> out["explaining_causes"][0]["cause"], len(out["most_probable_combinations"])
        ('nerve_irritation', 3)
        """
        out: dict[str, Any] = {
            "model": {"name": self._model.name, "version": self._model.version, "content_hash": self._model.content_hash},
            "evidence": {k: v.to_dict() if isinstance(v, Likelihood) else v for k, v in self._evidence.items()},
            "evidence_probability": self.evidence_probability,
        }
        if self._model.targets.binary:
            out["posterior"] = dict(self.posterior)
        out["distributions"] = {k: dict(v) for k, v in self.distributions.items()}

        def plain(values: PerTarget) -> dict[str, Any]:
            return {t: v if isinstance(v, float) else dict(v) for t, v in values.items()}

        out["prior"] = plain(self.prior)
        out["bayes_factor"] = plain(self.bayes_factor)
        factors, posteriors, layout = self._weights
        woe = self._decibans_by_column
        post = posteriors.tolist()
        out["explaining_causes"] = [
            {"cause": layout.ids[c], "state": layout.states[c], "bayes_factor": float(factors[c]),
             "weight_of_evidence": woe[c], "probability": post[c]}
            for c in self._leading_columns]
        if full:
            q = self.next_question
            out["next_question"] = None if q is None else {
                "id": q.id, "text": q.text, "expected_information_gain": q.expected_information_gain,
                "cost": q.cost, "score": q.score}
            out["should_stop"] = self.should_stop
            out["stop_reason"] = None if self.stop_reason is None else self.stop_reason.value
            out["triage"] = self.triage.to_dict()
            out["care_plan"] = [a.to_dict() for a in self.care_plan]
            try:
                out["most_probable_combinations"] = [c.to_dict() for c in self.most_probable_combinations(3)]
            except KneeBayesError as err:
                out["note"] = f"most_probable_combinations left out: {err}"
        return out

    def to_json(self, *, full: bool = False) -> str:
        """``to_dict()`` as indented JSON."""
        return json.dumps(self.to_dict(full=full), indent=2)

    def to_html(self) -> str:
        """An HTML summary: posterior bars, triage and reasons, next question, top care items."""
        return diagnosis_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        lines = [f"{self._model.name} {self._model.version}: P(cause | evidence)"]
        labels = {t: self._model.node(t).label for t in self._model.causes}
        if self._model.targets.binary:
            width = max((len(v) for v in labels.values()), default=0)
            for t, p in self.ranked_causes:
                lines.append(f"  {labels[t]:<{width}}  {p:6.1%}  {'#' * round(p * 30)}")
        else:
            for t, dist in self.distributions.items():
                lines.append(f"  {labels[t]}: " + ", ".join(f"{s}={p:.3f}" for s, p in dist.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.3f}" for k, v in list(self.ranked_causes)[:3]) if self._model.targets.binary else "..."
        return f"<Diagnosis {self._model.name} {self._model.version}: {shown}>"


def _unpickle_diagnosis(model: Model, evidence: dict[str, str], settings: Settings, skipped: list[str]) -> Diagnosis:
    """Rebuild a pickled Diagnosis (see ``Diagnosis.__reduce__``). Pickles name this function: keep its name and arguments."""
    base = model.settings   # only what differs from the model file is passed on, as it first was
    return model.diagnose(
        evidence, skipped=skipped, screen_red_flags=settings.screen_red_flags,
        confidence=None if settings.confidence == base.confidence else settings.confidence,
        cost_weight=None if settings.cost_weight == base.cost_weight else settings.cost_weight,
        min_gain=None if settings.min_gain == base.min_gain else settings.min_gain)
