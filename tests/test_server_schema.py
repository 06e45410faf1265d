"""The server's database and data handling on SQLite and PostgreSQL: migrations match the models, the catalog
converts to national JSON without loss, bodies are capped, and the ingest function the bench calls works alone."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select

from kiosk.domain.catalog_import import load_file, parse_national
from sync import protocol
from sync.server import db, registry
from sync.server.catalog import store as catalog
from sync.server.devices import enrolment, ingest
from sync.server.devices.body import decode, inflate
from sync.server.errors import ApiError, ServerError
from sync.server.models import RATING, RECORD, metadata
from sync.server.process import sqlite_url
from tests.sync_harness import Device

DATA = Path(__file__).resolve().parent / "data"
CATALOGS = [DATA.parent.parent / "assets" / "catalog" / "sample-procedures.json",
            DATA.parent.parent / "assets" / "catalog" / "example.csv",
            *(DATA / name for name in ("national_good.json", "national_messy.json", "national_one.json",
                                       "catalog_bom.csv", "catalog_semicolon.csv"))]


@pytest.fixture
def engine(server_db_url: str) -> Iterator[Engine]:
    """A migrated, empty server database."""
    made = db.open_database(server_db_url)
    yield made
    made.dispose()


def test_migrations_build_exactly_the_models_and_stamp_the_head(engine: Engine) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata) == []
    config = Config()
    config.set_main_option("script_location", "sync.server:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == db.SCHEMA_HEAD == db.schema_version(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("rating")}
    assert {"q_access", "q_procedure", "q_officer", "q_result", "q_feedback", "harassment", "comment"} <= columns
    indexes = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("rating")}
    assert ("agency_id", "officer_code", "recorded_at") in indexes


def test_ingest_can_be_called_directly_and_refuses_a_broken_link(engine: Engine, tmp_path: Path) -> None:
    registry.add_agency(engine, "HK", {"name": "Trung tâm HK"})
    registry.add_counter(engine, "HK", "Q01", "Quầy 1", [])
    made = enrolment.add_device(engine, "HK", "Q01", timedelta(hours=1))
    kiosk = Device.create(tmp_path / "kiosk")
    request = protocol.EnrollRequest(code=made.code, public_key=kiosk.public_key, device_uuid=kiosk.local_uuid)
    enrolment.enrol(engine, request, db.utc_now())
    kiosk.rate(10, with_answers=True)
    records = [protocol.Record.model_validate(r) for r in kiosk.records()]
    result = ingest.push(engine, made.device_id, records[:25])
    assert (result.error, result.stored, result.acked_seq) == (None, 25, 25)
    again = ingest.push(engine, made.device_id, records)
    assert (again.error, again.stored, again.duplicates, again.acked_seq) == (None, 15, 25, 40)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RECORD)).scalar_one() == 40
        assert conn.execute(select(func.count()).select_from(RATING)).scalar_one() == 10
    kiosk.rate(1)
    (fresh,) = [protocol.Record.model_validate(r) for r in kiosk.records(after_seq=40)]
    broken = ingest.push(engine, made.device_id, [fresh.model_copy(update={"prev_hash": "f" * 64})])
    assert broken.error is not None and broken.error.body.code == protocol.E_CHAIN
    assert (broken.error.body.first_bad_seq, broken.acked_seq, broken.stored) == (41, 40, 0)
    kiosk.close()


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.name)
def test_every_catalog_converts_to_national_json_that_reads_back_the_same(path: Path) -> None:
    procedures = load_file(path)
    body = catalog.national_body(procedures, str(path))
    assert parse_national(json.loads(body), "again") == procedures


def test_inflate_caps_output_and_refuses_junk() -> None:
    small = gzip.compress(b'{"a": 1}')
    assert inflate(small) == b'{"a": 1}'
    assert decode(small, "gzip") == decode(b'{"a": 1}', None) == decode(b'{"a": 1}', "identity")
    with pytest.raises(ApiError) as bomb:
        inflate(gzip.compress(b"0" * 5000), limit=4096)
    assert bomb.value.status == 413
    for junk in (b"not gzip at all", small[:-4], small + b"trailing garbage",
                 zlib.compress(b"deflate, not gzip")):
        with pytest.raises(ApiError) as refused:
            inflate(junk)
        assert refused.value.status == 400 and refused.value.body.code == protocol.E_MALFORMED
    with pytest.raises(ApiError) as unknown:
        decode(small, "br")
    assert unknown.value.status == 415


def test_a_sqlite_url_in_memory_or_for_an_unknown_database_is_refused(tmp_path: Path) -> None:
    for url in ("sqlite://", "sqlite:///:memory:", "oracle://x@y/z", "://"):
        with pytest.raises(ServerError):
            db.make_engine(url)
    engine = db.make_engine(sqlite_url(tmp_path / "deep" / "dir" / "s.db"))
    assert (tmp_path / "deep" / "dir").is_dir()
    engine.dispose()
