"""Optional packages: import one where a feature needs it, or say which extra installs it.

The core install is numpy and PyYAML. Everything else is an extra:

- ``research``: pandas (frames), matplotlib and networkx (plots, ``Model.graph``),
  scipy (posterior intervals);
- ``interop``: pgmpy (``from_pgmpy``, ``Model.to_pgmpy``);
- ``notebook``: ipywidgets (``kneebayes.explore``, the live explorer);
- ``dask``: dask's dataframe and distributed (``kneebayes.dask``, cohorts on a cluster);
- ``all``: all four.

>>> from kneebayes.extras import require
>>> require("numpy", "research", "this example").__name__
'numpy'
>>> require("no_such_package_kb", "research", "plotting")
Traceback (most recent call last):
...
kneebayes.errors.MissingExtraError: plotting needs no_such_package_kb, which is not installed; install it with: pip install 'kneebayes[research]'
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

from .errors import MissingExtraError

__all__ = ["EXTRA_OF", "require"]

#: The extra that installs each optional top-level package.
EXTRA_OF: dict[str, str] = {
    "pandas": "research",
    "matplotlib": "research",
    "networkx": "research",
    "scipy": "research",
    "pgmpy": "interop",
    "ipywidgets": "notebook",
}


def require(module: str, extra: str | None = None, feature: str | None = None) -> ModuleType:
    """Import ``module`` (dotted names allowed) or raise MissingExtraError naming the extra.

    ``extra`` defaults to the one that installs the module's top-level
    package; ``feature`` is what needs it, for the message ("plotting").
    pgmpy's progress bars warn at import when ipywidgets is absent
    (``TqdmWarning: IProgress not found``); kneebayes never shows a progress
    bar of pgmpy's, so that warning is silenced here, and only that one.
    """
    top = module.partition(".")[0]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="IProgress not found")
            return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.partition(".")[0] != top:
            raise  # the package is there but one of its own imports is missing: not ours to rename
        raise MissingExtraError(top, extra or EXTRA_OF.get(top, "all"), feature or f"this feature ({top})") from None
