"""The one error type the agent raises: a code a program can act on and a sentence in Vietnamese and English."""

from __future__ import annotations

from kiosk.domain.errors import BilingualError
from sync import protocol

# Codes of failures found on the device's side of the wire (the server's own codes are in sync.protocol).
E_NOT_ENROLLED = "not_enrolled"
E_ALREADY_ENROLLED = "already_enrolled"
E_BAD_URL = "bad_server_url"
E_CODE_FORMAT = "bad_code_format"       # an enrolment code that cannot be one (checked before sending)
E_UNREACHABLE = "unreachable"           # connection refused, reset, DNS, timeouts: worth trying again later
E_TLS = "tls"                           # the server's certificate was refused: retrying will not help
E_SERVER = "server_error"               # 5xx or 429 still there after the last retry
E_BUDGET = "budget"                     # the pass ran out of its time budget
E_BAD_RESPONSE = "bad_response"         # an answer that is not what the protocol says
E_BAD_DOWNLOAD = "bad_download"         # a catalog download that was cut short, too big or failed its hash
E_CATALOG = "catalog_rejected"          # a downloaded catalog the kiosk's importer refused
E_SETTINGS = "settings_rejected"        # server settings the kiosk cannot apply
E_LOCAL_RECORD = "local_record_invalid"  # a stored record that does not even fit the wire format
E_STUCK = "no_progress"                 # the server keeps acknowledging the same number
E_SERVER_AHEAD = "server_ahead"         # the server holds more records than the device: an old backup restored

# Codes after which the rest of a pass is pointless: the server cannot be reached or will not talk to us.
STOP_CODES = frozenset({E_UNREACHABLE, E_TLS, E_SERVER, E_BUDGET, E_NOT_ENROLLED, protocol.E_REVOKED,
                        protocol.E_UNKNOWN_DEVICE, protocol.E_BAD_SIGNATURE, protocol.E_CLOCK_SKEW})
# Codes that need a person (IT) rather than another try.
NEEDS_IT = frozenset({protocol.E_REVOKED, protocol.E_UNKNOWN_DEVICE, protocol.E_BAD_SIGNATURE, protocol.E_CHAIN,
                      protocol.E_WRONG_DEVICE, protocol.E_KEY_IN_USE, protocol.E_BAD_CODE, E_TLS,
                      E_LOCAL_RECORD, E_CATALOG, E_SETTINGS, E_SERVER_AHEAD})


class SyncError(BilingualError):
    """A sync step that did not reach the server or was refused by it."""

    def __init__(self, code: str, vi: str, en: str, *, status: int | None = None,
                 body: protocol.ErrorBody | None = None) -> None:
        super().__init__(vi, en)
        self.code = code
        self.status = status
        self.body = body

    @classmethod
    def from_body(cls, status: int, body: protocol.ErrorBody) -> SyncError:
        """The server's refusal, in its own words."""
        return cls(body.code, f"Máy chủ từ chối ({status}): {body.message_vi}",
                   f"The server refused ({status}): {body.message_en}", status=status, body=body)

    @property
    def first_bad_seq(self) -> int | None:
        """The first record the server found broken, when it said."""
        return self.body.first_bad_seq if self.body else None

    @property
    def acked_seq(self) -> int | None:
        """What the server holds without a gap, when it said."""
        return self.body.acked_seq if self.body else None
