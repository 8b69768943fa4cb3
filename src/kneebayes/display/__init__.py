"""Notebook display: pure HTML builders and matplotlib plots.

Every function here is pure: it takes a model, a diagnosis or a
sensitivity table and returns a string of HTML or a matplotlib Figure,
so what a notebook shows can be tested without a notebook. The objects'
``to_html()``/``_repr_html_`` delegate to :mod:`kneebayes.display.html`;
the plots live in :mod:`kneebayes.display.plots` (matplotlib is imported
inside them, never at import time).

>>> import kneebayes
>>> from kneebayes.display import model_html
>>> "Causes" in model_html(kneebayes.load_model())
True
"""

from __future__ import annotations

from .html import diagnosis_html, model_html, sensitivity_html
from .plots import plot_network, plot_posterior, plot_tornado

__all__ = ["diagnosis_html", "model_html", "sensitivity_html", "plot_network", "plot_posterior", "plot_tornado"]
