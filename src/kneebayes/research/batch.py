"""Diagnose many cases at once: the module moved to :mod:`kneebayes.batch` (it is no research tool).

This name stays so that code written against it keeps working.

>>> import kneebayes.batch, kneebayes.research.batch
>>> kneebayes.research.batch.diagnose_frame is kneebayes.batch.diagnose_frame
True
"""

from __future__ import annotations

from ..batch import CHUNK, diagnose_frame

__all__ = ["diagnose_frame", "CHUNK"]
