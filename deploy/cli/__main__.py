"""``python -m deploy.cli ...``: the same as the ``traffic-pipeline`` console script."""

import sys

from deploy.cli import main

sys.exit(main())
