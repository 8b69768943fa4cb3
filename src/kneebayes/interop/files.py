"""Write a model as a BIF, XMLBIF or XDSL file with kneebayes's own writers, losing no digit and no name.

No pgmpy is needed. Each writer (:mod:`.bif_writer`, :mod:`.xmlbif_writer`,
:mod:`.xdsl_writer`) gets the model's full tables (noisy-OR nodes expanded,
exactly as :meth:`kneebayes.Model.to_pgmpy` builds them) and prints every
probability as the shortest text that reads back to the same float. Before
a file is written, the text is read back with kneebayes's own reader of the
format and must give the same node names, states, parents and
bit-identical tables; otherwise nothing is written and an error says which
node differs. pgmpy's readers read the files to the same tables too (the
test suite checks it on the knee model and on ASIA, CHILD and ALARM).

* **What BIF cannot carry.** In BIF a node or state name with a comma,
  parenthesis, brace, semicolon, ``|``, quote or comment mark, a blank
  inside a node name, blanks at either end of a state name, or two node
  names that differ only in case cannot be read back; such names raise
  ``ModelFileError`` naming the node, before anything is written. XMLBIF
  and XDSL carry any name (escaped as XML needs), but for control
  characters XML has no room for.
* **Files.** The file is written atomically (the earlier file stays whole
  if the write fails), and gzipped when its name ends in ``.gz``; every
  loader reads such files back (:func:`kneebayes.load_network`).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputFileError, ModelFileError
from ..files import output_path, write_atomic
from .bif_reader import read_bif
from .bif_writer import bif_problems, write_bif
from .exported import check_xml_names, exported_variables, verify
from .importer import network_format
from .xdsl_reader import read_xdsl
from .xdsl_writer import write_xdsl
from .xmlbif_reader import read_xmlbif
from .xmlbif_writer import write_xmlbif

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["to_bif", "to_xmlbif", "to_xdsl", "bif_text", "xmlbif_text", "xdsl_text"]


def to_bif(model: Model, path: str | Path) -> Path:
    """Write ``model`` as a BIF file at ``path`` (gzipped if it ends in ``.gz``); returns the path.

    pgmpy's BIFReader and :func:`kneebayes.load_network` read it back to the
    same tables, bit for bit, and the same state names.

    >>> import os, tempfile, kneebayes
    >>> model = kneebayes.load_model()
    >>> path = to_bif(model, os.path.join(tempfile.mkdtemp(), "knee.bif.gz"))
    >>> back = kneebayes.load_network(path, targets=model.causes)
    >>> path.name, round(back.diagnose({"locking_or_catching": "yes"}).posterior["meniscal_injury"], 3)
    ('knee.bif.gz', 0.782)
    """
    return _write(_named_for(path, "bif"), bif_text(model))


def to_xmlbif(model: Model, path: str | Path) -> Path:
    """Write ``model`` as an XMLBIF 0.3 file at ``path`` (gzipped if it ends in ``.gz``); returns the path.

    The model's own state names are kept (pgmpy's writer would replace
    characters such as ``/`` by ``_``); every number reads back bit for bit.

    >>> import os, tempfile, kneebayes
    >>> path = to_xmlbif(kneebayes.load_model(), os.path.join(tempfile.mkdtemp(), "knee.xml"))
    >>> kneebayes.load_network(path, targets=["meniscal_injury"]).causes
    ('meniscal_injury',)
    """
    return _write(_named_for(path, "xmlbif"), xmlbif_text(model))


def to_xdsl(model: Model, path: str | Path) -> Path:
    """Write ``model`` as an XDSL file (GeNIe) at ``path`` (gzipped if it ends in ``.gz``); returns the path.

    Every node is a probability table (``<cpt>``), titled with its label in
    GeNIe's layout; every number reads back bit for bit with
    :func:`kneebayes.load_network` and to within 1e-16 with pgmpy's XDSLReader.

    >>> import os, tempfile, kneebayes
    >>> model = kneebayes.load_model()
    >>> path = to_xdsl(model, os.path.join(tempfile.mkdtemp(), "knee.xdsl"))
    >>> back = kneebayes.load_network(path, targets=model.causes)
    >>> before, after = model.diagnose({"limping": "yes"}), back.diagnose({"limping": "yes"})
    >>> max(abs(after.posterior[c] - before.posterior[c]) for c in model.causes) < 1e-12   # the same tables
    True
    """
    return _write(_named_for(path, "xdsl"), xdsl_text(model))


_SUFFIXES = {"bif": ".bif", "xmlbif": ".xml or .xmlbif", "xdsl": ".xdsl"}
_NAMES = {"bif": "BIF", "xmlbif": "XMLBIF", "xdsl": "XDSL"}
_WITH_ARTICLE = {"bif": "a BIF", "xmlbif": "an XMLBIF", "xdsl": "an XDSL"}


def _named_for(path: str | Path, fmt: str) -> Path:
    """``path``, unless its suffix names another network format (``to_bif("k.xdsl")``): a file read back by
    its suffix would then be read as the wrong format."""
    path = output_path(path)
    named = network_format(path)
    if named is not None and named != fmt:
        raise InputFileError(str(path), f"has the suffix of {_WITH_ARTICLE[named]} file, but this writes {_NAMES[fmt]}: "
                             f"name it {_SUFFIXES[fmt]} (optionally .gz)", "output file")
    return Path(path)


def bif_text(model: Model) -> str:
    """The BIF text :func:`to_bif` writes (checked by reading it back).

    >>> import kneebayes
    >>> bif_text(kneebayes.load_model()).splitlines()[:3]
    ['network knee {', '}', 'variable poor_warmup {']
    """
    variables = exported_variables(model)
    problems = bif_problems(variables)
    if problems:
        raise ModelFileError(problems)
    text = write_bif(variables, model.name)
    verify(variables, text, read_bif, "BIF")
    return text


def xmlbif_text(model: Model) -> str:
    """The XMLBIF text :func:`to_xmlbif` writes (checked by reading it back).

    >>> import kneebayes
    >>> xmlbif_text(kneebayes.load_model()).splitlines()[1]
    '<BIF VERSION="0.3">'
    """
    variables = exported_variables(model)
    check_xml_names(variables, "XMLBIF")
    text = write_xmlbif(variables, model.name)
    verify(variables, text, read_xmlbif, "XMLBIF")
    return text


def xdsl_text(model: Model) -> str:
    """The XDSL text :func:`to_xdsl` writes (checked by reading it back).

    >>> import kneebayes
    >>> xdsl_text(kneebayes.load_model()).splitlines()[1]
    '<smile version="1.0" id="knee" numsamples="10000" discsamples="10000">'
    """
    variables = exported_variables(model)
    check_xml_names(variables, "XDSL")
    text = write_xdsl(variables, model.name, {n.id: n.label for n in model.nodes})
    verify(variables, text, read_xdsl, "XDSL")
    return text


def _write(path: Path, text: str) -> Path:
    data = text.encode("utf-8")
    if path.name.lower().endswith(".gz"):
        data = gzip.compress(data, mtime=0)   # no time stamp: the same model gives the same bytes
    return write_atomic(path, data)   # the earlier file stays whole if the write fails
