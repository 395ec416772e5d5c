"""``python -m lib.gateway``: serve the gateway (see ``lib.gateway.server``)."""

from __future__ import annotations

import sys

from lib.gateway.server import main

if __name__ == "__main__":
    sys.exit(main())
