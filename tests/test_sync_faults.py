"""Faults on the way to the real server, each ending with exactly the device's records on the server, once, with
the chain intact; and tampering on the device, which the server reports as a broken chain at the right record."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain import chain
from sync import protocol
from sync.agent import cli, push
from sync.agent.client import Budget, RetryPolicy
from sync.agent.device import make_client, require_enrolment
from sync.agent.run import PassResult
from tests.sync_harness import ServerHandle
from tests.sync_proxy import Fault, FaultyProxy
from tests.test_sync_agent_support import (
    FAST,
    Kiosk,
    assert_exactly_once,
    fleet_row,
    kiosk,
    run_agent,
    server_chain,
    start_agent,
)


@pytest.fixture
def proxy(module_server: ServerHandle) -> Iterator[FaultyProxy]:
    """A loopback proxy in front of the module's server."""
    made = FaultyProxy(module_server.port)
    yield made
    made.close()


def acked_on_disk(data_dir: Path) -> int:
    """The acknowledged number as stored, read by a separate connection (the agent may be another process)."""
    con = sqlite3.connect(f"file:{data_dir / 'kiosk.db'}?mode=ro", uri=True, timeout=5)
    try:
        row = con.execute("SELECT value FROM device_state WHERE key = 'acked_seq'").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def wait_until(condition: Any, timeout: float = 60, step: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(step)


# ---- faults -----------------------------------------------------------------------------------------------

def test_agent_killed_mid_push_then_run_again(module_server: ServerHandle, proxy: FaultyProxy,
                                              tmp_path: Path) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(2500)
        device_id = device.enroll(module_server, proxy.url)
        # Each batch is held a moment on its way, so the kill lands while the push is under way.
        proxy.plan(Fault("POST", protocol.PUSH_PATH, "delay", times=100, delay_s=0.15))
        agent = start_agent(device.data_dir, "run")
        try:
            wait_until(lambda: acked_on_disk(device.data_dir) > 0)
        finally:
            agent.kill()  # SIGKILL
            agent.wait()
        acked_at_kill = acked_on_disk(device.data_dir)
        assert 0 < acked_at_kill < 2500 and agent.returncode == -9
        assert len(server_chain(module_server, device_id)) < 2500

        again = run_agent(device.data_dir, "run")
        assert again.returncode == cli.EXIT_OK, again.stdout + again.stderr
        assert_exactly_once(module_server, device, device_id)


def test_server_stopped_mid_batch_and_restarted(sync_server: ServerHandle, tmp_path: Path) -> None:
    patient = dataclasses.replace(FAST, retry=RetryPolicy(attempts=60, base_s=0.05, cap_s=0.3))
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(4000)
        device_id = device.enroll(sync_server)
        outcome: list[PassResult] = []
        worker = threading.Thread(target=lambda: outcome.append(device.sync(tuning=patient, budget_s=120)))
        worker.start()
        wait_until(lambda: device.acked() > 0)
        sync_server.kill()  # SIGKILL, as a power cut would: whatever batch it was storing is cut off
        acked_at_stop = device.acked()
        time.sleep(0.3)
        sync_server.start()
        worker.join(120)
        assert acked_at_stop < 4000
        assert outcome and outcome[0].ok, [e.en for e in outcome[0].errors] if outcome else "no result"
        assert_exactly_once(sync_server, device, device_id)


def test_the_same_batch_sent_twice_is_stored_once(module_server: ServerHandle, tmp_path: Path) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(120, answers=True)
        device_id = device.enroll(module_server)
        enrolled = require_enrolment(device.services)
        client = make_client(device.services, enrolled.server_url, enrolled.device_id, Budget(60), FAST)
        try:
            body, _ = push.encode(device_id, push.read_batch(device.services, 0, 200))
            first, second = push.send_batch(client, body), push.send_batch(client, body)
        finally:
            client.close()
        assert (first.stored, first.duplicates, first.acked_seq) == (200, 0, 200)
        assert (second.stored, second.duplicates, second.acked_seq) == (0, 200, 200)
        assert device.sync().ok
        assert_exactly_once(module_server, device, device_id)


def test_a_response_lost_after_the_server_stored_the_batch(module_server: ServerHandle, proxy: FaultyProxy,
                                                            tmp_path: Path) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(800)
        device_id = device.enroll(module_server, proxy.url)
        proxy.plan(Fault("POST", protocol.PUSH_PATH, "drop"))
        result = device.sync()
        assert result.ok, [e.en for e in result.errors]
        pushes = [(seen.action, seen.status) for seen in proxy.seen if seen.path == protocol.PUSH_PATH]
        assert pushes[0] == ("drop", 200)  # the server stored it; the agent never heard
        # The retried first batch is answered as duplicates: the server had it already, once.
        assert result.push is not None and (result.push.stored, result.push.duplicates) == (300, 500)
        assert_exactly_once(module_server, device, device_id)


def test_two_agents_on_one_device_started_together(module_server: ServerHandle, proxy: FaultyProxy,
                                                   tmp_path: Path) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(300)
        device_id = device.enroll(module_server, proxy.url)
        proxy.plan(Fault("POST", protocol.PUSH_PATH, "delay", delay_s=3))  # whoever runs first holds on
        agents = [start_agent(device.data_dir, "run") for _ in range(2)]
        finished: list[tuple[int, str, str]] = []
        for agent in agents:
            out, err = agent.communicate(timeout=120)
            finished.append((agent.returncode, out, err))
        codes = sorted(code for code, _, _ in finished)
        assert codes == [cli.EXIT_OK, cli.EXIT_BUSY], finished
        skipped = next(item for item in finished if item[0] == cli.EXIT_BUSY)
        assert "Một lượt đồng bộ khác đang chạy" in skipped[2] and "Another sync pass is running" in skipped[2]
        assert_exactly_once(module_server, device, device_id)


# ---- tampering --------------------------------------------------------------------------------------------

def _forge_insert(device: Kiosk, at: int) -> None:
    """Insert a made-up rating at `at`, renumbering the rest: linked and hashed right, but not signed by the device."""
    con = sqlite3.connect(device.services.database.path)
    con.row_factory = sqlite3.Row
    previous = con.execute("SELECT hash FROM log WHERE seq = ?", (at - 1,)).fetchone()["hash"]
    con.close()
    record: dict[str, Any] = dict.fromkeys(chain.SIGNED_FIELDS)
    record.update(seq=at, uuid=str(uuid.uuid4()), kind="rating", recorded_at="2026-11-23T08:00:00.000Z",
                  prev_hash=previous, level=5, counter_id="Q01", officer_id="CB001", language="vi",
                  suspected_repeat=False, is_test=False)
    body = chain.canonical(record)
    signature = base64.b64encode(Ed25519PrivateKey.generate().sign(body)).decode("ascii")
    columns = [*chain.SIGNED_FIELDS, "hash", "signature"]
    values = [record[name] for name in chain.SIGNED_FIELDS] + [hashlib.sha256(body).hexdigest(), signature]
    device.tamper("UPDATE log SET seq = seq + 1000 WHERE seq >= ?", params=(at,))
    device.tamper("UPDATE log SET seq = seq - 999 WHERE seq >= ?", params=(1000 + at,))
    device.tamper(f"INSERT INTO log ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                  params=tuple(values))


TAMPERING = {
    "edited": lambda device: device.tamper("UPDATE log SET level = 1 WHERE seq = 4"),
    "deleted": lambda device: device.tamper("DELETE FROM log WHERE seq = 4"),
    "inserted": lambda device: _forge_insert(device, 4),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_tampering_before_sync_is_reported_at_the_right_record(module_server: ServerHandle, tmp_path: Path,
                                                               how: str) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(10)
        device_id = device.enroll(module_server)
        TAMPERING[how](device)

        ran = run_agent(device.data_dir, "run")
        assert ran.returncode == cli.EXIT_NEEDS_IT, ran.stdout + ran.stderr
        assert f"[{protocol.E_CHAIN}] (bản ghi số 4)" in ran.stderr and "(record 4)" in ran.stderr
        assert "CHƯA XONG" in ran.stdout
        # Everything before the bad record is on the server; nothing from it on.
        assert server_chain(module_server, device_id) == device.chain()[:3]
        row = fleet_row(module_server, device_id)
        assert (row["chain_state"], row["first_bad_seq"], row["acked_seq"]) == ("broken", 4, 3)
        assert any(alert["code"] == "chain_broken" for alert in row["alerts"])
        assert device.acked() == 3

        again = run_agent(device.data_dir, "run")  # never accepted by trying again
        assert again.returncode == cli.EXIT_NEEDS_IT and "(record 4)" in again.stderr
        assert len(server_chain(module_server, device_id)) == 3
        shown = run_agent(device.data_dir, "status")
        assert "Lỗi gần nhất" in shown.stdout and "Last error" in shown.stdout


def test_a_record_edited_after_it_was_synced_is_reported(module_server: ServerHandle, tmp_path: Path) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(6)
        device_id = device.enroll(module_server)
        assert device.sync().ok
        synced = server_chain(module_server, device_id)
        device.tamper("UPDATE log SET level = 5 WHERE seq = 2")
        device.rate(2)
        device.services.state.put("acked_seq", "0")  # and the device made to send it all again
        result = device.sync()
        assert [e.code for e in result.errors] == [protocol.E_CHAIN]
        assert result.errors[0].first_bad_seq == 2
        assert server_chain(module_server, device_id) == synced  # the server's copy stands
