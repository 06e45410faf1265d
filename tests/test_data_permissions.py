"""Everything in the data directory is the kiosk user's alone (0700 and 0600), whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import db, paths
from kiosk.domain.keys import DeviceKey
from kiosk.services import Services
from kiosk.settings import Settings
from sync.agent.lock import pass_lock


def modes(directory: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.lstat().st_mode) for path in directory.iterdir()}


@pytest.fixture(params=[0o022, 0o002, 0o000], ids=["umask022", "umask002", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """Run the test under a permissive umask, as a misconfigured service or a shell might start the kiosk."""
    old = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(old)


def test_a_new_device_is_owner_only(umask: int, settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        services.ratings.record_rating(5, counter_id="Q01", officer_id="CB001", language="vi")
        services.state.put("probe", "x")
        with pass_lock(data_dir):  # the sync pass's lock file lives there too
            found = modes(data_dir)
    finally:
        services.close()
    # While the database is open SQLite keeps its -wal and -shm files beside it.
    assert {paths.DB_NAME, f"{paths.DB_NAME}-wal", f"{paths.DB_NAME}-shm", paths.KEY_NAME} <= set(found)
    assert found == dict.fromkeys(found, 0o600)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert modes(data_dir) == dict.fromkeys(modes(data_dir), 0o600)  # and after closing


def test_a_database_prepared_on_its_own_is_owner_only(umask: int, tmp_path: Path) -> None:
    database = db.prepare(tmp_path / "kiosk.db")
    try:
        with database.writing() as con:
            con.execute("INSERT INTO device_state (key, value) VALUES ('probe', 'x')")
        with database.reading() as con:  # held open, so the -wal and -shm files exist
            con.execute("SELECT 1").fetchone()
            found = modes(tmp_path)
    finally:
        database.close()
    assert {"kiosk.db", "kiosk.db-wal", "kiosk.db-shm"} <= set(found)
    assert found == dict.fromkeys(found, 0o600)


def test_widened_files_are_narrowed_when_the_kiosk_opens(settings: Settings, data_dir: Path) -> None:
    Services.open(settings, data_dir).close()
    (data_dir / paths.DB_NAME).chmod(0o644)
    (data_dir / paths.KEY_NAME).chmod(0o640)
    (data_dir / "ratings-2026-11.csv").write_text("seq,level\n", encoding="utf-8")  # an export left here
    (data_dir / "ratings-2026-11.csv").chmod(0o666)
    (data_dir / "kiosk.db.bak").write_bytes((data_dir / paths.DB_NAME).read_bytes())  # a copy made by hand
    (data_dir / "kiosk.db.bak").chmod(0o755)
    services = Services.open(settings, data_dir)
    services.close()
    found = modes(data_dir)
    assert found[paths.DB_NAME] == found[paths.KEY_NAME] == found["ratings-2026-11.csv"] == 0o600
    assert found["kiosk.db.bak"] == 0o700  # the owner keeps what it had; the group and others lose everything


def test_a_link_in_the_data_directory_is_not_followed(settings: Settings, data_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared.txt"
    elsewhere.write_text("not the kiosk's", encoding="utf-8")
    elsewhere.chmod(0o644)
    data_dir.mkdir(mode=0o700)
    (data_dir / "shared.txt").symlink_to(elsewhere)
    Services.open(settings, data_dir).close()
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644


def test_a_leftover_temporary_key_file_does_not_widen_the_key(umask: int, tmp_path: Path) -> None:
    leftover = tmp_path / "device_key.tmp"  # from a run cut short while writing the key
    leftover.write_bytes(b"")
    leftover.chmod(0o666)
    DeviceKey.load_or_create(tmp_path / "device_key.pem")
    assert stat.S_IMODE((tmp_path / "device_key.pem").stat().st_mode) == 0o600


def test_widened_lists_the_directory_and_its_wide_files(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    directory.mkdir(mode=0o700)
    directory.chmod(0o755)
    for name, mode in (("a", 0o600), ("b", 0o640), ("c", 0o604), ("d", 0o700)):
        (directory / name).write_bytes(b"")
        (directory / name).chmod(mode)
    (directory / "sub").mkdir(mode=0o700)
    assert paths.widened(directory) == [(directory, 0o755), (directory / "b", 0o640), (directory / "c", 0o604)]
    assert paths.widened(tmp_path / "missing") == []


def test_the_server_s_sqlite_database_is_owner_only(umask: int, tmp_path: Path) -> None:
    """It holds citizens' comments and the contact details of those who asked for a reply."""
    from sqlalchemy import text

    from sync.server.db import open_database

    folder = tmp_path / "server-data"
    engine = open_database(f"sqlite:///{folder}/server.db")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (x INTEGER)"))
            conn.execute(text("INSERT INTO probe VALUES (1)"))
        found = modes(folder)
    finally:
        engine.dispose()
    assert "server.db" in found and found == dict.fromkeys(found, 0o600), found
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # A database some copy left readable by others is narrowed when the server opens it.
    (folder / "server.db").chmod(0o644)
    open_database(f"sqlite:///{folder}/server.db").dispose()
    assert modes(folder)["server.db"] == 0o600
