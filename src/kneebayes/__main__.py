"""``python -m kneebayes``: the same as the ``kneebayes`` command."""

import sys

from .cli import main

sys.exit(main())
