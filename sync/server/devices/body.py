"""Reading a request body safely: size caps before and while reading, gzip with a cap on what it inflates to,
and JSON checked against a protocol message, every refusal an ErrorBody with a specific code."""

from __future__ import annotations

import zlib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from sync import protocol
from sync.server.errors import ApiError

M = TypeVar("M", bound=BaseModel)
# PostgreSQL's BIGINT, the widest integer column: anything larger is refused rather than overflowing.
MAX_INT = 2**63 - 1


def _too_large(limit: int, what_vi: str, what_en: str) -> ApiError:
    return ApiError(413, protocol.E_TOO_LARGE, f"{what_vi} vượt quá giới hạn {limit} byte",
                    f"{what_en} exceeds the limit of {limit} bytes")


async def read_body(request: Request, limit: int = protocol.MAX_BODY_BYTES) -> bytes:
    """The body as sent, refused with 413 as soon as it is known to be over `limit` (never read whole)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(400, protocol.E_MALFORMED, "Tiêu đề Content-Length không hợp lệ",
                           "the Content-Length header is not valid")
        if int(declared) > limit:
            raise _too_large(limit, "Nội dung yêu cầu", "the request body")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:  # chunked, or a Content-Length that lied
            raise _too_large(limit, "Nội dung yêu cầu", "the request body")
        chunks.append(chunk)
    return b"".join(chunks)


def inflate(body: bytes, limit: int = protocol.MAX_INFLATED_BYTES) -> bytes:
    """Un-gzip `body`, stopping with 413 once the output passes `limit` (a zip bomb never fills memory)."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    data = body
    try:
        while True:
            chunk = decompressor.decompress(data, limit + 1 - len(out))
            out += chunk
            if len(out) > limit:
                raise _too_large(limit, "Nội dung sau khi giải nén", "the body once decompressed")
            if decompressor.eof:
                break
            data = decompressor.unconsumed_tail
            if not data and not chunk:
                raise ApiError(400, protocol.E_MALFORMED, "Dữ liệu gzip bị cắt cụt", "the gzip data is truncated")
    except zlib.error as error:
        raise ApiError(400, protocol.E_MALFORMED, f"Dữ liệu gzip hỏng: {error}",
                       f"corrupt gzip data: {error}") from None
    if decompressor.unused_data.strip(b"\0"):
        raise ApiError(400, protocol.E_MALFORMED, "Có dữ liệu thừa sau phần gzip",
                       "unexpected data after the gzip data")
    return bytes(out)


def decode(body: bytes, content_encoding: str | None) -> bytes:
    """The body with its Content-Encoding undone: identity or gzip; anything else is 415."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        if len(body) > protocol.MAX_INFLATED_BYTES:
            raise _too_large(protocol.MAX_INFLATED_BYTES, "Nội dung yêu cầu", "the request body")
        return body
    if encoding in ("gzip", "x-gzip"):
        return inflate(body)
    shown = encoding[:40]
    raise ApiError(415, protocol.E_ENCODING, f"Kiểu nén {shown!r} không được hỗ trợ; dùng gzip hoặc không nén",
                   f"content encoding {shown!r} is not supported; use gzip or none")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\0" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def parse(model: type[M], body: bytes) -> M:
    """The body as `model`: 400 when it is not JSON, 422 naming the first field with the wrong shape."""
    if not body.strip():
        raise ApiError(400, protocol.E_MALFORMED, "Yêu cầu không có nội dung JSON", "the request has no JSON body")
    try:
        message = model.model_validate_json(body)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        if first["type"] == "json_invalid":
            raise ApiError(400, protocol.E_MALFORMED, f"Nội dung không phải JSON hợp lệ: {first['msg']}",
                           f"the body is not valid JSON: {first['msg']}") from None
        where = ".".join(str(part) for part in first["loc"]) or "(gốc / root)"
        count = error.error_count()
        more_vi, more_en = (f" (và {count - 1} lỗi khác)", f" (and {count - 1} more)") if count > 1 else ("", "")
        raise ApiError(422, protocol.E_MALFORMED, f"Sai dạng tại «{where}»: {first['msg']}{more_vi}",
                       f"wrong shape at '{where}': {first['msg']}{more_en}") from None
    # JSON writes NUL as \u0000; PostgreSQL text cannot hold it, and no kiosk sends it.
    if b"\\u0000" in body and _has_nul(message.model_dump()):
        raise ApiError(422, protocol.E_MALFORMED, "Văn bản chứa ký tự NUL (\\u0000)",
                       "a text contains the NUL character (\\u0000)")
    return message


def check_bigint(**values: int) -> None:
    """422 for a number too large for the database."""
    for name, value in values.items():
        if value > MAX_INT:
            raise ApiError(422, protocol.E_MALFORMED, f"«{name}» quá lớn", f"'{name}' is too large")
