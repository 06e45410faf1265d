"""The push over real HTTP, on SQLite and PostgreSQL: every record once, the chain checked, tampering found.

Devices are real kiosk rating logs (kiosk.ratings.RatingLog in a temporary directory); tampering is done
as an attacker would, by editing the device's SQLite file before the records are sent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk.domain import chain
from kiosk.domain.keys import DeviceKey
from sync import protocol
from sync.server.models import DEVICE, RATING, RECORD
from tests.sync_harness import Device, ServerHandle, push


@pytest.fixture
def kiosk(module_server: ServerHandle, tmp_path: Path) -> Iterator[tuple[Device, str]]:
    """A real device enrolled on the shared server: (the device, its server-assigned ID)."""
    device, device_id = module_server.enrolled_device(tmp_path / "kiosk")
    yield device, device_id
    device.close()


def stored(server: ServerHandle, device_id: str) -> list[tuple[int, str]]:
    """(seq, hash) of every record the server holds for the device, in order."""
    with server.engine().connect() as conn:
        rows = conn.execute(select(RECORD.c.seq, RECORD.c.hash).where(RECORD.c.device_id == device_id)
                            .order_by(RECORD.c.seq)).all()
    return [(int(r.seq), str(r.hash)) for r in rows]


def device_row(server: ServerHandle, device_id: str) -> Any:
    """The server's device row."""
    with server.engine().connect() as conn:
        return conn.execute(select(DEVICE).where(DEVICE.c.id == device_id)).one()


def edit_log(device: Device, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Change the device's log behind the app's back, as someone with the SQLite file would.

    The app's append-only triggers are dropped first: they stop mistakes, not someone who has the file.
    """
    con = sqlite3.connect(device.database.path)
    try:
        with con:
            con.execute("DROP TRIGGER IF EXISTS log_append_only_update")
            con.execute("DROP TRIGGER IF EXISTS log_append_only_delete")
            for statement in statements:
                con.execute(statement, params if "?" in statement else ())
    finally:
        con.close()


def error_of(response: Any) -> protocol.ErrorBody:
    """The ErrorBody of a refusal (and it must be one, with both languages filled)."""
    body = protocol.ErrorBody.model_validate(response.json())
    assert body.message_vi and body.message_en
    return body


def test_push_stores_every_record_once_and_folds_answers(module_server: ServerHandle,
                                                         kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    uuids = device.rate(5, with_answers=True)
    records = device.records()
    response = push(module_server.url, device, device_id, records)
    assert response.status_code == 200, response.text
    answer = protocol.PushResponse.model_validate(response.json())
    assert (answer.acked_seq, answer.acked_hash) == (records[-1]["seq"], records[-1]["hash"])
    assert (answer.stored, answer.duplicates) == (len(records), 0)
    assert stored(module_server, device_id) == [(r["seq"], r["hash"]) for r in records]
    assert protocol.H_SERVER_TIME in response.headers
    with module_server.engine().connect() as conn:
        ratings = conn.execute(select(RATING).where(RATING.c.device_id == device_id).order_by(RATING.c.seq)).all()
    assert [r.uuid for r in ratings] == uuids
    assert [r.level for r in ratings] == [5, 4, 3, 2, 1]
    assert all(r.q_access == 4 and r.harassment is False and r.comment == "Cán bộ nhiệt tình" for r in ratings)
    assert all(r.officer_code == "CB001" and r.counter_code == "Q01" for r in ratings)
    assert all(r.recorded_at.tzinfo is not None for r in ratings)


def test_answers_in_a_later_batch_fold_into_the_stored_rating(module_server: ServerHandle,
                                                             kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    (rating,) = device.rate(1)
    assert push(module_server.url, device, device_id, device.records()).status_code == 200
    device.log.record_answer(rating, "officer", 2)
    device.log.record_answer(rating, "harassment", 1)
    device.log.record_procedure(rating, "1.001193")
    device.log.record_procedure(rating, "1.000894")  # a second choice does not replace the first
    response = push(module_server.url, device, device_id, device.records(after_seq=1))
    assert response.status_code == 200, response.text
    with module_server.engine().connect() as conn:
        row = conn.execute(select(RATING).where(RATING.c.uuid == rating)).one()
    assert (row.q_officer, row.harassment, row.procedure_code, row.q_access) == (2, True, "1.001193", None)


def test_the_same_batch_twice_is_stored_once(module_server: ServerHandle, kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    device.rate(5)
    records = device.records()
    first = push(module_server.url, device, device_id, records).json()
    again = push(module_server.url, device, device_id, records)
    assert again.status_code == 200
    assert (first["stored"], first["duplicates"]) == (5, 0)
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 5)
    assert again.json()["acked_seq"] == first["acked_seq"] == 5
    assert len(stored(module_server, device_id)) == 5


def test_a_batch_overlapping_what_is_stored_adds_only_the_new_records(module_server: ServerHandle,
                                                                     kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    device.rate(3)
    assert push(module_server.url, device, device_id, device.records()).status_code == 200
    device.rate(3)
    answer = push(module_server.url, device, device_id, device.records(after_seq=1)).json()
    assert (answer["stored"], answer["duplicates"], answer["acked_seq"]) == (3, 2, 6)
    assert [seq for seq, _ in stored(module_server, device_id)] == [1, 2, 3, 4, 5, 6]


def test_a_batch_past_the_acknowledged_number_is_a_gap_and_the_agent_resumes(module_server: ServerHandle,
                                                                            kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    device.rate(6)
    records = device.records()
    assert push(module_server.url, device, device_id, records[:2]).status_code == 200
    gap = push(module_server.url, device, device_id, records[3:])
    assert gap.status_code == 409
    body = error_of(gap)
    assert (body.code, body.acked_seq, body.first_bad_seq) == (protocol.E_GAP, 2, 3)
    assert len(stored(module_server, device_id)) == 2
    assert device_row(module_server, device_id).chain_state == "gap"
    resumed = push(module_server.url, device, device_id, records[body.acked_seq:])
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["acked_seq"] == 6
    row = device_row(module_server, device_id)
    assert (row.chain_state, row.first_bad_seq) == ("intact", None)


def test_a_gap_sent_again_after_being_told_where_to_resume_is_a_missing_record(
        module_server: ServerHandle, kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    device.rate(5)
    records = device.records()
    assert push(module_server.url, device, device_id, records[:2]).status_code == 200
    assert error_of(push(module_server.url, device, device_id, records[3:])).code == protocol.E_GAP
    again = push(module_server.url, device, device_id, records[3:])
    assert again.status_code == 409
    body = error_of(again)
    assert (body.code, body.first_bad_seq, body.acked_seq) == (protocol.E_CHAIN, 3, 2)
    assert device_row(module_server, device_id).chain_state == "broken"


@pytest.mark.parametrize("tamper", ["edited", "edited_with_new_hash", "deleted", "inserted"])
def test_tampering_before_sync_is_a_chain_failure_at_the_right_record(
        module_server: ServerHandle, kiosk: tuple[Device, str], tmp_path: Path, tamper: str) -> None:
    device, device_id = kiosk
    device.rate(8)
    if tamper == "edited":  # a rating made kinder
        edit_log(device, "UPDATE log SET level = 5 WHERE seq = 4")
    elif tamper == "edited_with_new_hash":  # ... and its hash recomputed, which the signature still betrays
        record = device.records()[3] | {"level": 5}
        edit_log(device, f"UPDATE log SET level = 5, hash = '{chain.record_hash(record)}' WHERE seq = 4")
    elif tamper == "deleted":
        edit_log(device, "DELETE FROM log WHERE seq = 4")
    else:  # a rating slipped in at 4, the rest renumbered, signed with some other key
        forger = DeviceKey.load_or_create(tmp_path / "forger.pem")
        fake = dict(device.records()[3]) | {"uuid": "00000000-0000-4000-8000-000000000004", "level": 1,
                                            "prev_hash": device.records()[2]["hash"]}
        fake["hash"] = chain.record_hash(fake)
        fake["signature"] = forger.sign(chain.canonical(fake))
        columns = ", ".join(fake)
        values = ", ".join("?" for _ in fake)
        edit_log(device, "UPDATE log SET seq = -seq WHERE seq >= 4", "UPDATE log SET seq = 1 - seq WHERE seq < 0",
                 f"INSERT INTO log ({columns}) VALUES ({values})", params=tuple(fake.values()))
    records = device.records()
    response = push(module_server.url, device, device_id, records)
    assert response.status_code == 409, response.text
    body = error_of(response)
    assert (body.code, body.first_bad_seq, body.acked_seq) == (protocol.E_CHAIN, 4, 3)
    assert [seq for seq, _ in stored(module_server, device_id)] == [1, 2, 3]
    row = device_row(module_server, device_id)
    assert (row.chain_state, row.first_bad_seq, row.acked_seq) == ("broken", 4, 3)
    assert row.problem_vi and row.problem_en
    # Nothing from the bad record on is ever taken, not even in a later push that starts after it.
    later = push(module_server.url, device, device_id, records[3:])
    assert error_of(later).code == protocol.E_CHAIN
    assert len(stored(module_server, device_id)) == 3


def test_a_record_changed_after_it_was_synced_is_caught_when_sent_again(module_server: ServerHandle,
                                                                       kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    device.rate(5)
    assert push(module_server.url, device, device_id, device.records()).status_code == 200
    before = stored(module_server, device_id)
    edit_log(device, "UPDATE log SET level = 1 WHERE seq = 2")
    body = error_of(push(module_server.url, device, device_id, device.records()))
    assert (body.code, body.first_bad_seq) == (protocol.E_CHAIN, 2)
    assert stored(module_server, device_id) == before  # the evidence is untouched


def test_a_rating_without_a_readable_time_is_refused_from_that_record_on(module_server: ServerHandle,
                                                                        kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    device.rate(3)
    records = device.records()
    # Signed by the device's own key, so only the server's reading of it can refuse it.
    odd = dict(records[2]) | {"recorded_at": "hôm qua"}
    odd["hash"] = chain.record_hash(odd)
    odd["signature"] = device.key.sign(chain.canonical(odd))
    response = push(module_server.url, device, device_id, [*records[:2], odd])
    assert response.status_code == 422
    body = error_of(response)
    assert (body.code, body.first_bad_seq) == (protocol.E_OUT_OF_DOMAIN, 3)
    assert [seq for seq, _ in stored(module_server, device_id)] == [1, 2]
    assert device_row(module_server, device_id).chain_state == "intact"


def test_a_batch_signed_by_one_device_for_another_is_refused(module_server: ServerHandle,
                                                            kiosk: tuple[Device, str], tmp_path: Path) -> None:
    device, device_id = kiosk
    other, other_id = module_server.enrolled_device(tmp_path / "other")
    device.rate(2)
    payload = {"device_id": other_id, "records": device.records()}
    from tests.sync_harness import signed_request

    response = signed_request(module_server.url, device.key, device_id, "POST", protocol.PUSH_PATH, payload,
                              gzip_body=True)
    assert response.status_code == 400
    assert error_of(response).code == protocol.E_WRONG_DEVICE
    assert stored(module_server, device_id) == stored(module_server, other_id) == []
    other.close()


def test_a_push_without_gzip_is_accepted_too(module_server: ServerHandle, kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    device.rate(2)
    from tests.sync_harness import signed_request

    response = signed_request(module_server.url, device.key, device_id, "POST", protocol.PUSH_PATH,
                              {"device_id": device_id, "records": device.records()})
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 2


def test_many_batches_build_one_chain(module_server: ServerHandle, kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    device.rate(25, with_answers=True)  # 100 records
    records = device.records()
    acked = 0
    while acked < len(records):
        response = push(module_server.url, device, device_id, records[acked:acked + 30])
        assert response.status_code == 200, response.text
        acked = response.json()["acked_seq"]
    assert stored(module_server, device_id) == [(r["seq"], r["hash"]) for r in records]
    report = chain.verify(({**r, "seq": r["seq"]} for r in records), device.key.public_key)
    assert report.ok and report.head_hash == device_row(module_server, device_id).acked_hash
