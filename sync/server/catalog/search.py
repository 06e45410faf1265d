"""The public procedure catalog: the newest imported catalog version as a search index, built once per version.

The index is the kiosk's own search rules (kiosk.domain.procedure_search.ProcedureIndex), so "ket hon" finds
"Đăng ký kết hôn" on the website as it does at the counter. Building it parses the stored national JSON, which
for a large catalog takes a while: it is done once per version (keyed by the body's SHA-256) and kept in memory.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from kiosk.domain.catalog_text import money
from kiosk.domain.procedure_search import ProcedureIndex
from kiosk.domain.procedures import CHANNELS, Document, Fee, Procedure, Step
from sync.server import registry
from sync.server.catalog import store as catalog
from sync.server.db import reading
from sync.server.models import CATALOG, COUNTER

# The channels' English names, for the pages' second language.
CHANNEL_EN = dict(zip(CHANNELS, ("In person", "Online", "By post"), strict=True))


@dataclass(frozen=True)
class Indexed:
    """One catalog version and its search index."""

    version: int
    sha256: str
    index: ProcedureIndex


_lock = threading.Lock()
_cached: dict[str, Indexed] = {}  # at most one entry: the newest version's


def current_index(engine: Engine) -> Indexed | None:
    """The newest catalog version's index (built on first use of that version), or None before any import."""
    tag = catalog.current_tag(engine)
    if tag is None:
        return None
    version, digest = tag
    found = _cached.get(digest)
    if found is not None:
        return found
    with _lock:  # one build per version, however many requests arrive while it runs
        found = _cached.get(digest)
        if found is None:
            with reading(engine) as conn:
                body: bytes = conn.execute(select(CATALOG.c.body).where(CATALOG.c.version == version)).scalar_one()
            found = Indexed(version, digest, ProcedureIndex(catalog.procedures_of(bytes(body), version)))
            _cached.clear()
            _cached[digest] = found
    return found


def agency_codes(engine: Engine, agency_code: str) -> tuple[registry.Agency, frozenset[str]]:
    """The agency and the procedure codes its counters list (ServerError for an unknown agency)."""
    with reading(engine) as conn:
        agency = registry.agency(conn, agency_code)
        listed = select(COUNTER.c.procedures).where(COUNTER.c.agency_id == agency.id)
        rows: Sequence[str] = conn.execute(listed).scalars().all()
    codes: set[str] = set()
    for row in rows:
        codes.update(code.strip().upper() for code in json.loads(row or "[]") if isinstance(code, str))
    return agency, frozenset(codes)


def fee_text(fee: Fee) -> str:
    """A fee as the page writes it: the export's words, else the amount."""
    if fee.description or fee.amount is None:
        return fee.description
    return money(fee.amount) + (f"/{fee.unit}" if fee.unit else "")


def grouped(items: Sequence[Document] | Sequence[Step]) -> list[tuple[str, list[Any]]]:
    """Consecutive items of one case (trường hợp) together, as the export groups them."""
    groups: list[tuple[str, list[Any]]] = []
    for item in items:
        if not groups or groups[-1][0] != item.case:
            groups.append((item.case, []))
        groups[-1][1].append(item)
    return groups


def channels(procedure: Procedure) -> list[dict[str, Any]]:
    """Each channel with its English name, time limit and fees, in the order the kiosk shows them."""
    order = {name: i for i, name in enumerate(CHANNELS)}
    return [{"name": c.name, "en": CHANNEL_EN.get(c.name, ""), "time_limit": c.time_limit,
             "fees": [text for text in map(fee_text, c.fees) if text]}
            for c in sorted(procedure.channels, key=lambda c: order.get(c.name, len(order)))]


def forms(procedure: Procedure) -> list[Document]:
    """The documents that have a form (mẫu đơn, tờ khai), each once."""
    seen: dict[tuple[str, str], Document] = {}
    for doc in procedure.documents:
        if doc.form or doc.form_url:
            seen.setdefault((doc.form, doc.form_url), doc)
    return list(seen.values())


def web_link(url: str) -> bool:
    """Whether a catalog URL may be rendered as a link (http or https only)."""
    return url.lower().startswith(("http://", "https://"))
