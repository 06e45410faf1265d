"""The error every failure a person reads uses: a message in Vietnamese and in English."""

from __future__ import annotations


class BilingualError(Exception):
    """A failure a person must read and act on, worded in Vietnamese first and English second."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi}\n{en}")
        self.vi = vi
        self.en = en
