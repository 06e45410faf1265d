"""The agent's parts that need no server: the lock, batches within the protocol's limits, back-off and budget,
the progress bar, status, and the kiosk-sync command's answers before any network is involved."""

from __future__ import annotations

import io
import json
import random
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import state
from kiosk.services import Services
from kiosk.settings import Settings
from kiosk.sync_status import staff_lines
from sync import protocol
from sync.agent import cli, push
from sync.agent.client import Budget, RetryPolicy, SyncClient, check_server_url
from sync.agent.device import Tuning
from sync.agent.errors import E_BAD_URL, E_BUDGET, E_NOT_ENROLLED, E_UNREACHABLE, SyncError
from sync.agent.lock import PassRunning, pass_lock
from sync.agent.progress import QuietProgress, TerminalProgress, for_stream
from sync.agent.run import locked_pass, run_pass
from tests.conftest import EXAMPLE_CONFIG


class FakeClock:
    """A monotonic clock that moves only when the code under test sleeps: waits are counted, not waited."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- the lock ---------------------------------------------------------------------------------------------

def test_second_holder_is_refused_at_once_and_the_lock_frees_after(tmp_path: Path) -> None:
    with pass_lock(tmp_path):
        with pytest.raises(PassRunning) as info, pass_lock(tmp_path):
            pass
        assert "đang chạy" in info.value.vi and "is running" in info.value.en
        assert str(tmp_path / "sync.lock") in info.value.en
    with pass_lock(tmp_path):  # released: taken again without waiting
        pass


def test_cli_run_exits_75_with_the_lock_message_while_another_pass_holds_it(data_dir: Path) -> None:
    Services.open(Settings(), data_dir).close()
    with pass_lock(data_dir):
        done = subprocess.run([sys.executable, "-m", "sync.agent.cli", "--config", str(EXAMPLE_CONFIG),
                               "--data-dir", str(data_dir), "run"], capture_output=True, text=True, timeout=60)
    assert done.returncode == cli.EXIT_BUSY == 75
    assert "Một lượt đồng bộ khác đang chạy" in done.stderr and "Another sync pass is running" in done.stderr


def test_locked_pass_raises_when_held(services: Services) -> None:
    with pass_lock(services.data_dir), pytest.raises(PassRunning):
        locked_pass(services)
    assert services.state.get(state.LAST_ATTEMPT) is None  # the refused pass did nothing at all


# ---- batches ----------------------------------------------------------------------------------------------

def test_batches_stay_within_the_protocol_limits(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(12):
        receipt = services.ratings.record_rating(5 - i % 5, counter_id="Q01", officer_id="CB001", language="vi")
        services.ratings.record_comment(receipt.uuid, "Góp ý rất dài " + "ĐĂNG KÝ KHAI SINH " * 28 + str(i))
    records = push.read_batch(services, 0, 100)
    assert [r.seq for r in records] == list(range(1, 25))
    body, count = push.encode("3f2a9c1e-0000-4000-8000-000000000001", records)
    assert count == 24
    # With a body limit this batch cannot meet, the batch shrinks until it does.
    monkeypatch.setattr(protocol, "MAX_BODY_BYTES", len(body) // 3)
    smaller, fewer = push.encode("3f2a9c1e-0000-4000-8000-000000000001", records)
    assert 0 < fewer < count and len(smaller) <= len(body) // 3
    assert push.encode("3f2a9c1e-0000-4000-8000-000000000001", records[:5])[0] == \
        push.encode("3f2a9c1e-0000-4000-8000-000000000001", records[:5])[0]  # same batch, same bytes


def test_batch_reads_resume_after_a_seq_and_respect_the_limit(services: Services) -> None:
    for _ in range(7):
        services.ratings.record_rating(3, counter_id="Q01", officer_id=None, language="en")
    assert [r.seq for r in push.read_batch(services, 2, 3)] == [3, 4, 5]
    assert push.read_batch(services, 7, 3) == []


def test_a_stored_record_that_does_not_fit_the_wire_is_named(services: Services) -> None:
    import sqlite3

    for _ in range(3):
        services.ratings.record_rating(4, counter_id="Q01", officer_id="CB001", language="vi")
    con = sqlite3.connect(services.database.path)
    con.execute("DROP TRIGGER log_append_only_update")
    con.execute("UPDATE log SET level = 9 WHERE seq = 2")
    con.commit()
    con.close()
    assert [r.seq for r in push.read_batch(services, 0, 10)] == [1]  # the batch ends before it
    with pytest.raises(SyncError) as info:
        push.read_batch(services, 1, 10)
    assert info.value.code == "local_record_invalid"
    assert "Bản ghi số 2" in info.value.vi and "Record 2" in info.value.en


# ---- back-off, budget, addresses --------------------------------------------------------------------------

def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    policy, rng = RetryPolicy(attempts=8, base_s=0.5, cap_s=4.0), random.Random(7)
    for retry in range(8):
        ceiling = min(4.0, 0.5 * 2 ** retry)
        waits = [policy.delay(retry, rng) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # it really spreads over the whole range


def test_unreachable_server_is_tried_as_often_as_the_policy_says(services: Services) -> None:
    clock = FakeClock()
    client = SyncClient(f"http://127.0.0.1:{closed_port()}", services.key, services.ratings.device_uuid,
                        budget=Budget(600, clock.monotonic), retry=RetryPolicy(attempts=4, base_s=1, cap_s=8),
                        sleep=clock.sleep, rng=random.Random(1))
    with pytest.raises(SyncError) as info:
        client.request("GET", protocol.SETTINGS_PATH)
    assert info.value.code == E_UNREACHABLE
    assert len(clock.sleeps) == 3  # between four tries
    assert all(0 <= wait <= min(8, 2 ** i) for i, wait in enumerate(clock.sleeps))
    assert "Không kết nối được" in info.value.vi and "Connection refused" in info.value.en


def test_every_wait_keeps_within_the_budget(services: Services) -> None:
    clock = FakeClock()
    client = SyncClient(f"http://127.0.0.1:{closed_port()}", services.key, services.ratings.device_uuid,
                        budget=Budget(5, clock.monotonic), retry=RetryPolicy(attempts=50, base_s=2, cap_s=60),
                        sleep=clock.sleep, rng=random.Random(3))
    with pytest.raises(SyncError) as info:
        client.request("GET", protocol.SETTINGS_PATH)
    assert info.value.code == E_BUDGET
    assert sum(clock.sleeps) <= 5 + 1e-9
    assert "Hết thời gian" in info.value.vi and "time budget" in info.value.en


@pytest.mark.parametrize("url", ["ftp://server", "server:8080", "http://", "https://h/?x=1", "https://h/#f", ""])
def test_bad_server_addresses_are_refused(url: str) -> None:
    with pytest.raises(SyncError) as info:
        check_server_url(url)
    assert info.value.code == E_BAD_URL and "không hợp lệ" in info.value.vi and "Not a valid" in info.value.en


def test_server_address_loses_its_trailing_slash() -> None:
    assert check_server_url(" https://sync.example.gov.vn:8443/ ") == "https://sync.example.gov.vn:8443"


def test_a_missing_ca_file_is_named(services: Services, tmp_path: Path) -> None:
    with pytest.raises(SyncError) as info:
        SyncClient("https://127.0.0.1:1", services.key, "x", budget=Budget(10), ca_file=tmp_path / "none.pem")
    assert str(tmp_path / "none.pem") in info.value.vi and "sync.ca_file" in info.value.en


# ---- a pass without enrolment, status, staff lines -------------------------------------------------------

def test_a_pass_before_enrolment_says_how_to_enrol_and_records_it(services: Services) -> None:
    result = run_pass(services, tuning=Tuning(clock=lambda: 1_800_000_000.0))
    assert not result.ok and [e.code for e in result.errors] == [E_NOT_ENROLLED]
    status = services.sync_status()
    assert status.last_attempt == "2027-01-15T08:00:00Z" and status.last_success == ""
    assert status.last_error is not None and "kiosk-sync enroll" in status.last_error.en
    lines = staff_lines(status, "vi")
    assert "chưa đăng ký" in lines.state and "chưa lần nào" in lines.last and not lines.ok
    assert "Lỗi" in lines.error and "kiosk-sync enroll" in lines.error


def test_staff_lines_shorten_long_errors_and_flag_a_wrong_clock(services: Services) -> None:
    with services.database.writing() as con:
        state.put(con, state.SERVER_URL, "https://sync.example.gov.vn:8443")
        state.put(con, state.SERVER_DEVICE_ID, "3f2a9c1e-0000-4000-8000-000000000001")
        state.put(con, state.LAST_SUCCESS, "2026-11-22T18:12:00Z")
        state.put(con, state.CLOCK_DRIFT, "-431.0")
        state.put(con, state.CLOCK_FLAGGED, "1")
        state.put(con, state.LAST_ERROR, "2026-11-23T01:40:00Z|" + "lỗi " * 100 + "|" + "error " * 100)
    lines = staff_lines(services.sync_status(), "en")
    assert "sync.example.gov.vn:8443" in lines.state
    assert "CLOCK WRONG by -431 s" in lines.last and not lines.ok
    assert lines.error.endswith("…") and len(lines.error) < 160


def test_an_error_with_a_bar_in_its_words_is_kept_whole(services: Services, tmp_path: Path) -> None:
    import dataclasses

    missing = tmp_path / "ca|bundle.pem"
    services.settings = dataclasses.replace(services.settings,
                                            sync=dataclasses.replace(services.settings.sync, ca_file=str(missing)))
    services.state.put_many({state.SERVER_URL: "https://sync.example.gov.vn:8443",
                             state.SERVER_DEVICE_ID: "3f2a9c1e-0000-4000-8000-000000000001"})
    result = run_pass(services, tuning=Tuning(clock=lambda: 1_800_000_000.0))
    assert not result.ok
    last = services.sync_status().last_error
    assert last is not None and last.at == "2027-01-15T08:00:00Z"
    assert last.vi == f"Không tìm thấy tệp CA {missing} (khoá sync.ca_file)"
    assert last.en == f"The CA file {missing} does not exist (key sync.ca_file)"
    stored = json.loads(services.state.get(state.LAST_ERROR) or "")
    assert stored == {"at": last.at, "vi": last.vi, "en": last.en}


def test_an_error_stored_by_an_older_kiosk_is_still_read(services: Services) -> None:
    services.state.put(state.LAST_ERROR, "2026-11-23T01:40:00Z|máy chủ từ chối|the server refused")
    last = services.sync_status().last_error
    assert last is not None and (last.at, last.vi, last.en) == ("2026-11-23T01:40:00Z", "máy chủ từ chối",
                                                                "the server refused")


def test_status_json_before_enrolment_exits_3(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--config", str(EXAMPLE_CONFIG), "--data-dir", str(data_dir), "status", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert code == cli.EXIT_NOT_ENROLLED
    assert shown["enrolled"] is False and shown["queue_depth"] == 0 and shown["last_error"] is None


def test_run_before_enrolment_exits_3_with_both_languages(data_dir: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--config", str(EXAMPLE_CONFIG), "--data-dir", str(data_dir), "run"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_NOT_ENROLLED
    assert "chưa đăng ký" in captured.err and "not enrolled" in captured.err
    assert "CHƯA XONG" in captured.out and "INCOMPLETE" in captured.out


@pytest.mark.parametrize(("args", "words"), [
    (["enroll", "--server", "ftp://x", "--code", "ABCDEF12"], "Not a valid server address"),
    (["enroll", "--server", "http://127.0.0.1:1", "--code", "AB"], "6 to 64 characters"),
    (["run", "--budget", "0"], "--budget must be"),
])
def test_bad_arguments_exit_2_and_change_nothing(data_dir: Path, capsys: pytest.CaptureFixture[str],
                                                 args: list[str], words: str) -> None:
    code = cli.main(["--config", str(EXAMPLE_CONFIG), "--data-dir", str(data_dir), *args])
    assert code == cli.EXIT_USAGE
    assert words in capsys.readouterr().err
    services = Services.open(Settings(), data_dir)
    try:
        assert services.state.get(state.SERVER_URL) is None and services.state.get(state.LAST_ATTEMPT) is None
    finally:
        services.close()


def test_a_broken_settings_file_exits_2_naming_the_key(tmp_path: Path, data_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "kiosk.toml"
    broken.write_text('[sync]\nserver_url = "ftp://nowhere"\n', encoding="utf-8")
    code = cli.main(["--config", str(broken), "--data-dir", str(data_dir), "status"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and "sync.server_url" in err and str(broken) in err
    assert not data_dir.exists()


# ---- progress -------------------------------------------------------------------------------------------

def test_progress_bar_draws_on_a_terminal_and_says_nothing_elsewhere() -> None:
    out = io.StringIO()
    bar = TerminalProgress(out, interval_s=0)
    bar.step("Đang gửi các đánh giá…", "Pushing ratings…")
    bar.start(200)
    bar.advance(50)
    bar.advance(150)
    bar.finish()
    text = out.getvalue()
    assert "Pushing ratings…" in text
    assert "\r[#######.......................] 50/200" in text
    assert "200/200 bản ghi / records (100%)" in text and text.endswith("\n")
    assert isinstance(for_stream(io.StringIO()), QuietProgress)  # not a TTY: quiet


# ---- kiosk doctor's sync check ------------------------------------------------------------------------------

def _doctor_sync(settings: Settings, data_dir: Path) -> tuple[str, str, str]:
    from kiosk import doctor

    check = next(c for c in doctor.run_checks(settings, data_dir) if c.name == "sync")
    return check.status, check.vi, check.en


def test_doctor_says_how_to_enrol(data_dir: Path) -> None:
    status, vi, en = _doctor_sync(Settings(), data_dir)
    assert status == "warn" and "kiosk-sync enroll" in vi and "Not enrolled" in en


def test_doctor_fails_a_missing_ca_file(tmp_path: Path, data_dir: Path) -> None:
    import dataclasses

    missing = str(tmp_path / "x.pem")
    settings = dataclasses.replace(Settings(), sync=dataclasses.replace(Settings().sync, ca_file=missing))
    status, vi, en = _doctor_sync(settings, data_dir)
    assert status == "fail" and "sync.ca_file" in vi and str(tmp_path / "x.pem") in en


@pytest.mark.parametrize(("facts", "expected", "words"), [
    ({state.LAST_SUCCESS: "2020-01-01T00:00:00Z"}, "warn", "last successful sync is old"),
    ({state.LAST_SUCCESS: "now"}, "ok", "last success"),
    ({state.LAST_SUCCESS: "now", state.CLOCK_DRIFT: "400.0", state.CLOCK_FLAGGED: "1"}, "warn", "clock is off"),
    ({state.LAST_ERROR: "2026-11-23T01:00:00Z|máy chủ từ chối|the server refused"}, "warn", "the server refused"),
    ({}, "warn", "Never synced"),
])
def test_doctor_reports_how_sync_went(data_dir: Path, facts: dict[str, str], expected: str, words: str) -> None:
    from sync.agent.device import utc_iso

    services = Services.open(Settings(), data_dir)
    with services.database.writing() as con:
        state.put(con, state.SERVER_URL, "https://sync.example.gov.vn")
        state.put(con, state.SERVER_DEVICE_ID, "3f2a9c1e-0000-4000-8000-000000000001")
        for key, value in facts.items():
            state.put(con, key, utc_iso() if value == "now" else value)
    services.close()
    status, vi, en = _doctor_sync(Settings(), data_dir)
    assert status == expected and words in en and "sync.example.gov.vn" in vi + en
