"""Signed HTTP requests to the central server, with retries, back-off and one time budget per pass.

Every request is signed with the device key over sync.protocol.signing_input and a fresh nonce, retries
included (the server refuses a nonce it has seen). Connection failures, timeouts, 5xx and 429 are retried
with exponential back-off and full jitter; other 4xx never are, because the same request will be refused the
same way. A clock_skew answer teaches the client the server's time once per request, and the offset is kept
for the rest of the pass. No wait, timeout or retry ever outlasts the pass's budget.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ValidationError

from kiosk.domain.keys import DeviceKey
from sync import protocol
from sync.agent.errors import E_BAD_RESPONSE, E_BAD_URL, E_BUDGET, E_SERVER, E_TLS, E_UNREACHABLE, SyncError

JSON_ANSWER_CAP = 1024 * 1024  # no answer but the catalog is anywhere near this
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
Answer = TypeVar("Answer", bound=BaseModel)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request is tried again."""

    attempts: int = 6       # tries in all, the first included
    base_s: float = 0.5     # the first back-off's ceiling; each next one doubles it
    cap_s: float = 30.0     # the largest back-off ceiling

    def delay(self, retry: int, rng: random.Random) -> float:
        """Full jitter: a uniform wait between 0 and the exponential ceiling for this retry (0-based)."""
        return rng.uniform(0, min(self.cap_s, self.base_s * 2 ** retry))


class Budget:
    """The time one pass may still take; every wait and timeout is cut to fit it."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._monotonic = monotonic
        self._deadline = monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(self._deadline - self._monotonic(), 0.0)

    def check(self) -> None:
        """Raise when the budget is spent."""
        if self.remaining() <= 0.05:
            raise SyncError(E_BUDGET, f"Hết thời gian cho phép của lượt đồng bộ ({self.seconds:.0f} giây); "
                            "phần còn lại sẽ gửi ở lượt sau",
                            f"The sync pass ran out of its time budget ({self.seconds:.0f} s); "
                            "the rest goes in the next pass")


def check_server_url(url: str) -> str:
    """The server's base URL without a trailing slash; a clear error when it cannot be one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SyncError(E_BAD_URL, f"Địa chỉ máy chủ không hợp lệ: {url!r} (cần dạng https://may-chu:8443)",
                        f"Not a valid server address: {url!r} (expected e.g. https://server:8443)")
    return url.strip().rstrip("/")


def error_body(response: requests.Response, content: bytes) -> protocol.ErrorBody | None:
    """The ErrorBody of a refusal, or None when the answer is not one."""
    try:
        return protocol.ErrorBody.model_validate_json(content)
    except ValidationError:
        return None


def read_capped(response: requests.Response, cap: int) -> bytes:
    """The whole body of a streamed response, refusing one larger than `cap` bytes."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise SyncError(E_BAD_RESPONSE, f"Câu trả lời của máy chủ quá lớn (trên {cap} byte)",
                                f"The server's answer is too large (over {cap} bytes)", status=response.status_code)
            chunks.append(chunk)
    except requests.RequestException as exc:
        response.close()
        raise SyncError(E_UNREACHABLE, f"Mất kết nối khi đang nhận câu trả lời: {exc}",
                        f"The connection broke while reading the answer: {exc}") from exc
    except BaseException:
        response.close()
        raise
    # Read to the end: urllib3 has given the connection back to the pool for the next request.
    return b"".join(chunks)


def parse_answer(content: bytes, model: type[Answer], vi: str, en: str) -> Answer:
    """The server's answer read as `model`; else a bad_response error beginning with `vi` and `en`."""
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        raise SyncError(E_BAD_RESPONSE, f"{vi}: {exc}", f"{en}: {exc}") from exc


def server_time(response: requests.Response, body: protocol.ErrorBody | None) -> datetime | None:
    """What the server's clock read when it answered: from the error body, else the X-Server-Time header."""
    if body is not None and body.server_time is not None:
        return body.server_time
    header = response.headers.get(protocol.H_SERVER_TIME)
    if header:
        try:
            return datetime.fromisoformat(header.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


class SyncClient:
    """One session with the central server for one device; not shared between threads."""

    def __init__(self, base_url: str, key: DeviceKey, device_id: str, *, budget: Budget,
                 ca_file: Path | None = None, timeout_s: float = 30, retry: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.time, offset_s: float = 0.0,
                 rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = check_server_url(base_url)
        self.key = key
        self.device_id = device_id
        self.budget = budget
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.clock = clock                 # the device's own clock, Unix seconds
        self.offset_s = offset_s           # server clock minus device clock, as last learnt
        self.offset_learnt = False
        self.last_server_time: datetime | None = None
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.session = requests.Session()
        # On by default: a kiosk on a public network must not hand its ratings to whoever answers. Passed with
        # every request, because requests lets $REQUESTS_CA_BUNDLE override a session's own `verify`.
        self.verify: str | bool = str(ca_file) if ca_file else True
        if ca_file is not None and not ca_file.is_file():
            raise SyncError(E_TLS, f"Không tìm thấy tệp CA {ca_file} (khoá sync.ca_file)",
                            f"The CA file {ca_file} does not exist (key sync.ca_file)")

    def close(self) -> None:
        """Close the connections."""
        self.session.close()

    def now(self) -> float:
        """The server's time as far as this device knows it: its own clock plus the learnt offset."""
        return self.clock() + self.offset_s

    def signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        """The four signature headers for one attempt; a fresh nonce every time."""
        timestamp, nonce = int(self.now()), secrets.token_hex(16)
        message = protocol.signing_input(method, urlsplit(url).path, timestamp, nonce, body)
        return {protocol.H_DEVICE: self.device_id, protocol.H_TIMESTAMP: str(timestamp),
                protocol.H_NONCE: nonce, protocol.H_SIGNATURE: self.key.sign(message)}

    def request(self, method: str, path: str, *, body: bytes = b"", headers: Mapping[str, str] | None = None,
                ok: Iterable[int] = (200,), stream: bool = False) -> requests.Response:
        """Send one signed request, retrying what may pass next time; return a response with an `ok` status.

        With stream, the body is left unread for the caller (who must close the response); otherwise it is
        read (capped) and available as `.content`.
        """
        url = self.base_url + path
        accepted = frozenset(ok)
        skew_retried = False
        retry = 0
        while True:
            self.budget.check()
            response = self._attempt(method, url, body, headers, retry)
            if response is None:  # a connection failure or timeout, already waited for
                retry += 1
                continue
            self._note_time(response)
            if response.status_code in accepted and stream:
                return response
            try:
                content = read_capped(response, JSON_ANSWER_CAP)
            except SyncError as exc:
                # An answer cut off half way: the request may have done its work, and sending it again is
                # harmless (the server stores each record once), so it is retried like a lost connection.
                if exc.code != E_UNREACHABLE or retry + 1 >= self.retry.attempts:
                    raise
                self._back_off(retry, None)
                retry += 1
                continue
            if response.status_code in accepted:
                response._content = content
                return response
            refusal = error_body(response, content)
            status = response.status_code
            if status == 401 and refusal is not None and refusal.code == protocol.E_CLOCK_SKEW and not skew_retried:
                known = server_time(response, refusal)
                if known is not None:
                    self.offset_s = known.timestamp() - self.clock()
                    self.offset_learnt = True
                    skew_retried = True
                    continue
            if status in RETRY_STATUSES:
                if retry + 1 < self.retry.attempts:
                    self._back_off(retry, response.headers.get("Retry-After"))
                    retry += 1
                    continue
                # One code for every "still failing" answer, so the pass stops rather than try each step again.
                said_vi = f": {refusal.message_vi}" if refusal is not None else ""
                said_en = f": {refusal.message_en}" if refusal is not None else ""
                raise SyncError(E_SERVER, f"Máy chủ đang lỗi ({status}) sau {self.retry.attempts} lần thử{said_vi}",
                                f"The server is failing ({status}) after {self.retry.attempts} tries{said_en}",
                                status=status, body=refusal)
            if refusal is not None:
                raise SyncError.from_body(status, refusal)
            snippet = content[:200].decode("utf-8", "replace")
            raise SyncError(E_BAD_RESPONSE, f"Máy chủ trả lời {status} không đúng giao thức: {snippet!r}",
                            f"The server answered {status} outside the protocol: {snippet!r}", status=status)

    def post_json(self, path: str, message: BaseModel, answer: type[Answer], vi: str, en: str) -> Answer:
        """POST `message` as JSON, signed, and read the answer as `answer` (see parse_answer for `vi`, `en`)."""
        response = self.request("POST", path, body=message.model_dump_json().encode("utf-8"),
                                headers={"Content-Type": "application/json"})
        return parse_answer(response.content, answer, vi, en)

    def _attempt(self, method: str, url: str, body: bytes, headers: Mapping[str, str] | None,
                 retry: int) -> requests.Response | None:
        """One try; None after a failure worth retrying (the back-off already waited)."""
        all_headers = {**(headers or {}), **self.signed_headers(method, url, body)}
        left = self.budget.remaining()
        timeout = (min(self.timeout_s, left), min(self.timeout_s, left))
        try:
            return self.session.request(method, url, data=body or None, headers=all_headers, timeout=timeout,
                                        stream=True, allow_redirects=False, verify=self.verify)
        except requests.exceptions.SSLError as exc:
            raise SyncError(E_TLS, f"Chứng chỉ của máy chủ {self.base_url} không được tin cậy: {_reason(exc)}. "
                            "Kiểm tra địa chỉ, hoặc đặt sync.ca_file",
                            f"The certificate of {self.base_url} is not trusted: {_reason(exc)}. "
                            "Check the address, or set sync.ca_file") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            if retry + 1 >= self.retry.attempts:
                raise SyncError(E_UNREACHABLE, f"Không kết nối được máy chủ {self.base_url} sau "
                                f"{self.retry.attempts} lần thử: {_reason(exc)}",
                                f"Cannot reach the server {self.base_url} after {self.retry.attempts} tries: "
                                f"{_reason(exc)}") from exc
            self._back_off(retry, None)
            return None
        except requests.RequestException as exc:
            raise SyncError(E_BAD_URL, f"Không gửi được yêu cầu tới {url}: {exc}",
                            f"Cannot send the request to {url}: {exc}") from exc

    def _back_off(self, retry: int, retry_after: str | None) -> None:
        wait = self.retry.delay(retry, self._rng)
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, float(retry_after))
        left = self.budget.remaining()
        if wait >= left:
            self._sleep(left)
            self.budget.check()
        self._sleep(wait)

    def _note_time(self, response: requests.Response) -> None:
        stamp = server_time(response, None)
        if stamp is not None:
            self.last_server_time = stamp


_ERRNO = re.compile(r"\[Errno -?\d+\][^'\")]*")


def _reason(exc: BaseException) -> str:
    """The useful words of a requests/urllib3 exception (its wrappers repeat the URL several times)."""
    text = str(exc)
    if isinstance(exc, requests.Timeout):
        return "timed out"
    found = _ERRNO.search(text)
    if found:
        return found.group(0).strip()
    if isinstance(exc, requests.exceptions.SSLError):
        ssl_reason = re.search(r"\[SSL: [A-Z_]+\][^'\")]*", text)
        if ssl_reason:
            return ssl_reason.group(0).strip()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the server closed the connection without answering"
    return text if len(text) <= 300 else text[:300] + "…"
