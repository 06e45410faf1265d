"""Every value at the push has one domain (kiosk.domain.levels): a genuinely signed record outside it is refused with
`out_of_domain` from that record on, the records before it stored, against the real server on both databases;
and the kiosk refuses to write such a record in the first place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk.domain.levels import COMMENT_MAX_CHARS, PROCEDURE_CODE, answer_problem, rating_problem
from kiosk.ratings import InvalidRecord
from sync import protocol
from sync.server.models import RATING, RECORD
from tests.sync_harness import Device, ServerHandle, push, signed_chain


@pytest.fixture
def kiosk(module_server: ServerHandle, tmp_path: Path) -> Iterator[tuple[Device, str]]:
    """A real device enrolled on the shared server, with one rating and one answer already written."""
    device, device_id = module_server.enrolled_device(tmp_path / "kiosk")
    receipt = device.log.record_rating(4, counter_id="Q01", officer_id="CB001", language="vi")
    device.log.record_answer(receipt.uuid, "access", 5)
    yield device, device_id
    device.close()


def _rating_uuid(device: Device) -> str:
    return str(device.records()[0]["uuid"])


GOOD_RATING = {"kind": "rating", "recorded_at": "2026-12-04T03:00:00.000Z", "level": 4, "counter_id": "Q01",
          "language": "vi"}
OTHER_RATING = "0b0c8a52-1111-4b7a-9d2f-0e5c1b7a3f90"

# Each: what the third record is (an answer to the device's first rating, unless it says otherwise).
OUTSIDE: dict[str, dict[str, Any]] = {
    "element answer 0": {"question": "access", "value": 0},
    "unknown question": {"question": "waiting_time", "value": 3},
    "question in another case": {"question": "ACCESS", "value": 3},
    "harassment 5": {"question": "harassment", "value": 5},
    "harassment as text": {"question": "harassment", "text": "có"},
    "callback 0": {"question": "callback", "value": 0},
    "element with a text too": {"question": "result", "value": 4, "text": "tốt"},
    "comment with a value": {"question": "comment", "value": 1},
    "empty comment": {"question": "comment", "text": ""},
    "comment of spaces": {"question": "comment", "text": "   "},
    "comment too long": {"question": "comment", "text": "ư" * (COMMENT_MAX_CHARS + 1)},
    "procedure not a national code": {"question": "procedure_code", "text": "=HYPERLINK(\"x\")"},
    "procedure code lower case suffix": {"question": "procedure_code", "text": "1.012753.h19"},
    "answer carrying a level": {"question": "access", "value": 4, "level": 5},
    "answer carrying a language": {"question": "access", "value": 4, "language": "vi"},
    "answer flagged a test": {"question": "access", "value": 4, "is_test": True},
    "answer to no rating": {"question": "access", "value": 4, "rating_uuid": OTHER_RATING},
    "rating with a question": {**GOOD_RATING, "question": "access", "value": 3},
    "rating in French": {**GOOD_RATING, "language": "fr"},
    "rating without a language": {**GOOD_RATING, "language": None},
    "rating with a hostile procedure": {**GOOD_RATING, "procedure_code": "@SUM(1+1)"},
}


def _third(device: Device, fields: dict[str, Any]) -> dict[str, Any]:
    if fields.get("kind") == "rating":
        return fields
    return {"kind": "answer", "recorded_at": "2026-12-04T03:00:01.000Z", "rating_uuid": _rating_uuid(device),
            **fields}


@pytest.mark.parametrize("case", list(OUTSIDE))
def test_a_record_outside_its_domain_is_refused_from_that_record_on(module_server: ServerHandle,
                                                                   kiosk: tuple[Device, str], case: str) -> None:
    device, device_id = kiosk
    good = device.records()
    # Signed by the device's own key: only the server's reading of the values can refuse them. A good answer follows.
    extra = signed_chain(device.key, [_third(device, OUTSIDE[case]),
                                      {"kind": "answer", "recorded_at": "2026-12-04T03:00:02.000Z",
                                       "rating_uuid": _rating_uuid(device), "question": "officer", "value": 5}],
                         after=good[-1])
    response = push(module_server.url, device, device_id, [*good, *extra])
    assert response.status_code == 422, response.text
    body = protocol.ErrorBody.model_validate(response.json())
    assert (body.code, body.first_bad_seq) == (protocol.E_OUT_OF_DOMAIN, 3)
    assert body.message_vi and body.message_en and body.message_vi != body.message_en
    with module_server.engine().connect() as conn:
        seqs = conn.execute(select(RECORD.c.seq).where(RECORD.c.device_id == device_id)
                            .order_by(RECORD.c.seq)).scalars().all()
        folded = conn.execute(select(RATING.c.q_access, RATING.c.q_officer, RATING.c.harassment)
                              .where(RATING.c.device_id == device_id)).all()
    assert seqs == [1, 2]
    assert [tuple(row) for row in folded] == [(5, None, None)]   # nothing of record 3 or 4 counted
    again = push(module_server.url, device, device_id, [*good, *extra])
    assert protocol.ErrorBody.model_validate(again.json()).code == protocol.E_OUT_OF_DOMAIN


def test_a_value_past_the_wire_s_bounds_refuses_the_whole_batch(module_server: ServerHandle,
                                                                 kiosk: tuple[Device, str]) -> None:
    """A value no question takes (over 5) does not even fit the message: nothing of the batch is stored."""
    device, device_id = kiosk
    good = device.records()
    extra = signed_chain(device.key, [_third(device, {"question": "officer", "value": 6})], after=good[-1])
    response = push(module_server.url, device, device_id, [*good, *extra])
    assert response.status_code == 422
    assert protocol.ErrorBody.model_validate(response.json()).code == protocol.E_MALFORMED
    with module_server.engine().connect() as conn:
        assert conn.execute(select(RECORD.c.seq).where(RECORD.c.device_id == device_id)).all() == []


def test_every_answer_in_its_domain_is_taken(module_server: ServerHandle, kiosk: tuple[Device, str]) -> None:
    device, device_id = kiosk
    good = device.records()
    answers = [{"question": "access", "value": 1}, {"question": "procedure", "value": 5},
               {"question": "harassment", "value": 0}, {"question": "harassment", "value": 1},
               {"question": "comment", "text": "ư" * COMMENT_MAX_CHARS}, {"question": "callback", "value": 1},
               {"question": "procedure_code", "text": "1.012753.H19"},
               {"question": "procedure_code", "text": "10.000123"}]
    extra = signed_chain(device.key, [_third(device, a) for a in answers], after=good[-1])
    rating = {**GOOD_RATING, "language": "en", "procedure_code": "2.000908"}
    extra += signed_chain(device.key, [rating], after=extra[-1])
    response = push(module_server.url, device, device_id, [*good, *extra])
    assert response.status_code == 200, response.text
    assert response.json()["acked_seq"] == 2 + len(answers) + 1


@pytest.mark.parametrize(("question", "value", "text"), [
    ("access", 0, None), ("harassment", 5, None), ("waiting", 3, None), ("callback", 0, None),
    ("comment", None, ""), ("procedure_code", None, "1.0011"), ("result", True, None), ("feedback", 4.0, None),
])
def test_the_one_domain_is_what_the_kiosk_and_the_server_both_check(question: str, value: Any, text: Any,
                                                                     tmp_path: Path) -> None:
    assert answer_problem(question, value, text) is not None
    device = Device.create(tmp_path / "k")
    try:
        receipt = device.log.record_rating(3, counter_id="Q01", officer_id=None, language="vi")
        with pytest.raises(InvalidRecord):
            if text is None:
                device.log.record_answer(receipt.uuid, question, value)
            elif question == "comment":
                device.log.record_comment(receipt.uuid, text)
            else:
                device.log.record_procedure(receipt.uuid, text)
        assert len(device.records()) == 1
    finally:
        device.close()


@pytest.mark.parametrize(("language", "procedure"), [("fr", None), (None, None), ("vi", "1.00119"),
                                                     ("vi", "=1+1"), ("vi", "1.001193 ")])
def test_the_kiosk_refuses_a_rating_outside_its_domain(language: Any, procedure: Any, tmp_path: Path) -> None:
    assert rating_problem(4, language, procedure) is not None
    device = Device.create(tmp_path / "k")
    try:
        with pytest.raises(InvalidRecord):
            device.log.record_rating(4, counter_id="Q01", officer_id=None, language=language, procedure_code=procedure)
        assert device.records() == []
    finally:
        device.close()


def test_the_national_code_format_is_the_one_the_catalog_imports() -> None:
    from kiosk.domain import catalog_import

    for code in ("1.001193", "2.000908", "1.012753.H19", "10.000123", "1.000001.ABCDEFGHIJKL"):
        assert PROCEDURE_CODE.fullmatch(code)
    for code in ("1.00119", "1.0011930", "A.001193", "1.001193.", "1.001193.h19", "123.001193", " 1.001193"):
        assert not PROCEDURE_CODE.fullmatch(code)
    assert not hasattr(catalog_import, "CODE_PATTERN")   # one definition, beside the questions
