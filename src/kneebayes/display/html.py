"""Pure HTML builders for the notebook: a model, a diagnosis, a sensitivity table.

Each function returns a self-contained HTML fragment (inline styles only,
no external CSS or JavaScript) with every piece of text escaped, and the
same input always gives the same string. ``Model.to_html`` (and so its
``_repr_html_``) calls :func:`model_html`; a Diagnosis shows
:func:`diagnosis_html`; :func:`sensitivity_html` renders the DataFrame that
``kneebayes.sensitivity`` returns.

>>> import kneebayes
>>> from kneebayes.display.html import diagnosis_html
>>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
>>> text = diagnosis_html(dx)
>>> "Nerve irritation" in text and f"{dx.posterior['nerve_irritation']:.1%}" in text
True
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..care import split_care
from ..errors import SettingError, quote
from .words import (
    COMBINATIONS_LEFT_OUT,
    COMBINATIONS_TITLE,
    EXPLAINING_TITLE,
    NOTHING_YET,
    ODDS_NOTE,
    combinations,
    disclaimer,
    explaining,
    percent,
    probability_title,
    question_reason,
)

if TYPE_CHECKING:
    import pandas

    from ..diagnosis import Diagnosis
    from ..explain import Contribution, Explanation
    from ..model import Model, Node
    from ..questions import Question, Rationale

__all__ = ["model_html", "diagnosis_html", "sensitivity_html", "rationale_html", "explanation_html", "kinds_in_order", "layer_kinds", "SENSITIVITY_COLUMNS"]

#: Kinds the display knows by name, in the order they are shown (and drawn, top to bottom).
KNOWN_KINDS: tuple[str, ...] = ("risk_factor", "cause", "finding")
_KIND_NAMES: dict[str, tuple[str, str]] = {
    "risk_factor": ("risk factor", "risk factors"),
    "cause": ("cause", "causes"),
    "finding": ("finding", "findings"),
}

#: The columns :func:`sensitivity_html` needs (``value`` is shown when present).
SENSITIVITY_COLUMNS: tuple[str, ...] = ("address", "low", "high", "posterior_at_low", "posterior_at_high", "swing")

_STOP_TEXT = {
    "confident": "the leading cause reached the confidence threshold",
    "nothing_worth_asking": "no remaining question is worth its cost",
    "nothing_left": "every question has been answered or skipped",
}

# A few inline styles, kept neutral so the output reads on light and dark notebook themes.
_BOX = "font-family:inherit;line-height:1.45;max-width:56em"
_TABLE = "border-collapse:collapse;margin:0.2em 0 0.6em 0"
_TH = "text-align:left;padding:2px 10px 2px 0;border-bottom:1px solid rgba(127,127,127,0.5);font-weight:600"
_TH_NUM = _TH.replace("text-align:left", "text-align:right")
_TD = "text-align:left;padding:2px 10px 2px 0;vertical-align:top"
_NUM = "text-align:right;padding:2px 10px 2px 0;font-variant-numeric:tabular-nums;white-space:nowrap"
_MUTED = "opacity:0.7"
_TRACK = "background:rgba(127,127,127,0.18);width:16em;height:0.95em"
_BAR_COLOUR = "#4c78a8"
_UP_COLOUR = "#4c78a8"
_DOWN_COLOUR = "#e45756"
# Badge colours by triage level: red, green, amber (screen not complete), grey (no triage rules).
_LEVEL_COLOUR = {
    "see_doctor": "#b03a2e",
    "self_care": "#2e7d32",
    "incomplete": "#9a6700",
    "not_assessed": "#555555",
}


def _e(value: object) -> str:
    """Escaped text (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


def _pct(p: float) -> str:
    return f"{p * 100:.1f}%"


def _width(fraction: float) -> str:
    """A CSS width from a fraction, clipped to [0, 100]% (never NaN)."""
    f = float(fraction)
    if not f == f:  # NaN
        f = 0.0
    return f"{min(max(f, 0.0), 1.0) * 100:.1f}%"


def _bar(fraction: float, colour: str = _BAR_COLOUR, track: str = _TRACK) -> str:
    return (f"<div style='{track}'><div style='width:{_width(fraction)};height:100%;"
            f"background:{colour}'></div></div>")


def kinds_in_order(kinds: Iterable[str]) -> list[str]:
    """The distinct kinds: risk factors, causes, findings, then any other kind in order of appearance.

    >>> kinds_in_order(["finding", "symptom_group", "cause", "finding"])
    ['cause', 'finding', 'symptom_group']
    """
    seen = list(dict.fromkeys(kinds))
    return [k for k in KNOWN_KINDS if k in seen] + [k for k in seen if k not in KNOWN_KINDS]


def _depths(model: Model) -> dict[str, int]:
    """Each node's depth: 0 for a root, else one more than its deepest parent."""
    parents = {n.id: n.parents for n in model.nodes}
    depth: dict[str, int] = {}
    for start in parents:
        stack = [start]
        while stack:  # iterative, so a deep network cannot hit the recursion limit
            node = stack[-1]
            pending = [p for p in parents.get(node, ()) if p not in depth and p in parents]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            depth[node] = 1 + max((depth[p] for p in parents[node] if p in depth), default=-1)
    return depth


def layer_kinds(model: Model) -> list[str]:
    """The model's kinds in display order, top to bottom.

    Risk factors, causes and findings keep that order; any other kind goes
    before the first of them whose nodes lie deeper on average (so its edges
    point down the page), after all of them if none does; ties by name.

    >>> import kneebayes
    >>> layer_kinds(kneebayes.load_model())
    ['risk_factor', 'cause', 'finding']
    """
    depth = _depths(model)
    kinds = kinds_in_order(n.kind for n in model.nodes)
    mean: dict[str, float] = {}
    for kind in kinds:
        values = [depth[n.id] for n in model.nodes if n.kind == kind]
        mean[kind] = sum(values) / len(values)
    layers = [k for k in kinds if k in KNOWN_KINDS]
    for other in sorted((k for k in kinds if k not in KNOWN_KINDS), key=lambda k: (mean[k], k)):
        deeper = [i for i, k in enumerate(layers) if k in KNOWN_KINDS and mean[k] > mean[other]]
        layers.insert(deeper[0] if deeper else len(layers), other)
    return layers


def _kind_noun(kind: str, count: int) -> str:
    singular, plural = _KIND_NAMES.get(kind, (kind.replace("_", " "),) * 2)
    return singular if count == 1 else plural


def kind_title(kind: str) -> str:
    """A node kind as a heading: the plural noun, capitalised ("Risk factors")."""
    name = _kind_noun(kind, 2)
    return name[:1].upper() + name[1:]


def _label(model: Model, node_id: str) -> str:
    try:
        return model.node(node_id).label
    except KeyError:
        return node_id


# -- the model --------------------------------------------------------------------------------
def model_html(model: Model) -> str:
    """An HTML summary of a model: identity, source, counts by kind, claims, and the nodes by kind.

    Shows the title, name, version, the first 12 characters of the content
    hash (the full hash in the tooltip), the source document, how many
    nodes of each kind, how many of the article's claims hold
    (:meth:`Model.check_claims`), and one table per kind (id, label,
    parents; states too when some node is not yes/no). The causes' table
    is open, the others folded.

    Parameters
    ----------
    model : Model
        Any kneebayes model.

    Returns
    -------
    str
        A self-contained HTML fragment.

    Examples
    --------
    >>> import kneebayes
    >>> text = model_html(kneebayes.load_model())
    >>> "14 risk factors, 6 causes, 12 findings" in text
    True
    """
    spec = model.spec
    nodes = model.nodes
    kinds = layer_kinds(model)
    groups: dict[str, list[Node]] = {k: [n for n in nodes if n.kind == k] for k in kinds}
    counts = ", ".join(f"{len(groups[k])} {_kind_noun(k, len(groups[k]))}" for k in kinds)
    show_states = any(tuple(n.states) != ("yes", "no") for n in nodes)

    report = model.check_claims()
    held = sum(1 for r in report if r.held)
    if len(report) == 0:
        claims = "no claims recorded"
    else:
        claims = f"{held} of {len(report)} claims hold"
        broken = [r.id for r in report if not r.held]
        if broken:
            claims += f" <span style='color:{_DOWN_COLOUR}'>(broken: {_e(', '.join(broken))})</span>"

    full_hash = model.content_hash
    parts = [f"<div class='kneebayes-model' style='{_BOX}'>"]
    parts.append(f"<div style='font-size:1.15em;font-weight:600'>{_e(spec.title or spec.name)}</div>")
    parts.append(
        f"<div>model <code>{_e(model.name)}</code> version <code>{_e(model.version)}</code>"
        f" &middot; hash <code title='{_e(full_hash)}'>{_e(full_hash[:12])}</code></div>"
    )
    source = spec.source_document
    parts.append(f"<div>source: {_e(source) if source else f'<span style={_MUTED!r}>not stated</span>'}</div>")
    parts.append(f"<div>{len(nodes)} nodes: {_e(counts)} &middot; {claims}</div>")
    for kind in kinds:
        members = groups[kind]
        is_open = " open" if kind == "cause" else ""
        head = (f"<tr><th style='{_TH}'>id</th><th style='{_TH}'>label</th><th style='{_TH}'>parents</th>"
                + (f"<th style='{_TH}'>states</th>" if show_states else "") + "</tr>")
        rows = []
        for n in members:
            parents = ", ".join(n.parents)
            rows.append(
                f"<tr><td style='{_TD}'><code>{_e(n.id)}</code></td><td style='{_TD}'>{_e(n.label)}</td>"
                f"<td style='{_TD}'>{_e(parents) if parents else f'<span style={_MUTED!r}>none</span>'}</td>"
                + (f"<td style='{_TD}'>{_e(', '.join(n.states))}</td>" if show_states else "") + "</tr>"
            )
        parts.append(
            f"<details{is_open} style='margin-top:0.4em'><summary>{_e(kind_title(kind))} ({len(members)})</summary>"
            f"<table style='{_TABLE}'>{head}{''.join(rows)}</table></details>"
        )
    parts.append("</div>")
    return "".join(parts)


# -- a diagnosis ------------------------------------------------------------------------------
def _posterior_rows(dx: Diagnosis, model: Model) -> str:
    if model.targets.binary:
        rows = [(cause, _label(model, cause), p) for cause, p in dx.ranked_causes]
        return "".join(_bar_row(cid, label, p) for cid, label, p in rows)
    # multi-state targets: one block per target, its states in file order
    out = []
    for target, dist in dx.distributions.items():
        out.append(f"<tr><td colspan='3' style='{_TD};font-weight:600;padding-top:4px'>"
                   f"{_e(_label(model, target))}</td></tr>")
        out.extend(_bar_row(f"{target}={s}", s, p, indent=True) for s, p in dist.items())
    return "".join(out)


def _bar_row(title: str, label: str, p: float, indent: bool = False) -> str:
    pad = "padding-left:1.2em;" if indent else ""
    return (f"<tr title='{_e(title)}'><td style='{_TD};{pad}white-space:nowrap'>{_e(label)}</td>"
            f"<td style='padding:2px 0'>{_bar(p)}</td><td style='{_NUM};padding-left:8px'>{_pct(p)}</td></tr>")


def _evidence_line(dx: Diagnosis, model: Model) -> str:
    answers = [f"{_e(_label(model, k))} = <b>{_e(v)}</b>" for k, v in dx.evidence.items()]
    text = "; ".join(answers) if answers else f"<span style='{_MUTED}'>none yet</span>"
    line = f"<div>answers ({len(answers)}): {text}</div>"
    if dx.skipped:
        skipped = "; ".join(_e(_label(model, k)) for k in sorted(dx.skipped))
        line += f"<div>don't know: {skipped}</div>"
    return line


def _triage_block(dx: Diagnosis, model: Model) -> str:
    t = dx.triage
    name, colour = t.title, _LEVEL_COLOUR.get(t.level, "#555555")
    badge = (f"<span style='background:{colour};color:#ffffff;padding:1px 8px;border-radius:3px;"
             f"font-weight:600'>{_e(name)}</span> <code>{_e(t.level)}</code>")
    items = "".join(
        f"<li>{_e(r.text)}" + (f" <span style='{_MUTED}'>(source: {_e(r.source)})</span>" if r.source else "")
        + "</li>"
        for r in t.reasons
    )
    extra = ""
    if t.level == "see_doctor" and t.unanswered_red_flags:   # an incomplete triage's reason lists them already
        pending = "; ".join(_e(_label(model, n)) for n in t.unanswered_red_flags)
        extra = f"<div style='{_MUTED}'>warning-sign questions still unanswered: {pending}</div>"
    return f"<div style='margin-top:0.6em'>triage: {badge}<ul style='margin:0.2em 0'>{items}</ul>{extra}</div>"


def _question_block(dx: Diagnosis) -> str:
    q = dx.next_question

    def describe(prefix: str, q: Question) -> str:
        flag = " <span style='font-weight:600'>(warning sign)</span>" if q.red_flag else ""
        return (f"<div>{prefix}: <b>{_e(q.text)}</b>{flag} <span style='{_MUTED}'>"
                f"(<code>{_e(q.id)}</code>, expected gain {q.expected_information_gain:.3f} bits, "
                f"cost {q.cost:g})</span></div>")

    reason = dx.stop_reason
    if reason is None:
        if q is None:
            return ""
        return describe("next question", q) + f"<div style='{_MUTED}'>why: {_e(question_reason(dx, q.id))}</div>"
    value = str(getattr(reason, "value", reason))
    why = _STOP_TEXT.get(value, value.replace("_", " "))
    if value == "confident":
        why += f" ({dx.settings.confidence:.0%})"
    out = f"<div>could stop: {_e(why)} <code>{_e(value)}</code></div>"
    if q is not None:
        out += describe("to go on, ask", q)
    return out


def _care_block(dx: Diagnosis, top: int) -> str:
    if top < 1 or not dx.care_plan:
        return ""
    plan, rest = split_care(dx.care_plan, limit=top)   # the items that fit the answers first
    items = "".join(
        f"<li><b>{_e(a.title)}</b>: {_e(a.advice)} <span style='{_MUTED}'>(source: {_e(a.source)})</span></li>"
        for a in plan
    )
    more = f"and {len(rest)} more" if plan else f"{len(rest)} items, none fitting the answers yet,"
    tail = f"<div style='{_MUTED}'>{more} in <code>care_plan</code></div>" if rest else ""
    return f"<div style='margin-top:0.4em'>care:<ol style='margin:0.2em 0'>{items}</ol>{tail}</div>"


def _explaining_block(dx: Diagnosis) -> str:
    """What the answers point to: a table of every cause, the strongest evidence for it first, with the phrase,
    the Bayes factor (and its weight of evidence in decibans), the probability now and before any answer."""
    if not dx.evidence:
        return f"<div><span style='font-weight:600'>{_e(EXPLAINING_TITLE)}</span>: {_e(NOTHING_YET)}.</div>"
    head = f"<div style='font-weight:600'>{_e(EXPLAINING_TITLE)}</div>"
    th = "".join(f"<th style='{style}'>{h}</th>" for h, style in
                 (("cause", _TH), ("what your answers say", _TH), ("Bayes factor", _TH_NUM), ("now", _TH_NUM),
                  ("before any answer", _TH_NUM)))
    rows = []
    for row in explaining(dx):
        words = row.words
        strength = "" if words.direction == "neither" else f" <span style='{_MUTED}'>({_e(words.evidence)})</span>"
        db = 10.0 * math.log10(words.factor) if words.factor > 0.0 else -math.inf
        rows.append(
            f"<tr title='{_e(row.cause)}={_e(row.state)}'><td style='{_TD}'>{_e(row.name)}</td>"
            f"<td style='{_TD}'>{_e(words.phrase)}{strength}</td>"
            f"<td style='{_NUM}'>{words.factor:.3g} <span style='{_MUTED}'>{db:+.1f}&nbsp;dB</span></td>"
            f"<td style='{_NUM}'>{_e(percent(row.now))}</td><td style='{_NUM}'>{_e(percent(row.before))}</td></tr>"
        )
    return (f"{head}<table style='{_TABLE}'><tr>{th}</tr>{''.join(rows)}</table>"
            f"<div style='{_MUTED};font-size:0.9em;margin-top:-0.4em'>{_e(ODDS_NOTE)}; dB: weight of evidence in "
            "decibans, 10 log<sub>10</sub> of the factor</div>")


def _combinations_block(dx: Diagnosis) -> str:
    """The three most probable combinations of causes, or why they are not listed."""
    found = combinations(dx, 3)
    if found is None:
        return (f"<div style='margin-top:0.4em'><span style='font-weight:600'>{_e(COMBINATIONS_TITLE)}</span>: "
                f"{_e(COMBINATIONS_LEFT_OUT)}.</div>")
    items = "".join(f"<li>{_e(name)}: {_e(percent(p))}</li>" for name, p in found)
    return (f"<div style='margin-top:0.4em;font-weight:600'>{_e(COMBINATIONS_TITLE)}</div>"
            f"<ol style='margin:0.2em 0 0.6em 0'>{items}</ol>")


def diagnosis_html(dx: Diagnosis, *, care: int = 3) -> str:
    """An HTML view of a diagnosis: what the answers point to, the posterior bars, the combinations, then
    triage, the next question, care and the model.

    First, what the answers point to: a table of every cause, the most
    telling first (``Diagnosis.explaining_causes``), with the Bayes factor
    in plain words, the factor itself with its weight of evidence in
    decibans, and the probability now and before any answer, under a note
    saying what odds are (the factor multiplies the odds, not the probability). Then how
    likely each cause is: the causes most probable first, each with its
    label, a bar and P(yes | evidence) to one decimal (for multi-state
    targets, one block of bars per target). Then the three most probable
    combinations of causes (or why they are not listed), the answers so
    far, the triage level with each reason and its source, the next
    question (text, expected gain, cost), or why the interview could stop
    and what to ask to go on, the care items that fit the answers (at most ``care``, ``kneebayes.care.split_care``),
    the model's name, version and hash, and the model's disclaimer (decision support, not a medical
    diagnosis). Every piece of text is escaped.

    Parameters
    ----------
    dx : Diagnosis
        A diagnosis from :meth:`Model.diagnose`.
    care : int, default 3
        How many care items to show.

    Returns
    -------
    str
        A self-contained HTML fragment.

    Examples
    --------
    >>> import kneebayes
    >>> text = diagnosis_html(kneebayes.load_model().diagnose({"locking_or_catching": "yes"}))
    >>> text.index("What your answers point to") < text.index("How likely each cause is present")
    True
    >>> "see_doctor" in text
    True
    """
    model: Model = dx.model
    info = dx.model_info
    parts = [f"<div class='kneebayes-diagnosis' style='{_BOX}'>"]
    parts.append(_explaining_block(dx))
    title = "P(cause | answers)" if model.targets.binary else "P(target | answers)"
    parts.append(f"<div style='margin-top:0.4em'><span style='font-weight:600'>{_e(probability_title(dx))}</span> "
                 f"<span style='{_MUTED}'>{_e(title)}</span></div>")
    parts.append(f"<table style='{_TABLE}'>{_posterior_rows(dx, model)}</table>")
    parts.append(_combinations_block(dx))
    parts.append(_evidence_line(dx, model))
    parts.append(_triage_block(dx, model))
    parts.append(_question_block(dx))
    parts.append(_care_block(dx, care))
    parts.append(
        f"<div style='{_MUTED};margin-top:0.4em;font-size:0.9em'>model <code>{_e(info.name)}</code> "
        f"{_e(info.version)} &middot; hash <code title='{_e(info.content_hash)}'>{_e(info.content_hash[:12])}</code>"
        "</div>"
    )
    parts.append(f"<div class='kneebayes-disclaimer' style='margin-top:0.3em;font-style:italic'>"
                 f"{_e(disclaimer(model))}</div>")
    parts.append("</div>")
    return "".join(parts)


# -- sensitivity ------------------------------------------------------------------------------
def sensitivity_subject(attrs: dict[str, Any]) -> str | None:
    """What a sensitivity table's numbers are the probability of, from its ``attrs``: ``P(cause)`` for
    the state "yes" (as elsewhere), ``P(cause = state)`` for any other; None without a cause.

    >>> sensitivity_subject({"cause": "bakers_cyst", "state": "no"}), sensitivity_subject({"cause": "bakers_cyst"})
    ('P(bakers_cyst = no)', 'P(bakers_cyst)')
    """
    cause = attrs.get("cause")
    if cause is None:
        return None
    state = attrs.get("state")
    return f"P({cause})" if state in (None, "yes") else f"P({cause} = {state})"


def check_sensitivity_columns(columns: Sequence[str]) -> None:
    """SettingError unless ``columns`` hold every column a sensitivity table has (``SENSITIVITY_COLUMNS``).

    >>> check_sensitivity_columns(["address", "low", "high", "posterior_at_low", "posterior_at_high"])
    Traceback (most recent call last):
    ...
    kneebayes.errors.SettingError: a sensitivity table needs the columns address, low, high, posterior_at_low, posterior_at_high, swing; missing: swing (got: ['address', 'low', 'high', 'posterior_at_low', 'posterior_at_high'])
    """
    missing = [c for c in SENSITIVITY_COLUMNS if c not in columns]
    if missing:
        raise SettingError(f"a sensitivity table needs the columns {', '.join(SENSITIVITY_COLUMNS)}; "
                           f"missing: {', '.join(missing)} (got: {quote(list(columns))})")


def _num(x: Any, fmt: str) -> str:
    try:
        return format(float(x), fmt)
    except (TypeError, ValueError):
        return _e(x)


def _percent(x: Any) -> str:
    try:
        return _pct(float(x))
    except (TypeError, ValueError):
        return _e(x)


def sensitivity_html(frame: pandas.DataFrame, top: int | None = 20) -> str:
    """An HTML table of a one-way sensitivity analysis, in the frame's order (largest swing first).

    One row per parameter: its address, value (when the frame has one),
    range, the posterior with the parameter at the low and at the high end
    of its range, and the swing (high minus low, in percentage points) with
    a small bar scaled to the largest swing shown (blue: the posterior rises
    with the parameter, red: it falls). ``frame.attrs["posterior"]`` (the
    base posterior) and ``frame.attrs["cause"]``, when present, head the table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``address``, ``low``, ``high``, ``posterior_at_low``,
        ``posterior_at_high``, ``swing`` (and optionally ``value``), as
        ``kneebayes.sensitivity`` returns.
    top : int or None, default 20
        How many rows to show; None shows all.

    Returns
    -------
    str
        A self-contained HTML fragment.

    Raises
    ------
    ValueError
        When a needed column is missing (the message names it).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"address": ["a.prior"], "low": [0.1], "high": [0.3], "posterior_at_low": [0.2],
    ...                       "posterior_at_high": [0.5], "swing": [0.3]})
    >>> "+30.00 pp" in sensitivity_html(frame)
    True
    """
    columns = [str(c) for c in frame.columns]
    check_sensitivity_columns(columns)
    has_value = "value" in columns
    total = len(frame)
    shown = frame if top is None else frame.iloc[: max(int(top), 0)]
    records = shown.to_dict("records")
    swings = [abs(float(r["swing"])) for r in records]
    largest = max((s for s in swings if s == s), default=0.0)

    attrs = getattr(frame, "attrs", {}) or {}
    head = "one-way sensitivity"
    subject = sensitivity_subject(attrs)
    if subject is not None:
        head += f" of {_e(subject)}"
    if "posterior" in attrs:
        head += f" &middot; base posterior {_percent(attrs['posterior'])}"

    th = "".join(f"<th style='{_TH}'>{h}</th>" for h in
                 ["#", "address"] + (["value"] if has_value else [])
                 + ["range", "P at low", "P at high", "swing", ""])
    rows = []
    for i, r in enumerate(records, start=1):
        swing = float(r["swing"])
        colour = _UP_COLOUR if swing >= 0 else _DOWN_COLOUR
        frac = abs(swing) / largest if largest > 0 else 0.0
        rows.append(
            f"<tr><td style='{_NUM}'>{i}</td><td style='{_TD}'><code>{_e(r['address'])}</code></td>"
            + (f"<td style='{_NUM}'>{_num(r['value'], '.3g')}</td>" if has_value else "")
            + f"<td style='{_NUM}'>{_num(r['low'], '.3g')} &ndash; {_num(r['high'], '.3g')}</td>"
            f"<td style='{_NUM}'>{_percent(r['posterior_at_low'])}</td>"
            f"<td style='{_NUM}'>{_percent(r['posterior_at_high'])}</td>"
            f"<td style='{_NUM}'>{_num(swing * 100, '+.2f')} pp</td>"
            f"<td style='padding:2px 0'>{_bar(frac, colour, _TRACK.replace('16em', '6em'))}</td></tr>"
        )
    count = f"{len(records)} of {total} parameters" if len(records) < total else f"{total} parameters"
    return (f"<div class='kneebayes-sensitivity' style='{_BOX}'><div style='font-weight:600'>{head}</div>"
            f"<table style='{_TABLE}'><tr>{th}</tr>{''.join(rows)}</table>"
            f"<div style='{_MUTED};font-size:0.9em'>{count}; swing = P at high &minus; P at low</div></div>")


# -- a question's rationale and an explanation ----------------------------------------------
def rationale_html(rationale: Rationale) -> str:
    """``Rationale.to_html``: a table of how each answer would move each cause.

    >>> import kneebayes
    >>> dx = kneebayes.load_model().diagnose({"locking_or_catching": "yes"})
    >>> rationale_html(dx.rationale(dx.next_question.id)).startswith("<div><p>")
    True
    """
    head = "".join(f"<th>{_e(a.state)} ({a.probability:.0%})</th>" for a in rationale.answers)
    rows = "".join(
        f"<tr><td>{_e(c)}</td><td>{p:.1%}</td>"
        + "".join(f"<td>{a.posterior[c]:.1%}</td>" for a in rationale.answers) + "</tr>"
        for c, p in rationale.before.items()
    )
    return (f"<div><p>{_e(rationale.question.text)} (expected gain "
            f"{rationale.question.expected_information_gain:.3f} bits)</p><table><tr><th>cause</th><th>now</th>"
            f"{head}</tr>{rows}</table></div>")


def explanation_html(explanation: Explanation) -> str:
    """``Explanation.to_html``: each answer's weight of evidence for the cause, supporting and conflicting.

    >>> import kneebayes
    >>> dx = kneebayes.load_model().diagnose({"tingling_or_numbness": "yes"})
    >>> "tingling_or_numbness=yes" in explanation_html(dx.explain("nerve_irritation"))
    True
    """
    ex = explanation

    def rows(items: Sequence[Contribution], cls: str) -> str:
        return "".join(f"<tr class='{cls}'><td>{_e(c.node)}={_e(c.state)}</td>"
                       f"<td>{c.weight_of_evidence:+.1f} dB</td><td>{c.posterior_without:.1%}</td></tr>"
                       for c in items)
    name = ex.cause if ex.state == "yes" else f"{ex.cause}={ex.state}"
    return (f"<div><p><b>{_e(name)}</b>: {ex.prior:.1%} with no answers, {ex.posterior:.1%} now; "
            f"weight of evidence {ex.total:+.1f} dB</p>"
            "<table><tr><th>answer</th><th>weight of evidence</th><th>without it</th></tr>"
            f"{rows(ex.supporting, 'supporting')}{rows(ex.conflicting, 'conflicting')}</table>"
            f"<p>{_e(ex.summary())}</p></div>")
