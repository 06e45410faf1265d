"""The printer named by one device URI, in the style CUPS uses; parsing only, no device is touched."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from kiosk.domain.errors import BilingualError

ACCEPTED_FORMS = (
    "none",
    "file:/path/out.bin",
    "serial:/dev/ttyUSB0?baud=19200&flow=rtscts",
    "usb://04b8:0e15",
    "socket://192.168.1.50:9100",
)
FLOWS = ("none", "rtscts", "xonxoff", "dsrdtr")
BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class PrinterUriError(BilingualError):
    """A printer URI that is not one of the accepted forms."""

    def __init__(self, uri: str, vi: str, en: str) -> None:
        forms = "; ".join(ACCEPTED_FORMS)
        super().__init__(f"địa chỉ máy in {uri!r} không hợp lệ: {vi}. Các dạng được chấp nhận: {forms}",
                         f"printer URI {uri!r} is not valid: {en}. Accepted forms: {forms}")


@dataclass(frozen=True)
class PrinterTarget:
    """Where the printer is: one of none, file, serial, usb or socket, with that kind's details."""

    kind: str
    path: str = ""
    baud: int = 19200
    flow: str = "none"
    vendor: int = 0
    product: int = 0
    host: str = ""
    port: int = 9100
    uri: str = "none"


def parse(uri: str) -> PrinterTarget:
    """Read a printer URI; anything malformed raises PrinterUriError naming the accepted forms."""
    text = uri.strip()
    if text in ("", "none"):
        return PrinterTarget("none")
    scheme, _, rest = text.partition(":")
    if scheme == "file":
        path = urlsplit(text).path if rest.startswith("//") else rest
        if not path:
            raise PrinterUriError(uri, "thiếu đường dẫn tệp", "the file path is missing")
        return PrinterTarget("file", path=path, uri=text)
    if scheme == "serial":
        return _serial(uri, text, rest)
    if scheme == "usb":
        return _usb(uri, rest)
    if scheme == "socket":
        return _socket(uri, text)
    raise PrinterUriError(uri, f"không biết loại «{scheme}»", f"unknown kind {scheme!r}")


def _serial(uri: str, text: str, rest: str) -> PrinterTarget:
    path, _, query = rest.partition("?")
    if not path.startswith("/"):
        raise PrinterUriError(uri, "cần đường dẫn thiết bị như /dev/ttyUSB0",
                              "expected a device path like /dev/ttyUSB0")
    options = parse_qs(query, keep_blank_values=True)
    unknown = set(options) - {"baud", "flow"}
    if unknown:
        raise PrinterUriError(uri, f"tuỳ chọn không hỗ trợ: {', '.join(sorted(unknown))}",
                              f"unsupported options: {', '.join(sorted(unknown))}")
    baud_text = options.get("baud", ["19200"])[-1]
    if not baud_text.isdigit() or int(baud_text) not in BAUDS:
        raise PrinterUriError(uri, f"tốc độ baud phải là một trong {BAUDS}", f"baud must be one of {BAUDS}")
    flow = options.get("flow", ["none"])[-1]
    if flow not in FLOWS:
        raise PrinterUriError(uri, f"flow phải là một trong {', '.join(FLOWS)}",
                              f"flow must be one of {', '.join(FLOWS)}")
    return PrinterTarget("serial", path=path, baud=int(baud_text), flow=flow, uri=text)


def _usb(uri: str, rest: str) -> PrinterTarget:
    ids = rest[2:] if rest.startswith("//") else ""
    vendor, sep, product = ids.partition(":")
    try:
        if not sep or len(vendor) != 4 or len(product) != 4:
            raise ValueError
        vid, pid = int(vendor, 16), int(product, 16)
    except ValueError:
        raise PrinterUriError(uri, "cần mã nhà sản xuất và sản phẩm dạng hex 4 ký tự, như usb://04b8:0e15",
                              "expected 4-digit hex vendor and product IDs, like usb://04b8:0e15") from None
    return PrinterTarget("usb", vendor=vid, product=pid, uri=f"usb://{vendor.lower()}:{product.lower()}")


def _socket(uri: str, text: str) -> PrinterTarget:
    parts = urlsplit(text)
    try:
        port = parts.port or 9100
    except ValueError:
        raise PrinterUriError(uri, "cổng phải là số từ 1 đến 65535", "the port must be 1 to 65535") from None
    if not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise PrinterUriError(uri, "cần dạng socket://HOST:CỔNG", "expected socket://HOST:PORT")
    return PrinterTarget("socket", host=parts.hostname, port=port, uri=text)
