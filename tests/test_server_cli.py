"""The `kiosk-server` command, run as a real process on SQLite and PostgreSQL: what IT types, and its errors
(one bilingual line, exit code 2, no traceback, nothing changed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sync.server.admin.accounts import verify_password
from sync.server.models import ADMIN_USER, CATALOG
from sync.server.process import free_port
from tests.sync_harness import ServerHandle

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "assets" / "catalog" / "sample-procedures.json"
BROKEN = ROOT / "tests" / "data" / "broken"


@pytest.fixture
def server(server_db_url: str, tmp_path: Path) -> ServerHandle:
    """A server's database and data directory (not running: these are commands IT runs beside it)."""
    return ServerHandle(server_db_url, tmp_path / "server-data", free_port())


def failed(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit code 2, a Vietnamese line then an English one, naming `words`, and no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Lỗi: ") and lines[1].strip().startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_agencies_counters_officers_and_devices(server: ServerHandle) -> None:
    server.cli_ok("agency", "add", "--code", "HK", "--name", "Trung tâm Phục vụ hành chính công phường Hoàn Kiếm",
                  "--parent", "Thành phố Hà Nội", "--hotline", "024 3825 3536")
    server.cli_ok("agency", "set", "HK", "--complaint-address", "Số 126 Hàng Trống")
    server.cli_ok("counter", "add", "--agency", "HK", "--code", "Q01", "--name", "Quầy 1 — Hộ tịch",
                  "--procedures", "1.001193, 1.000894")
    server.cli_ok("officer", "add", "--agency", "HK", "--code", "CB001", "--name", "Nguyễn Văn A",
                  "--title", "Công chức Tư pháp - Hộ tịch", "--counter", "Q01")
    agencies = json.loads(server.cli_ok("agency", "list", "--json").stdout)
    assert [(a["code"], a["hotline"], a["complaint_address"]) for a in agencies] == [
        ("HK", "024 3825 3536", "Số 126 Hàng Trống")]
    made = json.loads(server.cli_ok("device", "add", "--agency", "HK", "--counter", "Q01", "--json").stdout)
    assert set(made) >= {"device_id", "code", "code_expires_at"} and made["status"] == "pending"
    text = server.cli_ok("device", "add", "--agency", "HK", "--counter", "Q01").stdout
    assert "kiosk-sync enroll" in text and "Mã đăng ký" in text
    listed = json.loads(server.cli_ok("device", "list", "--json").stdout)
    assert made["device_id"] in [d["device_id"] for d in listed] and len(listed) == 2
    assert "thu hồi" in server.cli_ok("device", "revoke", made["device_id"]).stdout
    fleet = {d["device_id"]: d for d in json.loads(server.cli_ok("fleet", "--json").stdout)}
    assert fleet[made["device_id"]]["status"] == "revoked"
    assert "HK/Q01" in server.cli_ok("fleet").stdout
    new_code = json.loads(server.cli_ok("device", "code", listed[0]["device_id"]
                                        if listed[0]["device_id"] != made["device_id"] else listed[1]["device_id"],
                                        "--json").stdout)
    assert new_code["code"] != made["code"]


def test_mistakes_are_one_bilingual_line_and_change_nothing(server: ServerHandle) -> None:
    server.cli_ok("agency", "add", "--code", "HK", "--name", "Trung tâm HK")
    failed(server.cli("agency", "add", "--code", "HK", "--name", "Khác"), "HK")
    assert "already present" in server.cli_ok("agency", "add", "--code", "HK", "--name", "x", "--exist-ok").stdout
    failed(server.cli("counter", "add", "--agency", "XX", "--code", "Q01", "--name", "Q"), "XX")
    failed(server.cli("counter", "add", "--agency", "HK", "--code", "Q01", "--name", "Q", "--procedures", "12345"),
           "12345")
    server.cli_ok("counter", "add", "--agency", "HK", "--code", "Q01", "--name", "Q")
    failed(server.cli("counter", "add", "--agency", "HK", "--code", "Q01", "--name", "Q"), "Q01")
    failed(server.cli("officer", "add", "--agency", "HK", "--code", "CB1", "--name", "A", "--counter", "Q09"), "Q09")
    failed(server.cli("device", "add", "--agency", "HK", "--counter", "Q02"), "Q02")
    failed(server.cli("agency", "add", "--code", "bad code!", "--name", "x"), "bad code!")
    failed(server.cli("agency", "add", "--code", "XA", "--name", "UBND xã\x1b[31m Đỏ"), "U+001B")
    failed(server.cli("officer", "add", "--agency", "HK", "--code", "CB2", "--name", "Lan\x01"), "U+0001")
    failed(server.cli("device", "revoke", "00000000-0000-4000-8000-000000000000"))
    assert json.loads(server.cli_ok("device", "list", "--json").stdout) == []
    assert [a["name"] for a in json.loads(server.cli_ok("agency", "list", "--json").stdout)] == ["Trung tâm HK"]


def test_a_broken_catalog_is_refused_with_its_error_and_changes_nothing(server: ServerHandle) -> None:
    assert "49" in server.cli_ok("catalog", "import", str(SAMPLE)).stdout
    for broken in sorted(BROKEN.iterdir())[:3]:
        failed(server.cli("catalog", "import", str(broken)), broken.name)
    failed(server.cli("catalog", "import", str(BROKEN / "no-such-file.json")), "no-such-file.json")
    with server.engine().connect() as conn:
        assert [row.version for row in conn.execute(CATALOG.select())] == [1]
    server.dispose()


def test_admin_accounts_store_a_salted_hash(server: ServerHandle) -> None:
    server.cli_ok("admin", "add", "it.hoankiem", "--password-stdin", input="mật khẩu dài đủ\n")
    server.cli_ok("admin", "add", "it.tinh", "--password-stdin", input="mật khẩu dài đủ\n")
    failed(server.cli("admin", "add", "it.hoankiem", "--password-stdin", input="mật khẩu khác dài\n"), "it.hoankiem")
    failed(server.cli("admin", "add", "ngắn", "--password-stdin", input="ngắn\n"))
    failed(server.cli("admin", "add", "it.xa", input="no terminal\n"), "--password-stdin")
    with server.engine().connect() as conn:
        hashes = [row.password_hash for row in conn.execute(ADMIN_USER.select().order_by(ADMIN_USER.c.username))]
    server.dispose()
    assert len(hashes) == 2 and hashes[0] != hashes[1]  # same password, different salts
    assert all(h.startswith("scrypt$") and "mật khẩu" not in h for h in hashes)
    assert verify_password("mật khẩu dài đủ", hashes[0]) and not verify_password("sai", hashes[0])


def test_db_upgrade_is_repeatable(server: ServerHandle) -> None:
    for _ in range(2):
        assert "up to date" in server.cli_ok("db", "upgrade").stdout


def test_a_database_that_cannot_be_used_is_one_clear_error(tmp_path: Path) -> None:
    handle = ServerHandle("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", tmp_path, free_port())
    failed(handle.cli("fleet"), "127.0.0.1:1")
    failed(ServerHandle("mysql://x@127.0.0.1/db", tmp_path, 0).cli("fleet"), "mysql")
    failed(ServerHandle("not a url", tmp_path, 0).cli("fleet"), "not a url")
    secret = ServerHandle("postgresql+psycopg://kiosk:s3cret@127.0.0.1:1/x", tmp_path, 0).cli("device", "list")
    failed(secret)
    assert "s3cret" not in secret.stderr  # the password is never printed
    assert ServerHandle("postgresql+psycopg://postgres@127.0.0.1:1/x", tmp_path, free_port()).cli(
        "run").returncode == 2


def test_a_wrong_settings_file_names_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('[fleet]\nsilent_after_h = "một ngày"\n', encoding="utf-8")
    handle = ServerHandle(f"sqlite:///{tmp_path / 's.db'}", tmp_path, 0, config=config)
    failed(handle.cli("fleet"), str(config), "fleet.silent_after_h")
    config.write_text("[fleet]\nsilent_after = 2\n", encoding="utf-8")
    failed(handle.cli("fleet"), "fleet.silent_after")
