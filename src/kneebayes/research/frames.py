"""The DataFrame subclasses research functions return, defined at module level so that they pickle.

Imported only by the functions that return them, so pandas stays optional:
importing this module without pandas raises
:class:`~kneebayes.errors.MissingExtraError` naming the extra.

>>> import pickle, kneebayes
>>> table = kneebayes.sensitivity(kneebayes.load_model(), {"locking_or_catching": "yes"}, cause="meniscal_injury")
>>> back = pickle.loads(pickle.dumps(table))
>>> type(back).__name__, back.equals(table), back.attrs == table.attrs
('SensitivityFrame', True, True)
"""

from __future__ import annotations

from ..extras import require

__all__ = ["SensitivityFrame"]

pd = require("pandas", feature="the sensitivity table")


class SensitivityFrame(pd.DataFrame):  # type: ignore[misc]  # pandas ships no complete stubs here
    """The sensitivity table: a pandas DataFrame with notebook display (``_repr_html_``) and ``tornado()``, its plot."""

    @property
    def _constructor(self) -> type:
        return SensitivityFrame

    def _repr_html_(self) -> str:
        from ..display.html import sensitivity_html

        return sensitivity_html(self)

    def tornado(self, top: int = 15) -> object:
        """The tornado plot of this table (a matplotlib Figure)."""
        from ..display.plots import plot_tornado

        return plot_tornado(self, top=top)
