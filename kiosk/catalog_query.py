"""Turning what a citizen types into safe FTS5 queries: folded terms, each quoted, and code prefixes.

User input never reaches FTS5's query syntax: the text is folded (kiosk.domain.procedures.fold), cut into the same
kind of tokens the index holds, and each token is quoted, so `"`, `*`, `AND`, `(` or `-` are only letters.
"""

from __future__ import annotations

# The words and codes a query means are kiosk.domain.procedure_search's, shared with the server's public catalog.
from kiosk.domain.procedure_search import MAX_TERMS, code_prefix, terms

__all__ = ["FULL_INDEX", "MAX_TERMS", "NAME_INDEX", "code_prefix", "expression", "terms", "tiers"]

# Names have an index of their own: bm25 normalises by the length of all a row's indexed text, so in the full
# index a procedure with a long list of documents would rank below a worse name match with a short one.
NAME_INDEX, FULL_INDEX = "procedure_name_fts", "procedure_fts"


def expression(words: list[str], *, prefix: bool) -> str:
    """An FTS5 query matching rows that hold every word (as the start of a word if `prefix`)."""
    star = "*" if prefix else ""
    return " AND ".join(f'"{word}"{star}' for word in words)


def tiers(words: list[str]) -> list[tuple[str, str]]:
    """(index, query) in rank order: whole words in the name, word starts in the name, then the same anywhere."""
    whole, starts = expression(words, prefix=False), expression(words, prefix=True)
    return [(NAME_INDEX, whole), (NAME_INDEX, starts), (FULL_INDEX, whole), (FULL_INDEX, starts)]
