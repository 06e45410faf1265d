"""`make bench`: every benchmark in one run, figures printed as docs/performance.md records them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = (("commit_latency", "3000"), ("cold_start", "9"), ("memory", "1000"), ("print_slip", "50"),
           ("catalog_search", "30"), ("sync_push", "--ratings=100000"), ("dashboard", "--rounds=20"),
           ("web_form", "--answers=1000"), ("omr", "12"))
BENCHES += (("public_catalog", "20"),)


def main() -> int:
    """Run each benchmark in its own process (each needs a fresh Kivy window or database)."""
    for name, arg in BENCHES:
        print(f"$ python -m bench.{name} {arg}", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{name}", arg], check=False, cwd=ROOT)
        if result.returncode != 0:
            return result.returncode
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
