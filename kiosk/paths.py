"""Where the kiosk keeps its data on the device, and who may read it: the owner only."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

DB_NAME = "kiosk.db"
KEY_NAME = "device_key.pem"
# The database holds the staff PIN's hash and every rating, the key signs them: nobody else on the machine
# may read or write any of it, whatever umask the kiosk was started with.
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600
OTHERS = 0o077  # the group's and everyone else's bits
log = logging.getLogger(__name__)


def default_data_dir() -> Path:
    """$KIOSK_DATA_DIR, else the user data directory ($XDG_DATA_HOME/kiosk or ~/.local/share/kiosk)."""
    env = os.environ.get("KIOSK_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kiosk"


def prepare(data_dir: Path | None) -> Path:
    """The data directory to use, created owner-only if it does not exist; every file in it made owner-only."""
    path = data_dir or default_data_dir()
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    narrow_files(path)
    return path


def mode(path: Path) -> int:
    """The permission bits of `path` itself (a symbolic link is not followed)."""
    return stat.S_IMODE(path.lstat().st_mode)


def widened(directory: Path) -> list[tuple[Path, int]]:
    """The directory, and the files directly in it, that the group or others may use, with their modes."""
    if not directory.is_dir():
        return []
    found = [(directory, mode(directory))] if mode(directory) & OTHERS else []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        if entry.is_file(follow_symlinks=False):
            bits = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
            if bits & OTHERS:
                found.append((Path(entry.path), bits))
    return found


def narrow(path: Path) -> None:
    """Take the group's and others' access away from the file at `path`, if it exists and is not a link."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    bits = stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode) or not bits & OTHERS:
        return
    try:
        os.chmod(path, bits & ~OTHERS)
    except OSError as exc:  # not the owner, say: `kiosk doctor` names the file and its mode
        log.warning("cannot make %s owner-only (mode %04o): %s", path, bits, exc)


def narrow_files(directory: Path) -> None:
    """Make every file directly in `directory` owner-only (something may have copied one in, or widened it)."""
    for entry in os.scandir(directory):
        if entry.is_file(follow_symlinks=False):
            narrow(Path(entry.path))


def create_private(path: Path) -> None:
    """Make sure the file at `path` exists and is owner-only (0600), whatever the umask; its content is kept."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & OTHERS:
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
