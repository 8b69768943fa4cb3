"""Import a network from pgmpy or a BIF / XMLBIF / XDSL file into an ordinary kneebayes model.

**The boundary.** :func:`load_network` (and :func:`load_bif`, the same but
lenient about the file's suffix) and :func:`from_pgmpy` are where outside
data enters; whatever they are given, they either return a model whose
tables are finite probabilities summing to 1, or raise a short kneebayes
error that names the bad thing (file, line where known, node, column or
argument) and says what would be valid, quoting at most a bounded prefix of
the input:

* :class:`~kneebayes.errors.InputFileError`: the file cannot be read
  (missing, not a regular file, too big, not UTF-8, bad gzip, a suffix
  that names no network format);
* :class:`~kneebayes.errors.ModelFileError`: the network is broken (syntax,
  a variable without a table, an unknown or duplicate variable, a repeated
  XMLBIF ``DEFINITION`` or BIF ``probability`` block, a wrong number of
  values, duplicate states, a cycle, NaN, infinite or negative numbers, a
  column not summing to 1, names a model cannot carry, an XDSL node type
  that is no table, such as noisy-MAX, anything inside a table's
  definition that kneebayes does not read); every problem found is listed
  (at most :data:`MAX_PROBLEMS`);
* :class:`~kneebayes.errors.UnknownNodeError` /
  :class:`~kneebayes.errors.InvalidStateError`: an argument names a node or
  state the network lacks;
* :class:`~kneebayes.errors.SettingError`: an argument has a bad value
  (a negative cost, a NaN tolerance, no targets);
* ``WrongTypeError``: an argument has the wrong Python type (a single string
  where a list of ids is meant).

Never a pgmpy, XML-parser or other library exception, and never a silent
repair beyond the documented renormalisation. What another tool wrote that
a model has no place for (GeNIe's diagnosis attributes, a user property,
an unknown element outside the tables) is named in one
:class:`~.skipped.SkippedContentWarning` per file; what only describes the
file or its looks (comments, versions, positions, colours) is neither read
nor named (:mod:`.skipped`, and ``docs/your-own-network.md``, section 7). Files are read by kneebayes's
own parsers (:mod:`.bif_reader`, :mod:`.xmlbif_reader`,
:mod:`.xdsl_reader`), not pgmpy's: pgmpy's BIF reader takes quadratic time
on hostile text (seconds for 20 KB) and silently lets a repeated block win;
the parsers here run in linear time. XML is parsed by the standard library's expat after any ``<!ENTITY``
declaration (and, in XDSL, any ``<!DOCTYPE``) has been refused, so entity
expansion ("billion laughs") cannot happen. No pgmpy is needed to read a
file.

**The data flow.** The arguments are checked here first (they need no
file); then a reader (:mod:`.pgmpy_reader`, :mod:`.bif_reader`,
:mod:`.xmlbif_reader`, :mod:`.xdsl_reader`) turns the source into parsed
variables (:mod:`.parsed`), and :mod:`.build` checks them the same way whatever their
source and builds the model.

**Renormalisation.** Published BIF files are rounded: their columns sum to
1 only within about 3e-7. The importer divides each column whose sum is not
exactly 1 by that sum (every entry keeps its own digits, however small) and
reports those off by more than 1e-9, the model-file validator's own limit
(a ``RenormalisedWarning`` and ``model.import_report``); a column off by
more than ``tolerance`` (default 1e-6) is an error naming node and column.

Each target may have a *normal* state, its no-fault state, which the
``confident`` stop rule needs (see ``Diagnosis.leading_probability``): give
it with ``normal_states={target: state}``. A target not given one gets it
by name (:func:`normal_state_by_name`) unless ``detect_normal_states=False``;
a target with states exactly ``yes``/``no`` has ``no`` by default anyway.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import QUOTE_LIMIT, InputFileError, SettingError, WrongTypeError, quote
from ..files import read_bytes
from ..modelfile.numbers import is_number
from ..settings import MEMORY_BUDGET, check_memory_budget
from .bif_reader import read_bif
from .build import (
    NORMAL_STATE_NAMES,
    ImportOptions,
    Renormalised,
    RenormalisedWarning,
    build_model,
    normal_state_by_name,
)
from .parsed import MAX_PROBLEMS, short
from .pgmpy_reader import read_pgmpy_network
from .xdsl_reader import read_xdsl
from .xmlbif_reader import read_xmlbif

if TYPE_CHECKING:
    from ..model import Model

__all__ = [
    "IMPORT_TOLERANCE",
    "MAX_PROBLEMS",
    "MAX_TOLERANCE",
    "NETWORK_SUFFIXES",
    "NORMAL_STATE_NAMES",
    "Renormalised",
    "RenormalisedWarning",
    "from_pgmpy",
    "is_network_path",
    "load_bif",
    "load_network",
    "network_format",
    "network_nodes",
    "normal_state_by_name",
]

IMPORT_TOLERANCE = 1e-6

#: The largest ``tolerance`` accepted: beyond it "renormalising" would hide real errors in a table.
MAX_TOLERANCE = 1e-2

#: The suffixes :func:`load_network` reads (each also with ``.gz``), and the format each names.
NETWORK_SUFFIXES: tuple[str, ...] = (".bif", ".bif.gz", ".xml", ".xml.gz", ".xmlbif", ".xmlbif.gz", ".xdsl",
                                     ".xdsl.gz")
_SUFFIX_FORMATS = {".bif": "bif", ".xmlbif": "xmlbif", ".xml": "xmlbif", ".xdsl": "xdsl"}

#: An XML root element that settles the format whatever the suffix.
_ROOT_FORMATS = {"BIF": "xmlbif", "smile": "xdsl"}

#: What may come before the first character, which tells XML (``<``) from BIF.
_BLANKS = re.compile(r"\s*")
_TAG = re.compile(r"<([^\s/>!?]+)")

#: An XML declaration naming its encoding, and the single-byte encodings read besides UTF-8 (GeNIe writes
#: ISO-8859-1). The declaration is plain ASCII whichever of these the file is in.
_XML_ENCODING = re.compile(rb"<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']")
_SINGLE_BYTE = {"iso-8859-1": "latin-1", "iso8859-1": "latin-1", "latin-1": "latin-1", "latin1": "latin-1",
                "windows-1252": "cp1252", "cp1252": "cp1252"}


# ---------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------

def from_pgmpy(network: Any, targets: Sequence[str], askable: Iterable[str] | None = None, *,
               questions: dict[str, str] | None = None, costs: dict[str, float] | None = None,
               name: str = "imported", source: str = "pgmpy model", tolerance: float = IMPORT_TOLERANCE,
               normal_states: Mapping[str, str] | None = None, detect_normal_states: bool = True,
               memory_budget: int = MEMORY_BUDGET) -> Model:
    """A kneebayes model from a pgmpy DiscreteBayesianNetwork.

    ``targets`` (a list of node ids, at least one) become the model's causes
    (kind ``cause``); ``askable`` (default: every non-target) may be asked
    about; ``questions`` and ``costs`` optionally give question texts
    (default: the node's name) and costs (positive numbers, default 1) per
    node. ``tolerance`` (0 to :data:`MAX_TOLERANCE`) is how far a column may
    sum from 1 and still be renormalised.

    ``normal_states`` maps a target to its normal (no-fault) state, which
    the ``confident`` stop rule uses. A target not named there gets the
    state :func:`normal_state_by_name` finds (``absent``, ``Normal``,
    ``Correct``, ...), unless ``detect_normal_states`` is False; a target
    with states ``yes``/``no`` has ``no`` by default. ``model.normal_states``
    shows the result, and ``model.save`` keeps it. A key that is not a
    target raises UnknownNodeError; a state the target does not have,
    InvalidStateError.

    Every table is checked (see the module docstring): a CPD missing, of
    the wrong shape, disagreeing with the graph or holding NaN, infinite or
    negative numbers raises ModelFileError naming node and column.

    ``memory_budget`` (bytes, default 1 GiB) caps the largest table exact
    inference may build; past it, IntractableError names the clique. A
    file's table larger than the budget is refused before anything is
    built, and so is a file whose numbers would take more than
    ``kneebayes.interop.build.IMPORT_MEMORY`` (1 GiB) as a model
    (InputFileError; about 200 bytes a number, with its provenance).

    Needs pgmpy (the ``interop`` extra):

    >>> from pgmpy.factors.discrete import TabularCPD
    >>> from pgmpy.models import DiscreteBayesianNetwork
    >>> yes_no = ["yes", "no"]
    >>> network = DiscreteBayesianNetwork([("Rain", "Wet")])
    >>> network.add_cpds(
    ...     TabularCPD("Rain", 2, [[0.2], [0.8]], state_names={"Rain": yes_no}),
    ...     TabularCPD("Wet", 2, [[0.9, 0.1], [0.1, 0.9]], evidence=["Rain"], evidence_card=[2],
    ...                state_names={"Wet": yes_no, "Rain": yes_no}))
    >>> model = from_pgmpy(network, targets=["Rain"], name="rain")
    >>> model.causes, round(model.diagnose({"Wet": "yes"}).distributions["Rain"]["yes"], 3)
    (('Rain',), 0.692)
    """
    options = _options(targets, askable, questions=questions, costs=costs, name=name, source=source,
                       tolerance=tolerance, normal_states=normal_states, detect_normal_states=detect_normal_states,
                       memory_budget=memory_budget)
    return build_model(read_pgmpy_network(network, options.source), options)


def load_network(path: str | Path, targets: Sequence[str], askable: Iterable[str] | None = None,
                 **kwargs: Any) -> Model:
    """A kneebayes model from a network file: BIF, XMLBIF or XDSL (GeNIe), each also gzipped.

    The suffix says the file is a network (:data:`NETWORK_SUFFIXES`:
    ``.bif``, ``.xml``, ``.xmlbif``, ``.xdsl``, each also with ``.gz``) and
    whether to unpack it; any other suffix is an InputFileError listing
    these. The content then settles the format where it can: BIF text, an
    XML root ``<BIF>`` (XMLBIF) or ``<smile>`` (XDSL); otherwise the suffix
    does (an ``.xdsl`` file is read as XDSL, so its errors speak of XDSL).

    Takes the keyword arguments of :func:`from_pgmpy` (``questions``,
    ``costs``, ``tolerance``, ``normal_states``, ...); ``name`` defaults to
    the file's name without suffixes, ``source`` to the file's name. The file
    is read by kneebayes's own strict parsers: they read the networks pgmpy
    ships exactly as pgmpy does, and refuse, naming file, line and node,
    what pgmpy would misread or fail on (see the module docstring). XML
    files are read as UTF-8 unless their declaration names ISO-8859-1
    (latin-1) or windows-1252, as GeNIe's files often do.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "rain.xdsl")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write('<smile version="1.0" id="rain"><nodes>'
    ...                 '<cpt id="Rain"><state id="yes"/><state id="no"/><probabilities>0.2 0.8</probabilities></cpt>'
    ...                 '<cpt id="Wet"><state id="yes"/><state id="no"/><parents>Rain</parents>'
    ...                 '<probabilities>0.9 0.1 0.1 0.9</probabilities></cpt></nodes></smile>')
    >>> model = load_network(path, targets=["Rain"])
    >>> round(model.diagnose({"Wet": "yes"}).distributions["Rain"]["yes"], 3)
    0.692
    >>> load_network("rain.txt", targets=["Rain"])
    Traceback (most recent call last):
    ...
    kneebayes.errors.InputFileError: network file 'rain.txt' has a suffix that names no network format; use .bif, .xml, .xmlbif or .xdsl (each also gzipped, .bif.gz, ...)
    """
    return _load(path, targets, askable, kwargs, strict=True)


def load_bif(path: str | Path, targets: Sequence[str], askable: Iterable[str] | None = None, **kwargs: Any) -> Model:
    """A kneebayes model from a BIF, XMLBIF or XDSL file (:func:`load_network`, lenient about the suffix).

    The same as :func:`load_network`, except that a file with any other
    suffix is read too, its content telling the format (XML starts with
    ``<``; a ``<smile>`` root is XDSL). Takes the keyword arguments of
    :func:`from_pgmpy`.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "rain.txt")    # a BIF file, whatever its suffix says
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write("network rain {}\\n"
    ...                 "variable Rain { type discrete [ 2 ] { yes, no }; }\\n"
    ...                 "variable Wet { type discrete [ 2 ] { yes, no }; }\\n"
    ...                 "probability ( Rain ) { table 0.2, 0.8; }\\n"
    ...                 "probability ( Wet | Rain ) { (yes) 0.9, 0.1; (no) 0.1, 0.9; }\\n")
    >>> model = load_bif(path, targets=["Rain"])
    >>> model.name, round(model.diagnose({"Wet": "yes"}).distributions["Rain"]["yes"], 3)
    ('rain', 0.692)
    """
    return _load(path, targets, askable, kwargs, strict=False)


def network_nodes(path: str | Path) -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """Each node of a network file as ``(name, states, parents)``, in file order, read as :func:`load_network`
    reads the file but without building a model: what to choose ``targets`` from.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "rain.bif")
    >>> with open(path, "w", encoding="utf-8") as f:
    ...     _ = f.write('network rain { }\\nvariable Rain { type discrete [ 2 ] { yes, no }; }\\n'
    ...                 'probability ( Rain ) { table 0.2, 0.8; }\\n')
    >>> network_nodes(path)
    (('Rain', ('yes', 'no'), ()),)
    """
    path = Path(path)
    by_suffix = _suffix_format(path)
    if by_suffix is None:
        raise InputFileError(str(path), "has a suffix that names no network format; use .bif, .xml, .xmlbif or "
                             ".xdsl (each also gzipped, .bif.gz, ...)", "network file")
    text = _decode(read_bytes(path, what="network file"), path)
    fmt = _content_format(text, by_suffix)
    reader = read_xdsl if fmt == "xdsl" else read_xmlbif if fmt == "xmlbif" else read_bif
    return tuple((v.name, tuple(v.states), tuple(v.parents)) for v in reader(text, path.name))


def network_format(path: str | os.PathLike[str]) -> str | None:
    """The network format a file name's suffix names, case ignored: "bif", "xmlbif", "xdsl", or None.

    >>> network_format("alarm.bif.gz"), network_format("net.XML"), network_format("knee.yaml")
    ('bif', 'xmlbif', None)
    """
    return _suffix_format(path)


def is_network_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a network file :func:`load_network` reads, by its suffix alone (case ignored).

    The file is not opened: a YAML model file (``.yaml``, ``.yml``) and
    anything else gives False.

    >>> is_network_path("alarm.bif.gz"), is_network_path("net.XDSL"), is_network_path("knee.yaml")
    (True, True, False)
    """
    return _suffix_format(path) is not None


def _suffix_format(path: str | os.PathLike[str]) -> str | None:
    """"bif", "xmlbif" or "xdsl" as the file name's suffix says, or None."""
    name = os.fspath(path)
    name = (name.decode(errors="replace") if isinstance(name, bytes) else name).lower()
    for suffix, fmt in _SUFFIX_FORMATS.items():
        if name.endswith(suffix) or name.endswith(suffix + ".gz"):
            return fmt
    return None


def _load(path: Any, targets: Any, askable: Any, kwargs: dict[str, Any], *, strict: bool) -> Model:
    if not isinstance(path, (str, os.PathLike)):
        raise WrongTypeError(f"path must be a file path (str or Path), not {type(path).__name__}")
    path = Path(path)
    unknown = sorted(set(kwargs) - _KEYWORDS)
    if unknown:   # named here: _options's own TypeError would name a private function
        raise WrongTypeError(f"{'load_network' if strict else 'load_bif'}() got an unexpected keyword argument "
                        f"{unknown[0]!r}; it takes {', '.join(sorted({'askable', *_KEYWORDS}))}")
    kwargs.setdefault("name", path.name.split(".")[0] or "imported")
    kwargs.setdefault("source", path.name)
    options = _options(targets, askable, **kwargs)   # argument errors first: they need no file
    by_suffix = _suffix_format(path)
    if by_suffix is None and strict:
        raise InputFileError(str(path), "has a suffix that names no network format; use .bif, .xml, .xmlbif or "
                             ".xdsl (each also gzipped, .bif.gz, ...)", "network file")
    text = _decode(read_bytes(path, what="network file"), path)
    fmt = _content_format(text, by_suffix)
    reader = read_xdsl if fmt == "xdsl" else read_xmlbif if fmt == "xmlbif" else read_bif
    return build_model(reader(text, options.source), options)


def _decode(data: bytes, path: Path) -> str:
    """The file's text: UTF-8 (a byte-order mark dropped), or the latin-1 / windows-1252 its XML declaration names."""
    declared = _XML_ENCODING.match(data)
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    if encoding in _SINGLE_BYTE:
        return data.decode(_SINGLE_BYTE[encoding])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(str(path), f"is not UTF-8 text (byte {exc.start}, line {line}); save it as UTF-8",
                             "network file") from None
    return text[1:] if text.startswith("\ufeff") else text


def _content_format(text: str, by_suffix: str | None) -> str:
    """The format the text is in where its start tells (BIF, or an XML root of BIF or smile); else the suffix's."""
    first = _BLANKS.match(text).end()   # type: ignore[union-attr]  # r"\s*" always matches
    if text[first:first + 1] != "<":   # not XML
        return "xdsl" if by_suffix == "xdsl" else "bif"
    root = _root_tag(text, first)
    if root in _ROOT_FORMATS:
        return _ROOT_FORMATS[root]
    return "xdsl" if by_suffix == "xdsl" else "xmlbif"


def _root_tag(text: str, pos: int) -> str | None:
    """The name of the first element, past the XML declaration and comments; None if a DTD or else comes first."""
    while True:
        for opening, closing in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(opening, pos):
                end = text.find(closing, pos + len(opening))
                if end < 0:
                    return None
                pos = _BLANKS.match(text, end + len(closing)).end()   # type: ignore[union-attr]
                break
        else:
            m = _TAG.match(text, pos)
            return m.group(1) if m else None

# ---------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------

#: The keyword arguments load_bif and load_network pass on to :func:`_options` (those of :func:`from_pgmpy`).
_KEYWORDS = frozenset({"questions", "costs", "name", "source", "tolerance", "normal_states", "detect_normal_states",
                       "memory_budget"})


def _options(targets: Any, askable: Any = None, *, questions: Any = None, costs: Any = None,
             name: Any = "imported", source: Any = "pgmpy model", tolerance: Any = IMPORT_TOLERANCE,
             normal_states: Any = None, detect_normal_states: Any = True,
             memory_budget: Any = MEMORY_BUDGET) -> ImportOptions:
    """The arguments of :func:`from_pgmpy`, checked for type and value; a WrongTypeError or SettingError if bad."""
    target_ids = _id_list(targets, "targets")
    if not target_ids:
        raise SettingError("targets is empty; name at least one node as a target (a cause to diagnose)")
    seen: set[str] = set()
    for t in target_ids:
        if t in seen:
            raise SettingError(f"target {quote(t)} is listed twice in targets; list each target once")
        seen.add(t)
    ask = None if askable is None else _id_list(askable, "askable")
    question_texts = _mapping(questions, "questions")
    for key, text in question_texts.items():
        _id(key, "questions")
        if not isinstance(text, str):
            raise WrongTypeError(f"questions[{quote(key)}] must be text (str), not {type(text).__name__}")
        if not text.strip():
            raise SettingError(f"questions[{quote(key)}] is empty; give the question's text, or leave the node out "
                               f"to use its name")
    cost_values = _mapping(costs, "costs")
    for key, cost in cost_values.items():
        _id(key, "costs")
        if isinstance(cost, bool) or not isinstance(cost, numbers.Real):
            raise WrongTypeError(f"costs[{quote(key)}] must be a number, not {type(cost).__name__}")
        if not (is_number(cost) and cost > 0):   # is_number: finite, and fits a float (not 10**400)
            raise SettingError(f"costs[{quote(key)}] must be a positive finite number, got {quote(cost)}")
    if not isinstance(name, str):
        raise WrongTypeError(f"name must be text (str), not {type(name).__name__}")
    if not isinstance(source, str):
        raise WrongTypeError(f"source must be text (str), not {type(source).__name__}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real):
        raise WrongTypeError(f"tolerance must be a number, not {type(tolerance).__name__}")
    if not (is_number(tolerance) and 0 <= tolerance <= MAX_TOLERANCE):
        raise SettingError(f"tolerance must be a number from 0 to {MAX_TOLERANCE:g} (the default is "
                           f"{IMPORT_TOLERANCE:g}), got {quote(tolerance)}")
    normal = _mapping(normal_states, "normal_states")
    if not isinstance(detect_normal_states, bool):
        raise WrongTypeError(f"detect_normal_states must be True or False, not {type(detect_normal_states).__name__}")
    return ImportOptions(
        targets=tuple(target_ids), askable=None if ask is None else tuple(ask),
        questions={k: v for k, v in question_texts.items()}, costs={k: float(v) for k, v in cost_values.items()},
        name=name or "imported", source=short(source, 4 * QUOTE_LIMIT), tolerance=float(tolerance),
        normal_states=dict(normal), detect_normal_states=detect_normal_states,
        memory_budget=check_memory_budget(memory_budget),
    )


def _id_list(value: Any, what: str) -> list[str]:
    """``value`` as a list of node ids: refuses a lone string, which would be read letter by letter."""
    if isinstance(value, (str, bytes)):
        raise WrongTypeError(f"{what} must be a list of node ids, not a single string {quote(value)}; "
                        f"write [{quote(value)}] for one node")
    if not isinstance(value, Iterable):
        raise WrongTypeError(f"{what} must be a list of node ids, not {type(value).__name__}")
    out = list(value)   # a dict gives its keys: askable=questions is a documented use
    for item in out:
        _id(item, what)
    return out


def _id(value: object, what: str) -> str:
    """``value``, if it is a node id (text)."""
    if not isinstance(value, str):
        raise WrongTypeError(f"{what} must name nodes by their ids (str); got {quote(value)} ({type(value).__name__})")
    return value


def _mapping(value: Any, what: str) -> Mapping[Any, Any]:
    """``value`` as a mapping keyed by node id (None gives an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise WrongTypeError(f"{what} must be a dict keyed by node id, not {type(value).__name__}")
    return value

