"""Pure functions over a compiled network and encoded evidence.

Nothing here holds state: every function takes a
:class:`~kneebayes.network.compiled.CompiledNetwork` and evidence as
likelihood arrays (``posterior.encode``), with a batch axis first.

* ``posterior``: the targets' joint and P(evidence), then any nodes' marginals;
* ``backward`` and ``pruned``: a component's every-node joint in one sweep,
  and its value from only the evidence's ancestors;
* ``bipartite`` and ``bipartite_queries``: bipartite noisy-OR networks
  (Quickscore and its cancellation-free form);
* ``fast``, ``gain`` and ``evidence_weight``: the factored fast path, the
  questions' expected information gain, and what each answer weighs.
"""
