"""The procedure catalog on the device: imported whole or not at all, searched as the citizen types.

Each import is a new catalog version written beside the active one and switched to in the same transaction,
so a reader sees the old catalog or the new one, never a mix, and a failed import leaves the old one as it
was. Search runs on FTS5 indexes (names alone, and everything) over text folded in Python (no tone marks,
đ as d), so the stored file is searchable by any SQLite client too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import catalog_query
from kiosk.db import Database
from kiosk.domain.catalog_import import CatalogError, load_file
from kiosk.domain.catalog_text import money
from kiosk.domain.levels import PROCEDURE_CODE
from kiosk.domain.procedure_search import name_order, search_text
from kiosk.domain.procedures import CHANNELS, Channel, Document, Fee, LegalBasis, Procedure, Step, fold, forms_url

if TYPE_CHECKING:
    from kiosk.slips import GuideSlip

SAMPLE_CATALOG = Path(__file__).resolve().parent.parent / "assets" / "catalog" / "sample-procedures.json"
# bm25 column weights per index; in the full one (name, other text, code, field) a word in the name counts most.
_WEIGHTS = {catalog_query.FULL_INDEX: "4.0, 1.0, 1.0, 2.0", catalog_query.NAME_INDEX: "1.0"}


@dataclass(frozen=True)
class Hit:
    """One procedure in a result list. `score` is bm25 relevance (higher is better; 0 for lists and codes)."""

    code: str
    name: str
    field_name: str
    score: float = 0.0


@dataclass(frozen=True)
class FieldCount:
    """One field (lĩnh vực) of the active catalog and how many procedures it has."""

    code: str
    name: str
    count: int


@dataclass(frozen=True)
class CatalogVersion:
    """One imported catalog file."""

    id: int
    imported_at: str  # UTC, ISO 8601 with Z
    source: str
    count: int
    active: bool


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with check_only, would do)."""

    count: int
    fields: int
    version_id: int | None  # None when only checked
    seconds: float
    source: str = ""


# --- the stored form of a procedure -------------------------------------------------------------------------


def to_json(procedure: Procedure) -> str:
    """The procedure as compact JSON, the form kept in the database."""
    return json.dumps(asdict(procedure), ensure_ascii=False, separators=(",", ":"))


def from_json(body: str) -> Procedure:
    """The procedure back from to_json(), equal to the one stored."""
    d: dict[str, Any] = json.loads(body)
    return Procedure(
        code=d["code"], name=d["name"], field_code=d.get("field_code", ""), field_name=d.get("field_name", ""),
        level=d.get("level", ""), agency=d.get("agency", ""), subjects=d.get("subjects", ""),
        channels=tuple(Channel(c["name"], c.get("time_limit", ""), tuple(Fee(**f) for f in c.get("fees", ())))
                       for c in d.get("channels", ())),
        steps=tuple(Step(**s) for s in d.get("steps", ())),
        documents=tuple(Document(**doc) for doc in d.get("documents", ())),
        requirements=d.get("requirements", ""),
        results=tuple(d.get("results", ())),
        legal_basis=tuple(LegalBasis(**b) for b in d.get("legal_basis", ())),
        address=d.get("address", ""), online_url=d.get("online_url", ""), status=d.get("status", ""),
        extra=dict(d.get("extra", {})),
    )


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- the catalog --------------------------------------------------------------------------------------------


class Catalog:
    """The active procedure catalog in the device database: import, list, search, look up."""

    def __init__(self, database: Database) -> None:
        self.database = database
        # One long-lived read connection: search runs on every keystroke and a warm page cache halves it.
        self._con: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The read connection inside one read transaction, so a multi-query search sees one catalog."""
        with self._lock:
            if self._con is None:
                self._con = self.database.connect()
            con = self._con
            con.execute("BEGIN")
            try:
                yield con
            finally:
                con.execute("COMMIT")

    def close(self) -> None:
        """Close the read connection (reopened on next use)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    # --- import ---

    def import_procedures(self, procedures: Sequence[Procedure], source: str) -> ImportReport:
        """Replace the active catalog with `procedures` in one transaction: all of them, or nothing changes."""
        started = time.perf_counter()
        _check(procedures, source)
        # Row ids follow the names' folded order, so ranking can break bm25 ties by id (that is, by name)
        # inside the full-text index, without reading a single procedure row.
        ordered = sorted(procedures, key=name_order)
        rows = [(p.code, p.name, p.field_code, p.field_name, p.level, p.agency, fold(p.name), fold(p.field_name),
                 search_text(p), to_json(p)) for p in ordered]
        with self.database.writing() as con:
            version_id = con.execute(
                "INSERT INTO catalog_version (imported_at, source, count, active) VALUES (?, ?, ?, 0)",
                (_utc_now(), source, len(rows))).lastrowid
            first = con.execute("SELECT coalesce(max(id), 0) + 1 FROM procedure").fetchone()[0]
            con.executemany(
                "INSERT INTO procedure (version_id, id, code, name, field_code, field_name, level, agency, "
                "name_folded, field_folded, text_folded, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((version_id, first + i, *row) for i, row in enumerate(rows)))
            con.execute("UPDATE catalog_version SET active = 0 WHERE active = 1")
            con.execute("UPDATE catalog_version SET active = 1 WHERE id = ?", (version_id,))
            con.execute("DELETE FROM procedure WHERE version_id != ?", (version_id,))
            # The indexes are external content over the procedure table, which now holds only the new version:
            # rebuilding reads it once, and merging into one segment keeps every query to one b-tree.
            for index in (catalog_query.FULL_INDEX, catalog_query.NAME_INDEX):
                con.execute(f"INSERT INTO {index} ({index}) VALUES ('rebuild')")
                con.execute(f"INSERT INTO {index} ({index}) VALUES ('optimize')")
        # A whole catalog passed through the write-ahead log, which SQLite reuses but never shrinks: give the
        # space back now rather than keep tens of megabytes beside a database of ratings.
        con = self.database.connect()
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass  # the import is committed either way; a later checkpoint gives the space back
        finally:
            con.close()
        fields = len({p.field_code for p in procedures if p.field_code})
        return ImportReport(len(rows), fields, version_id, time.perf_counter() - started, source)

    def import_file(self, path: Path, check_only: bool = False) -> ImportReport:
        """Import a .json or .csv catalog file; with check_only, read and check it without writing."""
        started = time.perf_counter()
        procedures = load_file(path)
        if check_only:
            fields = len({p.field_code for p in procedures if p.field_code})
            return ImportReport(len(procedures), fields, None, time.perf_counter() - started, str(path))
        report = self.import_procedures(procedures, str(path))
        return ImportReport(report.count, report.fields, report.version_id, time.perf_counter() - started,
                            str(path))

    def ensure_sample(self, path: Path = SAMPLE_CATALOG) -> bool:
        """Import the sample catalog if no catalog was ever imported; True if it did."""
        if self.version() is not None or not path.is_file():
            return False
        self.import_file(path)
        return True

    # --- reading ---

    def version(self) -> CatalogVersion | None:
        """The active catalog version, or None before the first import."""
        with self._reading() as con:
            row = con.execute("SELECT id, imported_at, source, count, active FROM catalog_version "
                              "WHERE active = 1").fetchone()
        return CatalogVersion(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def count(self) -> int:
        """How many procedures the active catalog has."""
        with self._reading() as con:
            return int(con.execute("SELECT count(*) FROM procedure WHERE version_id = "
                                   "(SELECT id FROM catalog_version WHERE active = 1)").fetchone()[0])

    def fields(self) -> list[FieldCount]:
        """The fields of the active catalog with their counts, by name (procedures without a field left out)."""
        with self._reading() as con:
            rows = con.execute(
                "SELECT field_code, max(field_name), count(*) FROM procedure "
                "WHERE version_id = (SELECT id FROM catalog_version WHERE active = 1) AND field_code != '' "
                "GROUP BY field_code").fetchall()
        found = [FieldCount(r[0], r[1], r[2]) for r in rows]
        return sorted(found, key=lambda f: (fold(f.name), f.name, f.code))

    def get(self, code: str) -> Procedure | None:
        """The procedure with this code in the active catalog, or None."""
        with self._reading() as con:
            row = con.execute("SELECT body FROM procedure WHERE version_id = "
                              "(SELECT id FROM catalog_version WHERE active = 1) AND code = ?",
                              (code.strip().upper(),)).fetchone()
        return from_json(row[0]) if row else None

    def list_all(self, field_code: str | None = None, limit: int | None = None) -> list[Hit]:
        """Every procedure of the active catalog (or of one field), by name; the first `limit` if given."""
        args: list[Any] = []
        if field_code:
            sql = ("SELECT code, name, field_name FROM procedure WHERE version_id = "
                   "(SELECT id FROM catalog_version WHERE active = 1) AND field_code = ?")
            args = [field_code]
        else:
            # "+version_id" keeps the planner on the id index: ids were given in name order at import, so the
            # first rows in it are the answer, where filtering by version first would sort the whole catalog.
            sql = ("SELECT code, name, field_name FROM procedure WHERE "
                   "+version_id = (SELECT id FROM catalog_version WHERE active = 1)")
        sql += " ORDER BY id LIMIT ?"
        with self._reading() as con:
            rows = con.execute(sql, [*args, -1 if limit is None else max(limit, 0)]).fetchall()
        return [Hit(r[0], r[1], r[2]) for r in rows]

    # --- search ---

    def search(self, query: str, field_code: str | None = None, limit: int = 100) -> list[Hit]:
        """Procedures matching what is typed so far: words without diacritics, word starts, or a code."""
        if limit <= 0:
            return []
        prefix, words = catalog_query.code_prefix(query), catalog_query.terms(query)
        if prefix is None and not words:  # nothing typed, or only punctuation
            return self.list_all(field_code, limit) if field_code else []
        with self._reading() as con:
            active = con.execute("SELECT id FROM catalog_version WHERE active = 1").fetchone()
            if active is None:
                return []
            if prefix is not None:
                return _by_code(con, active[0], prefix, field_code, limit)
            return _by_words(con, active[0], words, field_code, limit)

    # --- slips ---

    def guide_slip(self, procedure: Procedure, agency: str, hotline: str, catalog_url: str = "") -> GuideSlip:
        """The printed guide for one procedure: what to bring, how long, how much, where and how to submit."""
        from kiosk.slips import GuideDocument, GuideSlip  # Pillow and qrcode load only when a slip is made

        several_cases = len({doc.case for doc in procedure.documents}) > 1
        documents = tuple(
            GuideDocument(f"{doc.case}: {doc.name}" if several_cases and doc.case else doc.name,
                          doc.originals, doc.copies, doc.form)
            for doc in procedure.documents)
        channel = next((c for c in procedure.channels if c.name == CHANNELS[0]),
                       procedure.channels[0] if procedure.channels else None)
        order = {name: i for i, name in enumerate(CHANNELS)}
        names = sorted(dict.fromkeys(c.name for c in procedure.channels if c.name),
                       key=lambda n: order.get(n, len(order)))
        return GuideSlip(
            agency=agency, code=procedure.code, name=procedure.name, documents=documents,
            time_limit=channel.time_limit if channel else "",
            fees="; ".join(text for text in map(_fee_text, channel.fees) if text) if channel else "",
            where=procedure.address or procedure.agency or agency,
            channels=tuple(names), online_url=procedure.online_url, hotline=hotline, online=procedure.online,
            forms_url=forms_url(procedure, catalog_url),
        )


def _fee_text(fee: Fee) -> str:
    if fee.description or fee.amount is None:
        return fee.description
    return money(fee.amount) + (f"/{fee.unit}" if fee.unit else "")


def _check(procedures: Sequence[Procedure], source: str) -> None:
    """Refuse what would make a catalog nobody can use: nothing at all, a code or name missing, a code twice."""
    if not procedures:
        raise CatalogError(source, ("", ""), "", "không có thủ tục nào để nhập", "there are no procedures to import")
    seen: dict[str, int] = {}
    for index, procedure in enumerate(procedures, start=1):
        if not PROCEDURE_CODE.fullmatch(procedure.code):
            raise CatalogError(source, (f"bản ghi số {index}", f"record #{index}"), "code",
                               f"mã thủ tục {procedure.code!r} không đúng dạng (ví dụ 1.001193)",
                               f"procedure code {procedure.code!r} is malformed (expected e.g. 1.001193)")
        if not procedure.name.strip():
            raise CatalogError(source, (f"thủ tục {procedure.code}", f"procedure {procedure.code}"), "name",
                               "thiếu tên thủ tục", "the procedure has no name")
        first = seen.setdefault(procedure.code, index)
        if first != index:
            raise CatalogError(source, (f"thủ tục {procedure.code} (bản ghi số {index})",
                                        f"procedure {procedure.code} (record #{index})"), "code",
                               f"mã thủ tục trùng với bản ghi số {first}", f"the code repeats record #{first}")


def _by_code(con: sqlite3.Connection, version: int, prefix: str, field_code: str | None,
             limit: int) -> list[Hit]:
    """Codes starting with `prefix`, the exact code first; a range on the primary key, not a scan."""
    sql = ("SELECT code, name, field_name FROM procedure WHERE version_id = ? AND code >= ? AND code < ?"
           + (" AND field_code = ?" if field_code else "") + " ORDER BY code != ?, code LIMIT ?")
    args: list[Any] = [version, prefix, prefix + "\U0010ffff"]
    if field_code:
        args.append(field_code)
    rows = con.execute(sql, [*args, prefix, limit]).fetchall()
    return [Hit(r[0], r[1], r[2]) for r in rows]


def _by_words(con: sqlite3.Connection, version: int, words: list[str], field_code: str | None,
              limit: int) -> list[Hit]:
    """Tier by tier (whole words in the name, word starts in the name, then anywhere), each by bm25 then
    name; later tiers run only while the list is short, so a one-letter query costs about one bare query."""
    # Ranked and cut inside the index (ids are in name order), then only the rows shown are read.
    # "+rowid": a plain rowid IN (...) is handed to FTS5, which then runs the whole MATCH once per listed row.
    narrow = " AND +rowid IN (SELECT id FROM procedure WHERE version_id = ? AND field_code = ?)" if field_code else ""
    hits: dict[str, Hit] = {}
    for index, expression in catalog_query.tiers(words):
        sql = ("SELECT p.code, p.name, p.field_name, f.score FROM "
               f"(SELECT rowid AS id, bm25({index}, {_WEIGHTS[index]}) AS score FROM {index} "
               f"WHERE {index} MATCH ?{narrow} ORDER BY score, rowid LIMIT ?) AS f "
               "JOIN procedure AS p ON p.id = f.id AND p.version_id = ? ORDER BY f.score, f.id")
        args: list[Any] = [expression, *((version, field_code) if field_code else ())]
        # Earlier tiers' rows come back again here; asking for that many more still fills the list.
        for code, name, field_name, score in con.execute(sql, [*args, limit + len(hits), version]):
            if code not in hits:
                hits[code] = Hit(code, name, field_name, -score)
        if len(hits) >= limit:
            break
    return list(hits.values())[:limit]
