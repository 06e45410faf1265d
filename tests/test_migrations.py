"""Schema migrations: new databases at the head, existing ones upgraded in place, nothing ever lost."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import alembic.config
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event

import kiosk.migrations
from kiosk import db, paths
from kiosk.catalog import Catalog
from kiosk.db import SCHEMA_HEAD, Database, open_database, schema_version
from kiosk.domain.errors import BilingualError
from kiosk.domain.keys import DeviceKey
from kiosk.domain.procedures import Document, Procedure
from kiosk.ratings import RatingLog
from kiosk.services import Services
from kiosk.settings import Settings

MIGRATIONS = Path(kiosk.migrations.__file__).parent
BIRTH = Procedure(code="1.001193", name="Đăng ký khai sinh", field_code="HT", field_name="Hộ tịch",
                  documents=(Document("Tờ khai đăng ký khai sinh", originals=1),))


def alembic_config(script_location: str = "kiosk:migrations") -> alembic.config.Config:
    config = alembic.config.Config()
    config.set_main_option("script_location", script_location)
    return config


def tables(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        found = con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        return {r[0] for r in found}
    finally:
        con.close()


def indexes(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        con.close()


def log_rows(path: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT seq, uuid, level, hash FROM log ORDER BY seq").fetchall()
    finally:
        con.close()


def build_at_0001(path: Path) -> None:
    """A database made by Alembic itself at revision 0001, as the first release left it."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()


def fill(database: Database, key_path: Path, ratings: int = 3) -> RatingLog:
    log = RatingLog(database, DeviceKey.load_or_create(key_path))
    for value in range(ratings):
        receipt = log.record_rating(5 - value, counter_id="Q01", officer_id="CB001", language="vi")
        log.record_answer(receipt.uuid, "officer", 4)
    return log


def test_schema_head_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [SCHEMA_HEAD]  # one head, no branches
    assert script.get_current_head() == SCHEMA_HEAD


def test_new_database_is_created_at_the_head(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    assert schema_version(path) is None
    engine = open_database(path)
    engine.dispose()
    assert schema_version(path) == SCHEMA_HEAD
    assert {"log", "device_state", "alembic_version", "log_append_only_update", "log_append_only_delete",
            "catalog_version", "procedure", "procedure_fts", "procedure_name_fts"} <= tables(path)


def test_opening_an_existing_database_keeps_its_rows_and_skips_alembic(
        settings: Settings, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = Services.open(settings, data_dir)
    fill(services.database, data_dir / paths.KEY_NAME)
    services.close()
    path = data_dir / paths.DB_NAME
    before = log_rows(path)
    assert len(before) == 6

    def no_alembic(_engine: Engine) -> None:
        raise AssertionError("an up-to-date database must not run Alembic")

    monkeypatch.setattr(db, "upgrade", no_alembic)
    reopened = Services.open(settings, data_dir)
    try:
        assert log_rows(path) == before
        assert reopened.ratings.verify().ok
        assert reopened.ratings.record_rating(3, counter_id="Q01", officer_id=None, language="vi").seq == 7
    finally:
        reopened.close()


def test_database_built_at_revision_0001_opens_with_its_rows(tmp_path: Path) -> None:
    """A database made by Alembic itself at 0001 (as an older release did), holding ratings."""
    path = tmp_path / "kiosk.db"
    build_at_0001(path)
    fill(Database(path), tmp_path / "key.pem")
    assert schema_version(path) == "0001"
    before = log_rows(path)

    reopened = open_database(path)
    try:
        log = RatingLog(Database(path), DeviceKey.load_or_create(tmp_path / "key.pem"))
        assert log.verify().ok and log.verify().count == 6
    finally:
        reopened.dispose()
    assert log_rows(path) == before
    assert schema_version(path) == SCHEMA_HEAD


def test_rating_database_at_0001_gains_the_catalog_and_keeps_its_ratings(tmp_path: Path) -> None:
    """0001 -> 0002: the catalog tables arrive, every rating and the chain stay as they were."""
    path = tmp_path / "kiosk.db"
    build_at_0001(path)
    fill(Database(path), tmp_path / "key.pem", ratings=5)
    assert "procedure" not in tables(path)
    before = log_rows(path)

    db.prepare(path).close()
    assert schema_version(path) == "0002"
    assert {"catalog_version", "procedure", "procedure_fts", "procedure_name_fts",
            "ix_procedure_field"} <= tables(path) | indexes(path)
    assert log_rows(path) == before
    log = RatingLog(Database(path), DeviceKey.load_or_create(tmp_path / "key.pem"))
    assert log.verify().ok and log.verify().count == 10
    catalog = Catalog(Database(path))
    try:
        assert catalog.version() is None and catalog.count() == 0
        catalog.import_procedures([BIRTH], "after the upgrade")
        assert [hit.code for hit in catalog.search("to khai")] == [BIRTH.code]
    finally:
        catalog.close()
    assert log_rows(path) == before


def test_catalog_migration_downgrades_to_0001_keeping_ratings(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    db.prepare(path).close()
    fill(Database(path), tmp_path / "key.pem", ratings=2)
    Catalog(Database(path)).import_procedures([BIRTH], "test")
    before = log_rows(path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    engine.dispose()
    assert schema_version(path) == "0001"
    assert not {"catalog_version", "procedure", "procedure_fts", "procedure_name_fts"} & tables(path)
    assert log_rows(path) == before


NEXT_REVISION = '''"""A later release: adds a column to the log and a table."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("log", sa.Column("synced_at", sa.String(32)))
    op.create_table("sync_batch", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("sync_batch")
    op.drop_column("log", "synced_at")
'''


@pytest.fixture
def next_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Switches kiosk.db to the kiosk's migrations plus a revision 0003, as the next release would ship."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0003_sync_batch.py").write_text(NEXT_REVISION, encoding="utf-8")

    class NextReleaseConfig(alembic.config.Config):
        def set_main_option(self, name: str, value: str) -> None:
            super().set_main_option(name, str(scripts) if name == "script_location" else value)

    def activate() -> None:
        monkeypatch.setattr(alembic.config, "Config", NextReleaseConfig)
        monkeypatch.setattr(db, "SCHEMA_HEAD", "0003")

    return activate


def test_older_database_is_upgraded_in_place_without_losing_rows(
        tmp_path: Path, next_release: Callable[[], None]) -> None:
    path = tmp_path / "kiosk.db"
    key_path = tmp_path / "key.pem"
    # Today's release: a database at the current head with ratings and a catalog in it.
    engine = open_database(path)
    fill(Database(path), key_path, ratings=4)
    Catalog(Database(path)).import_procedures([BIRTH], "before the upgrade")
    engine.dispose()
    assert schema_version(path) == SCHEMA_HEAD
    before = log_rows(path)
    inode = path.stat().st_ino

    # The next release starts on the same file.
    next_release()
    engine = open_database(path)
    try:
        log = RatingLog(Database(path), DeviceKey.load_or_create(key_path))
        report = log.verify()
        assert report.ok and report.count == 8
        assert log.record_rating(2, counter_id="Q01", officer_id=None, language="vi").seq == 9
    finally:
        engine.dispose()
    assert schema_version(path) == "0003"
    assert path.stat().st_ino == inode  # the same file, upgraded in place
    assert log_rows(path)[:8] == before
    con = sqlite3.connect(path)
    try:
        columns = [r[1] for r in con.execute("PRAGMA table_info(log)")]
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute("DELETE FROM log WHERE seq = 1")  # the triggers survived the upgrade
    finally:
        con.close()
    assert "synced_at" in columns
    assert {"sync_batch", "log_append_only_update", "log_append_only_delete"} <= tables(path)
    catalog = Catalog(Database(path))
    try:
        assert catalog.get(BIRTH.code) == BIRTH  # the catalog survived the next release's upgrade too
        assert [hit.code for hit in catalog.search("khai sinh")] == [BIRTH.code]
    finally:
        catalog.close()


def test_empty_file_is_treated_as_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    path.touch()  # e.g. left behind by an interrupted first start
    engine = open_database(path)
    engine.dispose()
    assert schema_version(path) == SCHEMA_HEAD


def test_unstamped_database_keeps_its_other_tables(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("INSERT INTO notes (body) VALUES ('ghi chú của kỹ thuật viên')")
    con.commit()
    con.close()
    assert schema_version(path) is None
    engine = open_database(path)
    engine.dispose()
    assert schema_version(path) == SCHEMA_HEAD
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT body FROM notes").fetchall() == [("ghi chú của kỹ thuật viên",)]
    finally:
        con.close()


@pytest.mark.parametrize("content", [
    b"this is not a database, it is a note\n" * 50,
    b"SQLite format 3\x00" + b"\xff" * 4080,  # the right magic, garbage after it
])
def test_a_file_that_is_not_a_database(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "kiosk.db"
    path.write_bytes(content)
    with pytest.raises(BilingualError) as info:
        open_database(path)
    assert str(path) in info.value.vi and str(path) in info.value.en
    assert "kiosk doctor" in info.value.en
    assert path.read_bytes() == content  # nothing was overwritten


def test_services_open_on_a_broken_database(settings: Settings, data_dir: Path) -> None:
    data_dir.mkdir(mode=0o700)
    path = data_dir / paths.DB_NAME
    path.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(BilingualError) as info:
        Services.open(settings, data_dir)
    assert str(path) in info.value.en


def test_pragmas_are_set_on_every_connection(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "kiosk.db")
    seen: list[int] = []

    @event.listens_for(engine, "connect")
    def check(dbapi_connection: Any, _record: Any) -> None:
        seen.append(dbapi_connection.execute("PRAGMA synchronous").fetchone()[0])

    try:
        engine.dispose()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    finally:
        engine.dispose()
    assert seen == [2]


@pytest.mark.parametrize("directory", ["có dấu cách", "has#hash", "has?query", "has%41percent", "50%"])
def test_awkward_directory_names(tmp_path: Path, directory: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path is never read as a URL: '#', '?' and '%' in a directory name stay part of it."""
    folder = tmp_path / directory
    folder.mkdir()
    path = folder / "kiosk.db"
    engine = open_database(path)
    fill(Database(path), folder / "key.pem", ratings=1)
    engine.dispose()
    assert sorted(p.name for p in folder.iterdir() if p.suffix in (".db", ".pem")) == ["key.pem", "kiosk.db"]
    assert schema_version(path) == SCHEMA_HEAD

    def no_alembic(_engine: Engine) -> None:
        raise AssertionError("an up-to-date database must not run Alembic")

    monkeypatch.setattr(db, "upgrade", no_alembic)
    engine = open_database(path)
    try:
        assert RatingLog(Database(path), DeviceKey.load_or_create(folder / "key.pem")).verify().count == 2
    finally:
        engine.dispose()
