"""The sync wire format: every message the agent and the server exchange, and how a request is signed.

Both ends import this module and nothing else defines a message. Version 1, under ``/api/v1``.

A device request carries four headers (see `signing_input`): the device ID, a Unix timestamp, a random
nonce and an Ed25519 signature by the device key over the method, path, timestamp, nonce and the SHA-256 of
the body exactly as sent (compressed, if it was). The server refuses a timestamp more than
`MAX_CLOCK_SKEW_S` away from its own clock and a nonce it has already seen from that device, so a request
cannot be replayed; when it refuses a timestamp it says what its clock reads, and the agent signs with the
corrected time from then on (the device's own drift is reported in its health, never trusted blindly).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiosk.domain import chain, levels

PROTOCOL_VERSION = 1
API_PREFIX = "/api/v1"

# Paths, relative to the server's base URL.
ENROLL_PATH = f"{API_PREFIX}/enroll"
PUSH_PATH = f"{API_PREFIX}/records"
SETTINGS_PATH = f"{API_PREFIX}/settings"
CATALOG_PATH = f"{API_PREFIX}/catalog"
HEALTH_PATH = f"{API_PREFIX}/health"
TIME_PATH = f"{API_PREFIX}/time"

# Request headers of a signed device request.
H_DEVICE = "X-Kiosk-Device"
H_TIMESTAMP = "X-Kiosk-Timestamp"
H_NONCE = "X-Kiosk-Nonce"
H_SIGNATURE = "X-Kiosk-Signature"
# Response header: the server's own clock (UTC ISO 8601), on every response.
H_SERVER_TIME = "X-Server-Time"
# Response header of the catalog download: the catalog version number (the ETag is its SHA-256).
H_CATALOG_VERSION = "X-Catalog-Version"

SIGNATURE_SCHEME = "KIOSK-SYNC-1"
MAX_CLOCK_SKEW_S = 300
# Health reports whose clock differs from the server's by more than this flag the device.
CLOCK_DRIFT_FLAG_S = 120

# Limits, enforced by the server before it reads a body (413) and by the agent when it builds a batch.
MAX_BATCH_RECORDS = 1000
MAX_BODY_BYTES = 2 * 1024 * 1024          # as sent (gzip-compressed push bodies)
MAX_INFLATED_BYTES = 16 * 1024 * 1024     # after decompression: a zip bomb stops here
MAX_CATALOG_BYTES = 64 * 1024 * 1024      # catalog uploads and downloads

# Error codes: the `code` of an ErrorBody, one per way a request can be refused.
E_MALFORMED = "malformed"                  # 400/422: not JSON, wrong shape, wrong types
E_TOO_LARGE = "too_large"                  # 413
E_ENCODING = "unsupported_encoding"        # 415
E_UNKNOWN_DEVICE = "unknown_device"        # 401
E_REVOKED = "revoked"                      # 403
E_BAD_SIGNATURE = "bad_signature"          # 401
E_CLOCK_SKEW = "clock_skew"                # 401: `server_time` says what the server's clock reads
E_REPLAY = "replay"                        # 409: this nonce was already used
E_BAD_CODE = "bad_enrollment_code"         # 403: unknown, used or expired enrolment code
E_KEY_IN_USE = "key_in_use"                # 409: this public key belongs to another device
E_GAP = "gap"                              # 409: the batch starts after acked_seq + 1
E_CHAIN = "chain_broken"                   # 409: a record's hash, link or signature fails
E_WRONG_DEVICE = "wrong_device"            # 400: a record's device does not match the signer
E_OUT_OF_DOMAIN = "out_of_domain"          # 422: a signed record outside its domain (kiosk.domain.levels)
E_NOT_FOUND = "not_found"                  # 404
E_METHOD = "method_not_allowed"            # 405: the path exists, not with this method
E_UNAVAILABLE = "unavailable"              # 503: the server cannot reach its database; retry later
E_INTERNAL = "internal"                    # 500: a fault in the server itself (logged there); retry later

# A record's time, RFC 3339: a date, "T", a time (fraction optional) and an offset (Z or ±hh:mm). The kiosk writes
# UTC with milliseconds and Z; any offset is read as the instant it names. A signed record whose time is not of
# this form, or names no real instant, is refused from that record on (E_OUT_OF_DOMAIN), like any record outside
# its domain, so the records before it are still stored.
TIMESTAMP_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
                     r"(Z|[+-][0-9]{2}:[0-9]{2})$")
# A national procedure code (kiosk.domain.levels): 1.001193, 1.012753.H19.
ProcedureCode = Annotated[str, StringConstraints(max_length=32, pattern=f"^{levels.PROCEDURE_CODE_PATTERN}$")]
Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Base64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]+={0,2}$", max_length=256)]
ShortText = Annotated[str, StringConstraints(max_length=200)]


class Message(BaseModel):
    """Base of every message: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorBody(Message):
    """Every 4xx answer: a stable code for programs and a sentence in Vietnamese and English for people."""

    code: str
    message_vi: str
    message_en: str
    # Filled where they help the agent recover.
    acked_seq: int | None = None
    first_bad_seq: int | None = None
    server_time: datetime | None = None


# ---- enrolment ------------------------------------------------------------------------------------------

class EnrollRequest(Message):
    """The kiosk's public key and identity, sent once with the one-time code IT printed.

    The request is signed like any other (with `H_DEVICE` set to the kiosk's local `device_uuid`), which
    proves the kiosk holds the private half of the key it sends.
    """

    code: Annotated[str, StringConstraints(min_length=6, max_length=64)]
    public_key: Base64
    device_uuid: Uuid
    app_version: ShortText = ""
    hostname: ShortText = ""


class EnrollResponse(Message):
    """The device ID the server gave this kiosk, and where it stands."""

    device_id: Uuid
    agency_id: str
    agency_name: str
    counter_id: str
    counter_name: str
    acked_seq: int = 0


# ---- push -----------------------------------------------------------------------------------------------

class Record(Message):
    """One signed, chained log record exactly as the device stored it (see kiosk.domain.chain.SIGNED_FIELDS)."""

    seq: Annotated[int, Field(ge=1)]
    uuid: Uuid
    kind: Literal["rating", "answer"]
    recorded_at: Annotated[str, StringConstraints(max_length=40)]   # TIMESTAMP_PATTERN, checked by the server
    prev_hash: Hex64
    rating_uuid: Uuid | None = None
    level: Annotated[int, Field(ge=1, le=5)] | None = None
    counter_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    officer_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    procedure_code: Annotated[str, StringConstraints(max_length=64)] | None = None
    language: Annotated[str, StringConstraints(max_length=8)] | None = None
    suspected_repeat: bool = False
    is_test: bool = False
    question: Annotated[str, StringConstraints(max_length=32)] | None = None
    value: Annotated[int, Field(ge=0, le=5)] | None = None
    text: Annotated[str, StringConstraints(max_length=2000)] | None = None
    hash: Hex64
    signature: Base64

    def signed_fields(self) -> dict[str, object]:
        """The fields as kiosk.domain.chain hashes and checks them."""
        return self.model_dump()


class PushRequest(Message):
    """A batch of consecutive records, oldest first; sent gzip-compressed (Content-Encoding: gzip).

    `device_time` is the device's own clock, uncorrected, when the batch was made: with the moment the server
    receives it, it measures how far the device's clock is off, which decides where the records' times fall
    (see sync.server.devices.clock). Optional for agents that predate it; they are measured by their health reports.
    """

    device_id: Uuid
    records: Annotated[list[Record], Field(min_length=1, max_length=MAX_BATCH_RECORDS)]
    device_time: datetime | None = None


class PushResponse(Message):
    """What the server holds after the batch: the agent always resumes after `acked_seq`."""

    acked_seq: int
    acked_hash: str
    stored: int       # records new to the server in this batch
    duplicates: int   # records it already held, identical


# ---- pull -----------------------------------------------------------------------------------------------

class OfficerInfo(Message):
    """An officer who may be on duty at this device's counter."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    title: ShortText = ""


class DeviceSettings(Message):
    """The settings the server holds for one device; `version` changes whenever any of them does.

    Fetched with If-None-Match: "<version>"; 304 when nothing changed.
    """

    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    agency_name: ShortText
    agency_parent: ShortText = ""
    agency_code: Annotated[str, StringConstraints(max_length=64)] = ""
    counter_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    counter_name: ShortText
    counter_procedures: Annotated[list[ProcedureCode], Field(max_length=50)] = []
    officers: Annotated[list[OfficerInfo], Field(max_length=200)] = []
    hotline: Annotated[str, StringConstraints(max_length=40)] = ""
    complaint_address: ShortText = ""
    email: ShortText = ""
    website: ShortText = ""


# The catalog download is the national procedure JSON itself (what `kiosk catalog import` reads), with
# ETag: "<sha256 of the body>" and X-Catalog-Version; fetched with If-None-Match, 304 when unchanged,
# 404 (E_NOT_FOUND) when the server distributes no catalog.


# ---- health ---------------------------------------------------------------------------------------------

PrinterState = Literal["none", "ok", "fault", "unknown"]
ChainState = Literal["intact", "gap", "broken", "unknown"]


class HealthReport(Message):
    """What the device says about itself at the end of each sync pass."""

    app_version: ShortText
    queue_depth: Annotated[int, Field(ge=0)]
    head_seq: Annotated[int, Field(ge=0)]
    head_hash: Annotated[str, StringConstraints(max_length=64)]
    acked_seq: Annotated[int, Field(ge=0)]
    disk_free_bytes: Annotated[int, Field(ge=0)]
    printer_state: PrinterState
    printer_fault: Annotated[str, StringConstraints(max_length=500)] = ""
    device_time: datetime
    catalog_version: Annotated[str, StringConstraints(max_length=80)] = ""
    settings_version: Annotated[str, StringConstraints(max_length=64)] = ""
    last_error: Annotated[str, StringConstraints(max_length=500)] = ""


class HealthResponse(Message):
    """The server's reading of the report: its own clock and the drift it measured."""

    server_time: datetime
    clock_drift_s: float
    clock_flagged: bool


class TimeResponse(Message):
    """The server's clock, for an agent to measure its offset before signing (unsigned, public)."""

    server_time: datetime


# ---- signing --------------------------------------------------------------------------------------------

def body_digest(body: bytes) -> str:
    """SHA-256 of the body bytes exactly as sent, hex."""
    return hashlib.sha256(body).hexdigest()


def signing_input(method: str, path: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """The exact bytes a device signs for one request (and the server checks).

    `path` is the URL path without the query string (queries carry nothing that needs protecting).
    """
    return "\n".join((SIGNATURE_SCHEME, method.upper(), path, str(timestamp), nonce,
                      body_digest(body))).encode("ascii")


def record_hash_ok(record: Record) -> bool:
    """True when the record's stored hash is the SHA-256 of its canonical form."""
    return chain.record_hash(record.signed_fields()) == record.hash


# ---- the acknowledged position --------------------------------------------------------------------------

class AckResponse(Message):
    """Where the server's copy of this device's chain ends, asked for without pushing: a signed GET PUSH_PATH.

    The same `acked_seq` and `acked_hash` a push would answer with (0 and 64 zeros before the first record).
    """

    acked_seq: int
    acked_hash: str
