"""`python -m sync.server.cli`: the `kiosk-server` command without its console script."""

import sys

from sync.server.cli import main

sys.exit(main())
