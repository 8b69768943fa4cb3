"""From a validated spec to numbers: tables and the compiled network.

* ``compiled``: :func:`~kneebayes.network.compiled.compile_network`, a spec
  to a :class:`~kneebayes.network.compiled.CompiledNetwork` (what
  ``Model.network`` holds), built once per model;
* ``tables``: each node's conditional table as an array (noisy-OR expanded);
* ``planner``: the one elimination planner, and the memory-budget check
  that refuses a plan before anything large is allocated;
* ``contraction`` and ``backward_plan``: a plan's steps as fixed chains of
  matrix products, forwards, and its reverse for the backward sweep;
* ``pruned_plan``: a large component cut down to one evidence set's ancestors;
* ``bipartite``: recognising a bipartite noisy-OR network (QMR style);
* ``targets``: the public layout of the targets in every result (``Model.targets``).

The functions that answer queries on a compiled network live in
:mod:`kneebayes.inference`.
"""
