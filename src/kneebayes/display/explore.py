"""The live explorer: move a model's numbers and answers in a notebook and watch the diagnosis follow.

``kneebayes.explore(model)`` returns an :class:`Explorer`, a thin layer of
ipywidgets (the ``notebook`` extra) over :mod:`kneebayes.display.knobs`:

* a slider for every number of the chosen nodes (default: the causes),
  spanning its stated range widened by half its width each side, clipped
  to [0, 1]; beside it the file's value and range, and the number's
  source and rationale as its tooltip. A value moved outside its stated
  range goes into the model with the range stretched just enough to hold
  it. In a column that must sum to one (a table column, a multi-state
  prior) the other states are rescaled and their sliders follow;
* a toggle for every question (and any other node the starting evidence
  answers): its states, the model's graded answers between yes and no,
  and "unknown";
* the output, rebuilt on every change: what the answers point to, the
  posterior bars, the next question and triage (``Diagnosis.to_html``),
  the article's claims (how many hold, and each broken one) and the
  numbers changed from the file. A change the model cannot take (a column
  that cannot sum to one, evidence made impossible) is shown there and
  not applied;
* *check claims* (and the box to check them on every change), *save*
  (writes the changed model file to the path in the box; the write is
  atomic, so a failed save leaves an existing file as it was) and *reset*
  (back to the file's numbers and the starting answers).

Sliders report a move when released, so each move is one recompute. A
move makes the new model (only its numbers are compiled: the network's
plans are kept), diagnoses it and shows it before the claims are checked;
the output is rebuilt only in the parts that changed.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import KneeBayesError
from ..extras import require
from . import knobs
from .knobs import UNKNOWN, Answer

if TYPE_CHECKING:
    import ipywidgets

    from ..claims import ClaimReport
    from ..diagnosis import Diagnosis
    from ..likelihood import Likelihood
    from ..model import Model

__all__ = ["Explorer", "explore", "UNKNOWN"]

#: Slider steps: fine enough for the smallest ranges in the knee model (0.01 wide).
STEP = 0.001


class Explorer:
    """A live view of a model: sliders for numbers, toggles for answers, the diagnosis rebuilt on each change.

    Made by :func:`explore`. It displays as its widget (``widget``, a
    VBox) in a notebook, and as a static HTML snapshot
    (:meth:`snapshot_html`) where no kernel is live. Its state is public to
    read: ``model`` (the model with the sliders' numbers), ``original``
    (the file's), ``diagnosis``, ``claims`` (None until checked),
    ``claims_stale``, ``error`` (the last refused change, or None),
    ``seconds`` (how long the last change took until the output showed it:
    the new model, its diagnosis and the HTML; the claims check after it
    is counted apart), ``claims_seconds`` (the last claims check),
    ``evidence``; and its
    widgets to drive: ``sliders[address]``, ``answers[node]``,
    ``live_claims``, ``check_button``, ``save_path``, ``save_button``,
    ``reset_button``, ``output`` (the HTML shown) and ``status``.

    Examples
    --------
    >>> import kneebayes
    >>> view = kneebayes.explore(kneebayes.load_model(), {"locking_or_catching": "yes"}, nodes=["bakers_cyst"])
    >>> view.sliders["bakers_cyst.leak"].value = 0.2        # what dragging the slider does
    >>> view.model.parameters["bakers_cyst.leak"].value
    0.2
    >>> view.answers["swelling_behind_knee"].value = "yes"  # what clicking "yes" does
    >>> round(view.diagnosis.posterior["bakers_cyst"], 3) == round(view.model.diagnose(
    ...     {"locking_or_catching": "yes", "swelling_behind_knee": "yes"}).posterior["bakers_cyst"], 3)
    True
    """

    def __init__(self, model: Model, evidence: Mapping[str, object] | None, nodes: tuple[str, ...],
                 widgets: Any) -> None:
        self.original: Model = model
        self.model: Model = model
        self.diagnosis: Diagnosis = model.diagnose(dict(evidence or {}))   # checks the evidence first
        self.claims: ClaimReport | None = None
        self.claims_stale = False
        self.error: str | None = None
        self.seconds = 0.0
        self.claims_seconds: float | None = None
        self._w = widgets
        self._syncing = False
        self._parts: dict[str, tuple[tuple[object, ...], str]] = {}   # each output part's HTML, by what it shows
        self._columns = knobs.column_of(model, nodes)
        self._values = {address: model.parameters[address].value for address in self._columns}
        self._start: dict[str, Answer] = {}
        self.sliders: dict[str, ipywidgets.FloatSlider] = {}
        self.answers: dict[str, ipywidgets.ToggleButtons] = {}
        numbers = self._number_rows(nodes)
        questions = self._answer_rows(evidence or {})
        self.live_claims = widgets.Checkbox(value=True, description="check claims on every change", indent=False)
        self.check_button = widgets.Button(description="check claims", tooltip="check the article's claims now")
        self.save_path = widgets.Text(value=f"{model.name}-explored.yaml", description="save to",
                                      placeholder="path of the model file to write")
        self.save_button = widgets.Button(description="save", tooltip="write the changed model file to the path")
        self.reset_button = widgets.Button(description="reset", tooltip="back to the file's numbers and the first answers")
        self.status = widgets.HTML()
        self.output = widgets.HTML()
        self.output.add_class("kb-output")
        self.check_button.on_click(lambda _: self.check_claims())
        self.save_button.on_click(lambda _: self.save())
        self.reset_button.on_click(lambda _: self.reset())
        self.live_claims.observe(lambda change: self.check_claims() if change["new"] else None, names="value")
        controls = widgets.HBox([self.check_button, self.live_claims])
        saving = widgets.HBox([self.save_path, self.save_button, self.reset_button])
        title = widgets.HTML(f"<b>{html.escape(model.name)}</b> {html.escape(model.version)}: "
                             f"{len(self.sliders)} numbers of {len(nodes)} node{'s' if len(nodes) != 1 else ''}, "
                             f"{len(self.answers)} questions")
        scroll = {"max_height": "26em", "overflow": "auto", "margin": "0 0 0.6em 0"}
        left = widgets.VBox([widgets.VBox(numbers, layout=widgets.Layout(**scroll)),
                             widgets.VBox(questions, layout=widgets.Layout(**scroll))],
                            layout=widgets.Layout(width="50em", margin="0 1.5em 0 0"))
        for part in (controls, saving, self.status, self.output):
            part.layout.flex = "none"
        right = widgets.VBox([controls, saving, self.status, self.output], layout=widgets.Layout(width="44em"))
        # side by side where there is room, the output under the controls where there is not
        body = widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([title, body])
        self.widget.add_class("kb-explorer-view")
        self.check_claims(render=False)
        self._recompute()

    # -- building -----------------------------------------------------------------------------
    def _row(self) -> Any:
        """A row's layout: its own height, so a scrolled list does not squeeze its rows."""
        return self._w.Layout(flex="none")

    def _number_rows(self, nodes: tuple[str, ...]) -> list[Any]:
        w, model = self._w, self.original
        rows: list[Any] = []
        for node in nodes:
            addresses = [a for a in self._columns if a.startswith(node + ".")]
            rows.append(w.HTML(f"<div style='margin-top:0.4em'>{knobs.node_title(model, node)}</div>", layout=self._row()))
            for address in addresses:
                p = model.parameters[address]
                low, high = knobs.slider_bounds(p)
                tip = f"source: {p.source}\n{p.rationale}"
                slider = w.FloatSlider(value=p.value, min=low, max=high, step=STEP, readout_format=".3f",
                                       continuous_update=False, description=address[len(node) + 1:],
                                       tooltip=tip, disabled=low == high,
                                       style={"description_width": "14em"}, layout=w.Layout(width="34em"))
                slider.add_class("kb-number")
                shown = "" if p.range is None else f" range [{p.range[0]:g}, {p.range[1]:g}]"
                mark = w.HTML(f"<span title='{html.escape(tip)}' style='color:#666666;white-space:nowrap'>"
                              f"file {p.value:g}{shown}</span>")
                slider.observe(lambda change, a=address: self._moved(a, change["new"]), names="value")
                self.sliders[address] = slider
                rows.append(w.HBox([slider, mark], layout=self._row()))
        return rows

    def _answer_rows(self, evidence: Mapping[str, object]) -> list[Any]:
        w, model = self._w, self.original
        askable = [n.id for n in model.askable_nodes]
        ids = [*askable, *(n for n in evidence if n not in askable)]
        rows: list[Any] = []
        for node in ids:
            options = list(knobs.answer_options(model, node))
            value: Answer = UNKNOWN
            if node in evidence:
                value, extra = knobs.answer_for(model, node, evidence[node])
                if extra is not None:
                    options.insert(-1, extra)
            found = model.node(node)
            toggle = w.ToggleButtons(options=options, value=value, tooltip=found.question or found.label or node,
                                     style={"button_width": "auto"})
            toggle.add_class(f"kb-answer-{node}")
            toggle.observe(lambda change: self._answered(), names="value")
            self._start[node] = value
            self.answers[node] = toggle
            label = w.HTML(f"<span title='{html.escape(found.question or '')} ({html.escape(node)})'>"
                           f"{html.escape(found.label or node)}</span>", layout=w.Layout(width="13em", flex="none"))
            rows.append(w.HBox([label, toggle], layout=self._row()))
        return rows

    # -- reacting -----------------------------------------------------------------------------
    @property
    def evidence(self) -> dict[str, str | Likelihood]:
        """The answers the toggles give now (questions left "unknown" are not evidence)."""
        return knobs.evidence_of({node: toggle.value for node, toggle in self.answers.items()})

    def _moved(self, address: str, value: float) -> None:
        if self._syncing:
            return
        started = time.perf_counter()
        values = self._values | knobs.column_move(self._values, address, float(value), self._columns[address])
        try:
            model = self.original.with_parameters(knobs.changes_from(self.original.parameters, values))
        except KneeBayesError as exc:   # e.g. a column that cannot sum to one: shown, not applied
            self.error = str(exc)
            self._sync_sliders()
            self._render()
            return
        self.model, self._values, self.error = model, values, None
        self._sync_sliders()
        if self.live_claims.value:
            self._recompute(started)   # the new diagnosis shows at once; the claims follow
            self.check_claims()
        else:
            self.claims_stale = self.claims is not None
            self._recompute(started)

    def _answered(self) -> None:
        if not self._syncing:
            self.error = None
            self.claims_seconds = None   # the claims do not depend on the answers
            self._recompute()

    def _sync_sliders(self) -> None:
        """Put every slider at the model's number (a column's other states move with one of them)."""
        self._syncing = True
        try:
            for address, slider in self.sliders.items():
                value = self._values[address]
                if slider.value != value:   # most stay where they are: a move changes one column
                    slider.value = value
        finally:
            self._syncing = False

    def _recompute(self, started: float | None = None) -> None:
        """Diagnose the current model and answers and show it; ``seconds`` counts from ``started`` (the change)."""
        started = time.perf_counter() if started is None else started
        try:
            self.diagnosis = self.model.diagnose(self.evidence)
        except KneeBayesError as exc:   # e.g. answers the changed numbers make impossible
            self.error = str(exc)
        self.output.value = self.snapshot_html()
        self.seconds = time.perf_counter() - started
        self._show_status()

    def _render(self) -> None:
        self.output.value = self.snapshot_html()
        self._show_status()

    def _show_status(self) -> None:
        claims = "" if self.claims_seconds is None else f", claims checked in {self.claims_seconds * 1000:.0f} ms"
        self.status.value = (f"<span style='color:#666666'>last change: shown in "
                             f"{self.seconds * 1000:.0f} ms{claims}</span>")

    # -- actions ------------------------------------------------------------------------------
    def check_claims(self, render: bool = True) -> ClaimReport:
        """Check the article's claims on the current numbers (what *check claims* does) and show them."""
        started = time.perf_counter()
        self.claims = self.model.check_claims()
        self.claims_seconds = time.perf_counter() - started
        self.claims_stale = False
        if render:
            self._render()
        return self.claims

    def save(self, path: str | None = None) -> str:
        """Write the current model to ``path`` (default: the path in the box) and say so in ``status``.

        The write is atomic (``Model.save``): on failure an existing file
        is left as it was, and the error is shown instead of raised.
        Returns the status text.
        """
        target = self.save_path.value if path is None else path
        try:
            written = self.model.save(target)
        except (KneeBayesError, OSError) as exc:
            text = f"<span style='color:#a40000;font-weight:600'>not saved: {html.escape(str(exc))}</span>"
        else:
            text = f"saved to <code>{html.escape(str(written))}</code>"
        self.status.value = text
        return text

    def reset(self) -> None:
        """Back to the model file's numbers and the starting answers (what *reset* does)."""
        self.model, self.error = self.original, None
        self._values = {address: self.original.parameters[address].value for address in self._columns}
        self._syncing = True
        try:
            for node, toggle in self.answers.items():
                toggle.value = self._start[node]
        finally:
            self._syncing = False
        self._sync_sliders()
        self.check_claims(render=False)
        self._recompute()

    # -- display ------------------------------------------------------------------------------
    def snapshot_html(self) -> str:
        """The output as it is now, as static HTML: the diagnosis, the claims, the changed numbers.

        The same page as ``knobs.explorer_html`` gives; each part is rebuilt
        only when what it shows changed (a move of an answer leaves the
        claims' part alone, a claims check the diagnosis's).
        """
        dx, claims, stale = self.diagnosis, self.claims, self.claims_stale
        return knobs.output_html(
            self._part("claims", (claims, stale), lambda: knobs.claims_html(claims, stale=stale)),
            self._part("changes", (dx.model,), lambda: knobs.changes_html(self.original.parameters,
                                                                          dx.model.parameters)),
            self._part("diagnosis", (dx,), lambda: knobs.diagnosis_part(dx)),
            error=self.error)

    def _part(self, name: str, shows: tuple[object, ...], build: Callable[[], str]) -> str:
        """The HTML of one output part: kept while it shows the same objects (every one is immutable)."""
        found = self._parts.get(name)
        if found is None or len(found[0]) != len(shows) or any(a is not b for a, b in zip(found[0], shows)):
            found = (shows, build())
            self._parts[name] = found
        return found[1]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # The widget where a kernel is live; the snapshot for viewers without one (they skip the widget's type).
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.snapshot_html()
        return bundle

    def __repr__(self) -> str:
        return (f"<Explorer of {self.original.name} {self.original.version}: {len(self.sliders)} numbers, "
                f"{len(self.answers)} questions>")


def explore(model: Model, evidence: Mapping[str, object] | None = None,
            nodes: Iterable[str] | str | None = None) -> Explorer:
    """A live explorer of ``model`` in a notebook: sliders for its numbers, toggles for the answers.

    Parameters
    ----------
    model : Model
        The model whose numbers to move (it is never changed; the explorer
        makes new models with ``with_parameters``).
    evidence : mapping, optional
        The starting answers, {node id: state, graded word such as
        "probably", True/False, or a Likelihood}; checked as
        ``model.diagnose`` checks them.
    nodes : node ids, optional
        The nodes whose numbers get sliders (a single id is fine). Default:
        the model's causes (34 numbers in the knee model); every number of
        each node gets one, table cells included.

    Returns
    -------
    Explorer
        Displays as the live widget; see :class:`Explorer` for what it holds.

    Raises
    ------
    UnknownNodeError
        A node id in ``nodes`` or ``evidence`` that the model does not have.
    MissingExtraError
        ipywidgets is not installed (``pip install 'kneebayes[notebook]'``).

    Examples
    --------
    >>> import kneebayes
    >>> view = kneebayes.explore(kneebayes.load_model(), {"tingling_or_numbness": "yes"})
    >>> len(view.sliders), view.answers["tingling_or_numbness"].value
    (34, 'yes')
    >>> view.diagnosis.ranked_causes[0][0]
    'nerve_irritation'
    """
    chosen = knobs.chosen_nodes(model, nodes)
    widgets = require("ipywidgets", feature="explore")
    return Explorer(model, evidence, chosen, widgets)
