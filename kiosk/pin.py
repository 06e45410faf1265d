"""The staff PIN: a salted scrypt hash, and a guard that locks the pad after too many wrong tries."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable

from kiosk import state
from kiosk.domain.errors import BilingualError
from kiosk.domain.scrypt_hash import hash_secret, needs_rehash, verify_secret

MIN_DIGITS, MAX_DIGITS = 4, 12
log = logging.getLogger(__name__)


class PinFormatError(BilingualError):
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


def _fingerprint(stored: str) -> str:
    # What the stronger twin of a weaker hash is filed under: the weaker hash itself is not copied again.
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()


class PinGuard:
    """Checks PIN attempts and locks out for a while after `max_attempts` wrong ones in a row.

    With a `store` (the device state) the count of wrong tries and the lockout survive a restart, and a PIN
    hash made with older scrypt settings is replaced by a stronger one at the next right PIN. A lockout is
    stored as the wall-clock time it ends, since a monotonic clock starts again with the machine; read back,
    it never lasts longer than `lockout_s` from then, so a clock set back neither stretches nor ends it.
    While the process runs, the monotonic clock alone times it.
    """

    def __init__(self, stored_hash: Callable[[], str], *, max_attempts: int = 5, lockout_s: float = 60,
                 store: state.DeviceState | None = None, monotonic: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self._stored_hash = stored_hash
        self.max_attempts = max_attempts
        self.lockout_s = lockout_s
        self._store = store
        self._monotonic = monotonic
        self._wall = wall
        self._loaded = store is None
        self._failures = 0
        self._locked_until = 0.0  # on the monotonic clock

    def _load(self) -> None:
        """Take up the wrong tries and the lockout stored by an earlier run, once, when first needed."""
        if self._loaded or self._store is None:
            return
        self._loaded = True
        failures = _number(self._store.get(state.PIN_FAILURES), state.PIN_FAILURES)
        self._failures = int(min(max(failures, 0), self.max_attempts - 1))
        left = _number(self._store.get(state.PIN_LOCKED_UNTIL), state.PIN_LOCKED_UNTIL) - self._wall()
        if left > self.lockout_s:  # the clock was set back since: the lockout starts again from now
            left = self.lockout_s
            self._store.put(state.PIN_LOCKED_UNTIL, repr(self._wall() + left))
        if left > 0:
            self._locked_until = self._monotonic() + left

    def locked_for(self) -> float:
        """Seconds left in the lockout, 0 when the pad may be used."""
        self._load()
        return max(self._locked_until - self._monotonic(), 0.0)

    @property
    def attempts_left(self) -> int:
        """Wrong tries still allowed before the lockout."""
        self._load()
        return self.max_attempts - self._failures

    def attempt(self, pin: str) -> bool:
        """Try a PIN; while locked out every attempt fails without being checked."""
        if self.locked_for() > 0:
            return False
        stored = self._stored_hash()
        current = self._stronger_twin(stored)
        if current and verify_pin(pin, current):
            if self._failures:
                self._failures = 0
                self._save({state.PIN_FAILURES: "0"})
            if needs_rehash(current):
                self._rehash(pin, stored)
            return True
        self._failures += 1
        if self._failures >= self.max_attempts:
            self._failures = 0
            self._locked_until = self._monotonic() + self.lockout_s
            self._save({state.PIN_FAILURES: "0", state.PIN_LOCKED_UNTIL: repr(self._wall() + self.lockout_s)})
        else:
            self._save({state.PIN_FAILURES: str(self._failures)})
        return False

    def _save(self, values: dict[str, str]) -> None:
        # Written before the attempt's answer is shown, so cutting the power right after a wrong try keeps it.
        if self._store is not None:
            self._store.put_many(values)

    def _stronger_twin(self, stored: str) -> str:
        """The stronger hash that replaced `stored` at an earlier right PIN, else `stored` itself."""
        if not stored or self._store is None:
            return stored
        twin = self._store.get(state.PIN_REHASH) or ""
        fingerprint, _, rehashed = twin.partition(":")
        return rehashed if rehashed and fingerprint == _fingerprint(stored) else stored

    def _rehash(self, pin: str, stored: str) -> None:
        """Replace a hash made with older scrypt settings by one made with today's, now the PIN is known."""
        if self._store is None:
            return
        stronger = hash_pin(pin)
        # The device's own PIN (`kiosk pin set`) is replaced in place. The settings file's is left as it is (the
        # kiosk does not write its settings): its stronger twin is kept beside it, filed under its fingerprint,
        # so a new PIN in the file, or a new `kiosk pin set`, takes over as before.
        if not self._store.replace(state.PIN_HASH, stored, stronger):
            self._store.put(state.PIN_REHASH, f"{_fingerprint(stored)}:{stronger}")
        log.info("the staff PIN hash was replaced by one made with stronger scrypt settings")


def _number(text: str | None, key: str) -> float:
    """A stored number, 0 when absent; a damaged value is logged and read as 0."""
    if text is None:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        log.warning("device state %s holds %r, not a number: read as 0", key, text)
        return 0.0
    return value
