"""The exceptions kneebayes raises.

One base class, and each subclass also derives from the builtin it
resembles, so ``except ValueError`` keeps working for callers who do not
know kneebayes::

    KneeBayesError(Exception)
    ├── ModelFileError(KneeBayesError, ValueError)     a model file is broken
    ├── ParameterError(KneeBayesError, ValueError)     a bad parameter address or value
    ├── SettingError(KneeBayesError, ValueError)       a bad confidence, cost weight, minimum gain, ...
    ├── InputFileError(KneeBayesError, ValueError)     a file that cannot be read (missing, too big, not UTF-8)
    ├── MissingExtraError(KneeBayesError, ImportError) an optional package is not installed (names the extra)
    ├── WrongTypeError(KneeBayesError, TypeError)      an argument of the wrong Python type (names what it takes)
    ├── IntractableError(KneeBayesError, MemoryError)  exact inference would pass the model's memory budget
    │                                                  (or, on a bipartite noisy-OR network, its work limit)
    └── EvidenceError(KneeBayesError, ValueError)      evidence cannot be used
        ├── UnknownNodeError(EvidenceError, KeyError)   no node with that id
        ├── InvalidStateError(EvidenceError)            not a state of that node
        └── ImpossibleEvidenceError(EvidenceError)      the evidence has probability zero
"""

from __future__ import annotations

import math
import re
import reprlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KneeBayesError",
    "ModelFileError",
    "ParameterError",
    "EvidenceError",
    "UnknownNodeError",
    "InvalidStateError",
    "ImpossibleEvidenceError",
    "SettingError",
    "InputFileError",
    "MissingExtraError",
    "WrongTypeError",
    "IntractableError",
    "Problem",
    "did_you_mean",
    "listing",
    "nearest",
    "quote",
    "stacklevel_outside",
]

#: The most characters of a user's input any message quotes: enough to recognise it,
#: never a copy of a huge value (an expanded YAML alias, a 10 MB string).
QUOTE_LIMIT = 60

#: Paths are quoted whole up to this length (longer ones keep their start and end).
PATH_LIMIT = 300

#: A ModelFileError's message lists at most this many problems (all are in ``.problems``).
MAX_LISTED = 20

#: Longer words get no "did you mean" search: no id is that long, and the
#: search costs time in proportion to the word's length.
NEAREST_MAX_WORD = 200

#: At most this many names of a "did you mean" fallback are offered.
FALLBACK_SHOWN = 5


class KneeBayesError(Exception):
    """Base class of every error kneebayes raises on purpose.

    One ``except`` catches them all; the class says which it was:

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_model().diagnose({"limpng": "yes"})
    ... except kneebayes.KneeBayesError as err:
    ...     print(f"{type(err).__name__}: {err}")
    UnknownNodeError: unknown node 'limpng'; did you mean 'limping'?
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle (an error raised in a worker process) would call the class with the message alone,
        # which UnknownNodeError and the others do not take: rebuild from the message and attributes.
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__)))


def _rebuild_error(cls: type[KneeBayesError], args: tuple[Any, ...], state: dict[str, Any]) -> KneeBayesError:
    """An unpickled error, made without calling its ``__init__``. Pickles name this function: keep its name."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a model file, located as precisely as the file allows.

    :func:`kneebayes.check_model_file` returns a list of them (empty for a
    good file); :class:`ModelFileError` carries them as ``problems``.

    >>> import kneebayes
    >>> [problem] = kneebayes.check_model_file("no-such-model.yaml")
    >>> problem.file, problem.message, problem.line
    ('no-such-model.yaml', 'the model file does not exist', None)
    >>> print(problem)
    no-such-model.yaml: the model file does not exist
    """

    file: str
    message: str
    node: str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        # node and field may carry a key from the file: shown bounded, like every quoted input
        if self.node is not None:
            parts.append(f"node '{_shorten(self.node)}'")
        if self.field is not None:
            parts.append(f"field '{_shorten(self.field)}'")
        return ": ".join(parts) + ": " + _shorten(self.message, 8 * QUOTE_LIMIT)


def _shorten(text: str, limit: int = 2 * QUOTE_LIMIT) -> str:
    # a key from the file may hold a control character: shown escaped, never sent to the terminal as it is
    return printable(text if len(text) <= limit else text[:limit] + "...")


class ModelFileError(KneeBayesError, ValueError):
    """A model file cannot be loaded; ``problems`` lists everything wrong with it.

    >>> import kneebayes, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.yaml")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write("format: kneebayes-model/1\\nname: tiny\\nversion: '1'\\nnodes: []\\n")
    >>> try:
    ...     kneebayes.load_model(path)
    ... except kneebayes.ModelFileError as err:
    ...     for problem in err.problems:
    ...         print(problem.line, problem.field, problem.message)
    1 title missing title
    4 nodes nodes must be a non-empty list
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            # the message lists the first MAX_LISTED; ``problems`` keeps every one
            shown = [f"  - {p}" for p in self.problems[:MAX_LISTED]]
            if len(self.problems) > MAX_LISTED:
                shown.append(f"  ... and {len(self.problems) - MAX_LISTED} more (see .problems)")
            files = {p.file for p in self.problems}
            # the file they share (a network imported from pgmpy is no file: its source names it), else generic
            where = quote(files.pop(), PATH_LIMIT) if len(files) == 1 else "the model file"
            text = f"{len(self.problems)} problems in {where}:\n" + "\n".join(shown)
        super().__init__(text)


class ParameterError(KneeBayesError, ValueError):
    """A parameter address does not exist, or a new value is not a probability.

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_model().with_parameters({"poor_warmup.prior": 2})
    ... except kneebayes.ParameterError as err:
    ...     print(err)
    poor_warmup.prior: 2.0 is not a probability; give a number in [0, 1] or a word of the scale (certain, probable, expected, fifty-fifty, uncertain, improbable, impossible)
    """


class InputFileError(KneeBayesError, ValueError):
    """A file named as input cannot be read: missing, not a regular file, too large, not UTF-8 or not gzip.

    ``path`` is the file, ``reason`` what is wrong with it (a phrase that follows the path).

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_network("missing.bif", targets=["Rain"])
    ... except kneebayes.InputFileError as err:
    ...     print(err)
    ...     print(err.reason)
    network file 'missing.bif' does not exist
    does not exist
    """

    def __init__(self, path: str, reason: str, what: str = "file") -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{what} {quote(path, PATH_LIMIT)} {reason}")


class OutputFileError(KneeBayesError, OSError):
    """A file named as output cannot be written: a folder, a missing folder, a pipe or device, no permission,
    a full disk. Whatever the path held before is left whole. It is an ``OSError`` too (``errno``,
    ``strerror`` and ``filename``, the path as given).

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_model().save("no_such_folder/knee.yaml")
    ... except kneebayes.OutputFileError as err:
    ...     print(err)
    cannot write 'no_such_folder/knee.yaml': its folder 'no_such_folder' does not exist
    """

    def __str__(self) -> str:
        return f"cannot write {quote(self.filename, PATH_LIMIT)}: {self.strerror}"


class MissingExtraError(KneeBayesError, ImportError):
    """An optional package a feature needs is not installed; the message names the extra that installs it.

    ``package`` is the missing import name, ``extra`` the kneebayes extra
    (``research``, ``interop`` or ``all``). It is an ``ImportError`` too.
    Features import their optional packages through
    :func:`kneebayes.extras.require`, which raises it:

    >>> from kneebayes.extras import require
    >>> try:
    ...     require("not_installed_anywhere", extra="research", feature="plotting")
    ... except ImportError as err:
    ...     print(err)
    plotting needs not_installed_anywhere, which is not installed; install it with: pip install 'kneebayes[research]'
    """

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(f"{feature} needs {package}, which is not installed; "
                         f"install it with: pip install 'kneebayes[{extra}]'", name=package)


class WrongTypeError(KneeBayesError, TypeError):
    """An argument of the wrong Python type: the message names the argument, what it got and what it takes.

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_model().diagnose_frame(42)
    ... except kneebayes.WrongTypeError as err:
    ...     print(str(err)[:60])
    diagnose_frame needs a pandas DataFrame (one row per case, o
    """


class SettingError(KneeBayesError, ValueError):
    """A setting (confidence, cost weight, minimum gain, screening) that is not a valid value.

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_model().diagnose({}, confidence=5)
    ... except kneebayes.SettingError as err:
    ...     print(err)
    confidence must be a probability in (0, 1], got 5
    """


class IntractableError(KneeBayesError, MemoryError):
    """Exact inference would need more memory than the model's budget allows, or more work than its limit.

    Raised before anything large is allocated, at compile time or at the
    query. ``network`` names the model, ``clique`` the variables of the
    largest table the plan would build, ``size`` its bytes and ``budget``
    the limit it would pass (``Model(memory_budget=...)``). The clique
    is the largest of the plan, so a budget of ``size`` bytes would let it
    be built, unless the message says "at least" (planning gave up on a
    table past any budget).

    ``limit`` says which setting is passed: ``"memory_budget"``, or
    ``"work_limit"`` (``Model(work_limit=...)``), which the bipartite
    noisy-OR engine prices its queries against: then ``clique`` is the
    positive findings whose work it is, ``size`` the estimated work in
    steps and ``budget`` the limit. ``context`` (or "") says which of the
    evidence sets a call weighs it is, when it is not the caller's own;
    ``advice`` is what would help and ``at_least`` whether ``size`` is a
    floor.

    Exporting the knee model needs its full tables, the largest 2 KiB
    (8 yes/no variables), so a budget of 1 KiB refuses it:

    >>> import kneebayes, os, tempfile
    >>> tight = kneebayes.Model(kneebayes.load_model().spec, memory_budget=1024)
    >>> try:
    ...     tight.to_bif(os.path.join(tempfile.mkdtemp(), "knee.bif"))
    ... except kneebayes.IntractableError as err:
    ...     print(err.network, len(err.clique), err.size, err.budget, err.limit)
    knee 8 2048.0 1024.0 memory_budget
    """

    def __init__(self, network: str, clique: Sequence[str], size: float, budget: float, *, advice: str = "",
                 at_least: bool = False, limit: str = "memory_budget", context: str = "") -> None:
        self.network = network
        self.clique = tuple(clique)
        self.size = float(size) if size <= sys.float_info.max else math.inf   # 2^1100 bytes is an int, no float
        self.budget = float(budget)
        self.limit = limit
        self.context = context
        self.advice = advice
        self.at_least = at_least
        shown = ", ".join(self.clique[:8]) + (f" and {len(self.clique) - 8} more" if len(self.clique) > 8 else "")
        where = f"exact inference on {quote(network)}" + (f" ({context})" if context else "")
        if limit == "work_limit":
            n = len(self.clique)
            help_ = advice or "fewer positive findings (answer the query in parts, or ask fewer), or a larger work_limit"
            super().__init__(
                f"{where} needs {'at least' if at_least else 'about'} {_steps(self.size)} steps of work for "
                f"{n} positive finding{'' if n == 1 else 's'} together ({shown}), past the work limit of "
                f"{_steps(self.budget)} steps; what would help: {help_}"
            )
            return
        help_ = advice or "fewer targets, more evidence, or a larger memory_budget"
        size, limit_text = _bytes(self.size), _bytes(self.budget)
        if size == limit_text:   # just past the budget: the bytes themselves, not "1.0 GiB, past 1.0 GiB"
            size, limit_text = f"{self.size:,.0f} bytes", f"{self.budget:,.0f} bytes"
        super().__init__(
            f"{where} needs a table over {len(self.clique)} "
            f"variable{'' if len(self.clique) == 1 else 's'} ({shown}) "
            f"of {'at least ' if at_least else ''}{size}, past the memory budget of {limit_text}; "
            f"what would help: {help_}"
        )


def _steps(n: float) -> str:
    """A count of work steps: two digits from a million on (``3.2e10``, ``3e9``), else whole (``90,000``).

    >>> _steps(3.2e10), _steps(3e9), _steps(9e4), _steps(float("inf"))
    ('3.2e10', '3e9', '90,000', 'more than 1e308')
    """
    if not math.isfinite(n):
        return "more than 1e308"
    return f"{n:,.0f}" if n < 1e6 else f"{n:.2g}".replace("e+0", "e").replace("e+", "e")


def _bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit that keeps the number at least 1 (scientific past 1,000 TiB)."""
    if not math.isfinite(n):
        return "more than 1e308 bytes"
    if n >= 1000 * 2.0**40:
        return f"{n:.1e} bytes"
    for unit, scale in (("TiB", 2.0**40), ("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,.0f} bytes"


class EvidenceError(KneeBayesError, ValueError):
    """Evidence that cannot be used as given; the base of the evidence errors below.

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_model().diagnose({"limping": "yes"}, skipped=["limping"])
    ... except kneebayes.EvidenceError as err:
    ...     print(err)
    'limping' is both answered (yes) and skipped; give it one or the other
    """


class UnknownNodeError(EvidenceError, KeyError):
    """A node id that the model does not have; ``suggestions`` holds the nearest ids.

    It is a ``KeyError`` too, as for a missing key of a mapping:

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_model().node("limpng")
    ... except KeyError as err:
    ...     print(err)
    ...     print(err.suggestions)
    unknown node 'limpng'; did you mean 'limping'?
    ('limping',)
    """

    def __init__(self, node: object, valid: Iterable[str], what: str = "node", *, context: str = "") -> None:
        self.node = node
        self.suggestions: tuple[str, ...] = tuple(nearest(str(node), valid))
        hint = _suggested(self.suggestions)
        # ``context`` says where the id was given, e.g. " in normal_states".
        self.message = f"unknown {what} {quote(node)}{context}{hint}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class InvalidStateError(EvidenceError):
    """A value that is not one of the node's states; the message lists the valid ones.

    >>> import kneebayes
    >>> try:
    ...     kneebayes.load_model().diagnose({"limping": "maybe"})
    ... except kneebayes.InvalidStateError as err:
    ...     print(err)
    invalid state 'maybe' for node 'limping': valid states are 'yes', 'no' (or True/False, or a graded answer: 'probably', 'not_sure', 'probably_not')
    """

    def __init__(self, node: str, value: object, states: Sequence[str], graded: Sequence[str] = ()) -> None:
        self.node = node
        self.value = value
        self.states = tuple(states)
        valid = ", ".join(repr(s) for s in self.states)
        if type(value).__module__ == "numpy" and hasattr(value, "item"):   # a numpy scalar from a frame: 1, not np.int64(1)
            value = value.item()
        extra = ""
        if set(self.states) == {"yes", "no"}:   # graded answers ("probably") are for yes/no questions only
            words = "".join(f", {w!r}" for w in graded)
            extra = f" (or True/False{words})" if not graded else f" (or True/False, or a graded answer:{words[1:]})"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            extra += "; a number stands only for a state written as that number"
        super().__init__(f"invalid state {quote(value)} for node {quote(node)}: valid states are {valid}{extra}")


class ImpossibleEvidenceError(EvidenceError):
    """The evidence has probability zero under the model, so no posterior exists.

    Here a model in which no one skips the warm-up meets someone who does:

    >>> import kneebayes
    >>> never = kneebayes.load_model().with_parameters({"poor_warmup.prior": (0.0, (0.0, 0.0))})
    >>> try:
    ...     never.diagnose({"poor_warmup": "yes"})
    ... except kneebayes.ImpossibleEvidenceError as err:
    ...     print(err)
    the evidence {poor_warmup=yes} has probability zero under this model; no posterior exists (check for contradictory answers)
    """

    def __init__(self, evidence: Iterable[tuple[str, str]]) -> None:
        self.evidence = dict(evidence)
        shown = ", ".join(f"{k}={v}" for k, v in self.evidence.items())
        if len(shown) > 10 * QUOTE_LIMIT:
            shown = shown[: 10 * QUOTE_LIMIT] + ", ..."
        super().__init__(
            f"the evidence {{{shown}}} has probability zero under this model; "
            "no posterior exists (check for contradictory answers)"
        )


def nearest(word: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """The valid ids closest to ``word``: by spelling, then by a shared word part.

    A whole-id match comes first (``limpng`` -> ``limping``); failing that, an
    id one of whose ``_``-separated parts matches a part of ``word``, exactly
    or misspelt (``tingling`` and ``tinglng`` both find
    ``tingling_or_numbness``). Best matches first, at most ``n``.

    >>> nearest("tinglng", ["tingling_or_numbness", "limping", "instability"])
    ['tingling_or_numbness']
    >>> nearest("limpng", ["tingling_or_numbness", "limping", "instability"])
    ['limping']
    >>> nearest("xyz", ["limping"])
    []
    """
    if len(word) > NEAREST_MAX_WORD:
        return []
    pool = list(valid)
    import difflib   # only a suggestion needs it

    close = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    if close:
        return close

    def parts(text: str) -> list[str]:
        return [p for p in text.lower().replace("-", "_").split("_") if len(p) >= 3]

    mine = parts(word)
    scored: list[tuple[float, int, str]] = []
    for i, v in enumerate(pool):
        best = max((difflib.SequenceMatcher(None, a, b).ratio() for a in mine for b in parts(v)), default=0.0)
        if best >= 0.8:
            scored.append((-best, i, v))
    return [v for _, _, v in sorted(scored)[:n]]


def did_you_mean(word: object, pool: Iterable[str], *, fallback: Iterable[str] = ()) -> str:
    """``"; did you mean 'a', 'b'?"`` naming the names of ``pool`` nearest to ``word``, or ``""``.

    When none is near, the first few names of ``fallback`` are offered
    instead (it is read only then: pass a generator for a costly one). The
    one wording of every "did you mean" in kneebayes's messages.

    >>> did_you_mean("limpng", ["limping", "instability"])
    "; did you mean 'limping'?"
    >>> did_you_mean("xyz", ["limping"])
    ''
    >>> did_you_mean("cyst.weight[pain]", ["warmup.prior"], fallback=iter(["cyst.leak"]))
    "; did you mean 'cyst.leak'?"
    """
    found = nearest(str(word), pool)
    if not found:
        found = [name for _, name in zip(range(FALLBACK_SHOWN), fallback)]
    return _suggested(found)


def _suggested(names: Sequence[str]) -> str:
    return f"; did you mean {', '.join(quote(s) for s in names)}?" if names else ""


class _BoundedRepr(reprlib.Repr):
    """reprlib's bounded repr, also for subclasses of the builtins (the YAML reader's LineDict)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.maxstring = self.maxother = self.maxlong = limit
        self.maxlevel = 3
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 6

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 13_000:   # past about 3,900 digits repr() refuses to convert (ValueError)
            return f"<an integer of about {int(x.bit_length() * 0.30103) + 1:,} digits>"
        return super().repr_int(x, level)

    def repr1(self, x: Any, level: int) -> str:
        for base in (bool, str, int, float, dict, list, tuple, set, frozenset):
            if isinstance(x, base):
                if base in (bool, float):
                    return self.repr_instance(x, level)
                return getattr(self, f"repr_{base.__name__}")(x, level)
        return super().repr1(x, level)


#: Control characters other than a line break or a tab: a terminal acts on them (ESC clears the screen, sets the
#: window title), so text a model file or a saved session puts on screen may not hold them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    r"""``text`` with every control character but line breaks and tabs written as its escape: safe on a terminal.

    >>> printable("yes/no\x1bc"), printable("two\nlines")
    ('yes/no\\x1bc', 'two\nlines')
    """
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], text)


def control_character(text: str) -> str | None:
    r"""The first control character in ``text`` other than a line break or a tab, as ``repr`` shows it; else None.

    >>> control_character("Poor warm-up"), control_character("Poor \x1b[2Jwarm-up"), control_character("a\nb")
    (None, "'\\x1b'", None)
    """
    found = _CONTROL.search(text)
    return None if found is None else repr(found.group())


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A repr of ``value`` for a message: the same as ``repr`` when short, a bounded prefix when not.

    Costs time in proportion to ``limit``, not to the value (a shared YAML
    alias expanded a million times is not walked).

    >>> quote("limping")
    "'limping'"
    >>> quote("x" * 10_000)[:12], len(quote("x" * 10_000)) <= 80
    ("'xxxxxxxxxxx", True)
    >>> quote([1, [2, [3, [4, [5]]]]])
    '[1, [2, [3, [...]]]]'
    """
    text = _BoundedRepr(limit).repr(value)
    return text if len(text) <= 2 * limit else text[: 2 * limit] + "..."


def stacklevel_outside() -> int:
    """The ``stacklevel`` that points a warning at the nearest caller outside kneebayes, as seen from the function
    that calls ``warnings.warn``: a warning may be given any number of kneebayes's frames deep (loading a model, a diagnosis).

    ``warnings.warn(message, SomeWarning, stacklevel=stacklevel_outside())``; at least 2 (the warning's caller):

    >>> stacklevel_outside() >= 2
    True
    """
    import inspect   # only where a warning is given: not part of the import's cost

    frame, level = inspect.currentframe(), 0
    while level < 2 and frame is not None:   # this function's frame, then the warning's caller's
        frame, level = frame.f_back, level + 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "kneebayes":
        frame, level = frame.f_back, level + 1
    return level


def listing(texts: Iterable[str], most: int = 20) -> str:
    """``texts`` joined by commas for a message, bounded: at most ``most`` of them, each cut to ``QUOTE_LIMIT``
    characters, then how many there are in all (a model file's list of words may be as long as its author made it).

    >>> listing(["certain (1)", "likely (0.75)"])
    'certain (1), likely (0.75)'
    >>> listing([f"w{k}" for k in range(30)], most=3)
    'w0, w1, w2, ... (30 in all)'
    >>> len(listing(["x" * 10_000]))
    63
    """
    shown: list[str] = []
    count = 0
    for text in texts:
        if count < most:
            shown.append(_shorten(text, QUOTE_LIMIT))
        count += 1
    return ", ".join(shown) + (f", ... ({count} in all)" if count > most else "")
