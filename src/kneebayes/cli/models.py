"""The model a command works on: the packaged knee model, a YAML model file, or a network file with ``--targets``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..errors import KneeBayesError, quote
from ..interop.importer import is_network_path, load_network
from ..model import load_model

if TYPE_CHECKING:
    from ..model import Model

NETWORK_FORMATS = ".bif, .xml / .xmlbif or .xdsl (each also gzipped, .gz)"


def split_targets(text: str) -> tuple[str, ...]:
    """``--targets A,B`` as ids: commas or spaces between them; an empty list is refused."""
    ids = tuple(t for t in text.replace(",", " ").split() if t)
    if not ids:
        raise KneeBayesError("--targets is empty: name the nodes to diagnose, separated by commas, e.g. --targets lung,tub")
    return ids


def split_normal(text: str) -> dict[str, str]:
    """``--normal T=STATE,U=STATE``: each target's no-fault state.

    >>> split_normal("LVFAILURE=FALSE, HYPOVOLEMIA=FALSE")
    {'LVFAILURE': 'FALSE', 'HYPOVOLEMIA': 'FALSE'}
    """
    out: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        target, sep, state = pair.partition("=")
        if not sep or not target.strip() or not state.strip():
            raise KneeBayesError(f"cannot read {quote(pair)} in --normal: write TARGET=STATE, e.g. --normal LVFAILURE=FALSE")
        if target.strip() in out:   # which of two states was meant cannot be guessed
            raise KneeBayesError(f"--normal names {quote(target.strip())} twice; give each target one no-fault state")
        out[target.strip()] = state.strip()
    return out


def is_network(path: str | None) -> bool:
    """Whether ``--model`` names a network file (by its suffix) rather than a YAML model file."""
    if path is None or path.lower().endswith((".yaml", ".yml")):
        return False   # the common case decided without importing the network readers
    return is_network_path(path)


def load(path: str | None, targets: Sequence[str] | None, normal: Mapping[str, str] | None = None) -> Model:
    """The model named by ``--model`` (None: the packaged one), a network file read with ``--targets`` as its causes
    and ``--normal`` naming their no-fault states."""
    if is_network(path):
        assert path is not None  # noqa: S101 - is_network says so
        if not targets:
            raise KneeBayesError(f"{quote(path)} is a network file: add --targets with the ids of the nodes to "
                                 f"diagnose, comma-separated (`kneebayes nodes --model {path}` lists them)")
        return load_network(path, targets=list(targets), normal_states=dict(normal) if normal else None)
    if targets or normal:
        option = "--targets" if targets else "--normal"
        named = f"{quote(path)} is not one, so it is read as" if path is not None else "the packaged model is"
        raise KneeBayesError(f"{option} is for network files ({NETWORK_FORMATS}); {named} a YAML model file, "
                             "which names its causes and their normal states itself")
    return load_model(path)
