"""The canonical form of a log record, its hash and signature, and the walk that checks the whole chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.domain.keys import verify_signature

GENESIS_HASH = "0" * 64
FORMAT_VERSION = 1
# Every signed field, in the order they are documented; anything not listed is not covered by the signature.
SIGNED_FIELDS = (
    "seq", "uuid", "kind", "recorded_at", "prev_hash",
    "rating_uuid", "level", "counter_id", "officer_id", "procedure_code", "language",
    "suspected_repeat", "is_test", "question", "value", "text",
)


def canonical(record: Mapping[str, Any]) -> bytes:
    """The exact bytes that are hashed and signed: sorted-key compact JSON of the signed fields, UTF-8."""
    body: dict[str, Any] = {name: record.get(name) for name in SIGNED_FIELDS}
    body["suspected_repeat"] = bool(body["suspected_repeat"])
    body["is_test"] = bool(body["is_test"])
    body["v"] = FORMAT_VERSION
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical form, hex."""
    return hashlib.sha256(canonical(record)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """What a walk of the chain found: how many records, the head, and the first bad link if any."""

    count: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem_vi: str = ""
    problem_en: str = ""

    @property
    def ok(self) -> bool:
        """True when every link, hash and signature checked out."""
        return self.first_bad_seq is None


def verify(records: Iterable[Mapping[str, Any]], public_key: Ed25519PublicKey,
           expected_head: tuple[int, str] | None = None) -> ChainReport:
    """Walk records in sequence order and report the first one that was edited, dropped or inserted."""
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    for rec in records:
        seq = int(rec["seq"])
        if seq != expected_seq:
            return _bad(count, expected_seq - 1, prev_hash, expected_seq,
                        f"thiếu bản ghi: sau số {expected_seq - 1} là số {seq}",
                        f"missing record: {expected_seq - 1} is followed by {seq}")
        if rec["prev_hash"] != prev_hash:
            return _bad(count, seq - 1, prev_hash, seq,
                        "liên kết tới bản ghi trước không khớp (bản ghi bị chèn, xoá hoặc thay)",
                        "link to the previous record does not match (inserted, deleted or replaced)")
        digest = record_hash(rec)
        if rec["hash"] != digest:
            return _bad(count, seq - 1, prev_hash, seq, "nội dung bản ghi đã bị sửa (mã băm sai)",
                        "the record's content was changed (hash mismatch)")
        if not verify_signature(public_key, str(rec["signature"]), canonical(rec)):
            return _bad(count, seq - 1, prev_hash, seq, "chữ ký số không hợp lệ",
                        "the signature is not valid")
        prev_hash, expected_seq, count = digest, seq + 1, count + 1
    head_seq = expected_seq - 1
    if expected_head is not None and (head_seq, prev_hash) != expected_head:
        known_seq = expected_head[0]
        if known_seq > head_seq:
            return _bad(count, head_seq, prev_hash, head_seq + 1,
                        f"các bản ghi cuối đã bị xoá: thiết bị đã ghi tới số {known_seq}",
                        f"the last records were deleted: the device had written up to {known_seq}")
        return _bad(count, head_seq, prev_hash, known_seq + 1,
                    "đầu chuỗi đã lưu không khớp với bản ghi cuối",
                    "the stored chain head does not match the last record")
    return ChainReport(count, head_seq, prev_hash)


def _bad(count: int, head_seq: int, head_hash: str, seq: int, vi: str, en: str) -> ChainReport:
    return ChainReport(count, head_seq, head_hash, seq, vi, en)
