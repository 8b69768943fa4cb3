"""The DataFrame subclasses research functions return, defined at module level so that they pickle.

Imported only by the functions that return them (and by pickle when it
loads one), so pandas stays optional. Without pandas the module still
imports but defines no class; the functions that build the tables raise
:class:`~kneebayes.errors.MissingExtraError` naming the extra first.

>>> import pickle, kneebayes
>>> table = kneebayes.sensitivity(kneebayes.load_model(), {"locking_or_catching": "yes"}, cause="meniscal_injury")
>>> back = pickle.loads(pickle.dumps(table))
>>> type(back).__name__, back.equals(table), back.attrs == table.attrs
('SensitivityFrame', True, True)
"""

from __future__ import annotations

from ..display.html import sensitivity_html
from ..display.plots import plot_tornado
from ..errors import MissingExtraError
from ..extras import require

__all__ = ["SensitivityFrame"]

try:
    pd = require("pandas", feature="the sensitivity table")
except MissingExtraError:
    pd = None

if pd is not None:   # at module level, where pickle looks a class up by its name

    class SensitivityFrame(pd.DataFrame):  # type: ignore[misc]  # pandas ships no complete stubs here
        """The sensitivity table: a pandas DataFrame with notebook display (``_repr_html_``) and ``tornado()``, its plot."""

        @property
        def _constructor(self) -> type:
            return SensitivityFrame

        def _repr_html_(self) -> str:
            return sensitivity_html(self)

        def tornado(self, top: int = 15) -> object:
            """The tornado plot of this table (a matplotlib Figure)."""
            return plot_tornado(self, top=top)
