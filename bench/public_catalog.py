"""The server's public catalog search (kiosk.domain.procedure_search.ProcedureIndex, in memory) on 10,000
procedures, against the kiosk's FTS5 search (kiosk.catalog.Catalog.search) over the same catalog in the same run.

The catalog is bench.catalog_search's generated one. Measured: building the index once (what the server does on
the first page after an import), each typed query with the first 100 hits as the kiosk asks, and with every hit
as a results page asks (to count and page them). Each query's first 100 hits are also compared with the kiosk's.

Run: .venv/bin/python -m bench.public_catalog [ROUNDS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bench.catalog_search import PREFIXES, PROCEDURES, generate
from bench.common import percentile
from kiosk.catalog import Catalog
from kiosk.db import prepare
from kiosk.domain.catalog_import import parse_national
from kiosk.domain.procedure_search import ProcedureIndex

LIMIT = 100
TARGET_P95_MS = 50.0  # a whole results page (every hit ranked) well inside one page load


def main() -> int:
    """Generate, import into the kiosk and index for the server, time both searches, print the figures."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    procedures = parse_national(generate(PROCEDURES), "bench")
    started = time.perf_counter()
    index = ProcedureIndex(procedures)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        database = prepare(Path(tmp) / "kiosk.db")
        catalog = Catalog(database)
        catalog.import_procedures(procedures, "bench")
        same = sum([e.code for e in index.search(q, limit=LIMIT)] == [h.code for h in catalog.search(q, limit=LIMIT)]
                   for q in PREFIXES)
        kiosk: list[float] = []
        first: list[float] = []
        whole: list[float] = []
        for _ in range(rounds):
            for query in PREFIXES:
                start = time.perf_counter()
                catalog.search(query, limit=LIMIT)
                kiosk.append(time.perf_counter() - start)
                start = time.perf_counter()
                index.search(query, limit=LIMIT)
                first.append(time.perf_counter() - start)
                start = time.perf_counter()
                index.search(query, limit=None)
                whole.append(time.perf_counter() - start)
        catalog.close()
        database.close()
    print(f"public catalog index of {len(index)} procedures: built in {build_s:.2f} s (once per catalog version)")
    print(f"search latency over {rounds} rounds of {len(PREFIXES)} typed queries, milliseconds (p50 / p95)")
    k50, k95 = percentile(kiosk, 50) * 1000, percentile(kiosk, 95) * 1000
    f50, f95 = percentile(first, 50) * 1000, percentile(first, 95) * 1000
    w50, w95 = percentile(whole, 50) * 1000, percentile(whole, 95) * 1000
    print(f"  kiosk FTS5, first {LIMIT} hits (baseline):   {k50:8.3f} {k95:8.3f}")
    print(f"  server index, first {LIMIT} hits:            {f50:8.3f} {f95:8.3f}   ratio p50 {f50 / k50:.2f}x")
    print(f"  server index, every hit (a results page): {w50:8.3f} {w95:8.3f}   ratio p50 {w50 / k50:.2f}x  "
          f"(target p95 < {TARGET_P95_MS:.0f} ms)")
    print(f"  first {LIMIT} hits identical to the kiosk's, in order: {same} of {len(PREFIXES)} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
