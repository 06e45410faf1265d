"""A loopback HTTP proxy for fault tests: forwards each request to the real server, then does to the answer
what the test planned (pass it on, drop it, cut it short, change a byte, or rewrite it).

One request per client connection: the proxy asks the server to close after answering, so it reads the whole
answer before deciding what the client gets. Only 127.0.0.1 on both sides.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"
Rewrite = Callable[[int, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]


@dataclass
class Fault:
    """What to do to the answers of requests whose method and path match, `times` times."""

    method: str
    path: str
    # "drop", "truncate", "flip", "rewrite", "respond" (answer without asking the server), or "delay"
    # (forward after `delay_s`, answer as the server did)
    action: str
    times: int = 1
    keep_bytes: int = 0  # truncate: how many bytes of the answer (head included) get through
    rewrite: Rewrite | None = None
    status: int = 503  # respond: the status
    body: bytes = b""  # respond: the body
    headers: dict[str, str] = field(default_factory=dict)  # respond: extra headers
    delay_s: float = 0.0  # delay: how long the request is held before it goes to the server


@dataclass
class Seen:
    """One request that went through, and what was done to its answer."""

    method: str
    path: str
    status: int
    action: str


@dataclass
class FaultyProxy:
    """Listens on 127.0.0.1; `url` is what the agent is pointed at."""

    upstream_port: int
    tls: ssl.SSLContext | None = None  # serve https with this context (the server side of the handshake)
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((HOST, 0))
        self._server.listen(32)
        self.port = int(self._server.getsockname()[1])
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def plan(self, fault: Fault) -> None:
        """Add a fault for the next matching requests."""
        with self._lock:
            self.faults.append(fault)

    def close(self) -> None:
        """Stop accepting connections."""
        self._stopped = True
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and path.split("?")[0] == fault.path:
                    fault.times -= 1
                    return fault
        return None

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, raw_client: socket.socket) -> None:
        try:
            client = self.tls.wrap_socket(raw_client, server_side=True) if self.tls else raw_client
        except (ssl.SSLError, OSError):  # the client refused our certificate: nothing reaches the server
            self.seen.append(Seen("", "", 0, "tls_refused"))
            raw_client.close()
            return
        with client:
            try:
                head, body = _read_request(client)
            except (OSError, ValueError):
                return
            if not head:
                return
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, path = request_line.split(" ")[:2]
            fault = self._take(method, path)
            if fault is not None and fault.action == "respond":
                answer = _canned(fault.status, fault.headers, fault.body)
            else:
                if fault is not None and fault.action == "delay":
                    time.sleep(fault.delay_s)
                try:
                    answer = _forward(self.upstream_port, _close_after(head), body)
                except OSError:  # the server is down: the client sees its connection closed, as it would
                    self.seen.append(Seen(method, path, 0, "upstream_down"))
                    return
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
            action = fault.action if fault else "pass"
            self.seen.append(Seen(method, path, status, action))
            if fault is None or fault.action in ("respond", "delay"):
                client.sendall(answer)
            elif fault.action == "drop":
                pass  # the server did the work; the client hears nothing
            elif fault.action == "truncate":
                client.sendall(answer[:fault.keep_bytes])
            elif fault.action == "flip":
                split = answer.index(b"\r\n\r\n") + 4
                position = split + (len(answer) - split) // 2
                client.sendall(answer[:position] + bytes([answer[position] ^ 0x20]) + answer[position + 1:])
            elif fault.action == "rewrite" and fault.rewrite is not None:
                client.sendall(_rewritten(answer, fault.rewrite))
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)


def _read_request(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b"", b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head, rest[:length]


def _close_after(head: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"])


def _forward(port: int, head: bytes, body: bytes) -> bytes:
    with socket.create_connection((HOST, port), timeout=30) as upstream:
        upstream.sendall(head + b"\r\n\r\n" + body)
        chunks = []
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _rewritten(answer: bytes, rewrite: Rewrite) -> bytes:
    """Parse the answer (Content-Length or chunked), let `rewrite` change headers and body, send it framed anew."""
    head, _, raw = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = _dechunk(raw) if headers.get("transfer-encoding", "").lower() == "chunked" else raw
    headers.pop("transfer-encoding", None)
    status, headers, body = rewrite(status, headers, body)
    return _canned(status, headers, body)


def _canned(status: int, headers: dict[str, str], body: bytes) -> bytes:
    """A whole HTTP/1.1 answer that closes the connection."""
    fields = {name.lower(): value for name, value in headers.items()}
    fields["content-length"] = str(len(body))
    fields["connection"] = "close"
    out = [f"HTTP/1.1 {status} X", *(f"{name}: {value}" for name, value in fields.items())]
    return "\r\n".join(out).encode("latin-1") + b"\r\n\r\n" + body


def _dechunk(raw: bytes) -> bytes:
    body, rest = b"", raw
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        body, rest = body + rest[:size], rest[size + 2:]
    return body
