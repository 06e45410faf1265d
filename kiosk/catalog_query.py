"""Turning what a citizen types into safe FTS5 queries: folded terms, each quoted, and code prefixes.

User input never reaches FTS5's query syntax: the text is folded (kiosk.domain.procedures.fold), cut into the same
kind of tokens the index holds, and each token is quoted, so `"`, `*`, `AND`, `(` or `-` are only letters.
"""

from __future__ import annotations

import re

from kiosk.domain.procedures import fold

MAX_TERMS = 12  # more words than any procedure name needs; keeps a pasted paragraph from building a huge query
# Names have an index of their own: bm25 normalises by the length of all a row's indexed text, so in the full
# index a procedure with a long list of documents would rank below a worse name match with a short one.
NAME_INDEX, FULL_INDEX = "procedure_name_fts", "procedure_fts"
# A code or the start of one, as typed: "1", "1.0011", "1.012753.h1". Anything else is searched as words.
_CODE = re.compile(r"\d{1,2}(?:\.\d{0,6}(?:\.[0-9A-Za-z]{0,12})?)?", re.ASCII)
# Letters and digits, as the unicode61 tokenizer splits text (it treats "_" and punctuation as separators).
_TOKEN = re.compile(r"[^\W_]+")


def terms(query: str) -> list[str]:
    """The folded words of a query, in order, without repeats."""
    return list(dict.fromkeys(_TOKEN.findall(fold(query))))[:MAX_TERMS]


def code_prefix(query: str) -> str | None:
    """The code prefix typed ("1.0011" -> "1.0011", "1.012753.h19" -> "1.012753.H19"), or None if not a code."""
    typed = query.strip()
    return typed.upper() if _CODE.fullmatch(typed) else None


def expression(words: list[str], *, prefix: bool) -> str:
    """An FTS5 query matching rows that hold every word (as the start of a word if `prefix`)."""
    star = "*" if prefix else ""
    return " AND ".join(f'"{word}"{star}' for word in words)


def tiers(words: list[str]) -> list[tuple[str, str]]:
    """(index, query) in rank order: whole words in the name, word starts in the name, then the same anywhere."""
    whole, starts = expression(words, prefix=False), expression(words, prefix=True)
    return [(NAME_INDEX, whole), (NAME_INDEX, starts), (FULL_INDEX, whole), (FULL_INDEX, starts)]
