"""The server's own secret: 32 random bytes in its data directory (0600), never in the database.

From it the server derives what must not be forged by someone who can write to the database: the keys that sign
the web and paper answers' chains (an edited answer no longer verifies), and the keys of the web form's cookie
and rate limit. Each use derives its own key (HMAC-SHA256 of a label), so one never serves another.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.domain.errors import BilingualError
from kiosk.domain.keys import DeviceKey

FILE_NAME = "server-secret.key"
_SIZE = 32


@dataclass(frozen=True)
class ServerSecret:
    """The secret, and the keys derived from it."""

    value: bytes

    @classmethod
    def load_or_create(cls, data_dir: Path) -> ServerSecret:
        """The secret kept in `data_dir`, made there (0600, written atomically) the first time."""
        path = data_dir / FILE_NAME
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, os.urandom(_SIZE))
                os.fsync(fd)
            finally:
                os.close(fd)
            with contextlib.suppress(FileExistsError):   # never replace a secret another process made meanwhile
                os.link(tmp, path)
            os.unlink(tmp)
        value = path.read_bytes()
        if len(value) != _SIZE:
            raise BilingualError(f"Tệp bí mật của máy chủ {path} bị hỏng ({len(value)} byte, cần {_SIZE})",
                                 f"the server's secret file {path} is damaged ({len(value)} bytes, {_SIZE} needed)")
        return cls(value)

    def derive(self, label: str) -> bytes:
        """A 32-byte key for one use, named by `label`."""
        return hmac.new(self.value, label.encode("utf-8"), hashlib.sha256).digest()

    def signing_key(self, device_id: str) -> DeviceKey:
        """The Ed25519 key that signs the chain of the server's own device `device_id` (a web or paper channel)."""
        return DeviceKey(Ed25519PrivateKey.from_private_bytes(self.derive(f"channel-device:{device_id}")))
