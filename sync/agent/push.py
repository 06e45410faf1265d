"""Push: send the records the server has not acknowledged, in gzip batches, always resuming from its number.

The server stores each record once however often it is sent, so the agent's only duty is to start every
batch right after what the server last said it holds (its `acked_seq`), and to write that number down
durably before sending the next batch. A SIGKILL between sending and writing, a lost answer or a server
restarted from a backup then all end the same way: the next batch begins where the server really is.
"""

from __future__ import annotations

import gzip
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from kiosk import state
from sync import protocol
from sync.agent.client import SyncClient, parse_answer
from sync.agent.device import Device
from sync.agent.errors import E_LOCAL_RECORD, E_SERVER_AHEAD, E_STUCK, SyncError
from sync.agent.progress import Progress, QuietProgress

BATCH_RECORDS = 500  # a few hundred: one request stays well under a second even on a slow line
MAX_STALLS = 3  # answers in a row that move the server's number nowhere before the push gives up


@dataclass
class PushResult:
    """What one push did: where it started and ended, and what the server said about the records."""

    start_acked: int
    acked_seq: int
    head_seq: int
    sent: int = 0          # records sent, re-sends included
    stored: int = 0        # records new to the server
    duplicates: int = 0    # records the server already held
    batches: int = 0

    @property
    def queue(self) -> int:
        """Records still not on the server."""
        return max(self.head_seq - self.acked_seq, 0)


def acked_seq(device: Device) -> int:
    """The last sequence number the server acknowledged, as stored on the device."""
    return int(device.state.get(state.ACKED_SEQ) or 0)


def head_seq(device: Device) -> int:
    """The newest record's sequence number on the device."""
    return int(device.state.get(state.HEAD_SEQ) or 0)


def read_batch(device: Device, after: int, limit: int) -> list[protocol.Record]:
    """Up to `limit` records after `after`, from the rating log, as wire records.

    A record that does not fit the wire format ends the batch before it; when it is the first one the push
    cannot go on, and the error names it.
    """
    batch: list[protocol.Record] = []
    for raw in device.ratings.records_after(after, limit):
        try:
            batch.append(protocol.Record.model_validate(raw))
        except ValidationError as exc:
            if batch:
                break
            raise _bad_record(raw, exc) from exc
    return batch


def _bad_record(raw: dict[str, Any], exc: ValidationError) -> SyncError:
    seq = raw.get("seq")
    problem = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:3])
    return SyncError(E_LOCAL_RECORD,
                     f"Bản ghi số {seq} trong máy không đúng định dạng ({problem}); có thể đã bị sửa. "
                     "Không xoá gì; báo CNTT.",
                     f"Record {seq} on the device is malformed ({problem}); it may have been altered. "
                     "Delete nothing; call IT.")


def encode(device_id: str, records: list[protocol.Record], device_time: datetime | None = None) -> tuple[bytes, int]:
    """The gzip body for as many of `records` as fit the protocol's limits, and how many that is.

    `device_time` is the device's own clock now, uncorrected: the server measures the clock's error with it.
    """
    count = len(records)
    while True:
        raw = protocol.PushRequest(device_id=device_id, records=records[:count],
                                   device_time=device_time).model_dump_json().encode("utf-8")
        # mtime=0: gzip adds no time of its own.
        body = gzip.compress(raw, compresslevel=6, mtime=0)
        if (len(body) <= protocol.MAX_BODY_BYTES and len(raw) <= protocol.MAX_INFLATED_BYTES) or count == 1:
            return body, count
        count = max(count // 2, 1)


def send_batch(client: SyncClient, body: bytes) -> protocol.PushResponse:
    """POST one encoded batch and read the server's answer."""
    response = client.request("POST", protocol.PUSH_PATH, body=body,
                              headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    return parse_answer(response.content, protocol.PushResponse,
                        "Câu trả lời của máy chủ cho lô bản ghi không đúng giao thức",
                        "The server's answer to a batch is outside the protocol")


@dataclass(frozen=True)
class _Batch:
    """A batch read and encoded: the records it holds and its gzip body."""

    body: bytes
    count: int
    last_seq: int


def _prepare(device: Device, client: SyncClient, after: int, limit: int) -> _Batch | None:
    records = read_batch(device, after, limit)
    if not records:
        return None
    # Made while the previous batch is answered, a moment before it is sent: well within the clock tolerance.
    body, count = encode(client.device_id, records, datetime.fromtimestamp(client.clock(), UTC))
    return _Batch(body, count, records[count - 1].seq)


def push(client: SyncClient, device: Device, progress: Progress | None = None,
         batch_records: int = BATCH_RECORDS) -> PushResult:
    """Send every record the server lacks; the server's acked_seq is stored after every answer."""
    progress = progress or QuietProgress()
    batch_records = max(1, min(batch_records, protocol.MAX_BATCH_RECORDS))
    acked, head = acked_seq(device), head_seq(device)
    result = PushResult(acked, acked, head)
    progress.start(max(head - acked, 0))
    stalls = 0
    # The next batch is read and encoded while the server answers this one; it is used only if the server's
    # answer is the number it starts from, so a gap or a lower number costs nothing but the work.
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="push-ahead")
    try:
        batch = _prepare(device, client, acked, batch_records)
        while batch is not None:
            upcoming = ahead.submit(_prepare, device, client, batch.last_seq, batch_records)
            result.sent += batch.count
            result.batches += 1
            try:
                answer = send_batch(client, batch.body)
                new_acked = answer.acked_seq
                result.stored += answer.stored
                result.duplicates += answer.duplicates
            except SyncError as exc:
                if exc.acked_seq is not None and exc.code in (protocol.E_GAP, protocol.E_CHAIN):
                    # The server's number is the truth, also when it is lower than ours.
                    _store_acked(device, exc.acked_seq)
                    result.acked_seq = exc.acked_seq
                if exc.code != protocol.E_GAP or exc.acked_seq is None:
                    raise
                new_acked = exc.acked_seq
            _store_acked(device, new_acked)
            stalls = stalls + 1 if new_acked <= acked else 0
            if new_acked > acked:
                progress.advance(new_acked - acked)
            acked = result.acked_seq = new_acked
            if stalls >= MAX_STALLS:
                raise SyncError(E_STUCK, f"Máy chủ nhiều lần liền vẫn chỉ xác nhận tới số {acked}; dừng gửi",
                                f"The server keeps acknowledging only up to {acked}; stopped sending")
            batch = (upcoming.result() if acked == batch.last_seq
                     else _prepare(device, client, acked, batch_records))
    finally:
        ahead.shutdown(wait=True, cancel_futures=True)
        progress.finish()
    result.head_seq = head_seq(device)
    if acked > result.head_seq:
        raise SyncError(E_SERVER_AHEAD,
                        f"Máy chủ đã có tới bản ghi số {acked} nhưng máy này chỉ có tới số {result.head_seq}: "
                        "cơ sở dữ liệu có thể đã bị khôi phục từ bản sao cũ. Không ghi thêm gì; báo CNTT.",
                        f"The server holds records up to {acked} but this device only up to {result.head_seq}: "
                        "the database may have been restored from an old backup. Call IT.")
    return result


def _store_acked(device: Device, value: int) -> None:
    device.state.put(state.ACKED_SEQ, str(value))
