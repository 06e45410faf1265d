"""One sync pass at a time per device: an flock on a file in the data directory, never waited for."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.domain.errors import BilingualError

LOCK_NAME = "sync.lock"


class PassRunning(BilingualError):
    """Another sync pass (the nightly timer, `kiosk-sync run` or the app) holds this device's lock."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"Một lượt đồng bộ khác đang chạy trên máy này (khoá {path}); lượt này bỏ qua",
                         f"Another sync pass is running on this device (lock {path}); this one is skipped")
        self.path = path


@contextmanager
def pass_lock(data_dir: Path) -> Iterator[Path]:
    """Hold the device's sync lock for the block; raise PassRunning at once if someone else holds it.

    The kernel drops an flock when its holder dies, SIGKILL included, so a killed pass never leaves the
    device locked. Each call opens the file anew, so two threads of one process exclude each other too.
    """
    path = data_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PassRunning(path) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))  # who holds it, for a person looking
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
