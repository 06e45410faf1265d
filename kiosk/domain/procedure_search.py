"""The kiosk's search rules for procedures, shared by the kiosk's SQLite index and the server's public catalog.

What a citizen types is folded (no tone marks, đ as d) and cut into words as SQLite's unicode61 tokenizer cuts
text. A query that looks like a code ("1.0011") finds codes starting with it, the exact code first. Otherwise
results come in tiers: every word whole in the name, every word as a word start in the name, then the same over
everything searchable (name, documents and forms, results, laws, code, field); within a tier by FTS5's bm25, then
by name. The kiosk runs the tiers on FTS5 (kiosk.catalog); ProcedureIndex runs them in memory with the same bm25,
for the server's pages, built once per catalog version.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kiosk.domain.procedures import Procedure, fold

MAX_TERMS = 12  # more words than any procedure name needs; keeps a pasted paragraph from building a huge query
# A code or the start of one, as typed: "1", "1.0011", "1.012753.h1". Anything else is searched as words.
_CODE = re.compile(r"\d{1,2}(?:\.\d{0,6}(?:\.[0-9A-Za-z]{0,12})?)?", re.ASCII)
# Letters and digits, as the unicode61 tokenizer splits text (it treats "_" and punctuation as separators).
_TOKEN = re.compile(r"[^\W_]+")
_LAST = "\U0010ffff"


def terms(query: str) -> list[str]:
    """The folded words of a query, in order, without repeats."""
    return list(dict.fromkeys(_TOKEN.findall(fold(query))))[:MAX_TERMS]


def code_prefix(query: str) -> str | None:
    """The code prefix typed ("1.0011" -> "1.0011", "1.012753.h19" -> "1.012753.H19"), or None if not a code."""
    typed = query.strip()
    return typed.upper() if _CODE.fullmatch(typed) else None


def search_text(procedure: Procedure) -> str:
    """What besides the name a search looks in: the dossier's documents and forms, the results, the laws."""
    parts = [doc.name for doc in procedure.documents]
    parts += [doc.form for doc in procedure.documents if doc.form]
    parts += list(procedure.results)
    parts += [f"{law.number} {law.title}" for law in procedure.legal_basis]
    return fold("\n".join(parts))


def name_order(procedure: Procedure) -> tuple[str, str, str]:
    """The order lists and ties follow: the folded name, then the name, then the code."""
    return fold(procedure.name), procedure.name, procedure.code


@dataclass(frozen=True)
class Entry:
    """One procedure in a result list, with its position in name order."""

    position: int
    code: str
    name: str
    field_code: str
    field_name: str


class _Words:
    """One full-text index in memory (names alone, or everything), ranked with FTS5's bm25.

    Per word: the positions holding it and, for each, its count weighted by column as FTS5's bm25() weighs them;
    per position, the number of words it holds (all columns), which bm25 divides by.
    """

    K1, B = 1.2, 0.75  # FTS5's bm25 constants

    def __init__(self, rows: Iterable[Sequence[str]], weights: Sequence[float]) -> None:
        self.postings: dict[str, dict[int, float]] = {}
        self.lengths: list[int] = []
        for position, columns in enumerate(rows):
            length = 0
            for text, weight in zip(columns, weights, strict=True):
                tokens = _TOKEN.findall(text)
                length += len(tokens)
                for token in tokens:
                    counts = self.postings.setdefault(token, {})
                    counts[position] = counts.get(position, 0.0) + weight
            self.lengths.append(length)
        self.vocabulary = sorted(self.postings)
        self.average = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0

    def frequencies(self, word: str, *, prefix: bool) -> dict[int, float]:
        """Position -> weighted count of the word (or of every word starting with it)."""
        if not prefix:
            return self.postings.get(word, {})
        low = bisect.bisect_left(self.vocabulary, word)
        high = bisect.bisect_left(self.vocabulary, word + _LAST)
        found: dict[int, float] = {}
        for token in self.vocabulary[low:high]:
            for position, count in self.postings[token].items():
                found[position] = found.get(position, 0.0) + count
        return found

    def ranked(self, words: Sequence[str], *, prefix: bool) -> list[tuple[float, int]]:
        """(-bm25 score, position) of every position holding every word, best first, ties in name order."""
        phrases = [self.frequencies(w, prefix=prefix) for w in words]
        if not phrases or any(not p for p in phrases):
            return []
        smallest: dict[int, float] = min(phrases, key=len)
        matching = set(smallest)
        for phrase in phrases:
            matching.intersection_update(phrase)
        total = len(self.lengths)
        idfs = [max(math.log((total - len(p) + 0.5) / (len(p) + 0.5)), 1e-6) for p in phrases]
        ranked = []
        for position in matching:
            norm = self.K1 * (1 - self.B + self.B * self.lengths[position] / self.average)
            score = 0.0
            for idf, phrase in zip(idfs, phrases, strict=True):
                tf = phrase[position]
                score += idf * (tf * (self.K1 + 1)) / (tf + norm)
            ranked.append((-score, position))
        ranked.sort()
        return ranked


class ProcedureIndex:
    """An in-memory index of a catalog that answers as the kiosk's search does (tiers, word starts, codes)."""

    def __init__(self, procedures: Sequence[Procedure]) -> None:
        ordered = sorted(procedures, key=name_order)
        self.procedures = {p.code: p for p in ordered}
        self.entries = [Entry(i, p.code, p.name, p.field_code, p.field_name) for i, p in enumerate(ordered)]
        # The kiosk's two FTS5 indexes and their bm25 column weights (kiosk.catalog): names alone, and name,
        # other text, code and field, a word in the name counting most.
        self._names = _Words(((fold(p.name),) for p in ordered), (1.0,))
        self._all = _Words(((fold(p.name), search_text(p), fold(p.code), fold(p.field_name)) for p in ordered),
                           (4.0, 1.0, 1.0, 2.0))
        self._codes = sorted((p.code, i) for i, p in enumerate(ordered))

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, code: str) -> Procedure | None:
        """The procedure with this code, or None."""
        return self.procedures.get(code.strip().upper())

    def fields(self) -> list[tuple[str, str, int]]:
        """(code, name, count) of each field, by name; procedures without a field left out."""
        counts: dict[str, tuple[str, int]] = {}
        for entry in self.entries:
            if entry.field_code:
                name, n = counts.get(entry.field_code, (entry.field_name, 0))
                counts[entry.field_code] = (max(name, entry.field_name), n + 1)
        found = [(code, name, n) for code, (name, n) in counts.items()]
        return sorted(found, key=lambda f: (fold(f[1]), f[1], f[0]))

    def search(self, query: str, field_code: str | None = None, limit: int | None = 100,
               codes: frozenset[str] | None = None) -> list[Entry]:
        """Procedures matching `query` as the kiosk finds them; everything (by name) when nothing is typed.

        `field_code` and `codes` narrow the list to one field or to a set of codes (an agency's counters)."""
        def wanted(entry: Entry) -> bool:
            return (not field_code or entry.field_code == field_code) and (codes is None or entry.code in codes)

        cut = None if limit is None else max(limit, 0)
        prefix, words = code_prefix(query), terms(query)
        if prefix is not None:
            start = bisect.bisect_left(self._codes, (prefix, -1))
            end = bisect.bisect_left(self._codes, (prefix + _LAST, -1))
            found = [self.entries[i] for _, i in self._codes[start:end] if wanted(self.entries[i])]
            found.sort(key=lambda e: e.code != prefix)  # stable: the exact code first, then in code order
            return found[:cut]
        if not words:
            return [e for e in self.entries if wanted(e)][:cut]
        hits: dict[int, Entry] = {}
        for source, prefixed in ((self._names, False), (self._names, True), (self._all, False), (self._all, True)):
            for _, position in source.ranked(words, prefix=prefixed):
                if position not in hits and wanted(self.entries[position]):
                    hits[position] = self.entries[position]
            if cut is not None and len(hits) >= cut:
                break
        return list(hits.values())[:cut]
