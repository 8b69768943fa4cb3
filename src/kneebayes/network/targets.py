"""Where the targets (the causes) sit in a result: one frozen layout, built once per model.

Every result about the targets is a row of *columns*: each target's states
in the model's target order, concatenated (``width`` columns in all). The
layout says which column is which, which target is yes/no, what each
target's normal state is, how the enumerated joint maps onto the columns,
and the one rule that reads a row as ``leading_probability`` (what the
``confident`` stop compares). A Diagnosis (a batch of one) and
``diagnose_frame`` read the same layout, so they cannot disagree on it.

>>> import kneebayes
>>> targets = kneebayes.load_model().targets
>>> targets.ids[0], targets.binary, targets.width
('hamstring_strain', True, 12)
>>> targets.column("meniscal_injury", "yes") == targets.yes_columns["meniscal_injury"]
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ..modelfile.schema import ModelSpec, normal_state_of
from .compiled import CompiledNetwork

__all__ = ["TargetLayout", "target_layout"]


@dataclass(frozen=True, eq=False)
class TargetLayout:
    """The targets' columns: ids, states, normal states, the joint's map onto them, and the leading rule.

    Attributes
    ----------
    ids : tuple of str
        The targets in order (``model.causes``).
    states : tuple of tuple of str
        Each target's states, in file order.
    offsets : tuple of int
        The first column of each target.
    width : int
        How many columns: the number of states of all targets together.
    binary : bool
        Every target has exactly the states ``yes`` and ``no``.
    yes_positions : numpy.ndarray or None
        For a binary layout, the column of each target's ``yes`` (read-only); else None.
    yes_columns : Mapping[str, int]
        The ``yes`` column of every target that has a ``yes`` state (also in a non-binary layout).
    normal_states : Mapping[str, str | None]
        Each target's normal (no-fault) state, or None (see ``Model.normal_states``).
    matrix : numpy.ndarray or None
        ``joint @ matrix`` turns the targets' enumerated joint (K,) into the
        columns; None when the joint is not enumerated (read-only).
    output_names : tuple of str
        One name per reported column: the target ids for a binary layout
        (their ``yes``), else ``"target=state"`` for every column.
    """

    ids: tuple[str, ...]
    states: tuple[tuple[str, ...], ...]
    offsets: tuple[int, ...]
    width: int
    binary: bool
    yes_positions: np.ndarray | None
    yes_columns: Mapping[str, int]
    normal_states: Mapping[str, str | None]
    matrix: np.ndarray | None
    output_names: tuple[str, ...]
    abnormal: np.ndarray          # columns of the targets with a normal state, except that state, grouped by target
    abnormal_starts: np.ndarray   # where each such target's group starts in ``abnormal``
    plain: np.ndarray             # columns of the targets without a normal state, grouped by target
    plain_starts: np.ndarray

    def column(self, target: str, state: str) -> int:
        """The column of one state of one target.

        >>> import kneebayes
        >>> kneebayes.load_model().targets.column("hamstring_strain", "no")
        1
        """
        k = self.ids.index(target)
        return self.offsets[k] + self.states[k].index(state)

    def states_of(self, target: str) -> tuple[str, ...]:
        """One target's states, in file order.

        >>> import kneebayes
        >>> kneebayes.load_model().targets.states_of("bakers_cyst")
        ('yes', 'no')
        """
        return self.states[self.ids.index(target)]

    def reported(self, columns: np.ndarray) -> np.ndarray:
        """The reported columns of rows of columns (..., width): each target's ``yes`` for a binary layout, else all.

        >>> import kneebayes
        >>> model = kneebayes.load_model()
        >>> model.targets.reported(model.diagnose({}).columns).shape
        (6,)
        """
        return columns[..., self.yes_positions] if self.yes_positions is not None else columns

    def leading(self, columns: np.ndarray) -> np.ndarray:
        """``Diagnosis.leading_probability`` for rows of columns (..., width): shape (...).

        A target with a normal state counts P(any other state) = 1 - P(normal);
        one without counts its largest state probability; the result is the
        largest count over the targets (0 when there are none).

        >>> import numpy as np, kneebayes
        >>> targets = kneebayes.load_model().targets
        >>> row = np.tile([0.0, 1.0], 6); row[targets.column("bakers_cyst", "yes")] = 0.25
        >>> float(targets.leading(row))
        0.25
        """
        parts = []
        if self.abnormal.size:
            parts.append(np.add.reduceat(columns[..., self.abnormal], self.abnormal_starts, axis=-1))
        if self.plain.size:
            parts.append(np.maximum.reduceat(columns[..., self.plain], self.plain_starts, axis=-1))
        if not parts:
            return np.zeros(columns.shape[:-1])
        return (parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)).max(axis=-1)


def target_layout(net: CompiledNetwork, spec: ModelSpec) -> TargetLayout:
    """The layout of a compiled network's targets, with normal states from the spec.

    >>> import kneebayes
    >>> model = kneebayes.load_model()
    >>> target_layout(model.network, model.spec).ids == model.causes
    True
    """
    ids = tuple(net.names[t] for t in net.targets)
    states = tuple(tuple(net.states[t]) for t in net.targets)
    offsets = tuple(np.cumsum([0] + [len(s) for s in states])[:-1].tolist())
    width = sum(len(s) for s in states)
    binary = all(set(s) == {"yes", "no"} and len(s) == 2 for s in states)
    yes_columns = {t: o + s.index("yes") for t, s, o in zip(ids, states, offsets) if "yes" in s}
    yes_positions = np.array([yes_columns[t] for t in ids], dtype=np.intp) if binary else None
    if net.enumerated:
        # joint (K) @ matrix -> every target's distribution, concatenated in target order
        cols = [np.eye(net.cards[t])[net.joint_states[:, j]] for j, t in enumerate(net.targets)]
        matrix = np.concatenate(cols, axis=1) if cols else np.zeros((net.n_joint, 0))
    else:
        matrix = None
    by_id = {n.id: n for n in spec.nodes}
    normals = {t: normal_state_of(by_id[t]) for t in ids}
    abnormal: list[list[int]] = []
    plain: list[list[int]] = []
    for offset, t, ss in zip(offsets, ids, states):
        normal = normals[t]
        if normal is None:
            plain.append([offset + k for k in range(len(ss))])
        else:
            abnormal.append([offset + k for k, s in enumerate(ss) if s != normal])
    names = ids if binary else tuple(f"{t}={s}" for t, ss in zip(ids, states) for s in ss)
    arrays = [yes_positions, matrix]
    flat = {}
    for name, groups in (("abnormal", abnormal), ("plain", plain)):
        flat[name] = np.array([i for g in groups for i in g], dtype=np.intp)
        flat[name + "_starts"] = np.cumsum([0] + [len(g) for g in groups])[:-1].astype(np.intp)
        arrays += [flat[name], flat[name + "_starts"]]
    for a in arrays:
        if a is not None:
            a.setflags(write=False)
    return TargetLayout(ids, states, offsets, width, binary, yes_positions, MappingProxyType(yes_columns),
                        MappingProxyType(normals), matrix, names, flat["abnormal"], flat["abnormal_starts"],
                        flat["plain"], flat["plain_starts"])
