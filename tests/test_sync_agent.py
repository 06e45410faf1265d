"""The sync agent against the real central server over HTTP on 127.0.0.1, on SQLite and on PostgreSQL:
enrolment, push, status and exit codes, pulled settings and catalog, health and the clock, TLS."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk import state
from sync import protocol
from sync.agent import cli
from sync.agent.enroll import enroll
from sync.agent.errors import E_BAD_DOWNLOAD, E_CATALOG, E_TLS, SyncError
from tests.conftest import ROOT
from tests.sync_harness import ServerHandle
from tests.sync_proxy import Fault, FaultyProxy
from tests.test_sync_agent_support import (
    FAST,
    Kiosk,
    assert_exactly_once,
    fleet_row,
    kiosk,
    kiosk_settings,
    run_agent,
    server_chain,
)

CATALOG_ONE = ROOT / "tests" / "data" / "national_good.json"
CATALOG_TWO = ROOT / "tests" / "data" / "national_messy.json"


@pytest.fixture
def proxy(module_server: ServerHandle) -> Iterator[FaultyProxy]:
    """A loopback proxy in front of the module's server."""
    made = FaultyProxy(module_server.port)
    yield made
    made.close()


# ---- enrolment, push, status, exit codes ----------------------------------------------------------------

def test_enrol_push_status_and_exit_codes(module_server: ServerHandle, tmp_path: Path) -> None:
    data_dir = tmp_path / "kiosk"
    with kiosk(data_dir) as device:
        device.rate(20, answers=True)
        before = run_agent(data_dir, "status")
        assert before.returncode == cli.EXIT_NOT_ENROLLED and "Chưa đăng ký" in before.stdout

        registered = module_server.add_device()
        enrolled = run_agent(data_dir, "enroll", "--server", module_server.url, "--code", registered["code"])
        assert enrolled.returncode == cli.EXIT_OK, enrolled.stderr
        assert registered["device_id"] in enrolled.stdout and "Enrolled with" in enrolled.stdout
        again = run_agent(data_dir, "enroll", "--server", module_server.url, "--code", registered["code"])
        assert again.returncode == cli.EXIT_USAGE and "--force" in again.stderr

        ran = run_agent(data_dir, "run")
        assert ran.returncode == cli.EXIT_OK, ran.stdout + ran.stderr
        assert "Đồng bộ xong" in ran.stdout and "Sync done" in ran.stdout and "sent 60 records" in ran.stdout
        assert "\r[" not in ran.stderr  # not a terminal: no progress bar
        assert_exactly_once(module_server, device, registered["device_id"])

        shown = run_agent(data_dir, "status", "--json")
        status = json.loads(shown.stdout)
        assert shown.returncode == cli.EXIT_OK
        assert status["enrolled"] and status["device_id"] == registered["device_id"]
        assert status["queue_depth"] == 0 and status["acked_seq"] == 60 and status["last_error"] is None
        assert status["last_success"] and status["clock_drift_s"] is not None
        row = fleet_row(module_server, registered["device_id"])
        assert row["queue_depth"] == 0 and row["app_version"] and row["printer_state"] == "none"

        device.rate(5)
        text = run_agent(data_dir, "status")
        assert "Chờ gửi: 5 bản ghi" in text.stdout and "Queue: 5 records" in text.stdout
        assert run_agent(data_dir, "run").returncode == cli.EXIT_OK
        assert_exactly_once(module_server, device, registered["device_id"])


def test_push_resumes_from_the_server_number_also_when_it_is_lower(module_server: ServerHandle,
                                                                   tmp_path: Path) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(700)
        device_id = device.enroll(module_server)
        first = device.sync()
        assert first.ok and first.push is not None and first.push.batches == 2 and first.push.stored == 700

        device.rate(300)
        device.services.state.put(state.ACKED_SEQ, "900")  # the device believes more than the server holds
        second = device.sync()
        assert second.ok, [e.en for e in second.errors]
        assert second.push is not None and second.push.stored == 300 and second.push.acked_seq == 1000
        assert_exactly_once(module_server, device, device_id)

        device.services.state.put(state.ACKED_SEQ, "0")  # and now less: one batch is sent again, harmlessly,
        third = device.sync()  # and the server's answer (1000) moves the device straight to the end
        assert third.ok and third.push is not None
        assert (third.push.stored, third.push.duplicates, third.push.batches) == (0, 500, 1)
        assert_exactly_once(module_server, device, device_id)


def test_server_errors_and_429_are_retried_other_refusals_are_not(module_server: ServerHandle,
                                                                   proxy: FaultyProxy, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(10)
        device_id = device.enroll(module_server, proxy.url)
        proxy.plan(Fault("POST", protocol.PUSH_PATH, "respond", times=2, status=503))
        proxy.plan(Fault("POST", protocol.PUSH_PATH, "respond", times=1, status=429,
                         headers={"Retry-After": "0"}))
        result = device.sync()
        assert result.ok, [e.en for e in result.errors]
        pushes = [seen.status for seen in proxy.seen if seen.path == protocol.PUSH_PATH]
        assert pushes == [503, 503, 429, 200]
        assert_exactly_once(module_server, device, device_id)

        module_server.cli_ok("device", "revoke", device_id)
        device.rate(1)
        proxy.seen.clear()
        code = cli.main(["--config", str(ROOT / "config" / "kiosk.toml"), "--data-dir", str(device.data_dir), "run"])
        err = capsys.readouterr().err
        assert code == cli.EXIT_NEEDS_IT
        assert f"[{protocol.E_REVOKED}]" in err and "Máy chủ từ chối (403)" in err
        assert [seen.status for seen in proxy.seen] == [403]  # refused once, not retried, nothing else tried
        assert len(server_chain(module_server, device_id)) == 10
        status = device.services.sync_status()
        assert status.last_error is not None and "403" in status.last_error.en and status.queue_depth == 1


# ---- pull: settings and catalog ----------------------------------------------------------------------------

def test_settings_from_the_server_are_stored_applied_and_not_fetched_again(module_server: ServerHandle,
                                                                            proxy: FaultyProxy,
                                                                            tmp_path: Path) -> None:
    registered = module_server.add_device(agency_code="ST", counter_code="Q07")
    with kiosk(tmp_path / "kiosk") as device:
        enroll(device.services, proxy.url, registered["code"], tuning=FAST)
        first = device.sync()
        assert first.ok and first.settings_changed
        assert device.services.apply_server_settings()
        settings = device.services.settings
        assert settings.agency.name == "Trung tâm Phục vụ hành chính công ST"
        assert (settings.counter.id, settings.counter.name) == ("Q07", "Quầy Q07")
        assert settings.contact.hotline == "1900 0000"
        assert settings.ui == device.services.file_settings.ui  # only what the server holds is replaced

        proxy.seen.clear()
        second = device.sync()
        assert second.ok and not second.settings_changed
        assert [s.status for s in proxy.seen if s.path == protocol.SETTINGS_PATH] == [304]

        module_server.cli_ok("agency", "set", "ST", "--hotline", "1900 9999")
        module_server.cli_ok("officer", "add", "--agency", "ST", "--code", "CB009", "--name", "Phạm Thu Hà",
                             "--title", "Chuyên viên")
        third = device.sync()
        assert third.ok and third.settings_changed
        device.reopen()  # the app applies them when it opens, as it does when it returns to idle
        settings = device.services.settings
        assert settings.contact.hotline == "1900 9999"
        assert [(o.id, o.name) for o in settings.officers] == [("CB009", "Phạm Thu Hà")]
        assert device.services.settings_version == device.services.state.get(state.SETTINGS_VERSION)


def _catalog_version(device: Kiosk) -> tuple[str | None, str | None, int]:
    state_ = device.services.state
    return state_.get(state.CATALOG_ETAG), state_.get(state.CATALOG_VERSION), device.services.catalog.count()


def test_catalog_is_imported_when_it_changes_and_a_bad_download_changes_nothing(module_server: ServerHandle,
                                                                                proxy: FaultyProxy,
                                                                                tmp_path: Path) -> None:
    module_server.cli_ok("catalog", "import", str(CATALOG_ONE))
    with kiosk(tmp_path / "kiosk") as device:
        enroll(device.services, proxy.url, module_server.add_device()["code"], tuning=FAST)
        first = device.sync()
        assert first.ok and first.catalog is not None and first.catalog.changed
        etag, version, count = _catalog_version(device)
        assert etag is not None and len(etag) == 64 and count == first.catalog.count > 0
        assert device.services.catalog.version() is not None

        proxy.seen.clear()
        assert device.sync().catalog == first.catalog.__class__(False, version or "")
        assert [s.status for s in proxy.seen if s.path == protocol.CATALOG_PATH] == [304]

        module_server.cli_ok("catalog", "import", str(CATALOG_TWO))
        before = _catalog_version(device)
        codes_before = [hit.code for hit in device.services.catalog.list_all()]

        def broken_json(status: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
            # A server that serves a broken catalog under a matching hash: the importer must still refuse it.
            bad = b'[{"MATTHC": "1.001193", "TENTTHC": '
            headers.pop("content-encoding", None)
            headers["etag"] = f'"{hashlib.sha256(bad).hexdigest()}"'
            return status, headers, bad

        faults = [(Fault("GET", protocol.CATALOG_PATH, "flip"), E_BAD_DOWNLOAD),
                  (Fault("GET", protocol.CATALOG_PATH, "truncate", keep_bytes=700), E_BAD_DOWNLOAD),
                  (Fault("GET", protocol.CATALOG_PATH, "rewrite", rewrite=broken_json), E_CATALOG)]
        for fault, code in faults:
            proxy.plan(fault)
            result = device.sync()
            assert [e.code for e in result.errors] == [code], (fault.action, [e.en for e in result.errors])
            assert "giữ danh mục cũ" in result.errors[0].vi and "old" in result.errors[0].en
            assert result.push is not None and result.health is not None  # the rest of the pass still ran
            assert _catalog_version(device) == before
            assert [hit.code for hit in device.services.catalog.list_all()] == codes_before
            assert not list(device.data_dir.glob(".catalog-*"))  # no temporary file left behind

        fixed = device.sync()
        assert fixed.ok and fixed.catalog is not None and fixed.catalog.changed
        assert _catalog_version(device)[0] != before[0] and _catalog_version(device)[1] != before[1]


# ---- health and the clock --------------------------------------------------------------------------------

def test_a_wrong_clock_is_corrected_for_signing_and_flagged(module_server: ServerHandle, proxy: FaultyProxy,
                                                             tmp_path: Path) -> None:
    import dataclasses

    wrong = dataclasses.replace(FAST, clock=lambda: time.time() + 900)  # the kiosk's clock is 15 minutes fast
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(3)
        registered = module_server.add_device()
        enroll(device.services, proxy.url, registered["code"], tuning=wrong)
        result = device.sync(tuning=wrong)
        assert result.ok, [e.en for e in result.errors]
        assert result.health is not None and result.health.clock_flagged
        assert 880 < result.health.clock_drift_s < 920
        offset = float(device.services.state.get(state.CLOCK_OFFSET) or 0)
        assert -920 < offset < -880
        row = fleet_row(module_server, registered["device_id"])
        assert row["clock_flagged"] and any(alert["code"] == "clock" for alert in row["alerts"])
        status = device.services.sync_status()
        assert status.clock_flagged and status.clock_drift_s is not None and status.clock_drift_s > 880

        proxy.seen.clear()  # the learnt offset is kept: the next pass is not refused first
        assert device.sync(tuning=wrong).ok
        assert 401 not in [s.status for s in proxy.seen]


# ---- TLS --------------------------------------------------------------------------------------------------

def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kiosk-test-server")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_is_verified_by_default_and_a_ca_file_lets_it_through(module_server: ServerHandle,
                                                                  tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    https = FaultyProxy(module_server.port, tls=context)
    try:
        registered = module_server.add_device()
        with kiosk(tmp_path / "refusing") as device:
            with pytest.raises(SyncError) as info:
                enroll(device.services, https.url, registered["code"], tuning=FAST)
            assert info.value.code == E_TLS and cli.exit_code(info.value) == cli.EXIT_NEEDS_IT
            assert "không được tin cậy" in info.value.vi and "sync.ca_file" in info.value.en
            assert device.services.state.get(state.SERVER_URL) is None
            deadline = time.monotonic() + 5  # the proxy notes the refused handshake on its own thread
            while not https.seen and time.monotonic() < deadline:
                time.sleep(0.02)
            assert {seen.action for seen in https.seen} == {"tls_refused"}  # nothing reached the server

        with kiosk(tmp_path / "trusting", kiosk_settings(ca_file=str(cert))) as device:
            device.rate(4)
            answer = enroll(device.services, https.url, registered["code"], tuning=FAST)
            result = device.sync()
            assert result.ok, [e.en for e in result.errors]
            assert_exactly_once(module_server, device, answer.device_id)
    finally:
        https.close()


def test_the_catalog_download_is_gzip_on_the_wire_and_checked_after_inflating(module_server: ServerHandle,
                                                                              tmp_path: Path) -> None:
    # The server compresses the catalog for clients that accept it; the ETag is the SHA-256 of the JSON itself.
    module_server.cli_ok("catalog", "import", str(CATALOG_ONE))
    seen_bodies: list[bytes] = []

    def keep(status: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        seen_bodies.append(body)
        return status, headers, body

    relay = FaultyProxy(module_server.port)
    try:
        relay.plan(Fault("GET", protocol.CATALOG_PATH, "rewrite", rewrite=keep))
        with kiosk(tmp_path / "kiosk") as device:
            enroll(device.services, relay.url, module_server.add_device()["code"], tuning=FAST)
            result = device.sync()
            assert result.ok and result.catalog is not None and result.catalog.changed
            etag = device.services.state.get(state.CATALOG_ETAG)
        assert seen_bodies and seen_bodies[0][:2] == b"\x1f\x8b"
        assert hashlib.sha256(gzip.decompress(seen_bodies[0])).hexdigest() == etag
    finally:
        relay.close()


def test_a_server_still_failing_after_every_retry_ends_the_pass(module_server: ServerHandle, proxy: FaultyProxy,
                                                                tmp_path: Path) -> None:
    with kiosk(tmp_path / "kiosk") as device:
        device.rate(3)
        device_id = device.enroll(module_server, proxy.url)
        proxy.seen.clear()
        body = json.dumps({"code": protocol.E_UNAVAILABLE, "message_vi": "máy chủ không tới được cơ sở dữ liệu",
                           "message_en": "the server cannot reach its database"}).encode()
        proxy.plan(Fault("POST", protocol.PUSH_PATH, "respond", times=100, status=503, body=body,
                         headers={"Content-Type": "application/json"}))
        result = device.sync()
        assert [e.code for e in result.errors] == ["server_error"]
        assert "cannot reach its database" in result.errors[0].en and "503" in result.errors[0].en
        assert cli.exit_code(result.errors[0]) == cli.EXIT_FAILED
        # Eight tries of the push, then nothing else: no settings, catalog or health request after it.
        assert [(s.path, s.status) for s in proxy.seen] == [(protocol.PUSH_PATH, 503)] * FAST.retry.attempts
        assert server_chain(module_server, device_id) == [] and device.acked() == 0
