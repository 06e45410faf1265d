"""The signed hash chain: every edit, drop or insertion behind the app's back is caught at the right seq."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk import cli, paths
from kiosk.domain import chain
from kiosk.domain.keys import DeviceKey
from kiosk.services import Services
from kiosk.settings import Settings
from tests.conftest import EXAMPLE_CONFIG

TRIGGERS = ("log_append_only_update", "log_append_only_delete")
COMMENT = "Cán bộ hướng dẫn tận tình, dễ hiểu"


@pytest.fixture
def filled(settings: Settings, data_dir: Path) -> Iterator[Services]:
    """A device with six records: three ratings, each followed by one answer.

    seq 1 rating 5 · 2 answer access=4 · 3 rating 2 (repeat) · 4 comment
    seq 5 rating 4 (repeat) · 6 answer harassment=0
    """
    services = Services.open(settings, data_dir)
    log = services.ratings
    r1 = log.record_rating(5, counter_id="Q01", officer_id="CB001", language="vi", procedure_code="1.001193")
    log.record_answer(r1.uuid, "access", 4)
    r2 = log.record_rating(2, counter_id="Q01", officer_id="CB001", language="vi")
    log.record_comment(r2.uuid, COMMENT)
    r3 = log.record_rating(4, counter_id="Q01", officer_id="CB002", language="en")
    log.record_answer(r3.uuid, "harassment", 0)
    assert log.verify().ok and log.verify().count == 6
    yield services
    services.close()


def db_path(services: Services) -> Path:
    return services.data_dir / paths.DB_NAME


def connect(services: Services, *, drop_triggers: bool = True) -> sqlite3.Connection:
    """A plain sqlite3 connection, as someone editing the file by hand would use."""
    con = sqlite3.connect(db_path(services), isolation_level=None)
    con.row_factory = sqlite3.Row
    if drop_triggers:
        for name in TRIGGERS:
            con.execute(f"DROP TRIGGER {name}")
    return con


def rows(con: sqlite3.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in con.execute("SELECT * FROM log ORDER BY seq")]


def insert(con: sqlite3.Connection, record: dict[str, Any]) -> None:
    names = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    con.execute(f"INSERT INTO log ({names}) VALUES ({marks})", list(record.values()))


def set_head(con: sqlite3.Connection, seq: int, digest: str) -> None:
    con.execute("UPDATE device_state SET value = ? WHERE key = 'head_seq'", (str(seq),))
    con.execute("UPDATE device_state SET value = ? WHERE key = 'head_hash'", (digest,))


def reseal(record: dict[str, Any], signer: DeviceKey) -> dict[str, Any]:
    """Recompute the hash of an edited record and sign it: what a forger without the device key can do."""
    record = dict(record)
    record["hash"] = chain.record_hash(record)
    record["signature"] = signer.sign(chain.canonical(record))
    return record


def other_key() -> DeviceKey:
    return DeviceKey(Ed25519PrivateKey.generate())


def tamper(services: Services, edit: Callable[[sqlite3.Connection], None]) -> None:
    con = connect(services)
    try:
        edit(con)
    finally:
        con.close()


def assert_caught(services: Services, seq: int, *, problem_en: str | None = None) -> chain.ChainReport:
    report = services.ratings.verify()
    assert not report.ok
    assert report.first_bad_seq == seq
    assert report.problem_vi and report.problem_en
    if problem_en is not None:
        assert problem_en in report.problem_en
    # A fresh process (the CLI) sees the same thing.
    reopened = Services.open(services.settings, services.data_dir)
    try:
        again = reopened.ratings.verify()
    finally:
        reopened.close()
    assert again.first_bad_seq == seq
    return report


# --- the database itself refuses edits while the triggers are in place -----------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE log SET level = 5 WHERE seq = 3",
    "UPDATE log SET suspected_repeat = 0",
    "DELETE FROM log WHERE seq = 6",
    "DELETE FROM log",
])
def test_append_only_triggers_refuse_update_and_delete(filled: Services, statement: str) -> None:
    con = connect(filled, drop_triggers=False)
    try:
        before = rows(con)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            con.execute(statement)
        assert rows(con) == before
    finally:
        con.close()
    assert filled.ratings.verify().ok


def test_triggers_exist_in_a_new_database(filled: Services) -> None:
    con = connect(filled, drop_triggers=False)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    finally:
        con.close()
    assert set(TRIGGERS) <= names


# --- edits ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seq", "column", "value"), [
    (3, "level", 5),  # a 'Không hài lòng' turned into 'Rất hài lòng'
    (1, "level", 1),
    (4, "text", "Rất tốt"),  # the citizen's comment rewritten
    (4, "text", COMMENT + " "),  # even one space
    (3, "suspected_repeat", 0),  # a repeat un-flagged so it counts
    (5, "is_test", 1),  # a real rating hidden as a test
    (2, "value", 1),
    (6, "question", "access"),
    (2, "rating_uuid", None),
    (5, "officer_id", "CB001"),  # the rating moved to another officer
    (1, "procedure_code", "1.000001"),
    (5, "recorded_at", "2020-01-01T00:00:00.000Z"),
    (3, "counter_id", "Q02"),
    (5, "language", "vi"),
    (1, "kind", "answer"),
])
def test_edit_is_caught_at_its_seq(filled: Services, seq: int, column: str, value: Any) -> None:
    tamper(filled, lambda con: con.execute(f"UPDATE log SET {column} = ? WHERE seq = ?", (value, seq)))
    assert_caught(filled, seq, problem_en="hash mismatch")


def test_edit_of_uuid_is_caught(filled: Services) -> None:
    tamper(filled, lambda con: con.execute("UPDATE log SET uuid = ? WHERE seq = 2", (str(uuid.uuid4()),)))
    assert_caught(filled, 2)


def test_edited_signature_is_caught(filled: Services) -> None:
    def edit(con: sqlite3.Connection) -> None:
        sig = con.execute("SELECT signature FROM log WHERE seq = 4").fetchone()[0]
        flipped = ("B" if sig[0] == "A" else "A") + sig[1:]
        con.execute("UPDATE log SET signature = ? WHERE seq = 4", (flipped,))

    tamper(filled, edit)
    assert_caught(filled, 4, problem_en="signature")


def test_swapped_levels_of_two_ratings(filled: Services) -> None:
    tamper(filled, lambda con: con.execute(
        "UPDATE log SET level = CASE seq WHEN 3 THEN 4 ELSE 2 END WHERE seq IN (3, 5)"))
    assert_caught(filled, 3)


def test_swapped_rows(filled: Services) -> None:
    """Rows 3 and 5 exchange everything but their place in the sequence."""

    def edit(con: sqlite3.Connection) -> None:
        all_rows = {r["seq"]: r for r in rows(con)}
        con.execute("DELETE FROM log WHERE seq IN (3, 5)")
        insert(con, {**all_rows[5], "seq": 3})
        insert(con, {**all_rows[3], "seq": 5})

    tamper(filled, edit)
    assert_caught(filled, 3, problem_en="link to the previous record")


# --- deletions --------------------------------------------------------------------------------------------


def test_deleted_middle_row(filled: Services) -> None:
    tamper(filled, lambda con: con.execute("DELETE FROM log WHERE seq = 3"))
    report = assert_caught(filled, 3, problem_en="missing record")
    assert report.count == 2


def test_deleted_first_row(filled: Services) -> None:
    tamper(filled, lambda con: con.execute("DELETE FROM log WHERE seq = 1"))
    assert_caught(filled, 1)


def test_deleted_last_row_is_caught_through_the_stored_head(filled: Services) -> None:
    tamper(filled, lambda con: con.execute("DELETE FROM log WHERE seq = 6"))
    report = assert_caught(filled, 6, problem_en="last records were deleted")
    assert "6" in report.problem_en and report.count == 5


def test_deleted_last_two_rows(filled: Services) -> None:
    tamper(filled, lambda con: con.execute("DELETE FROM log WHERE seq >= 5"))
    assert_caught(filled, 5, problem_en="last records were deleted")


def test_deleted_everything(filled: Services) -> None:
    tamper(filled, lambda con: con.execute("DELETE FROM log"))
    assert_caught(filled, 1, problem_en="last records were deleted")


def test_deleted_and_renumbered_tail(filled: Services) -> None:
    """Dropping row 3 and closing the gap keeps the numbers whole, but the links do not fit."""

    def edit(con: sqlite3.Connection) -> None:
        con.execute("DELETE FROM log WHERE seq = 3")
        con.execute("UPDATE log SET seq = seq + 1000 WHERE seq > 3")
        con.execute("UPDATE log SET seq = seq - 1001 WHERE seq > 1000")

    tamper(filled, edit)
    assert_caught(filled, 3)


# --- insertions -------------------------------------------------------------------------------------------


def _forged_rating(after: dict[str, Any], seq: int, signer: DeviceKey) -> dict[str, Any]:
    record = {name: None for name in chain.SIGNED_FIELDS}
    record.update(seq=seq, uuid=str(uuid.uuid4()), kind="rating", recorded_at=after["recorded_at"],
                  prev_hash=after["hash"], level=5, counter_id="Q01", officer_id="CB001", language="vi",
                  suspected_repeat=False, is_test=False)
    return reseal(record, signer)


def test_forged_row_at_the_end_signed_with_another_key(filled: Services) -> None:
    def edit(con: sqlite3.Connection) -> None:
        forged = _forged_rating(rows(con)[-1], 7, other_key())
        insert(con, forged)
        set_head(con, 7, forged["hash"])  # a careful forger moves the head too

    tamper(filled, edit)
    assert_caught(filled, 7, problem_en="signature")


def test_forged_row_at_the_end_without_moving_the_head(filled: Services) -> None:
    tamper(filled, lambda con: insert(con, _forged_rating(rows(con)[-1], 7, other_key())))
    assert_caught(filled, 7)


def test_a_row_signed_by_the_device_key_is_accepted(filled: Services) -> None:
    """The control for the forgery tests: the same row signed with the real key passes."""

    def edit(con: sqlite3.Connection) -> None:
        genuine = _forged_rating(rows(con)[-1], 7, filled.key)
        insert(con, genuine)
        set_head(con, 7, genuine["hash"])

    tamper(filled, edit)
    report = filled.ratings.verify()
    assert report.ok and report.count == 7 and report.head_seq == 7


def test_row_inserted_in_the_middle_by_renumbering(filled: Services) -> None:
    def edit(con: sqlite3.Connection) -> None:
        third = rows(con)[2]
        con.execute("UPDATE log SET seq = seq + 1000 WHERE seq >= 4")
        con.execute("UPDATE log SET seq = seq - 999 WHERE seq > 1000")
        insert(con, _forged_rating(third, 4, other_key()))
        set_head(con, 7, rows(con)[-1]["hash"])

    tamper(filled, edit)
    report = assert_caught(filled, 4, problem_en="signature")
    assert report.count == 3


def test_row_inserted_in_the_middle_by_renumbering_and_relinking(filled: Services) -> None:
    """Even with every later link and the head rewritten, the forged row's signature gives it away."""

    def edit(con: sqlite3.Connection) -> None:
        signer = other_key()
        original = rows(con)
        forged = _forged_rating(original[2], 4, signer)
        con.execute("DELETE FROM log WHERE seq >= 4")
        insert(con, forged)
        prev = forged["hash"]
        for old in original[3:]:
            moved = reseal({**old, "seq": old["seq"] + 1, "prev_hash": prev}, signer)
            insert(con, moved)
            prev = moved["hash"]
        set_head(con, 7, prev)

    tamper(filled, edit)
    assert_caught(filled, 4, problem_en="signature")


@pytest.mark.parametrize("signer", ["old signature", "another key"])
def test_row_replaced_with_a_rehashed_one(filled: Services, signer: str) -> None:
    """Row 3 rewritten as 'Rất hài lòng' with a correct hash, and the rest of the chain relinked to it."""

    def edit(con: sqlite3.Connection) -> None:
        key = other_key()
        original = rows(con)
        con.execute("DELETE FROM log WHERE seq >= 3")
        prev = original[1]["hash"]
        for old in original[2:]:
            new = {**old, "prev_hash": prev}
            if new["seq"] == 3:
                new.update(level=5, suspected_repeat=0)
            new["hash"] = chain.record_hash(new)
            if signer == "another key":
                new["signature"] = key.sign(chain.canonical(new))
            insert(con, new)
            prev = new["hash"]
        set_head(con, 6, prev)

    tamper(filled, edit)
    con = connect(filled, drop_triggers=False)
    try:
        assert rows(con)[2]["level"] == 5
    finally:
        con.close()
    assert_caught(filled, 3, problem_en="signature")


def test_stored_head_edited_alone(filled: Services) -> None:
    tamper(filled, lambda con: set_head(con, 6, "f" * 64))
    report = filled.ratings.verify()
    assert not report.ok and "stored chain head does not match" in report.problem_en
    assert report.count == 6  # every record itself is fine; only the head disagrees


# --- the CLI ----------------------------------------------------------------------------------------------


def test_cli_verify_ok(filled: Services, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--config", str(EXAMPLE_CONFIG), "--data-dir", str(filled.data_dir),
                     "ratings", "verify"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Chain intact: 6 records, head 6" in out


def test_cli_verify_names_the_bad_seq(filled: Services, capsys: pytest.CaptureFixture[str]) -> None:
    tamper(filled, lambda con: con.execute("UPDATE log SET level = 5 WHERE seq = 3"))
    code = cli.main(["ratings", "verify", "--config", str(EXAMPLE_CONFIG),
                     "--data-dir", str(filled.data_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "CHUỖI HỎNG tại bản ghi số 3" in out
    assert "CHAIN BROKEN at record 3" in out


def test_cli_verify_names_a_truncation(filled: Services, capsys: pytest.CaptureFixture[str]) -> None:
    tamper(filled, lambda con: con.execute("DELETE FROM log WHERE seq = 6"))
    code = cli.main(["ratings", "verify", "--config", str(EXAMPLE_CONFIG),
                     "--data-dir", str(filled.data_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "record 6" in out


# --- the canonical form -----------------------------------------------------------------------------------


SAMPLE: dict[str, Any] = {
    "seq": 4, "uuid": "6f1c1a4e-8a1b-4c55-9d53-1f7d7d3a2b10", "kind": "answer",
    "recorded_at": "2025-07-01T02:03:04.005Z", "prev_hash": "a" * 64,
    "rating_uuid": "0d4b4c57-1f54-4a52-8a3f-8b7c6c1e9e21", "level": None, "counter_id": None,
    "officer_id": None, "procedure_code": None, "language": None, "suspected_repeat": False,
    "is_test": False, "question": "comment", "value": None, "text": "Đề nghị bố trí thêm ghế chờ",
}


def test_canonical_is_stable_and_key_order_independent() -> None:
    first = chain.canonical(SAMPLE)
    assert chain.canonical(dict(SAMPLE)) == first
    assert chain.canonical(dict(reversed(list(SAMPLE.items())))) == first
    assert chain.record_hash(SAMPLE) == chain.record_hash(dict(sorted(SAMPLE.items())))
    # The exact bytes: sorted keys, no spaces, format version 1.
    body = json.loads(first)
    assert list(body) == sorted(body)
    assert body["v"] == chain.FORMAT_VERSION == 1
    assert b" :" not in first and b", " not in first


def test_canonical_keeps_vietnamese_as_utf8() -> None:
    body = chain.canonical(SAMPLE)
    assert "Đề nghị bố trí thêm ghế chờ".encode() in body
    assert b"\\u" not in body
    body.decode("utf-8")  # valid UTF-8


def test_canonical_ignores_unsigned_fields_and_normalises_flags() -> None:
    stored = {**SAMPLE, "hash": "x" * 64, "signature": "sig", "extra": 1}
    assert chain.canonical(stored) == chain.canonical(SAMPLE)
    # SQLite hands flags back as 0/1; they must sign the same as False/True.
    assert chain.canonical({**SAMPLE, "suspected_repeat": 0, "is_test": 1}) == \
        chain.canonical({**SAMPLE, "suspected_repeat": False, "is_test": True})
    # A missing field signs as null.
    partial = {k: v for k, v in SAMPLE.items() if k != "level"}
    assert chain.canonical(partial) == chain.canonical(SAMPLE)


def test_canonical_changes_with_any_signed_field() -> None:
    base = chain.canonical(SAMPLE)
    for name in chain.SIGNED_FIELDS:
        value = SAMPLE[name]
        changed = (not value) if isinstance(value, bool) else ("x" if value is None else f"{value}!")
        if name == "seq":
            changed = 5
        assert chain.canonical({**SAMPLE, name: changed}) != base, name


def test_stored_rows_hash_to_their_canonical_form(filled: Services) -> None:
    con = connect(filled, drop_triggers=False)
    try:
        stored = rows(con)
    finally:
        con.close()
    prev = chain.GENESIS_HASH
    for record in stored:
        assert record["prev_hash"] == prev
        assert record["hash"] == chain.record_hash(record)
        prev = record["hash"]
    assert COMMENT.encode() in chain.canonical(stored[3])


def test_verify_with_the_wrong_public_key(filled: Services) -> None:
    with filled.database.reading() as conn:
        records = list(filled.ratings.records(conn))
    assert chain.verify(records, filled.key.public_key).ok
    report = chain.verify(records, other_key().public_key)
    assert report.first_bad_seq == 1 and "signature" in report.problem_en


def test_empty_chain_is_ok(services: Services) -> None:
    report = services.ratings.verify()
    assert report.ok and report.count == 0 and report.head_seq == 0
    assert report.head_hash == chain.GENESIS_HASH
