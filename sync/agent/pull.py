"""Pull: the settings the server holds for this device, and the procedure catalog it distributes.

Both are asked for with If-None-Match, so an unchanged one costs a 304 and nothing else. New settings are
checked against the kiosk's own rules before they are stored, with their version, in one transaction; the
app lays them over its settings file when it next opens or returns to its idle screen. A new catalog is
streamed to a temporary file with a size cap, its SHA-256 compared with the ETag, and imported with the
kiosk's all-or-nothing importer; its ETag is stored only after the import succeeded, so a truncated, altered
or broken download changes nothing and is fetched again next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests
from pydantic import ValidationError

from kiosk import state
from kiosk.domain.catalog_import import CatalogError, load_file
from kiosk.domain.settings_file import SettingsError
from kiosk.settings import apply_server_settings
from sync import protocol
from sync.agent.client import SyncClient, error_body, read_capped
from sync.agent.device import Device
from sync.agent.errors import E_BAD_DOWNLOAD, E_BAD_RESPONSE, E_CATALOG, E_SETTINGS, SyncError

_ETAG = re.compile(r'^(?:W/)?"?([^"]*)"?$')
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CatalogPull:
    """What the catalog download did."""

    changed: bool
    version: str = ""      # the server's catalog version number
    count: int = 0         # procedures imported
    available: bool = True  # False when the server distributes no catalog


def quoted(tag: str) -> str:
    """An entity tag as If-None-Match wants it."""
    return f'"{tag}"'


def etag_value(header: str | None) -> str:
    """The bare value of an ETag header (weak marker and quotes removed)."""
    match = _ETAG.match((header or "").strip())
    return match.group(1) if match else ""


def pull_settings(client: SyncClient, device: Device) -> bool:
    """Fetch this device's settings if their version changed and store them; True when new ones were stored."""
    version = device.state.get(state.SETTINGS_VERSION)
    headers = {"If-None-Match": quoted(version)} if version else {}
    response = client.request("GET", protocol.SETTINGS_PATH, headers=headers, ok=(200, 304))
    if response.status_code == 304:
        return False
    try:
        pulled = protocol.DeviceSettings.model_validate_json(response.content)
    except ValidationError as exc:
        raise SyncError(E_SETTINGS, f"Cài đặt máy chủ gửi về không hợp lệ; giữ cài đặt cũ: {_first(exc)}",
                        f"The settings the server sent are invalid; the old ones stay: {_first(exc)}") from exc
    data = pulled.model_dump(mode="json")
    try:  # the same check the app makes when it applies them, so what is stored can always be applied
        apply_server_settings(device.file_settings or device.settings, data, Path(protocol.SETTINGS_PATH))
    except SettingsError as exc:
        raise SyncError(E_SETTINGS, f"Máy này không dùng được cài đặt máy chủ gửi về; giữ cài đặt cũ: {exc.vi}",
                        f"This kiosk cannot use the settings the server sent; the old ones stay: {exc.en}") from exc
    device.state.put_many({state.SERVER_SETTINGS: json.dumps(data, ensure_ascii=False, sort_keys=True),
                           state.SETTINGS_VERSION: pulled.version})
    return True


def pull_catalog(client: SyncClient, device: Device) -> CatalogPull:
    """Fetch the catalog if its ETag changed, check it and import it all or nothing."""
    etag = device.state.get(state.CATALOG_ETAG)
    headers = {"If-None-Match": quoted(etag)} if etag else {}
    response = client.request("GET", protocol.CATALOG_PATH, headers=headers, ok=(200, 304, 404), stream=True)
    try:
        if response.status_code == 304:
            return CatalogPull(False, device.state.get(state.CATALOG_VERSION) or "")
        if response.status_code == 404:
            return _no_catalog(response)
        expected = etag_value(response.headers.get("ETag"))
        if not _SHA256.match(expected):
            raise SyncError(E_BAD_RESPONSE, f"Máy chủ gửi danh mục không kèm ETag SHA-256 hợp lệ ({expected!r})",
                            f"The server sent a catalog without a valid SHA-256 ETag ({expected!r})")
        version = response.headers.get(protocol.H_CATALOG_VERSION, "")[:80]
        path = _download(response, expected, device.data_dir)
    finally:
        response.close()
    try:
        try:
            procedures = load_file(path)
            report = device.catalog.import_procedures(procedures, f"{client.base_url}{protocol.CATALOG_PATH} "
                                                        f"(v{version or '?'}, {expected[:12]})")
        except CatalogError as exc:
            raise SyncError(E_CATALOG, f"Danh mục thủ tục tải từ máy chủ (phiên bản {version}) bị từ chối, "
                            f"giữ danh mục cũ: {exc.vi}",
                            f"The procedure catalog from the server (version {version}) was refused; the old one "
                            f"stays: {exc.en}") from exc
    finally:
        path.unlink(missing_ok=True)
    device.state.put_many({state.CATALOG_ETAG: expected, state.CATALOG_VERSION: version})
    return CatalogPull(True, version, report.count)


def _no_catalog(response: requests.Response) -> CatalogPull:
    content = read_capped(response, 64 * 1024)
    refusal = error_body(response, content)
    if refusal is not None and refusal.code == protocol.E_NOT_FOUND:
        return CatalogPull(False, available=False)
    raise SyncError(E_BAD_RESPONSE, "Máy chủ trả lời 404 cho danh mục mà không theo giao thức",
                    "The server answered 404 for the catalog outside the protocol", status=404)


def _download(response: requests.Response, expected: str, directory: Path) -> Path:
    """Stream the body to a temporary file beside the database; refuse it if too big, cut short or altered."""
    # Content-Length counts the bytes on the wire, which are the body itself unless it was compressed.
    length = "" if response.headers.get("Content-Encoding") else response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > protocol.MAX_CATALOG_BYTES:
        raise _bad_download(f"lớn hơn giới hạn {protocol.MAX_CATALOG_BYTES} byte",
                            f"larger than the {protocol.MAX_CATALOG_BYTES}-byte limit")
    fd, name = tempfile.mkstemp(prefix=".catalog-", suffix=".json", dir=directory)
    path = Path(name)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_content(256 * 1024):
                size += len(chunk)
                if size > protocol.MAX_CATALOG_BYTES:
                    raise _bad_download(f"lớn hơn giới hạn {protocol.MAX_CATALOG_BYTES} byte",
                                        f"larger than the {protocol.MAX_CATALOG_BYTES}-byte limit")
                digest.update(chunk)
                out.write(chunk)
        if length.isdigit() and size != int(length):
            raise _bad_download(f"bị cắt ngắn ({size}/{length} byte)", f"cut short ({size} of {length} bytes)")
        if digest.hexdigest() != expected:
            raise _bad_download("mã băm SHA-256 không khớp ETag (hỏng hoặc bị sửa trên đường truyền)",
                                "its SHA-256 does not match the ETag (damaged or altered on the way)")
    except requests.RequestException as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise _bad_download(f"bị ngắt giữa chừng ({exc})", f"broken off ({exc})") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path


def _bad_download(vi: str, en: str) -> SyncError:
    return SyncError(E_BAD_DOWNLOAD, f"Tải danh mục thủ tục không thành công: {vi}; giữ danh mục cũ",
                     f"The procedure catalog download failed: {en}; the old catalog stays")


def _first(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
