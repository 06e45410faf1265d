"""`make bench`: every benchmark in one run, figures printed as docs/performance.md records them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = (("commit_latency.py", "3000"), ("cold_start.py", "9"), ("memory.py", "1000"), ("print_slip.py", "50"),
           ("catalog_search.py", "30"), ("sync_push.py", "--ratings=100000"), ("dashboard.py", "--rounds=20"))


def main() -> int:
    """Run each benchmark in its own process (each needs a fresh Kivy window or database)."""
    for script, arg in BENCHES:
        print(f"$ python bench/{script} {arg}", flush=True)
        result = subprocess.run([sys.executable, str(HERE / script), arg], check=False)
        if result.returncode != 0:
            return result.returncode
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
