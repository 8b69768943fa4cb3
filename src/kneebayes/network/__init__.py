"""From a validated spec to numbers: tables and the compiled network.

* ``compiled``: :func:`~kneebayes.network.compiled.compile_network`, a spec
  to a :class:`~kneebayes.network.compiled.CompiledNetwork` (what
  ``Model.network`` holds), built once per model;
* ``tables``: each node's conditional table as an array (noisy-OR expanded);
* ``planner``: the one elimination planner, and the memory-budget check
  that refuses a plan before anything large is allocated;
* ``contraction`` and ``gradient``: a plan's steps as fixed chains of matrix
  products, forwards and backwards;
* ``pruning``: a large component cut down to one evidence set's ancestors;
* ``bipartite``: recognising a bipartite noisy-OR network (QMR style).

The functions that answer queries on a compiled network live in
:mod:`kneebayes.inference`.
"""
