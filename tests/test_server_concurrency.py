"""Several server processes on one database, and a server killed mid-batch: every record stored once, the
chain whole. Uniqueness is the database's job, so this holds however the requests interleave."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from kiosk.domain import chain
from sync.server.models import DEVICE, RATING, RECORD
from tests.sync_harness import Device, ServerHandle, push, start_server


def held(server: ServerHandle, device_id: str) -> tuple[list[tuple[int, str]], int, int, str]:
    """(seq, hash) of the stored records, how many ratings, and the device's acked seq and hash."""
    with server.engine().connect() as conn:
        records = [(int(r.seq), str(r.hash)) for r in conn.execute(
            select(RECORD.c.seq, RECORD.c.hash).where(RECORD.c.device_id == device_id).order_by(RECORD.c.seq))]
        ratings = conn.execute(select(func.count()).select_from(RATING).where(RATING.c.device_id == device_id))
        device = conn.execute(select(DEVICE.c.acked_seq, DEVICE.c.acked_hash).where(DEVICE.c.id == device_id)).one()
        return records, int(ratings.scalar_one()), int(device.acked_seq), str(device.acked_hash)


def at_once(kiosk: Device, device_id: str,
            sends: list[tuple[ServerHandle, list[dict[str, Any]]]]) -> list[requests.Response]:
    """Push each batch to its server, all released at the same instant."""
    barrier = threading.Barrier(len(sends))

    def send(target: tuple[ServerHandle, list[dict[str, Any]]]) -> requests.Response:
        barrier.wait()
        return push(target[0].url, kiosk, device_id, target[1])

    with ThreadPoolExecutor(len(sends)) as pool:
        return list(pool.map(send, sends))


def send_ignoring_failure(server: ServerHandle, kiosk: Device, device_id: str,
                          records: list[dict[str, Any]]) -> None:
    """Push, not minding that the server may die under the request (as it is meant to)."""
    with contextlib.suppress(requests.RequestException):
        push(server.url, kiosk, device_id, records, timeout=30)


def test_two_processes_given_the_same_batches_at_the_same_moment_store_them_once(server_db_url: str,
                                                                                 tmp_path: Path) -> None:
    # Both start at once on a new database: one migrates it, the other waits for that and finds it done.
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(start_server, (server_db_url, server_db_url), (tmp_path / "1", tmp_path / "2"))
    kiosk = None
    try:
        kiosk, device_id = first.enrolled_device(tmp_path / "kiosk")
        kiosk.rate(60, with_answers=True)  # 240 records
        records = kiosk.records()
        # Same batches to both at once, then batches that overlap differently on each side.
        plans = [(records[i:i + 40], records[i:i + 40]) for i in range(0, 120, 40)]
        plans += [(records[120:200], records[120:160]), (records[160:240], records[120:240])]
        for left, right in plans:
            answers = at_once(kiosk, device_id, [(first, left), (second, right)])
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            new = {r["seq"] for r in left} | {r["seq"] for r in right}
            assert sum(a.json()["stored"] for a in answers) <= len(new)
        stored, ratings, acked, head = held(first, device_id)
        assert stored == [(r["seq"], r["hash"]) for r in records]
        assert ratings == 60 and (acked, head) == (240, records[-1]["hash"])
        assert chain.verify(records, kiosk.key.public_key).ok
    finally:
        if kiosk is not None:
            kiosk.close()
        first.stop()
        second.stop()


def test_a_server_killed_mid_batch_keeps_all_or_none_of_it(server_db_url: str, tmp_path: Path) -> None:
    server = start_server(server_db_url, tmp_path / "server")
    kiosk = None
    try:
        kiosk, device_id = server.enrolled_device(tmp_path / "kiosk")
        kiosk.rate(250, with_answers=True)  # 1000 records: one full batch
        records = kiosk.records()
        sender = threading.Thread(target=send_ignoring_failure, args=(server, kiosk, device_id, records))
        sender.start()
        threading.Event().wait(0.15)
        server.kill()
        sender.join()
        stored, ratings, acked, head = held(server, device_id)
        assert len(stored) in (0, len(records))  # one transaction: never half a batch
        assert acked == len(stored) and ratings == len(stored) // 4
        server.start()
        again = push(server.url, kiosk, device_id, records)
        assert again.status_code == 200, again.text
        assert again.json()["stored"] + again.json()["duplicates"] == len(records)
        stored, ratings, acked, head = held(server, device_id)
        assert stored == [(r["seq"], r["hash"]) for r in records] and ratings == 250
        assert (acked, head) == (len(records), records[-1]["hash"])
        assert server.stop() == 0  # SIGTERM: a clean exit
    finally:
        if kiosk is not None:
            kiosk.close()
        server.stop()
