"""Matplotlib plots: posterior bars, a tornado of sensitivities, the network in layers.

Each function draws on the ``ax`` it is given, or on a new
:class:`matplotlib.figure.Figure` (the object API: no pyplot state, safe
with any backend), and returns the Figure. matplotlib and networkx (the
``research`` extra) are imported inside the functions, never when kneebayes
is imported; without them a plot raises MissingExtraError naming the extra.

>>> import kneebayes
>>> from kneebayes.display.plots import plot_posterior
>>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
>>> len(plot_posterior(dx).axes[0].patches)
6
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..extras import require
from ..modelfile.schema import NoisyOr
from .html import check_sensitivity_columns, kind_title, layer_kinds, sensitivity_subject

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..diagnosis import Diagnosis
    from ..model import Model

__all__ = ["plot_posterior", "plot_tornado", "plot_network", "KIND_COLOURS"]

#: Box colours of the known kinds in :func:`plot_network`; other kinds take :data:`_EXTRA_COLOURS` in turn.
KIND_COLOURS: dict[str, str] = {"risk_factor": "#f6d58e", "cause": "#a9cce9", "finding": "#b9e2ad"}
_EXTRA_COLOURS = ("#dcc0ea", "#f5b9a9", "#d5d5d5", "#f3c6dc", "#c4e3e0")
_BAR = "#4c78a8"
_LOW = "#e45756"
_HIGH = "#4c78a8"
_FEATURE = "plotting"


def _matplotlib(module: str) -> Any:
    """A matplotlib submodule, or MissingExtraError naming the ``research`` extra."""
    return require(f"matplotlib.{module}", "research", _FEATURE)


def _figure_and_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Any, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = _matplotlib("figure").Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _percent_axis(axis: Any) -> None:
    axis.set_major_formatter(_matplotlib("ticker").PercentFormatter(xmax=1.0, decimals=0))


def _plain(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# -- posterior ------------------------------------------------------------------------------
def plot_posterior(dx: Diagnosis, ax: Axes | None = None) -> Figure:
    """Horizontal bars of the causes' posteriors, most probable at the top, each labelled with its value.

    For a model with multi-state targets, one bar per target and state.

    Parameters
    ----------
    dx : Diagnosis
        A diagnosis from :meth:`Model.diagnose`.
    ax : matplotlib Axes, optional
        Where to draw; a new Figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on (one bar patch per cause).
    """
    model: Model = dx.model
    if model.targets.binary:
        items = [(model.node(c).label, p) for c, p in dx.ranked_causes]
        what = "P(cause | answers)"
    else:
        items = [(f"{model.node(t).label}: {s}", p) for t, d in dx.distributions.items() for s, p in d.items()]
        what = "P(target = state | answers)"
    n = len(items)
    fig, ax = _figure_and_axes(ax, (6.4, 0.42 * n + 1.3))
    ys = list(range(n))[::-1]   # first item at the top
    ax.barh(ys, [p for _, p in items], color=_BAR, height=0.7)
    ax.set_yticks(ys, [label for label, _ in items])
    for y, (_, p) in zip(ys, items):
        inside = p > 0.86
        ax.text(p - 0.01 if inside else p + 0.01, y, f"{p * 100:.1f}%", va="center",
                ha="right" if inside else "left", fontsize=8, color="white" if inside else "black")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(-0.6, n - 0.4)
    _percent_axis(ax.xaxis)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    _plain(ax)
    info = dx.model_info
    ax.set_title(f"{info.name} {info.version}: {what}", fontsize=10, loc="left")
    return fig


# -- tornado --------------------------------------------------------------------------------
def plot_tornado(frame: pandas.DataFrame, top: int = 15, ax: Axes | None = None) -> Figure:
    """A tornado chart of a one-way sensitivity table: the largest swings at the top.

    For each of the first ``top`` rows, a bar from the base posterior
    (``frame.attrs["posterior"]``, drawn as a vertical line) to the
    posterior with the parameter at the low end of its range (red) and one
    to the posterior at the high end (blue); each row is labelled with the
    parameter's address and range. Without a base posterior, one grey bar
    per row spans from the low-end to the high-end posterior.

    Parameters
    ----------
    frame : pandas.DataFrame
        As ``kneebayes.sensitivity`` returns: ``address``, ``low``, ``high``,
        ``posterior_at_low``, ``posterior_at_high``, ``swing``, sorted.
    top : int, default 15
        How many rows to draw.
    ax : matplotlib Axes, optional
        Where to draw; a new Figure when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        Two bar patches per row (one when there is no base posterior).

    Raises
    ------
    ValueError
        When a needed column is missing.
    """
    check_sensitivity_columns(list(frame.columns))
    rows = frame.iloc[: max(int(top), 0)].to_dict("records")
    attrs = getattr(frame, "attrs", {}) or {}
    base = attrs.get("posterior")
    base = None if base is None else float(base)
    n = len(rows)
    own = ax is None
    fig, ax = _figure_and_axes(ax, (7.5, 0.36 * max(n, 1) + 1.9))
    ys = list(range(n))[::-1]
    at_low = [float(r["posterior_at_low"]) for r in rows]
    at_high = [float(r["posterior_at_high"]) for r in rows]
    if base is not None:
        ax.barh(ys, [v - base for v in at_low], left=base, height=0.62, color=_LOW, label="parameter at low end")
        ax.barh(ys, [v - base for v in at_high], left=base, height=0.62, color=_HIGH, label="parameter at high end")
        ax.axvline(base, color="black", linewidth=1.0, zorder=3, label=f"base {base * 100:.1f}%")
    else:
        lefts = [min(a, b) for a, b in zip(at_low, at_high)]
        widths = [abs(b - a) for a, b in zip(at_low, at_high)]
        ax.barh(ys, widths, left=lefts, height=0.62, color="#888888", label="low end to high end")
    labels = [f"{r['address']}  [{float(r['low']):.3g}, {float(r['high']):.3g}]" for r in rows]
    ax.set_yticks(ys, labels, fontsize=8)
    values = at_low + at_high + ([base] if base is not None else [])
    if values:
        lo, hi = min(values), max(values)
        pad = max((hi - lo) * 0.08, 0.005)
        ax.set_xlim(max(lo - pad, 0.0), min(hi + pad, 1.0))
    ax.set_ylim(-0.6, max(n, 1) - 0.4)
    ax.xaxis.set_major_formatter(_fine_percent())
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    _plain(ax)
    subject = sensitivity_subject(attrs)   # "P(cause)", or "P(cause = state)" for a state other than yes
    ax.set_xlabel(f"{subject[:-1]} | evidence)" if subject else "posterior")
    title = "one-way sensitivity" + (f" of {subject}" if subject else "")
    ax.set_title(title, fontsize=10, loc="left")
    if n and own:
        fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    elif n:
        ax.legend(loc="best", fontsize=8)
    return fig


def _fine_percent() -> Any:
    return _matplotlib("ticker").FuncFormatter(lambda x, _pos: f"{x * 100:.3g}%")


# -- the network ----------------------------------------------------------------------------
MAX_PER_ROW = 14


def _layer_rows(model: Model) -> tuple[list[list[str]], dict[str, str]]:
    """Rows of node ids, top to bottom: each kind's nodes (in kind order), split by depth within the kind."""
    nx = require("networkx", "research", "drawing the network")
    g = model.graph
    order = {n.id: i for i, n in enumerate(model.nodes)}
    kind_of = {n.id: n.kind for n in model.nodes}
    rows: list[list[str]] = []
    for kind in layer_kinds(model):
        members = [n.id for n in model.nodes if n.kind == kind]
        for generation in nx.topological_generations(g.subgraph(members)):
            ids = sorted(generation, key=order.__getitem__)
            rows.extend(ids[i : i + MAX_PER_ROW] for i in range(0, len(ids), MAX_PER_ROW))
    return rows, kind_of


def _row_xs(length: int, widest: int) -> list[float]:
    """x of each slot in a row of ``length`` nodes, centred; short rows spread over the widest row's span."""
    gap = max(1.0, (widest - 1) / length) if length > 1 else 1.0
    return [(k - (length - 1) / 2) * gap for k in range(length)]


def _order_rows(rows: list[list[str]], parents: dict[str, Sequence[str]], sweeps: int = 4) -> list[list[str]]:
    """Reorder each row by the mean position of its neighbours in other rows (barycentre sweeps)."""
    rows = [list(r) for r in rows]
    children: dict[str, list[str]] = {n: [] for r in rows for n in r}
    for child, ps in parents.items():
        for p in ps:
            if p in children:
                children[p].append(child)

    widest = max((len(r) for r in rows), default=1)

    def positions() -> dict[str, float]:
        return {n: x for r in rows for n, x in zip(r, _row_xs(len(r), widest))}

    row_of = {n: i for i, r in enumerate(rows) for n in r}
    for _ in range(sweeps):
        for direction in ("down", "up"):
            indices = range(1, len(rows)) if direction == "down" else range(len(rows) - 2, -1, -1)
            for i in indices:
                x = positions()
                def key(n: str, i: int = i, x: dict[str, float] = x) -> tuple[float, float]:
                    near = parents.get(n, ()) if direction == "down" else children.get(n, ())
                    xs = [x[m] for m in near if m in row_of and (row_of[m] < i if direction == "down" else row_of[m] > i)]
                    return (sum(xs) / len(xs) if xs else x[n], x[n])
                rows[i] = sorted(rows[i], key=key)
    return rows


def plot_network(model: Model, ax: Axes | None = None, weights: bool = True) -> Figure:
    """The network drawn in layers by kind: risk factors at the top, causes, then findings.

    Any other kind gets layers of its own, placed by how deep its nodes
    lie (see :func:`kneebayes.display.html.layer_kinds`). A kind whose nodes are
    parents of each other (a Baker's cyst following a meniscal injury) is
    split into rows by depth, so every edge points down the page; a row
    longer than 14 nodes wraps. Within rows, nodes are ordered to shorten
    edges (barycentre sweeps), deterministically. Nodes are boxes with their
    labels, coloured by kind. With ``weights``, an edge into a noisy-OR node
    is as wide and as dark as its weight; other edges are thin and grey.

    Parameters
    ----------
    model : Model
        Any kneebayes model.
    ax : matplotlib Axes, optional
        Where to draw; a new Figure sized to the network when omitted.
    weights : bool, default True
        Draw edge width and opacity by noisy-OR weight.

    Returns
    -------
    matplotlib.figure.Figure
        One text box per node in ``ax.texts``, the edges as one LineCollection.
    """
    LineCollection = _matplotlib("collections").LineCollection
    Line2D = _matplotlib("lines").Line2D
    Patch = _matplotlib("patches").Patch

    rows, kind_of = _layer_rows(model)
    parents = {n.id: n.parents for n in model.nodes}
    rows = _order_rows(rows, parents)
    widest = max((len(r) for r in rows), default=1)
    col_gap, row_gap = 1.0, 1.0
    pos = {n: (x * col_gap, -i * row_gap) for i, r in enumerate(rows) for n, x in zip(r, _row_xs(len(r), widest))}

    fig, ax = _figure_and_axes(ax, (max(6.0, 1.05 * widest + 0.6), max(3.0, 1.0 * len(rows) + 1.0)))
    kinds = layer_kinds(model)
    extra = iter(_EXTRA_COLOURS * (len(kinds) // len(_EXTRA_COLOURS) + 1))
    colour = {k: KIND_COLOURS[k] if k in KIND_COLOURS else next(extra) for k in kinds}

    segments, widths, colours = [], [], []
    for node in model.spec.nodes:
        p = node.parameters
        noisy = dict((parent, w.value) for parent, w in p.weights) if isinstance(p, NoisyOr) else {}
        for parent in node.parents:
            segments.append([pos[parent], pos[node.id]])
            if weights and parent in noisy:
                w = min(max(float(noisy[parent]), 0.0), 1.0)
                widths.append(0.4 + 2.8 * w)
                colours.append((0.2, 0.25, 0.35, 0.15 + 0.75 * w))
            else:
                widths.append(0.8)
                colours.append((0.35, 0.35, 0.35, 0.45))
    ax.add_collection(LineCollection(segments, linewidths=widths, colors=colours, zorder=1))

    for node in model.nodes:
        x, y = pos[node.id]
        label = textwrap.fill(node.label, width=14, break_long_words=False, break_on_hyphens=True)
        ax.text(x, y, label, ha="center", va="center", fontsize=7, zorder=3,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": colour[node.kind], "edgecolor": "#666666",
                      "linewidth": 0.6})

    xs = [x for x, _ in pos.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.6 * col_gap, max(xs) + 0.6 * col_gap)
    ax.set_ylim(-(len(rows) - 1) * row_gap - 0.5 * row_gap, 0.5 * row_gap)
    ax.set_axis_off()
    handles: list[Any] = [Patch(facecolor=colour[k], edgecolor="#666666", label=kind_title(k)) for k in kinds]
    if weights and any(isinstance(n.parameters, NoisyOr) for n in model.spec.nodes):
        handles += [Line2D([], [], color=(0.2, 0.25, 0.35, 0.15 + 0.75 * w), linewidth=0.4 + 2.8 * w,
                           label=f"noisy-OR weight {w:g}") for w in (0.2, 0.8)]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False,
              fontsize=8)
    return fig
