"""``python -m engine.cli ARGS``: the ``engine`` command, for a machine where the script is not on the PATH."""

import sys

from engine.cli.main import main

sys.exit(main())
