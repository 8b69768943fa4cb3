"""The model a command works on: the packaged knee model, a YAML model file, or a network file with ``--targets``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import KneeBayesError, quote

if TYPE_CHECKING:
    from ..model import Model

NETWORK_FORMATS = ".bif, .xml / .xmlbif or .xdsl (each also gzipped, .gz)"


def split_targets(text: str) -> tuple[str, ...]:
    """``--targets A,B`` as ids: commas or spaces between them; an empty list is refused."""
    ids = tuple(t for t in text.replace(",", " ").split() if t)
    if not ids:
        raise KneeBayesError("--targets is empty: name the nodes to diagnose, separated by commas, e.g. --targets lung,tub")
    return ids


def load(path: str | None, targets: Sequence[str] | None) -> Model:
    """The model named by ``--model`` (None: the packaged one), a network file read with ``--targets`` as its causes."""
    from ..interop.importer import is_network_path, load_network
    from ..model import load_model

    if path is not None and is_network_path(path):
        if not targets:
            raise KneeBayesError(f"{quote(path)} is a network file: add --targets with the ids of the nodes to "
                                 "diagnose, comma-separated (for example --targets lung,tub for asia.bif)")
        return load_network(path, targets=list(targets))
    if targets:
        raise KneeBayesError("--targets is for network files (" + NETWORK_FORMATS + "); a YAML model file names "
                             "its causes itself (kind: cause)")
    return load_model(path)

