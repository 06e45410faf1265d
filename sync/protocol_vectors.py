"""Test vectors for docs/protocol.md: a fixed key, three chained records and signed requests, made by the real code.

`python -m sync.protocol_vectors [FILE]` writes them (docs/protocol-vectors.json); tests/test_protocol_vectors.py
checks that the file is exactly what this module makes, that every value agrees with the code a kiosk and the
server run, and that a real server accepts the records. Nothing here is random: Ed25519 signatures are
deterministic, and the gzip example uses stored (uncompressed) deflate blocks, whose bytes every gzip
implementation reproduces, so an implementer in any language can compare byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import sys
import zlib
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain import chain
from kiosk.domain.keys import DeviceKey, fingerprint, public_key_b64
from sync import protocol

SEED = bytes(range(32))  # 0x00 0x01 … 0x1f: a published key, for vectors only
DEVICE_UUID = "6f1d3a52-8c4e-4b7a-9d2f-0e5c1b7a3f90"   # the kiosk's own UUID, made on its first run
DEVICE_ID = "3f2a9c1e-5b7d-4e8f-a1c2-d3e4f5a6b7c8"     # the ID the server gave at enrolment
ENROLMENT_CODE = "ZMP5-KHXT-MBD8"
TIMESTAMP = 1795401000  # 2026-11-23T02:30:00Z, when the requests below were signed
COMMENT = "Cán bộ hướng dẫn tận tình, chu đáo.\nPhòng chờ hơi nóng, đề nghị lắp thêm quạt \"mát\"."

# Where the vector device is registered when a test pushes the records to a real server, and what its report shows.
AGENCY = {"code": "VT", "name": "Trung tâm Phục vụ hành chính công xã Thử nghiệm", "parent": "Tỉnh Thử nghiệm"}
COUNTER = {"code": "Q01", "name": "Quầy số 1 – Tư pháp, hộ tịch"}
OFFICER = {"code": "CB001", "name": "Nguyễn Thị Lan"}
REPORT_DAY = date(2026, 11, 23)

_RECORDS: tuple[dict[str, Any], ...] = (
    {"seq": 1, "uuid": "5aa1e690-4d50-4dd1-8a67-9bf1fb98aa00", "kind": "rating",
     "recorded_at": "2026-11-23T01:27:46.411Z", "rating_uuid": None, "level": 4, "counter_id": COUNTER["code"],
     "officer_id": OFFICER["code"], "procedure_code": "1.001193", "language": "vi", "suspected_repeat": False,
     "is_test": False, "question": None, "value": None, "text": None},
    {"seq": 2, "uuid": "c0a80101-7e3b-4f5a-9c1d-2b3e4f5a6b7c", "kind": "answer",
     "recorded_at": "2026-11-23T01:27:52.108Z", "rating_uuid": "5aa1e690-4d50-4dd1-8a67-9bf1fb98aa00",
     "level": None, "counter_id": None, "officer_id": None, "procedure_code": None, "language": None,
     "suspected_repeat": False, "is_test": False, "question": "officer", "value": 5, "text": None},
    {"seq": 3, "uuid": "e4b1c2d3-0f9e-4a8b-b7c6-d5e4f3a2b1c0", "kind": "answer",
     "recorded_at": "2026-11-23T01:28:31.950Z", "rating_uuid": "5aa1e690-4d50-4dd1-8a67-9bf1fb98aa00",
     "level": None, "counter_id": None, "officer_id": None, "procedure_code": None, "language": None,
     "suspected_repeat": False, "is_test": False, "question": "comment", "value": None, "text": COMMENT},
)


def device_key() -> DeviceKey:
    """The vector key pair, from SEED."""
    return DeviceKey(Ed25519PrivateKey.from_private_bytes(SEED))


def json_bytes(data: Any) -> bytes:
    """The vector bodies' JSON: compact, UTF-8 (any valid JSON would do: the server parses it)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def gzip_stored(data: bytes) -> bytes:
    """A gzip member (RFC 1952) holding `data` in stored deflate blocks: valid gzip, identical everywhere."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no flags, mtime 0, no extra flags, OS unknown
    chunks = [data[i:i + 0xFFFF] for i in range(0, len(data), 0xFFFF)] or [b""]
    blocks = b"".join(bytes([i == len(chunks) - 1]) + struct.pack("<HH", len(c), len(c) ^ 0xFFFF) + c
                      for i, c in enumerate(chunks))
    return header + blocks + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def _key(key: DeviceKey) -> dict[str, str]:
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"seed_hex": SEED.hex(), "seed_base64": base64.b64encode(SEED).decode("ascii"),
            "public_key_hex": raw.hex(), "public_key_base64": public_key_b64(key.public_key),
            "fingerprint": fingerprint(key.public_key)}


def records(key: DeviceKey) -> list[dict[str, Any]]:
    """The three records, chained and signed, each with its canonical bytes, hash and signature."""
    out, prev_hash = [], chain.GENESIS_HASH
    for fields in _RECORDS:
        record = {name: fields[name] for name in chain.SIGNED_FIELDS if name != "prev_hash"}
        record["prev_hash"] = prev_hash
        record = {name: record[name] for name in chain.SIGNED_FIELDS}
        body = chain.canonical(record)
        digest, signature = chain.record_hash(record), key.sign(body)
        out.append({"canonical_utf8": body.decode("utf-8"), "canonical_hex": body.hex(),
                    "sha256": digest, "signature_base64": signature,
                    "signature_hex": base64.b64decode(signature).hex(),
                    "wire": {**record, "hash": digest, "signature": signature}})
        prev_hash = digest
    return out


def request(key: DeviceKey, name: str, method: str, path: str, device: str, nonce: str, body: bytes,
            content_encoding: str | None = None, body_json: bytes | None = None) -> dict[str, Any]:
    """One signed request: the body as sent, its hash, the signing input, the signature and the four headers."""
    message = protocol.signing_input(method, path, TIMESTAMP, nonce, body)
    signature = key.sign(message)
    vector: dict[str, Any] = {"name": name, "method": method, "path": path, "timestamp": TIMESTAMP,
                              "nonce": nonce, "content_encoding": content_encoding}
    if body_json is not None:
        vector["body_decoded_utf8"] = body_json.decode("utf-8")
    vector.update({
        "body_hex": body.hex(), "body_sha256": protocol.body_digest(body),
        "signing_input_utf8": message.decode("ascii"), "signing_input_hex": message.hex(),
        "signature_base64": signature,
        "headers": {protocol.H_DEVICE: device, protocol.H_TIMESTAMP: str(TIMESTAMP), protocol.H_NONCE: nonce,
                    protocol.H_SIGNATURE: signature},
    })
    return vector


def requests(key: DeviceKey, signed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Enrolment, the push of the three records (plain and gzip) and the signed GET of the acked position."""
    enrol = json_bytes({"code": ENROLMENT_CODE, "public_key": public_key_b64(key.public_key),
                        "device_uuid": DEVICE_UUID, "app_version": "0.1.0", "hostname": "kiosk-vt-q01"})
    push = json_bytes({"device_id": DEVICE_ID, "records": [r["wire"] for r in signed]})
    return [
        request(key, "enroll", "POST", protocol.ENROLL_PATH, DEVICE_UUID, "1c2b9d0e7f6a5b4c3d2e1f0a9b8c7d6e",
                enrol, body_json=enrol),
        request(key, "push", "POST", protocol.PUSH_PATH, DEVICE_ID, "9f1c0c6b2d0e4a51b8f2a8d4c3e1f7a0", push,
                body_json=push),
        request(key, "push_gzip", "POST", protocol.PUSH_PATH, DEVICE_ID, "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
                gzip_stored(push), "gzip", body_json=push),
        request(key, "acked", "GET", protocol.PUSH_PATH, DEVICE_ID, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", b""),
    ]


def push_answer(signed: list[dict[str, Any]]) -> dict[str, Any]:
    """What the server answers to the first push of the three records."""
    return protocol.PushResponse(acked_seq=len(signed), acked_hash=signed[-1]["sha256"], stored=len(signed),
                                 duplicates=0).model_dump(mode="json")


def report_example() -> dict[str, Any]:
    """What `kiosk-server report --period day --date 2026-11-23 --group-by officer --agency VT --format json` prints.

    After the push of the three records: one rating at level 4, its officer element answered 5.
    """
    from kiosk.domain.levels import SCALE_KEYS
    from sync.server.results import exports
    from sync.server.results.figures import Element, Figures, Report, ReportQuery, Row
    from sync.server.results.periods import Period
    from sync.server.settings import ServerSettings

    defaults = ServerSettings()
    elements = {key: Element.of(1, 1) if key == "officer" else Element.of(0, 0) for key in SCALE_KEYS}
    figures = Figures(1, (0, 0, 0, 1, 0), elements, 0)
    row = Row(OFFICER["code"], OFFICER["name"], figures, Figures.empty(), flagged=False,
              too_few=defaults.reports.flag_min_ratings > 1)
    query = ReportQuery(Period.of("day", REPORT_DAY), "officer", AGENCY["code"])
    report = Report(query, figures, Figures.empty(), [row], defaults.reports.flag_share,
                    defaults.reports.flag_min_ratings, Figures.empty(), 0,
                    timezone="Asia/Ho_Chi_Minh", agency_name=AGENCY["name"])
    return exports.report_json(report)


def build() -> dict[str, Any]:
    """Every vector, as docs/protocol-vectors.json holds them."""
    key = device_key()
    signed = records(key)
    return {
        "about": "Test vectors for docs/protocol.md (sync protocol version 1), made by sync/protocol_vectors.py "
                 "and checked against the code and a real server by tests/test_protocol_vectors.py. The key is "
                 "public: never use it on a kiosk.",
        "protocol_version": protocol.PROTOCOL_VERSION,
        "key": _key(key),
        "device_uuid": DEVICE_UUID,
        "device_id": DEVICE_ID,
        "enrolment_code": ENROLMENT_CODE,
        "empty_body_sha256": hashlib.sha256(b"").hexdigest(),
        "records": signed,
        "requests": requests(key, signed),
        "push_answer": push_answer(signed),
        "registered_at": {"agency": AGENCY, "counter": COUNTER, "officer": OFFICER},
        "report_example": report_example(),
    }


def render() -> str:
    """The vectors file's exact text."""
    return json.dumps(build(), ensure_ascii=False, indent=2) + "\n"


# ---- the document's section -----------------------------------------------------------------------------------

def compact_json(data: Any, indent: str = "", width: int = 110) -> str:
    """JSON indented only as deep as it must be to keep lines under `width` (for reading, not for hashing)."""
    flat = json.dumps(data, ensure_ascii=False)
    if len(indent) + len(flat) <= width or not isinstance(data, dict | list) or not data:
        return flat
    inner = indent + "  "
    if isinstance(data, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {compact_json(v, inner, width).lstrip()}"
                 for k, v in data.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + compact_json(v, inner, width).lstrip() for v in data]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


def _block(text: str, language: str = "") -> list[str]:
    return [f"```{language}", text, "```", ""]


def _gzip_parts(vector: dict[str, Any]) -> str:
    sent = bytes.fromhex(vector["body_hex"])
    inner = sent[10:-8]
    size = len(inner) - 5
    return "\n".join((
        f"{sent[:10].hex():<24}gzip header: deflate, no flags, mtime 0, no extra flags, OS unknown (255)",
        f"{inner[:5].hex():<24}one final stored block (type 00) of {size} bytes: LEN {size:#06x}, NLEN = ~LEN",
        f"{'…':<24}the {size} bytes of the push body above, as they are",
        f"{sent[-8:].hex():<24}CRC-32 and length of those bytes, each 4 bytes little-endian"))


def markdown(vectors: dict[str, Any] | None = None) -> str:
    """The test vectors as docs/protocol.md shows them (`python -m sync.protocol_vectors --markdown`)."""
    v = vectors or build()
    key = v["key"]
    lines = ["Key pair (Ed25519; the seed is the 32 bytes 00 01 02 … 1f):", ""]
    lines += _block("\n".join((
        f"seed (private key), hex     {key['seed_hex']}",
        f"seed, base64                {key['seed_base64']}",
        f"public key, hex             {key['public_key_hex']}",
        f"public key, base64          {key['public_key_base64']}",
        f"fingerprint                 {key['fingerprint']}")))
    lines += [f"The kiosk's own UUID (`device_uuid`, used to enrol) is `{v['device_uuid']}`; the device ID the server "
              f"gave it is `{v['device_id']}`.", ""]
    titles = ("a rating", "an answer to it: the officer element, 5", "a comment in Vietnamese")
    for record, title in zip(v["records"], titles, strict=True):
        wire = record["wire"]
        lines += [f"**Record {wire['seq']}, {title}.** Canonical form (UTF-8, "
                  f"{len(record['canonical_hex']) // 2} bytes), its SHA-256 (`hash`) and signature (`signature`):", ""]
        lines += _block(record["canonical_utf8"], "json")
        lines += _block(f"hash       {record['sha256']}\nsignature  {record['signature_base64']}")
    last = v["records"][-1]
    hex_lines = [last["canonical_hex"][i:i + 64] for i in range(0, len(last["canonical_hex"]), 64)]
    lines += ["The same bytes of record 3 in hex: `ậ` in `tận` is `e1 ba ad`, the newline is the two bytes "
              "`5c 6e` (`\\n`), each quote inside the text is `5c 22` (`\\\"`):", ""]
    lines += _block("\n".join(hex_lines))
    lines += ["As it travels inside a push, the record is the 16 signed fields plus `hash` and `signature`:", ""]
    lines += _block(compact_json(last["wire"]), "json")
    for vector in v["requests"]:
        sent = bytes.fromhex(vector["body_hex"])
        encoding = vector["content_encoding"]
        lines += [f"**{vector['method']} {vector['path']}** ({_request_title(vector['name'])}).", ""]
        if vector["name"] == "push_gzip":
            lines += [f"Body: the push body above, gzip-compressed ({len(sent)} bytes, sent with "
                      "`Content-Encoding: gzip`). Real gzip output differs between libraries and levels, and "
                      "that is fine: the signature covers the bytes as sent. This vector uses a stored block so "
                      "that its bytes can be reproduced anywhere:", ""]
            lines += _block(_gzip_parts(vector))
        elif sent:
            lines += [f"Body, exactly as sent ({len(sent)} bytes of UTF-8, no `Content-Encoding`):", ""]
            lines += _block(vector["body_decoded_utf8"], "json")
        else:
            lines += ["No body: the last line of the signing input is the SHA-256 of zero bytes.", ""]
        lines += ["Signing input (six lines joined by `\\n`, no newline at the end) and the four headers:", ""]
        lines += _block(vector["signing_input_utf8"])
        headers = "\n".join(f"{name}: {value}" for name, value in vector["headers"].items())
        lines += _block(headers + (f"\nContent-Encoding: {encoding}" if encoding else ""))
    lines += ["The server's answer to the first push of the three records:", ""]
    lines += _block(json.dumps(v["push_answer"]), "json")
    lines += ["and, after it, the signed GET answers `" + json.dumps(
        {"acked_seq": v["push_answer"]["acked_seq"], "acked_hash": v["push_answer"]["acked_hash"]}) + "`.", ""]
    place = v["registered_at"]
    lines += [f"With the device registered at agency `{place['agency']['code']}` ({place['agency']['name']}), "
              f"counter `{place['counter']['code']}`, and officer `{place['officer']['code']}` named "
              f"{place['officer']['name']}, `kiosk-server report --period day --date 2026-11-23 --group-by officer "
              f"--agency {place['agency']['code']} --format json` then prints:", ""]
    lines += _block(compact_json(v["report_example"]), "json")
    return "\n".join(lines).rstrip("\n") + "\n"


def _request_title(name: str) -> str:
    return {"enroll": "enrolment, signed under the kiosk's own UUID", "push": "a push of the three records",
            "push_gzip": "the same push, gzip-compressed",
            "acked": "the acknowledged position, a signed GET"}[name]


def main(argv: list[str] | None = None) -> int:
    """Write the vectors to the file named (default: print them); `--markdown` prints the document's section."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--markdown"]:
        sys.stdout.write(markdown())
        return 0
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

