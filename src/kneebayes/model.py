"""The immutable Model: a validated spec compiled once, with exact inference on top."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .claims import check_claims
from .diagnosis import Diagnosis, ModelInfo
from .display.html import model_html
from .errors import (EvidenceError, ImpossibleEvidenceError, InputFileError, SettingError, UnknownNodeError,
                     WrongTypeError, quote)
from .evidence import EvidenceLike, normalize, normalize_indexed, to_indices
from .extras import require
from .inference import evidence_weight
from .inference.evidence_weight import Layout as WeightLayout
from .inference.fast import FastPlan, compile_fast, fast_posterior
from .inference.node_joints import joint_with_targets, marginals
from .inference.posterior import encode, prepare, target_joint
from .likelihood import Likelihood
from .interop.pgmpy import to_pgmpy
from .modelfile.format import KNOWN_KINDS
from .modelfile.load import default_model_path, load_spec
from .modelfile.save import save
from .modelfile.schema import ModelSpec, NoisyOr, Parameter, Prior, implicit_normal_state
from .network.compiled import JOINT_LIMIT, CompiledNetwork, compile_network
from .network.targets import TargetLayout, target_layout
from .questions import Settings
from .batch import diagnose_frame
from .research.parameters import diff, parameters, with_parameters
from .settings import MEMORY_BUDGET, WORK_LIMIT, check_memory_budget, check_work_limit, with_overrides

if TYPE_CHECKING:
    import networkx
    import pandas
    from pgmpy.models import DiscreteBayesianNetwork

    from .claims import ClaimReport
    from .research.parameters import ParameterChange


_NOTHING: frozenset[str] = frozenset()
_PENDING = object()   # not computed yet (see Model.cached)
_FAST_PLAN = "model.fast_plan"   # where Model.fast_plan keeps its plan in the cache
_WEIGHT_LAYOUT = "model.weight_layout"   # where Model.weight_layout keeps its layout
_GRADED = "model.graded_answers"   # where Model.graded_answers keeps them
_ONE = np.ones(())   # a 0-d array, not 1.0: numpy converts a Python float on every ufunc call
_ONE.setflags(write=False)
_T = TypeVar("_T")


@dataclass(frozen=True)
class Node:
    """A node as the public API shows it: what it is, its states and parents, the question that asks it.

    >>> import kneebayes
    >>> node = kneebayes.load_model().node("limping")
    >>> node.kind, node.states, node.askable
    ('finding', ('yes', 'no'), True)
    >>> node.question
    'Does the tightness make you limp or change how you walk?'
    """

    id: str
    label: str
    kind: str
    question: str
    states: tuple[str, ...]
    parents: tuple[str, ...]
    askable: bool
    description: str | None = None


class Model:
    """A diagnostic Bayesian network, immutable and compiled once.

    Build one with :func:`kneebayes.load_model`. Evidence is always an
    argument, never state kept in the model. A model pickles as its
    validated spec and compiles once on load, so it travels to worker
    processes (multiprocessing, joblib, Dask); ``copy.deepcopy`` returns the
    model itself, and Dask tokenizes it by content (``__dask_tokenize__``).

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> model.causes[:2]
    ('hamstring_strain', 'popliteus_overload')
    >>> dx = model.diagnose({"locking_or_catching": "yes", "swelling_behind_knee": True})
    >>> round(sum(model.marginals(dx.evidence, nodes=["meniscal_injury"])["meniscal_injury"].values()), 12)
    1.0
    """

    __slots__ = ("_spec", "_net", "_info", "_nodes", "_targets", "_enumerated", "_settings", "_costs", "_red_flags",
                 "_by_id", "_askable", "_import_report", "_cache", "_joint_limit", "_memory_budget", "_work_limit")

    def __init__(self, spec: ModelSpec, *, targets: Iterable[str] | None = None, joint_limit: int = JOINT_LIMIT,
                 import_report: tuple[Any, ...] = (), memory_budget: int = MEMORY_BUDGET,
                 work_limit: float = WORK_LIMIT) -> None:
        memory_budget = check_memory_budget(memory_budget)
        work_limit = check_work_limit(work_limit)
        net = compile_network(spec, _checked_targets(spec, targets), joint_limit=_checked_joint_limit(joint_limit),
                              memory_budget=memory_budget, work_limit=work_limit)
        prepare(net)
        s = object.__setattr__
        s(self, "_spec", spec)
        s(self, "_net", net)
        s(self, "_info", None)   # on first use: its hash serialises the whole spec (MILDEW's learned model: 1.2 s)
        s(self, "_nodes", tuple(
            Node(n.id, n.label, n.kind, n.question, n.states, n.parents, n.askable, n.description) for n in spec.nodes
        ))
        s(self, "_targets", target_layout(net, spec))
        s(self, "_enumerated", frozenset(net.enumerated))
        s(self, "_by_id", {n.id: n for n in self._nodes})
        s(self, "_import_report", tuple(import_report))
        s(self, "_askable", tuple(n for n in self._nodes if n.askable))
        s(self, "_settings", Settings(spec.interview.confidence, spec.interview.cost_weight, spec.interview.min_gain))
        s(self, "_costs", MappingProxyType({n.id: float(n.cost) for n in spec.nodes}))
        s(self, "_red_flags", tuple(dict.fromkeys(f.node for f in spec.red_flags)))
        s(self, "_cache", {})
        s(self, "_joint_limit", joint_limit)
        s(self, "_memory_budget", memory_budget)
        s(self, "_work_limit", work_limit)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Model is immutable; cannot set {name!r} (changed parameters give a new model)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Model is immutable; cannot delete {name!r}")

    # -- travelling: pickle, copy, Dask --------------------------------------------------
    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as what built the model, not its arrays: the spec, the targets in order, the joint
        limit, the import report, the memory budget and the work limit. Small and exact; the network compiles once
        on load."""
        return (_unpickle_model, (self._spec, self._targets.ids, self._joint_limit, self._import_report,
                                  self._memory_budget, self._work_limit))

    def __copy__(self) -> Model:
        return self   # immutable: a copy could never differ from the original, so it is the original

    def __deepcopy__(self, memo: dict[int, Any]) -> Model:
        return self   # likewise: nothing in a model can change, so sharing it is as safe as copying it

    def __dask_tokenize__(self) -> tuple[str, str, str]:
        """Dask's token: equal for models that give the same answers, in any process.

        ``content_hash`` covers the numbers, costs, askable nodes, settings and
        rules; the second hash adds what it leaves out but a result shows:
        the targets' order, the joint limit and every text (labels,
        questions, reasons, advice, claims). Where the file lies and on
        which lines does not count, so a saved and reloaded model keeps its
        token. Dask is not needed: it calls this method when present.

        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> model.__dask_tokenize__()[1] == model.content_hash
        True
        """
        found = self._cache.get("dask_token")
        if found is None:
            found = ("kneebayes.Model", self.content_hash, _rest_hash(self._spec, self._targets.ids, self._joint_limit))
            self._cache["dask_token"] = found
        return found

    # -- description ------------------------------------------------------------------
    @property
    def spec(self) -> ModelSpec:
        """The validated model file content (frozen)."""
        return self._spec

    @property
    def info(self) -> ModelInfo:
        """Name, version and content hash together, as every Diagnosis records them."""
        found = self._info
        if found is None:   # two threads may both work it out, alike
            found = ModelInfo(self._spec.name, self._spec.version, content_hash(self._spec))
            object.__setattr__(self, "_info", found)
        return found

    @property
    def name(self) -> str:
        """The model's short name from its file (``knee`` for the packaged model)."""
        return self._spec.name

    @property
    def version(self) -> str:
        """The model's own version string from its file."""
        return self._spec.version

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical structure and numbers (not of the file's bytes)."""
        return self.info.content_hash

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node, in file order."""
        return self._nodes

    @property
    def causes(self) -> tuple[str, ...]:
        """The targets whose posteriors a diagnosis reports (the nodes of kind ``cause``)."""
        return self._targets.ids

    @property
    def targets(self) -> TargetLayout:
        """Where the targets sit in every result: ids, states, normal states, columns (see :mod:`kneebayes.network.targets`).

        >>> import kneebayes
        >>> kneebayes.load_model().targets.binary
        True
        """
        return self._targets

    @property
    def askable_nodes(self) -> tuple[Node, ...]:
        """The nodes a person can be asked about, in file order (the candidates of the question ranking).

        >>> import kneebayes
        >>> "meniscal_injury" in [n.id for n in kneebayes.load_model().askable_nodes]
        False
        """
        return self._askable

    @property
    def costs(self) -> Mapping[str, float]:
        """How much asking each node costs the person, by node id (the model file's ``cost``; default 1).

        >>> import kneebayes
        >>> min(kneebayes.load_model().costs.values()) > 0
        True
        """
        return self._costs

    @property
    def normal_states(self) -> Mapping[str, str | None]:
        """For every target: its normal (no-fault) state, or None when it has none.

        A target's normal state is the one its model file sets (``normal_state``)
        or the importer found or was given (``normal_states``); failing that,
        ``no`` for a target whose states are ``yes``/``no``, else None (a
        target such as CHILD's ``Disease`` whose every state is a disease).
        The ``confident`` stop rule uses it: see ``Diagnosis.leading_probability``.

        >>> import kneebayes
        >>> kneebayes.load_model().normal_states["meniscal_injury"]
        'no'
        """
        return self._targets.normal_states

    @property
    def weight_layout(self) -> WeightLayout:
        """The targets' no-evidence distributions, laid out for the Bayes-factor rule (``inference.evidence_weight``).

        Computed on first use by an ordinary ``diagnose()`` with no evidence
        (so a diagnosis without evidence has every Bayes factor exactly 1)
        and kept for every later diagnosis.

        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> model.weight_layout.width == model.targets.width
        True
        """
        layout = self._cache.get(_WEIGHT_LAYOUT, _PENDING)   # once built, one lookup: no closure per diagnosis
        if layout is _PENDING:
            layout = self.cached(_WEIGHT_LAYOUT, lambda: evidence_weight.prepare(
                self.diagnose().columns,
                [(t, ss, self._targets.normal_states[t]) for t, ss in zip(self._targets.ids, self._targets.states)]))
        return layout

    def node(self, node_id: str) -> Node:
        """The node with this id; UnknownNodeError names the nearest ids otherwise."""
        node = self._by_id.get(node_id)
        if node is None:
            raise UnknownNodeError(node_id, [n.id for n in self._nodes])
        return node

    def cost(self, node_id: str) -> float:
        """How much asking this node costs the person (the model file's ``cost``; default 1)."""
        if node_id not in self._costs:
            raise UnknownNodeError(node_id, self._costs)
        return self._costs[node_id]

    @property
    def red_flag_nodes(self) -> tuple[str, ...]:
        """Nodes whose answer can send the person to a doctor (the file's red flags)."""
        return self._red_flags

    @property
    def graded_answers(self) -> Mapping[str, Likelihood]:
        """The model file's answers between yes and no, each as the soft answer it stands for.

        A word here answers a yes/no question in ``diagnose``, an interview
        or ``diagnose_frame``: ``{"swelling_behind_knee": "probably"}``.

        >>> import kneebayes
        >>> kneebayes.load_model().graded_answers["probably"]
        Likelihood(yes=4.0, no=1.0, label='probably')
        """
        return self.cached(_GRADED, lambda: MappingProxyType(
            {a.word: Likelihood(yes=a.ratio, no=1.0, label=a.word) for a in self._spec.graded_answers}))

    @property
    def import_report(self) -> tuple[Any, ...]:
        """For an imported network: the table columns the importer renormalised (empty otherwise)."""
        return self._import_report

    @property
    def settings(self) -> Settings:
        """The interview settings from the model file (confidence, cost weight, minimum gain)."""
        return self._settings

    def nodes_of_kind(self, kind: str) -> tuple[str, ...]:
        """Ids of the nodes of one kind (``cause``, ``risk_factor``, ``finding``, ...), in file order.

        A kind no node has is empty when it is one of the three standard
        kinds; any other word (a misspelling, say) is a SettingError listing
        the model's kinds.

        >>> import kneebayes
        >>> kneebayes.load_model().nodes_of_kind("cause")[:2]
        ('hamstring_strain', 'popliteus_overload')
        """
        found = tuple(n.id for n in self._nodes if n.kind == kind)
        if not found and kind not in KNOWN_KINDS:
            kinds = sorted({n.kind for n in self._nodes} | set(KNOWN_KINDS))
            raise SettingError(f"no node is of kind {quote(kind)}; this model's kinds are "
                               f"{', '.join(map(quote, kinds))}")
        return found

    @property
    def graph(self) -> networkx.DiGraph:
        """The network as a networkx DiGraph (a fresh copy; node attributes from the file)."""
        nx = require("networkx", feature="Model.graph")
        g = nx.DiGraph()
        for n in self._nodes:
            g.add_node(n.id, label=n.label, kind=n.kind, states=n.states)
        for n in self._nodes:
            for p in n.parents:
                g.add_edge(p, n.id)
        return g

    @property
    def network(self) -> CompiledNetwork:
        """The compiled network (arrays and contraction plan), for the inference functions."""
        return self._net

    # -- inference --------------------------------------------------------------------
    def diagnose(self, evidence: EvidenceLike | None = None, *, skipped: Iterable[str] = (),
                 confidence: float | None = None, cost_weight: float | None = None, min_gain: float | None = None,
                 screen_red_flags: bool = True) -> Diagnosis:
        """Posterior of every cause given the evidence ({node id: "yes"/"no", True/False, or a Likelihood}).

        A number answers the state written as that number (``1`` or ``1.0``
        for a state ``"1"``), as in ``diagnose_frame``; never yes or no.
        A :class:`~kneebayes.Likelihood` is a soft answer (virtual evidence):
        it multiplies each state's odds by its weight, and its question stays
        open for ranking. ``skipped`` lists questions never to ask again:
        answered "don't know", or answered softly and not to be asked again.
        ``confidence``, ``cost_weight`` and ``min_gain`` override the model
        file's interview settings; ``screen_red_flags=False`` lets the
        interview stop before every red-flag question is answered.
        Raises UnknownNodeError, InvalidStateError or ImpossibleEvidenceError.
        """
        net = self._net
        graded = self._cache.get(_GRADED, _PENDING)   # what graded_answers keeps, without its property's call
        if graded is _PENDING:
            graded = self.graded_answers
        ev, indices, hard = normalize_indexed(net, evidence, graded)
        skip = frozenset(_ids(skipped, "skipped")) if skipped else _NOTHING
        for node in skip:
            if node not in net.index:
                raise UnknownNodeError(node, net.names)
            if not self._by_id[node].askable:   # never a question, so "don't know" to it would go unheard
                raise EvidenceError(f"{quote(node)} is not a question (not askable), so it cannot be skipped "
                                    "(model.askable_nodes lists the questions)")
            if isinstance(ev.get(node), str):   # a soft answer may also be closed to further asking
                raise EvidenceError(f"{quote(node)} is both answered ({ev[node]}) and skipped; give it one or the other")
        if confidence is None and cost_weight is None and min_gain is None and screen_red_flags is True:
            settings = self._settings   # what with_overrides returns for no overrides, without its checks
        else:
            settings = with_overrides(self._settings, confidence=confidence, cost_weight=cost_weight,
                                      min_gain=min_gain, screen_red_flags=screen_red_flags)
        plan = self._cache.get(_FAST_PLAN, _PENDING)   # what fast_plan keeps: one lookup per diagnosis
        if plan is _PENDING:
            plan = self.fast_plan
        if not hard:   # the fast path's tables take states only
            plan = None
        if plan is not None:
            found = fast_posterior(plan, indices)
            if found is not None:
                joint, log_pe = found
                if log_pe == -np.inf:
                    raise ImpossibleEvidenceError(ev.items())
                marg = np.dot(joint, self._targets.matrix)   # np.dot: less per-call overhead than @ on a small array
                np.minimum(marg, _ONE, out=marg)   # rounding may land a hair past 1 (the joint is never negative)
                return Diagnosis(self, ev, marg, joint, log_pe, indices, settings, skip)
        lam = encode(net, [indices])
        tj = target_joint(net, lam, targets_observed=not self._enumerated.isdisjoint(indices))
        log_pe = float(tj.log_evidence[0])
        if log_pe == -np.inf:
            raise ImpossibleEvidenceError(ev.items())
        if self._targets.matrix is not None:
            marg = tj.joint[0] @ self._targets.matrix
            np.minimum(marg, 1.0, out=marg)   # rounding may land a hair past 1 (the joint is never negative)
        else:   # (1, targets, widest card, K), summed over K, each target's own states read off at once
            stack = joint_with_targets(net, lam, tj, net.targets)
            marg = np.add.reduce(stack[0], axis=2).ravel()[self._target_cells(stack.shape[2])]
        return Diagnosis(self, ev, marg, tj.joint[0], log_pe, indices, settings, skip, tj=tj, lam=lam)

    def _target_cells(self, width: int) -> np.ndarray:
        """Where each target's states lie, in order, in a (targets, ``width``) array flattened."""
        key = ("target_cells", width)
        found = self._cache.get(key)
        if found is None:
            cards = self.network.cards
            found = np.array([n * width + x for n, t in enumerate(self.network.targets) for x in range(cards[t])],
                             dtype=np.intp)
            self._cache[key] = found
        return found

    @property
    def fast_plan(self) -> FastPlan | None:
        """The network's fast plan (:mod:`kneebayes.inference.fast`), or None where it does not apply.

        Compiled on first use and kept: every diagnosis of a model takes the
        same path, so a diagnosis computed again (after pickling, say) is the
        same to the last bit.

        >>> import kneebayes
        >>> kneebayes.load_model().fast_plan is not None
        True
        """
        return self.cached(_FAST_PLAN,
                           lambda: compile_fast(self._net) if self._targets.matrix is not None else None)

    def marginals(self, evidence: EvidenceLike | None = None, nodes: Iterable[str] | None = None) -> dict[str, dict[str, float]]:
        """P(node = state | evidence) for the given nodes (default: every node)."""
        net = self._net
        ev = normalize(net, evidence, self.graded_answers)
        wanted = list(net.names) if nodes is None else _ids(nodes, "nodes")
        idx = []
        for n in wanted:
            if n not in net.index:
                raise UnknownNodeError(n, net.names)
            idx.append(net.index[n])
        lam = encode(net, [to_indices(net, ev)])
        tj = target_joint(net, lam)
        if tj.log_evidence[0] == -np.inf:
            raise ImpossibleEvidenceError(ev.items())
        result = marginals(net, lam, tj, [i for i in idx if not isinstance(ev.get(net.names[i]), str)])
        out: dict[str, dict[str, float]] = {}
        for i in idx:
            name = net.names[i]
            if isinstance(ev.get(name), str):  # observed: exactly the point mass, not a ratio that rounds to it
                out[name] = {s: float(s == ev[name]) for s in net.states[i]}
            else:
                out[name] = {s: float(p) for s, p in zip(net.states[i], result[i][0])}
        return out

    def check_claims(self) -> ClaimReport:
        """Check the article's claims kept in the model file: each held or broken, with numbers."""
        return check_claims(self)

    # -- researchers: parameters, tweaks, files ---------------------------------------------
    @property
    def parameters(self) -> Mapping[str, Parameter]:
        """Every number of the model by its address (``poor_warmup.prior``, ``bakers_cyst.leak``, ...)."""
        cache = self._cache
        if "parameters" not in cache:
            cache["parameters"] = parameters(self._spec)
        return cache["parameters"]

    def with_parameters(self, changes: Mapping[str, float | str | tuple[float, tuple[float, float]]]) -> Model:
        """A new model with some numbers changed, addressed as in :attr:`parameters`; this one is untouched.

        Values are probabilities, verbal-scale words, or ``(value, (low, high))``
        to set a value and its range together. Raises ParameterError
        naming a bad address (with the nearest ones) or a bad value.
        """
        # the same targets in the same order: an imported network names its own, which kind alone cannot tell
        return Model(with_parameters(self._spec, changes), targets=self._targets.ids, joint_limit=self._joint_limit,
                     import_report=self._import_report, memory_budget=self._memory_budget,   # as learning keeps it
                     work_limit=self._work_limit)

    def diff(self, other: Model) -> list[ParameterChange]:
        """The numbers that differ between this model and ``other``, by address, each with this model's range.

        Each :class:`~kneebayes.research.parameters.ParameterChange` says how
        far the number moved in widths of its range here (``moved``) and
        whether it left that range (``left_range``): after
        :meth:`updated_with`, where the data and the article's reading
        disagree. ``kneebayes.research.parameters.diff_frame`` makes a table.

        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> print(model.diff(model.with_parameters({"bakers_cyst.leak": (0.3, (0.2, 0.4))}))[0])
        bakers_cyst.leak: 0.05 -> 0.3 (moved 1.04 widths of its old range [0.01, 0.25]; left it)
        """
        if not isinstance(other, Model):
            raise WrongTypeError(f"diff compares this model with another Model, not {type(other).__name__}")
        return diff(self._spec, other.spec)

    def save(self, path: str | Path) -> Path:
        """Write a model file that loads back to this model (same content hash), with sources and rationales.

        A path whose suffix names a network format (``.bif``, ``.xml``,
        ``.xmlbif``, ``.xdsl``) is refused with an InputFileError: the model file
        is YAML, and it would replace a network file of that name (``to_bif``
        and the others write those).
        """
        from .interop.importer import network_format   # here: the importer builds Models (an import cycle)

        named = network_format(path) if isinstance(path, (str, Path)) else None
        if named is not None:
            article = "an" if named.startswith("x") else "a"
            raise InputFileError(str(path), f"has the suffix of {article} {named.upper()} network file, but a model "
                                 f"file is YAML: name it .yaml, or write the network with to_{named}", "output file")
        return save(self._spec, path)

    def posterior_intervals(self, evidence: EvidenceLike | None = None, *, draws: int = 10_000, seed: int | None = 0,
                            mass: float = 0.9, progress: bool | None = None) -> pandas.DataFrame:
        """Each cause's posterior mean and credible interval when every number varies within its range.

        Returns a pandas DataFrame (one row per cause: mean, low, high). See
        :func:`kneebayes.research.intervals.posterior_intervals`.
        """
        from .research.intervals import posterior_intervals   # here: intervals builds Models (an import cycle)

        return posterior_intervals(self, evidence, draws=draws, seed=seed, mass=mass, progress=progress)

    def sample(self, n: int, *, seed: int | np.random.Generator | None = 0) -> pandas.DataFrame:
        """``n`` cases simulated from the model: a DataFrame, one categorical column per node, in node order.

        Ancestral sampling from the model's own tables; the same seed gives
        the same cases. See :func:`kneebayes.research.learning_frame.sample`.

        >>> import kneebayes
        >>> cases = kneebayes.load_model().sample(1000, seed=1)
        >>> cases.shape, bool(0.3 < (cases["poor_warmup"] == "yes").mean() < 0.6)   # its prior is 0.45
        ((1000, 32), True)
        """
        from .research.learning_frame import sample   # here: research builds Models (an import cycle)

        return sample(self, n, seed=seed)

    def updated_with(self, frame: pandas.DataFrame, *, name: str, max_iterations: int = 200, tolerance: float = 1e-6,
                     prior: bool = True, date: str | None = None, progress: bool | None = None,
                     accelerate: bool = True) -> Model:
        """A new model whose numbers combine this one's (each value and range read as a prior) with the cases.

        ``frame``: one row a case, node-id columns with states or missing
        (causes may be missing in every row). EM with MAP estimates; each
        learned number gets a new value and range and records the data
        (``name``, the number of cases, ``date``, default today). Equal
        inputs give equal numbers (nothing is random). Warns
        (``ConvergenceWarning``) when it stops at ``max_iterations``, and
        (``UnlearnedWarning``) where a column mixes numbers with a range and
        without, which it keeps as written;
        ``accelerate=False`` runs plain EM. For the log-likelihood per
        iteration, use
        :func:`kneebayes.research.learning.learn`; ``diff`` shows what moved.

        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> clinic = model.with_parameters({"bakers_cyst.leak": 0.2}).sample(2000, seed=3)
        >>> learned = model.updated_with(clinic, name="clinic", date="2024-05-01")
        >>> change = next(c for c in model.diff(learned) if c.address == "bakers_cyst.leak")
        >>> change.new > change.old, learned.parameters["bakers_cyst.leak"].data[0].cases
        (True, 2000)
        """
        from .research.learning import updated_with   # here: research builds Models (an import cycle)

        return updated_with(self, frame, name=name, max_iterations=max_iterations, tolerance=tolerance, prior=prior,
                            date=date, progress=progress, accelerate=accelerate)

    def diagnose_frame(self, frame: pandas.DataFrame, *, triage: bool = False, next_question: bool = False,
                       explain: bool = False, keep: str | Sequence[Hashable] = ()) -> pandas.DataFrame:
        """Diagnose many cases at once: one row per case, columns node ids with yes/no/missing.

        Returns a DataFrame of the causes' posteriors (and optionally triage,
        the next question, and with ``explain=True`` the cause the answers
        point to most, ``explaining_cause``, with its ``bayes_factor``),
        vectorised over the rows; ``keep`` names columns that are not
        answers (ids, dates), carried through unchanged. A cell may hold a
        soft answer (a Likelihood or a graded word). Given a Dask DataFrame
        (the ``dask`` extra) it returns a lazy Dask DataFrame with the same
        columns, partition by partition (:mod:`kneebayes.dask`). See
        :mod:`kneebayes.batch`.
        """
        return diagnose_frame(self, frame, triage=triage, next_question=next_question, explain=explain, keep=keep)

    def to_html(self) -> str:
        """An HTML summary: nodes by kind, counts, source (what a notebook shows)."""
        return model_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    @property
    def joint_limit(self) -> int:
        """The most joint states of the targets the network enumerates (see ``compile_network``).

        >>> import kneebayes
        >>> kneebayes.load_model().joint_limit >= 2 ** len(kneebayes.load_model().causes)
        True
        """
        return self._joint_limit

    @property
    def memory_budget(self) -> int:
        """The most bytes one intermediate table may take (``kneebayes.settings.MEMORY_BUDGET`` by default).

        >>> import kneebayes
        >>> kneebayes.load_model().memory_budget == kneebayes.settings.MEMORY_BUDGET
        True
        """
        return self._memory_budget

    @property
    def work_limit(self) -> float:
        """The most steps of work one query may be planned to take (``kneebayes.settings.WORK_LIMIT`` by default).

        Only a bipartite noisy-OR network (QMR style, ``docs/engine.md``)
        prices its work: a query past the limit raises IntractableError
        before it starts. A step is about a nanosecond here; ``math.inf``
        lifts the limit.

        >>> import kneebayes
        >>> kneebayes.load_model().work_limit == kneebayes.settings.WORK_LIMIT
        True
        """
        return self._work_limit

    def cached(self, name: str, build: Callable[[], _T]) -> _T:
        """What ``build()`` returns, computed once per model and kept under ``name``.

        For derived data that modules outside the model keep per model (a
        sampler, a parameter table): the model is immutable, so what is
        derived from it never goes stale. Two threads may both build it,
        alike; the first stored wins.

        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> model.cached("doc.example", lambda: len(model.nodes)) == len(model.nodes)
        True
        """
        found = self._cache.get(name, _PENDING)
        if found is _PENDING:
            found = self._cache.setdefault(name, build())
        return found   # type: ignore[no-any-return]

    # -- interop ----------------------------------------------------------------------
    def to_bif(self, path: str | Path) -> Path:
        """Write the model as a BIF file (full tables; ``.gz`` compresses; no pgmpy needed)."""
        from .interop.files import to_bif   # here: the importers build Models (an import cycle)

        return to_bif(self, path)

    def to_xmlbif(self, path: str | Path) -> Path:
        """Write the model as an XMLBIF file (full tables; ``.gz`` compresses; no pgmpy needed)."""
        from .interop.files import to_xmlbif   # here: the importers build Models (an import cycle)

        return to_xmlbif(self, path)

    def to_xdsl(self, path: str | Path) -> Path:
        """Write the model as a GeNIe XDSL file (full tables; ``.gz`` compresses; no pgmpy needed)."""
        from .interop.files import to_xdsl   # here: the importers build Models (an import cycle)

        return to_xdsl(self, path)

    def to_pgmpy(self) -> DiscreteBayesianNetwork:
        """The model as a pgmpy DiscreteBayesianNetwork with the same numbers (full tables)."""
        return to_pgmpy(self)

    def __repr__(self) -> str:
        kinds: dict[str, int] = {}
        for n in self._nodes:
            kinds[n.kind] = kinds.get(n.kind, 0) + 1
        counts = ", ".join(f"{v} {k}" for k, v in kinds.items())
        return f"<Model {self.name} {self.version}: {len(self._nodes)} nodes ({counts})>"


def content_hash(spec: ModelSpec) -> str:
    """Hash of the canonical structure and parameter values, independent of formatting."""
    nodes: list[Any] = []
    for n in spec.nodes:
        p = n.parameters
        if isinstance(p, Prior):
            values: Any = [q.value for q in p.probabilities]
        elif isinstance(p, NoisyOr):
            values = {"leak": p.leak.value, "weights": [[k, w.value] for k, w in p.weights]}
        else:
            values = [[list(map(list, c.given)), [q.value for q in c.probabilities]] for c in p.columns]
        entry = [n.id, n.kind, list(n.states), list(n.parents), p.kind, values, n.cost, n.askable]
        if n.normal_state is not None and n.normal_state != implicit_normal_state(n.states):
            entry.append(["normal_state", n.normal_state])   # only when it says more than the default
        nodes.append(entry)
    # What changes a result, not its wording: triage rules and interview settings count too.
    rules = {
        "interview": [spec.interview.confidence, spec.interview.cost_weight, spec.interview.min_gain],
        "red_flags": [[f.node, f.state] for f in spec.red_flags],
        "escalations": [[e.cause, e.threshold] for e in spec.escalations],
        "care": [[c.id, list(c.causes), c.when] + ([[[n, list(s)] for n, s in c.applies_when]] if c.applies_when else [])
                 for c in spec.care],
    }
    if spec.graded_answers:   # only when present, so a model without them keeps the hash it had
        rules["graded_answers"] = [[a.word, a.ratio] for a in spec.graded_answers]
    canonical = json.dumps({"name": spec.name, "version": spec.version, "nodes": nodes, "rules": rules}, sort_keys=True)
    import hashlib  # here, not at import: it loads OpenSSL, and only the hash needs it

    return hashlib.sha256(canonical.encode()).hexdigest()


def _checked_targets(spec: object, targets: Iterable[str] | None) -> list[str] | None:
    """``Model``'s spec and targets checked at the boundary: a WrongTypeError for a wrong type, an UnknownNodeError
    naming a target that is no node, a SettingError for one listed twice."""
    if not isinstance(spec, ModelSpec):
        raise WrongTypeError(f"Model needs a ModelSpec (a model's .spec, or kneebayes.load_model(path).spec), "
                        f"not {type(spec).__name__}")
    if targets is None:
        return None
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Iterable) or isinstance(targets, Mapping):
        one = f" (for one target: targets=[{quote(targets)}])" if isinstance(targets, str) else ""
        raise WrongTypeError(f"targets must be a list of node ids, not {type(targets).__name__}{one}")
    found = list(targets)
    ids = [n.id for n in spec.nodes]
    known = set(ids)
    for t in found:
        if not isinstance(t, str):
            raise WrongTypeError(f"each target must be a node id (text), not {type(t).__name__}")
        if t not in known:
            raise UnknownNodeError(t, ids, what="target")
    if len(set(found)) != len(found):
        seen: set[str] = set()
        twice = next(t for t in found if t in seen or seen.add(t))   # linear, as every duplicate check
        raise SettingError(f"target {quote(twice)} is listed twice in targets; list each target once")
    return found


def _checked_joint_limit(joint_limit: object) -> int:
    """A positive whole number of joint states (a SettingError otherwise; a WrongTypeError for a non-number)."""
    if isinstance(joint_limit, bool) or not isinstance(joint_limit, (int, np.integer)):
        if isinstance(joint_limit, float) and joint_limit.is_integer():
            joint_limit = int(joint_limit)
        elif isinstance(joint_limit, (int, float, np.floating)) and not isinstance(joint_limit, bool):
            raise SettingError(f"joint_limit must be a whole number of joint states (at least 1), got {joint_limit!r}")
        else:
            raise WrongTypeError(f"joint_limit must be a whole number of joint states, "
                                 f"not {type(joint_limit).__name__}")
    if joint_limit < 1:
        raise SettingError(f"joint_limit must be at least 1 (the most joint states of the targets to enumerate), "
                           f"got {joint_limit}")
    return int(joint_limit)


def _unpickle_model(spec: ModelSpec, targets: tuple[str, ...], joint_limit: int, import_report: tuple[Any, ...],
                    memory_budget: int = MEMORY_BUDGET, work_limit: float = WORK_LIMIT) -> Model:
    """Rebuild a pickled model (see ``Model.__reduce__``). Pickles name this function: keep its name and arguments
    (a pickle from before the work limit has none: the default)."""
    return Model(spec, targets=targets, joint_limit=joint_limit, import_report=import_report,
                 memory_budget=memory_budget, work_limit=work_limit)


def _rest_hash(spec: ModelSpec, targets: tuple[str, ...], joint_limit: int) -> str:
    """SHA-256 of all a spec says except where its file lies (path, line numbers), with the targets and joint limit."""
    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                    if f.name not in ("path", "line")}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (set, frozenset)):   # iteration order varies between processes: sort
            return sorted((plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True, default=str))
        return value

    canonical = json.dumps({"spec": plain(spec), "targets": list(targets), "joint_limit": joint_limit},
                           sort_keys=True, default=str)
    import hashlib  # here, not at import: it loads OpenSSL, and only the hash needs it

    return hashlib.sha256(canonical.encode()).hexdigest()


def load_model(path: str | Path | None = None) -> Model:
    """Load a model file (default: the packaged knee model), validated and compiled.

    Raises ModelFileError listing every problem, each with file, line, node and field.

    >>> import kneebayes
    >>> kneebayes.load_model().name
    'knee'
    """
    return Model(load_spec(default_model_path() if path is None else path))


def _ids(value: object, what: str) -> list[str]:
    """A collection of node ids given as ``what``; WrongTypeError for one string (its letters are no ids) or a
    non-collection."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise WrongTypeError(f"{what} must be a collection of node ids such as ['limping'], not "
                        f"{'one string' if isinstance(value, (str, bytes)) else type(value).__name__} ({quote(value)})")
    return list(value)
