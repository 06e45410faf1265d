"""Real lines with a printer's firmware played on the far end: a socat PTY pair and a TCP listener.

Each emulator answers the ESC/POS paper-status query (DLE EOT 4) the way a printer does, records every byte
it receives, and can misbehave on purpose: run out of paper, stop reading, or drop the line mid-job.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import serial

STATUS_QUERY = b"\x10\x04\x04"
PAPER_OK, PAPER_OUT = b"\x12", b"\x72"


class Emulator:
    """Shared behaviour: answer status queries, keep what was received, drop the line after N bytes."""

    def __init__(self, *, paper: bytes = PAPER_OK, answer_status: bool = True, drop_after: int | None = None) -> None:
        self.paper = paper
        self.answer_status = answer_status
        self.drop_after = drop_after
        self.received = bytearray()
        self.stopped = threading.Event()
        self.done = threading.Event()

    def feed(self, chunk: bytes) -> bytes:
        """Record a chunk and return the reply a printer would send."""
        self.received.extend(chunk)
        if self.answer_status and STATUS_QUERY in chunk:
            return self.paper
        return b""

    def job_bytes(self) -> bytes:
        """What was received without the status queries in front of the job."""
        return bytes(self.received).replace(STATUS_QUERY, b"")

    def wait_for(self, size: int, timeout: float = 10) -> bool:
        """Wait until `size` bytes have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.received) < size and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.received) >= size


class SerialLine:
    """A socat PTY pair: the kiosk opens `kiosk_end`, the emulated printer sits on `printer_end`."""

    def __init__(self, folder: Path) -> None:
        assert shutil.which("socat"), "socat is needed (make test installs it)"
        self.printer_end, self.kiosk_end = folder / "printer-tty", folder / "kiosk-tty"
        self.proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.printer_end}", f"pty,raw,echo=0,link={self.kiosk_end}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not (self.printer_end.exists() and self.kiosk_end.exists()):
            assert time.monotonic() < deadline, "socat did not make the PTY pair"
            time.sleep(0.02)

    def pull(self) -> None:
        """Pull the cable: the PTY pair disappears."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def serve(self, emulator: Emulator) -> threading.Thread:
        """Run `emulator` on the printer end until stopped."""
        ready = threading.Event()

        def run() -> None:
            port = serial.Serial(str(self.printer_end), timeout=0.05)
            ready.set()
            try:
                while not emulator.stopped.is_set():
                    try:
                        chunk = port.read(4096)
                    except (serial.SerialException, OSError):
                        break
                    if chunk:
                        reply = emulator.feed(chunk)
                        if reply:
                            port.write(reply)
                        if emulator.drop_after is not None and len(emulator.received) >= emulator.drop_after:
                            self.pull()
                            break
            finally:
                emulator.done.set()
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert ready.wait(5), "the printer end did not open"
        return thread

    def close(self) -> None:
        """Stop socat."""
        self.pull()


class TcpPrinter:
    """A listener on 127.0.0.1 playing a network printer on its raw port."""

    def __init__(self, emulator: Emulator | None, *, read: bool = True) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A small receive buffer, as a printer has: a silent printer then stops the sender quickly.
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.emulator = emulator
        self.read = read
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def uri(self) -> str:
        """The printer URI the kiosk is given."""
        return f"socket://127.0.0.1:{self.port}"

    def _run(self) -> None:
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        self.connections.append(conn)
        emulator = self.emulator
        if emulator is None or not self.read:
            return  # silent: the connection stays open and nothing is ever read
        conn.settimeout(0.05)
        try:
            while not emulator.stopped.is_set():
                try:
                    chunk = conn.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                reply = emulator.feed(chunk)
                if reply:
                    conn.sendall(reply)
                if emulator.drop_after is not None and len(emulator.received) >= emulator.drop_after:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    conn.close()  # a reset, as when the cable is pulled
                    break
        except OSError:
            pass
        finally:
            emulator.done.set()

    def close(self) -> None:
        """Stop listening and drop any connection."""
        if self.emulator is not None:
            self.emulator.stopped.set()
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.close()
        self.server.close()
