"""Export to pgmpy: the reference engine and interchange format (pgmpy is the ``interop`` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..extras import require

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from ..model import Model


def to_pgmpy(model: Model) -> DiscreteBayesianNetwork:
    """A pgmpy DiscreteBayesianNetwork with full tables equal to the model's; check_model() passes.

    Noisy-OR nodes become ordinary tables (leak kept separate, as in the model file). Without pgmpy, a
    MissingExtraError names the ``interop`` extra.

    >>> import kneebayes
    >>> network = to_pgmpy(kneebayes.load_model())
    >>> len(network.nodes()), network.get_cpds("locking_or_catching").variables
    (32, ['locking_or_catching', 'meniscal_injury', 'bakers_cyst'])
    """
    TabularCPD = require("pgmpy.factors.discrete", feature="to_pgmpy").TabularCPD
    DiscreteBayesianNetwork = require("pgmpy.models", feature="to_pgmpy").DiscreteBayesianNetwork

    net = model.network
    bn = DiscreteBayesianNetwork()
    bn.add_nodes_from(net.names)
    bn.add_edges_from((net.names[p], net.names[i]) for i in range(len(net.names)) for p in net.parents[i])
    cpds = []
    for i, name in enumerate(net.names):
        table = net.tables[i]                       # axes (parents..., node)
        parents = [net.names[p] for p in net.parents[i]]
        values = np.moveaxis(table, -1, 0).reshape(net.cards[i], -1)
        state_names = {name: list(net.states[i])}
        state_names.update({p: list(net.states[net.index[p]]) for p in parents})
        cpds.append(TabularCPD(
            name, net.cards[i], values,
            evidence=parents or None,
            evidence_card=[net.cards[net.index[p]] for p in parents] or None,
            state_names=state_names,
        ))
    bn.add_cpds(*cpds)
    bn.check_model()
    return bn
