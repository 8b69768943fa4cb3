"""The article's qualitative statements, checked against the model's posteriors.

A researcher who changes a number sees at once which statements of the
article the model no longer keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .modelfile.schema import ClaimSpec
from .triage import screened

if TYPE_CHECKING:
    from .model import Model


@dataclass(frozen=True)
class ClaimResult:
    """One claim, whether it held, and the numbers that decided it.

    ``statement`` is the article's sentence, ``source`` its heading, and
    ``detail`` the posteriors the check compared.

    >>> import kneebayes
    >>> result = kneebayes.load_model().check_claims().results[0]
    >>> result.id, result.held
    ('tingling_points_to_nerve_irritation', True)
    >>> print(result)
    [held] tingling_points_to_nerve_irritation: Tingling or numbness raises nerve irritation more than any other cause. (rise of nerve_irritation +0.6986, largest other bakers_cyst +0.0496)
    """

    id: str
    statement: str
    source: str
    held: bool
    detail: str

    def __str__(self) -> str:
        return f"[{'held' if self.held else 'BROKEN'}] {self.id}: {self.statement} ({self.detail})"


@dataclass(frozen=True)
class ClaimReport:
    """Every claim's result; ``all_held`` is True when the model keeps all of them.

    What ``Model.check_claims()`` returns; iterating gives the
    :class:`ClaimResult` values in the file's order.

    >>> import kneebayes
    >>> report = kneebayes.load_model().check_claims()
    >>> report.all_held, len(report), report.broken
    (True, 38, ())
    >>> print(str(report).splitlines()[0])
    38 of 38 claims hold
    """

    results: tuple[ClaimResult, ...]

    @property
    def all_held(self) -> bool:
        """True when the model keeps every claim."""
        return all(r.held for r in self.results)

    @property
    def broken(self) -> tuple[ClaimResult, ...]:
        """The claims the model no longer keeps."""
        return tuple(r for r in self.results if not r.held)

    def __iter__(self) -> Iterator[ClaimResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __str__(self) -> str:
        head = f"{sum(r.held for r in self.results)} of {len(self.results)} claims hold"
        return "\n".join([head, *(f"  {r}" for r in self.results)])


def _ev(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(pairs)


def _fmt(ev: tuple[tuple[str, str], ...]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in ev) + "}"


def _given(model: Model, claim: ClaimSpec) -> dict[str, str]:
    """The claim's evidence, after the safety screen when the claim asks for it."""
    return screened(model.spec, _ev(claim.given)) if claim.screened else _ev(claim.given)


def _check(model: Model, claim: ClaimSpec) -> tuple[bool, str]:
    # cause/than were checked to exist at load time for the checks that need them
    cause, than = claim.cause or "", claim.than or ""
    given = _fmt(claim.given) + (" and every other warning sign 'no'" if claim.screened else "")
    if claim.check == "explains_first":
        dx = model.diagnose(_given(model, claim))
        first, factor = dx.explaining_causes[0]
        mine = dict(dx.explaining_causes)[cause]
        return first == cause, (f"first is {first} (Bayes factor {factor:.3g}); {cause} {mine:.3g} given {given}")
    if claim.check == "lifts":
        dx = model.diagnose(_given(model, claim))
        state = dx.explaining_states[cause]     # "yes" for a yes/no cause; else its leading abnormal state
        post = dx.distributions[cause][state]
        lift, prior = (d[cause] if isinstance(d[cause], float) else d[cause][state] for d in (dx.lift, dx.prior))
        return lift >= (claim.by or 1.0), (f"P({cause}={state})={post:.4f} is {lift:.2f}x its prior "
                                           f"{prior:.4f} (needs {claim.by:g}x) given {given}")
    if claim.check == "raises":
        a = model.diagnose(_ev(claim.given)).posterior[cause]
        b = model.diagnose(_ev(claim.versus)).posterior[cause]
        return a > b, f"P({cause}|{_fmt(claim.given)})={a:.4f} vs P(...|{_fmt(claim.versus)})={b:.4f}"
    if claim.check == "raises_most":
        a = model.diagnose(_ev(claim.given)).posterior
        b = model.diagnose(_ev(claim.versus)).posterior
        rises = {c: a[c] - b[c] for c in a}
        others = {c: r for c, r in rises.items() if c != cause}
        rival = max(others, key=lambda c: others[c]) if others else None
        held = rival is None or rises[cause] > others[rival]
        return held, f"rise of {cause} {rises[cause]:+.4f}" + (f", largest other {rival} {others[rival]:+.4f}" if rival else "")
    if claim.check == "more_probable":
        post = model.diagnose(_ev(claim.given)).posterior
        return post[cause] > post[than], f"{cause}={post[cause]:.4f} vs {than}={post[than]:.4f} given {_fmt(claim.given)}"
    if claim.check == "ranks_first":
        ranked = model.diagnose(_ev(claim.given)).ranked_causes
        return ranked[0][0] == cause, f"first is {ranked[0][0]} ({ranked[0][1]:.4f}) given {_fmt(claim.given)}"
    if claim.check == "edges_raise":
        kinds = {n.id: n.kind for n in model.nodes}
        edges = [(p, n.id) for n in model.nodes if n.kind == claim.child_kind
                 for p in n.parents if kinds[p] == claim.parent_kind]
        children: dict[str, list[str]] = {}
        for p, child in edges:
            children.setdefault(p, []).append(child)
        # one query per parent and state for all its children: a claims check is part of every explorer move
        given = {(p, state): _p_yes(model, {p: state}, wanted) for p, wanted in children.items() for state in ("yes", "no")}
        failures = [f"{p}->{child}: {given[p, 'yes'][child]:.4f} <= {given[p, 'no'][child]:.4f}"
                    for p, child in edges if not given[p, "yes"][child] > given[p, "no"][child]]
        detail = f"{len(edges)} edges checked" + (f"; lowered: {'; '.join(failures)}" if failures else "")
        return bool(edges) and not failures, detail
    raise ValueError(f"unknown check {claim.check!r}")  # unreachable: validated at load


def _p_yes(model: Model, evidence: dict[str, str], nodes: list[str]) -> dict[str, float]:
    """P(node = yes | evidence) for each node: a diagnosis's posterior where they are all yes/no causes."""
    if model.targets.binary and set(nodes) <= set(model.causes):
        posterior = model.diagnose(evidence).posterior
        return {n: posterior[n] for n in nodes}
    found = model.marginals(evidence, nodes=nodes)
    return {n: found[n]["yes"] for n in nodes}


def check_claims(model: Model) -> ClaimReport:
    """Check every claim of the model file, in the file's order (``Model.check_claims`` calls this).

    >>> import kneebayes
    >>> report = check_claims(kneebayes.load_model())
    >>> [result.id for result in report][:2]
    ['tingling_points_to_nerve_irritation', 'downhill_raises_popliteus']
    """
    results = []
    for claim in model.spec.claims:
        held, detail = _check(model, claim)
        results.append(ClaimResult(claim.id, claim.statement, claim.source, held, detail))
    return ClaimReport(tuple(results))
