"""The staff PIN: a salted scrypt hash, and a guard that locks the pad after too many wrong tries."""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.errors import KioskError
from kiosk.scrypt_hash import hash_secret, verify_secret

MIN_DIGITS, MAX_DIGITS = 4, 12


class PinFormatError(KioskError):
    """A PIN that is not 4 to 12 digits."""


def check_format(pin: str) -> None:
    """Refuse anything but 4 to 12 digits, which is what the PIN pad can type."""
    if not (pin.isdigit() and pin.isascii() and MIN_DIGITS <= len(pin) <= MAX_DIGITS):
        raise PinFormatError(f"Mã PIN phải gồm {MIN_DIGITS} đến {MAX_DIGITS} chữ số",
                             f"The PIN must be {MIN_DIGITS} to {MAX_DIGITS} digits")


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """The stored form of a PIN: scrypt$N$r$p$salt$hash, salt and hash in base64."""
    check_format(pin)
    return hash_secret(pin, salt)


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches the stored hash; a malformed hash matches nothing."""
    return verify_secret(pin, stored)


class PinGuard:
    """Checks PIN attempts and locks out for a while after `max_attempts` wrong ones in a row."""

    def __init__(self, stored_hash: Callable[[], str], *, max_attempts: int = 5, lockout_s: float = 60,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._stored_hash = stored_hash
        self.max_attempts = max_attempts
        self.lockout_s = lockout_s
        self._monotonic = monotonic
        self._failures = 0
        self._locked_until = 0.0

    def locked_for(self) -> float:
        """Seconds left in the lockout, 0 when the pad may be used."""
        return max(self._locked_until - self._monotonic(), 0.0)

    @property
    def attempts_left(self) -> int:
        """Wrong tries still allowed before the lockout."""
        return self.max_attempts - self._failures

    def attempt(self, pin: str) -> bool:
        """Try a PIN; while locked out every attempt fails without being checked."""
        if self.locked_for() > 0:
            return False
        stored = self._stored_hash()
        if stored and verify_pin(pin, stored):
            self._failures = 0
            return True
        self._failures += 1
        if self._failures >= self.max_attempts:
            self._failures = 0
            self._locked_until = self._monotonic() + self.lockout_s
        return False
