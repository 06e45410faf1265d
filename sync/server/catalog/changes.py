"""What a catalog import changes: procedures added, removed or changed since the previous version, and those whose
status (TRANGTHAI) says they are no longer in force.

The national JSON format has no validity date (no "effective until" field), so a procedure is reported as past its
validity only when its exported status says so ("Hết hiệu lực", "Đã bãi bỏ", "Ngừng thực hiện", …).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.domain.procedures import Procedure, fold

# What an import compares, each aspect with its bilingual name.
ASPECTS: dict[str, tuple[str, str]] = {
    "name": ("tên", "name"),
    "documents": ("thành phần hồ sơ", "documents"),
    "fees": ("phí, lệ phí", "fees"),
    "time": ("thời hạn giải quyết", "time limit"),
}
_NOT_IN_FORCE = re.compile(r"\b(?:het hieu luc|khong con hieu luc|bai bo|ngung (?:thuc hien|ap dung|hoat dong)|"
                           r"da huy|bi huy|huy bo|thay the)\b")


@dataclass(frozen=True)
class Changed:
    """A procedure in both versions whose name, documents, fees or time limit differ."""

    code: str
    name: str
    aspects: tuple[str, ...]  # keys of ASPECTS


@dataclass(frozen=True)
class CatalogChanges:
    """The difference between the previous catalog version and the one imported."""

    previous_version: int | None  # None: the first import
    added: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    expired: list[tuple[str, str, str]] = field(default_factory=list)  # (code, name, status as exported)

    def as_json(self) -> dict[str, Any]:
        """The changes for `--json`."""
        return {"previous_version": self.previous_version,
                "added": [{"code": c, "name": n} for c, n in self.added],
                "removed": [{"code": c, "name": n} for c, n in self.removed],
                "changed": [{"code": c.code, "name": c.name, "aspects": list(c.aspects)} for c in self.changed],
                "expired": [{"code": c, "name": n, "status": s} for c, n, s in self.expired]}


def _documents(p: Procedure) -> tuple[Any, ...]:
    return tuple((d.case, d.name, d.originals, d.copies, d.form, d.form_url) for d in p.documents)


def _fees(p: Procedure) -> tuple[Any, ...]:
    return tuple((c.name, tuple((f.description, f.amount, f.unit) for f in c.fees)) for c in p.channels)


def _time(p: Procedure) -> tuple[Any, ...]:
    return tuple((c.name, c.time_limit) for c in p.channels)


def aspects_changed(before: Procedure, after: Procedure) -> tuple[str, ...]:
    """Which of name, documents, fees and time limit differ between two versions of one procedure."""
    found = []
    if before.name != after.name:
        found.append("name")
    for key, part in (("documents", _documents), ("fees", _fees), ("time", _time)):
        if part(before) != part(after):
            found.append(key)
    return tuple(found)


def not_in_force(procedure: Procedure) -> bool:
    """True when the exported status says the procedure no longer applies."""
    return bool(procedure.status) and _NOT_IN_FORCE.search(fold(procedure.status)) is not None


def compare(previous: Sequence[Procedure] | None, current: Sequence[Procedure],
            previous_version: int | None) -> CatalogChanges:
    """The changes from `previous` (None: nothing imported before) to `current`, each list in code order."""
    before = {p.code: p for p in previous or ()}
    after = {p.code: p for p in current}
    changes = CatalogChanges(previous_version)
    if previous is not None:
        changes.added.extend((c, after[c].name) for c in sorted(after.keys() - before.keys()))
        changes.removed.extend((c, before[c].name) for c in sorted(before.keys() - after.keys()))
        for code in sorted(after.keys() & before.keys()):
            aspects = aspects_changed(before[code], after[code])
            if aspects:
                changes.changed.append(Changed(code, after[code].name, aspects))
    changes.expired.extend((p.code, p.name, p.status) for p in sorted(current, key=lambda p: p.code)
                           if not_in_force(p))
    return changes
