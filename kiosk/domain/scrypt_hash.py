"""Salted scrypt hashes of short secrets (the staff PIN, the server's IT passwords), in one stored form."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

# OWASP's password storage guidance (2025) lists equivalent scrypt settings; this one (N=2^14, r=8, p=5) needs
# 16 MiB per hash, which a kiosk PC with little memory can spare, and about 0.2 s of CPU here. Hashes made with
# weaker settings still verify, and are replaced at the next correct sign-in (needs_rehash).
_N, _R, _P = 2**14, 8, 5
# Refuse stored parameters that would take more memory than this (a forged hash must not exhaust the machine).
_MAX_MEM = 64 * 1024 * 1024


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """The stored form: scrypt$N$r$p$salt$hash, salt and hash in base64, with a random salt unless given."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32, maxmem=_MAX_MEM)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when the secret matches the stored hash; a malformed hash matches nothing."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p),
                                dklen=len(expected), maxmem=_MAX_MEM)
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(digest, expected)


def needs_rehash(stored: str) -> bool:
    """True when a stored hash was made with other settings than today's (check it with verify_secret first)."""
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or parts[1:4] != [str(_N), str(_R), str(_P)]
