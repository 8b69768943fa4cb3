"""``python -m kneebayes.cli``: the same as the ``kneebayes`` command."""

import sys

from . import main

sys.exit(main())
