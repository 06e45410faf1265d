"""A real `kiosk-server run` as a child process on 127.0.0.1: started, waited for until it answers, stopped or
killed, and its command line run against the same database. The benchmarks and the tests use it; so may anyone
scripting a local server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine

from sync import protocol
from sync.server import registry
from sync.server.db import make_engine
from sync.server.devices import enrolment

HOST = "127.0.0.1"
START_TIMEOUT_S = 40.0
STOP_TIMEOUT_S = 20.0
CLI_TIMEOUT_S = 120.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _server_command() -> list[str]:
    """How to run `kiosk-server`: the console script beside this Python, else the module."""
    script = Path(sys.executable).with_name("kiosk-server")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sync.server.cli"]


def _clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without settings that would point the server elsewhere."""
    env = dict(os.environ)
    for name in ("KIOSK_SERVER_CONFIG", "KIOSK_SERVER_DATA", "KIOSK_SERVER_DB"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class ServerProcess:
    """One central server: its database, data directory, port and (while running) its process."""

    db_url: str
    data_dir: Path
    port: int
    config: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _engine: Engine | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8123 (no trailing slash)."""
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the server process writes its output."""
        return self.data_dir / f"server-{self.port}.log"

    def log_text(self) -> str:
        """Everything the server process has written so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def _global_args(self) -> list[str]:
        args = ["--db", self.db_url, "--data-dir", str(self.data_dir)]
        return args + (["--config", str(self.config)] if self.config else [])

    def start(self) -> ServerProcess:
        """Start `kiosk-server run` and wait until it answers GET TIME_PATH."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("server already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*_server_command(), *self._global_args(), "run", "--host", HOST, "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_clean_env(self.env))
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_text()[-4000:]}")
            try:
                if requests.get(self.url + protocol.TIME_PATH, timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not answer within {START_TIMEOUT_S} s:\n{self.log_text()[-4000:]}")

    def stop(self) -> int | None:
        """Send SIGTERM and wait for a clean exit (SIGKILL if it hangs); return the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        self.dispose()
        return code

    def kill(self) -> None:
        """SIGKILL the server at once, as a power cut or the OOM killer would."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None
        self.dispose()

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `kiosk-server` with this server's --db/--data-dir (and --config) and the given arguments."""
        return subprocess.run([*_server_command(), *self._global_args(), *args], capture_output=True,
                              text=True, input=input, timeout=CLI_TIMEOUT_S, env=_clean_env(self.env),
                              check=False)

    def cli_ok(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Like `cli`, but raise with its output when it fails."""
        result = self.cli(*args, input=input)
        if result.returncode != 0:
            raise RuntimeError(f"kiosk-server {' '.join(args)} exited {result.returncode}:\n"
                               f"{result.stdout}\n{result.stderr}")
        return result

    def register_device(self, agency_code: str = "HK", counter_code: str = "Q01") -> dict[str, Any]:
        """Register a device at a place (made if missing), through the server's own functions in this process;
        its record and one-time code, as `kiosk-server device add --json` prints them."""
        engine = self.engine()
        registry.add_agency(engine, agency_code, {"name": f"Trung tâm Phục vụ hành chính công {agency_code}",
                                                  "parent": "Tỉnh Thử nghiệm", "hotline": "1900 0000"},
                            exist_ok=True)
        registry.add_counter(engine, agency_code, counter_code, f"Quầy {counter_code}", [], exist_ok=True)
        return enrolment.add_device(engine, agency_code, counter_code, timedelta(hours=1)).as_json()

    def engine(self) -> Engine:
        """A SQLAlchemy engine on this server's database (made once; for checking what it stored)."""
        if self._engine is None:
            self._engine = make_engine(self.db_url)
        return self._engine

    def dispose(self) -> None:
        """Release the engine made by `engine()`."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def start_server(db_url: str, data_dir: Path, port: int | None = None, *, config: Path | None = None,
                 env: Mapping[str, str] | None = None) -> ServerProcess:
    """Start a real `kiosk-server run` process on 127.0.0.1 and wait until it answers."""
    handle = ServerProcess(db_url, data_dir, port or free_port(), config, dict(env or {}))
    return handle.start()


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"
