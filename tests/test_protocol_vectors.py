"""The test vectors of docs/protocol.md against the real code, and a real server (SQLite and PostgreSQL) taking them.

docs/protocol-vectors.json must be exactly what sync/protocol_vectors.py makes; each value is then checked again
against the code a kiosk and the server run (kiosk.domain.chain, kiosk.domain.keys, sync.protocol, the server's own
signature check) and against libsodium, an Ed25519 implementation of its own. A real server enrols the vector key, takes
the vector push byte for byte, answers the signed GET of the acknowledged position, and reports the ratings as
the document shows. The vector requests as published carry a fixed timestamp, so the server refuses them for
the clock alone: it checks the signature first, and a wrong one would be `bad_signature`.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import itertools
import json
import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import insert, select

from kiosk.db import prepare
from kiosk.domain import chain
from kiosk.domain.keys import DeviceKey, fingerprint, load_public_key, public_key_b64, verify_signature
from kiosk.domain.levels import COMMENT_KEY, QUESTIONS, SCALE_KEYS
from kiosk.ratings import RatingLog
from sync import protocol
from sync import protocol_vectors as vectors
from sync.server import registry
from sync.server.db import utc_now, writing
from sync.server.devices import auth, body, enrolment
from sync.server.errors import ApiError
from sync.server.models import DEVICE, RECORD
from tests.sync_harness import Device, ServerHandle, push, sign_headers, signed_request

ROOT = Path(__file__).resolve().parent.parent
VECTORS_FILE = ROOT / "docs" / "protocol-vectors.json"
DOC = ROOT / "docs" / "protocol.md"
V: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
REQUESTS = {r["name"]: r for r in V["requests"]}


def vector_key() -> DeviceKey:
    """The vector key, from the published seed."""
    return DeviceKey(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(V["key"]["seed_hex"])))


def raw_public(key: DeviceKey) -> bytes:
    """The raw 32-byte public key."""
    return key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# ---- the file and the key -----------------------------------------------------------------------------------

def test_the_vectors_file_is_exactly_what_the_code_makes() -> None:
    assert VECTORS_FILE.read_text(encoding="utf-8") == vectors.render(), \
        "regenerate with: python -m sync.protocol_vectors docs/protocol-vectors.json"


def test_the_key_pair_is_the_seed_s_in_every_published_form() -> None:
    key, published = vector_key(), V["key"]
    seed = bytes.fromhex(published["seed_hex"])
    assert seed == bytes(range(32)) and base64.b64decode(published["seed_base64"]) == seed
    assert raw_public(key).hex() == published["public_key_hex"]
    assert bytes(SigningKey(seed).verify_key).hex() == published["public_key_hex"]  # libsodium agrees
    # Enrolment sends the raw 32 bytes in standard base64 with padding: 44 characters.
    assert public_key_b64(key.public_key) == published["public_key_base64"]
    assert len(published["public_key_base64"]) == 44 and published["public_key_base64"].endswith("=")
    loaded = load_public_key(published["public_key_base64"])
    assert loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == raw_public(key)
    assert fingerprint(load_public_key(published["public_key_base64"])) == published["fingerprint"]


# ---- records ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("index", range(len(V["records"])))
def test_a_record_s_canonical_bytes_hash_and_signature_are_the_code_s(index: int) -> None:
    record = V["records"][index]
    wire, canonical = record["wire"], bytes.fromhex(record["canonical_hex"])
    assert canonical == record["canonical_utf8"].encode("utf-8")
    assert canonical == chain.canonical(wire)
    # What the document says of the form: every signed field plus "v": 1, keys sorted, no spaces, no hash or
    # signature, non-ASCII as raw UTF-8, and booleans, null and integers as JSON writes them.
    parsed = json.loads(canonical)
    assert list(parsed) == sorted([*chain.SIGNED_FIELDS, "v"]) and parsed["v"] == 1
    assert "hash" not in parsed and "signature" not in parsed
    assert canonical == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert b"\\u" not in canonical and b'":' in canonical and b'": ' not in canonical
    assert {k: v for k, v in wire.items() if k not in ("hash", "signature")} == \
        {k: v for k, v in parsed.items() if k != "v"}
    assert b'"is_test":false' in canonical and f'"seq":{wire["seq"]},'.encode() in canonical
    # The hash is the SHA-256 of exactly those bytes; the signature is Ed25519 over the same bytes.
    assert record["sha256"] == hashlib.sha256(canonical).hexdigest() == chain.record_hash(wire) == wire["hash"]
    signature = base64.b64decode(record["signature_base64"], validate=True)
    assert len(signature) == 64 and signature.hex() == record["signature_hex"]
    assert vector_key().sign(canonical) == record["signature_base64"] == wire["signature"]
    VerifyKey(bytes.fromhex(V["key"]["public_key_hex"])).verify(canonical, signature)
    assert verify_signature(vector_key().public_key, wire["signature"], canonical)
    assert protocol.record_hash_ok(protocol.Record.model_validate(wire))


def test_the_comment_s_vietnamese_text_is_signed_as_utf8_with_json_escapes_only_for_quote_and_newline() -> None:
    record = V["records"][2]
    canonical = bytes.fromhex(record["canonical_hex"])
    text = record["wire"]["text"]
    assert unicodedata.is_normalized("NFC", text) and "\n" in text and '"' in text
    # "tận" is t, U+1EAD (three bytes in UTF-8), n; the newline and the quotes are JSON escapes.
    assert "ậ".encode() == bytes.fromhex("e1baad") and b"t\xe1\xba\xadn t\xc3\xacnh" in canonical
    assert b'chu \xc4\x91\xc3\xa1o.\\nPh\xc3\xb2ng' in canonical and b'qu\xe1\xba\xa1t \\"m\xc3\xa1t\\"' in canonical


def test_the_records_chain_from_64_zeros_and_verify_as_one_chain() -> None:
    wires = [r["wire"] for r in V["records"]]
    assert wires[0]["prev_hash"] == chain.GENESIS_HASH == "0" * 64
    for before, after in itertools.pairwise(wires):
        assert after["prev_hash"] == before["hash"] and after["seq"] == before["seq"] + 1
    report = chain.verify(wires, vector_key().public_key, (3, wires[-1]["hash"]))
    assert report.ok and report.count == 3


def test_a_real_kiosk_writes_records_of_exactly_the_vectors_shape(tmp_path: Path) -> None:
    """The same taps through the kiosk's own rating log give the same fields: only the random UUIDs differ."""
    times = iter(datetime.fromisoformat(r["wire"]["recorded_at"]) for r in V["records"])
    database = prepare(tmp_path / "kiosk.db")
    log = RatingLog(database, vector_key(), clock=lambda: next(times))
    try:
        rating = log.record_rating(4, counter_id="Q01", officer_id="CB001", language="vi",
                                   procedure_code="1.001193")
        log.record_answer(rating.uuid, "officer", 5)
        log.record_comment(rating.uuid, V["records"][2]["wire"]["text"])
        with database.reading() as conn:
            written = list(log.records(conn))
    finally:
        log.close()
        database.close()
    uuids = {mine["uuid"]: published["wire"]["uuid"] for mine, published in zip(written, V["records"], strict=True)}
    renamed = []
    for mine in written:
        fields = {name: mine[name] for name in chain.SIGNED_FIELDS}
        fields["uuid"] = uuids[fields["uuid"]]
        if fields["rating_uuid"] is not None:
            fields["rating_uuid"] = uuids[fields["rating_uuid"]]
        renamed.append(fields)
    for fields, published in zip(renamed, V["records"], strict=True):
        expected = {name: published["wire"][name] for name in chain.SIGNED_FIELDS}
        assert {k: v for k, v in fields.items() if k != "prev_hash"} == \
            {k: v for k, v in expected.items() if k != "prev_hash"}


def test_the_answers_use_the_kiosk_s_question_keys_and_domains() -> None:
    rating, officer, comment = (r["wire"] for r in V["records"])
    assert rating["kind"] == "rating" and rating["level"] in range(1, 6) and rating["rating_uuid"] is None
    assert officer["question"] in SCALE_KEYS and officer["value"] in range(1, 6) and officer["text"] is None
    assert comment["question"] == COMMENT_KEY and comment["value"] is None and comment["text"]
    assert officer["rating_uuid"] == comment["rating_uuid"] == rating["uuid"]
    assert [q.key for q in QUESTIONS if q.kind == "yesno"] == ["harassment"]


# ---- requests -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_a_request_s_body_hash_signing_input_signature_and_headers_are_the_code_s(name: str) -> None:
    vector, key = REQUESTS[name], vector_key()
    sent = bytes.fromhex(vector["body_hex"])
    assert vector["body_sha256"] == hashlib.sha256(sent).hexdigest() == protocol.body_digest(sent)
    message = protocol.signing_input(vector["method"], vector["path"], vector["timestamp"], vector["nonce"], sent)
    assert message == vector["signing_input_utf8"].encode("ascii") == bytes.fromhex(vector["signing_input_hex"])
    assert message.split(b"\n") == [b"KIOSK-SYNC-1", vector["method"].encode(), vector["path"].encode(),
                                    str(vector["timestamp"]).encode(), vector["nonce"].encode(),
                                    vector["body_sha256"].encode()]
    assert key.sign(message) == vector["signature_base64"] == vector["headers"][protocol.H_SIGNATURE]
    VerifyKey(raw_public(key)).verify(message, base64.b64decode(vector["signature_base64"]))
    # The server's own check of the four headers passes, and fails for a body changed by one byte.
    signed = auth.signed_headers(vector["headers"])
    assert (signed.device, signed.timestamp, signed.nonce) == \
        (vector["headers"][protocol.H_DEVICE], vector["timestamp"], vector["nonce"])
    auth.check_signature(key.public_key, signed, vector["method"], vector["path"], sent)
    with pytest.raises(ApiError) as refused:
        auth.check_signature(key.public_key, signed, vector["method"], vector["path"], sent + b" ")
    assert refused.value.body.code == protocol.E_BAD_SIGNATURE


def test_the_get_signs_the_hash_of_the_empty_body() -> None:
    vector = REQUESTS["acked"]
    assert vector["body_hex"] == "" and vector["method"] == "GET"
    assert vector["body_sha256"] == V["empty_body_sha256"] == hashlib.sha256(b"").hexdigest() == \
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_the_gzip_push_signs_the_compressed_bytes_which_inflate_to_the_plain_push() -> None:
    plain, packed = REQUESTS["push"], REQUESTS["push_gzip"]
    sent = bytes.fromhex(packed["body_hex"])
    assert packed["content_encoding"] == "gzip" and sent[:2] == b"\x1f\x8b"
    assert gzip.decompress(sent) == body.decode(sent, "gzip") == bytes.fromhex(plain["body_hex"])
    assert packed["body_sha256"] == hashlib.sha256(sent).hexdigest() != plain["body_sha256"]
    assert packed["body_decoded_utf8"] == plain["body_decoded_utf8"]


def test_the_request_bodies_are_the_protocol_s_messages() -> None:
    enrol = protocol.EnrollRequest.model_validate_json(bytes.fromhex(REQUESTS["enroll"]["body_hex"]))
    assert enrol.public_key == V["key"]["public_key_base64"] and enrol.device_uuid == V["device_uuid"]
    assert REQUESTS["enroll"]["headers"][protocol.H_DEVICE] == V["device_uuid"]
    batch = protocol.PushRequest.model_validate_json(bytes.fromhex(REQUESTS["push"]["body_hex"]))
    assert batch.device_id == V["device_id"] == REQUESTS["push"]["headers"][protocol.H_DEVICE]
    assert [r.model_dump() for r in batch.records] == [r["wire"] for r in V["records"]]
    assert protocol.PushResponse.model_validate(V["push_answer"]).acked_hash == V["records"][-1]["sha256"]


# ---- the document -------------------------------------------------------------------------------------------

def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


VECTORS_START = "<!-- vectors: the output of `python -m sync.protocol_vectors --markdown`; do not edit by hand -->\n"
VECTORS_END = "<!-- end of vectors -->\n"


def test_the_document_s_vectors_section_is_what_the_code_makes() -> None:
    text = _doc()
    section = text[text.index(VECTORS_START) + len(VECTORS_START):text.index(VECTORS_END)]
    assert section == "\n" + vectors.markdown(V) + "\n", \
        "paste the output of: python -m sync.protocol_vectors --markdown"


def test_the_document_shows_the_vectors() -> None:
    text = _doc()
    shown = [V["key"]["seed_hex"], V["key"]["public_key_hex"], V["key"]["public_key_base64"], V["device_id"],
             V["device_uuid"], V["empty_body_sha256"]]
    for record in V["records"]:
        shown += [record["canonical_utf8"], record["sha256"], record["signature_base64"]]
    for vector in V["requests"]:
        shown += [vector["signing_input_utf8"], vector["body_sha256"], *vector["headers"].values()]
    shown.append(V["records"][2]["canonical_hex"][:64])
    missing = [value for value in shown if value not in text]
    assert not missing, f"docs/protocol.md does not show: {missing}"


def test_the_document_names_every_error_code_field_question_and_report_key() -> None:
    text = _doc()
    codes = [value for name, value in vars(protocol).items() if name.startswith("E_") and isinstance(value, str)]
    fields = [*chain.SIGNED_FIELDS, "hash", "signature"]
    questions = [q.key for q in QUESTIONS] + ["comment", "callback", "procedure_code"]
    report_keys: set[str] = set()

    def keys(data: Any) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                report_keys.add(key)
                keys(value)
        elif isinstance(data, list):
            for value in data:
                keys(value)

    keys(V["report_example"])
    missing = [f"`{name}`" for name in [*codes, *fields, *questions, *sorted(report_keys),
                                         *protocol.AckResponse.model_fields]
               if f"`{name}`" not in text]
    assert not missing, f"docs/protocol.md does not name: {missing}"


# ---- a real server ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vector_server(module_server: ServerHandle) -> ServerHandle:
    """The module's server with the vector device registered under the vector's ID and enrolled with its key."""
    engine, place = module_server.engine(), V["registered_at"]
    registry.add_agency(engine, place["agency"]["code"], {"name": place["agency"]["name"],
                                                          "parent": place["agency"]["parent"]}, exist_ok=True)
    registry.add_counter(engine, place["agency"]["code"], place["counter"]["code"], place["counter"]["name"], [],
                         exist_ok=True)
    registry.add_officer(engine, place["agency"]["code"], place["officer"]["code"], place["officer"]["name"])
    with writing(engine) as conn:  # as `device add` does, with the vector's ID instead of a random one
        owner = registry.agency(conn, place["agency"]["code"])
        conn.execute(insert(DEVICE).values(id=V["device_id"], agency_id=owner.id, status="pending",
                                           counter_id=registry.counter_id(conn, owner, place["counter"]["code"]),
                                           created_at=utc_now()))
    code, _ = enrolment.reissue_code(engine, V["device_id"], timedelta(hours=1))
    payload = {**json.loads(REQUESTS["enroll"]["body_decoded_utf8"]), "code": code}
    answer = signed_request(module_server.url, vector_key(), V["device_uuid"], "POST", protocol.ENROLL_PATH,
                            payload)
    assert answer.status_code == 200, answer.text
    assert protocol.EnrollResponse.model_validate(answer.json()).device_id == V["device_id"]
    return module_server


@pytest.fixture(scope="module")
def first_push(vector_server: ServerHandle) -> dict[str, Any]:
    """The server's answer to the vector push, its bytes exactly as published (fresh time and nonce)."""
    answer = send_fresh(vector_server, REQUESTS["push"])
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def send(server: ServerHandle, vector: dict[str, Any], headers: dict[str, str]) -> requests.Response:
    """Send a vector request's exact body with the given signing headers."""
    sent = bytes.fromhex(vector["body_hex"])
    extra = {"Content-Type": "application/json"} if sent else {}
    if vector["content_encoding"]:
        extra["Content-Encoding"] = vector["content_encoding"]
    return requests.request(vector["method"], server.url + vector["path"], data=sent or None,
                            headers={**extra, **headers}, timeout=30)


def send_fresh(server: ServerHandle, vector: dict[str, Any]) -> requests.Response:
    """A vector request's exact body, signed again now (a request is good for 300 s and one nonce)."""
    headers = sign_headers(vector_key(), vector["headers"][protocol.H_DEVICE], vector["method"], vector["path"],
                           bytes.fromhex(vector["body_hex"]))
    return send(server, vector, headers)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_the_published_requests_are_refused_only_for_their_old_timestamp(vector_server: ServerHandle,
                                                                         name: str) -> None:
    vector = REQUESTS[name]
    answer = send(vector_server, vector, vector["headers"])
    assert answer.status_code == 401, answer.text
    refusal = protocol.ErrorBody.model_validate(answer.json())
    assert refusal.code == protocol.E_CLOCK_SKEW and refusal.server_time is not None
    # The same request with a mangled signature is refused for the signature: the clock is checked after it.
    forged = {**vector["headers"], protocol.H_SIGNATURE: "A" * 86 + "=="}
    assert send(vector_server, vector, forged).json()["code"] == protocol.E_BAD_SIGNATURE


def test_a_real_server_stores_the_vector_push_byte_for_byte(vector_server: ServerHandle,
                                                             first_push: dict[str, Any]) -> None:
    assert first_push == V["push_answer"]
    with vector_server.engine().connect() as conn:
        stored = conn.execute(select(RECORD.c.seq, RECORD.c.hash, RECORD.c.text)
                              .where(RECORD.c.device_id == V["device_id"]).order_by(RECORD.c.seq)).all()
    assert [(row.seq, row.hash) for row in stored] == [(r["wire"]["seq"], r["sha256"]) for r in V["records"]]
    assert stored[2].text == V["records"][2]["wire"]["text"]
    # The gzip body is the same batch: every record a duplicate now.
    again = send_fresh(vector_server, REQUESTS["push_gzip"])
    assert again.status_code == 200, again.text
    assert again.json() == {**V["push_answer"], "stored": 0, "duplicates": 3}


def test_the_signed_get_answers_the_acked_position_of_the_vector_push(vector_server: ServerHandle,
                                                                      first_push: dict[str, Any]) -> None:
    answer = send_fresh(vector_server, REQUESTS["acked"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"acked_seq": 3, "acked_hash": V["records"][-1]["sha256"]}
    assert protocol.AckResponse.model_validate(answer.json()).acked_hash == first_push["acked_hash"]


def test_the_report_json_of_the_vector_ratings_is_the_document_s(vector_server: ServerHandle,
                                                                  first_push: dict[str, Any]) -> None:
    printed = vector_server.cli_ok("report", "--period", "day", "--date", "2026-11-23", "--group-by", "officer",
                                   "--agency", V["registered_at"]["agency"]["code"], "--format", "json")
    assert json.loads(printed.stdout) == V["report_example"]


# ---- the acknowledged position, asked for without pushing ----------------------------------------------------

def acked(server: ServerHandle, device: Device, device_id: str, **kwargs: Any) -> requests.Response:
    """The signed GET of the acknowledged position."""
    return signed_request(server.url, device.key, device_id, "GET", protocol.PUSH_PATH, **kwargs)


def position(answer: requests.Response) -> tuple[int, str]:
    """(acked_seq, acked_hash) of a 200 answer."""
    assert answer.status_code == 200, answer.text
    parsed = protocol.AckResponse.model_validate(answer.json())
    return parsed.acked_seq, parsed.acked_hash


def test_a_device_that_never_pushed_is_at_zero(module_server: ServerHandle, waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    assert position(acked(module_server, device, device_id)) == (0, chain.GENESIS_HASH)


def test_the_position_is_what_the_last_push_answered(module_server: ServerHandle,
                                                     waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    records = device.records()
    pushed = push(module_server.url, device, device_id, records[:2])
    assert pushed.status_code == 200, pushed.text
    assert position(acked(module_server, device, device_id)) == (2, records[1]["hash"]) == \
        (pushed.json()["acked_seq"], pushed.json()["acked_hash"])


def test_a_refused_gap_leaves_the_position_where_it_was(module_server: ServerHandle,
                                                        waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    records = device.records()
    assert push(module_server.url, device, device_id, records[:1]).status_code == 200
    gap = push(module_server.url, device, device_id, records[2:])
    assert gap.status_code == 409 and gap.json()["code"] == protocol.E_GAP
    assert position(acked(module_server, device, device_id)) == (1, records[0]["hash"])


def test_a_broken_chain_is_at_its_last_good_record(module_server: ServerHandle,
                                                   waiting_kiosk: tuple[Device, str]) -> None:
    device, device_id = waiting_kiosk
    records = device.records()
    records[1] = {**records[1], "level": 1 if records[1]["level"] != 1 else 2}  # edited after it was signed
    broken = push(module_server.url, device, device_id, records)
    assert broken.status_code == 409 and broken.json()["code"] == protocol.E_CHAIN
    assert position(acked(module_server, device, device_id)) == (1, records[0]["hash"])


def test_the_position_is_refused_to_a_revoked_unsigned_forged_or_replayed_request(
        module_server: ServerHandle, waiting_kiosk: tuple[Device, str], tmp_path: Path) -> None:
    device, device_id = waiting_kiosk
    unsigned = requests.get(module_server.url + protocol.PUSH_PATH, timeout=10)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == protocol.E_BAD_SIGNATURE
    forger = DeviceKey.load_or_create(tmp_path / "forger.pem")
    forged = signed_request(module_server.url, forger, device_id, "GET", protocol.PUSH_PATH)
    assert forged.status_code == 401 and forged.json()["code"] == protocol.E_BAD_SIGNATURE
    assert acked(module_server, device, device_id, nonce="same-nonce-twice").status_code == 200
    replayed = acked(module_server, device, device_id, nonce="same-nonce-twice")
    assert replayed.status_code == 409 and replayed.json()["code"] == protocol.E_REPLAY
    enrolment.revoke(module_server.engine(), device_id)
    revoked = acked(module_server, device, device_id)
    assert revoked.status_code == 403 and revoked.json()["code"] == protocol.E_REVOKED


@pytest.mark.parametrize("method", ["OPTIONS", "DELETE", "PUT"])
def test_another_method_on_the_records_path_names_both_it_takes(module_server: ServerHandle, method: str) -> None:
    answer = requests.request(method, module_server.url + protocol.PUSH_PATH, timeout=10)
    assert answer.status_code == 405 and answer.json()["code"] == protocol.E_METHOD
    assert {m.strip() for m in answer.headers["Allow"].split(",")} >= {"GET", "POST"}


def test_the_position_is_in_the_openapi_schema(module_server: ServerHandle) -> None:
    document = requests.get(module_server.url + "/openapi.json", timeout=10).json()
    operation = document["paths"][protocol.PUSH_PATH]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AckResponse")
    assert {p["name"] for p in operation["parameters"]} >= {protocol.H_DEVICE, protocol.H_SIGNATURE}


def test_published_times_are_utc_iso_8601(module_server: ServerHandle) -> None:
    answer = requests.get(module_server.url + protocol.TIME_PATH, timeout=10)
    body_time = answer.json()["server_time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body_time)
    header = answer.headers[protocol.H_SERVER_TIME]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", header)
    assert datetime.fromisoformat(header).utcoffset() == datetime.fromisoformat(body_time).utcoffset() == \
        timedelta(0)
