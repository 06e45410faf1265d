"""The staff PIN: scrypt hashing, the lockout guard, and `kiosk pin set`."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import sys
from pathlib import Path

import pytest

from kiosk import cli, state
from kiosk.db import Database
from kiosk.domain.errors import BilingualError
from kiosk.domain.scrypt_hash import needs_rehash
from kiosk.pin import PinFormatError, PinGuard, check_format, hash_pin, verify_pin
from kiosk.services import Services
from kiosk.settings import Settings
from tests.conftest import EXAMPLE_CONFIG


class Ticker:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_pin("2468")


def test_round_trip(stored: str) -> None:
    # At least OWASP's minimum for scrypt: N=2^14, r=8 with p=5 (16 MiB, five times the work of p=1).
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "5")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert verify_pin("2468", stored)
    assert "2468" not in stored


def test_weaker_hashes_verify_and_ask_to_be_replaced(stored: str) -> None:
    salt = b"0123456789abcdef"
    old = "$".join(["scrypt", "16384", "8", "1", base64.b64encode(salt).decode(),
                    base64.b64encode(hashlib.scrypt(b"2468", salt=salt, n=2**14, r=8, p=1, dklen=32)).decode()])
    assert verify_pin("2468", old) and not verify_pin("2469", old)
    assert needs_rehash(old)
    assert not needs_rehash(stored)


def test_salts_differ() -> None:
    first, second = hash_pin("13579"), hash_pin("13579")
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_pin("13579", first) and verify_pin("13579", second)


def test_same_salt_gives_the_same_hash() -> None:
    salt = b"0123456789abcdef"
    assert hash_pin("4321", salt) == hash_pin("4321", salt)
    assert hash_pin("4321", salt) != hash_pin("4322", salt)


@pytest.mark.parametrize("wrong", ["2469", "8642", "24680", "246", "", "02468", " 2468", "2468\n",
                                   "２４６８"])
def test_wrong_pin_fails(stored: str, wrong: str) -> None:
    assert verify_pin(wrong, stored) is False


@pytest.mark.parametrize("malformed", [
    "",
    "scrypt",
    "2468",
    "scrypt$$$$$",
    "scrypt$16384$8$1$$",  # empty salt and digest must not match an empty derivation
    "scrypt$16384$8$1$c2FsdA==",
    "scrypt$16384$8$1$c2FsdA==$ZGlnZXN0$extra",
    "bcrypt$16384$8$1$c2FsdA==$ZGlnZXN0",
    "scrypt$abc$8$1$c2FsdA==$ZGlnZXN0",
    "scrypt$3$8$1$c2FsdA==$ZGlnZXN0",  # N not a power of two
    "scrypt$-16384$8$1$c2FsdA==$ZGlnZXN0",
    "scrypt$16384$0$1$c2FsdA==$ZGlnZXN0",
    "scrypt$16384$8$0$c2FsdA==$ZGlnZXN0",
    "scrypt$99999999999999999999$8$1$c2FsdA==$ZGlnZXN0",
    "scrypt$1048576$64$1$c2FsdA==$ZGlnZXN0",  # would need gigabytes
    "scrypt$16384$8$1$!!!$ZGlnZXN0",
    "scrypt$16384$8$1$c2FsdA==$%%%",
    "scrypt$16384$8$1$c2FsdA=$ZGlnZXN0",  # bad padding
])
def test_malformed_stored_hash_never_matches_and_never_raises(malformed: str) -> None:
    assert verify_pin("2468", malformed) is False
    assert verify_pin("", malformed) is False


def test_tampered_digest_does_not_match(stored: str) -> None:
    parts = stored.split("$")
    digest = bytearray(base64.b64decode(parts[5]))
    digest[0] ^= 1
    parts[5] = base64.b64encode(bytes(digest)).decode()
    assert not verify_pin("2468", "$".join(parts))


@pytest.mark.parametrize("bad", ["123", "1" * 13, "", "12a4", "abcd", "12 34", " 1234", "1234 ", "12.4",
                                 "-1234", "+1234", "١٢٣٤", "۱۲۳۴", "１２３４", "१२३४", "¹²³⁴", "1234\n"])
def test_format_errors(bad: str) -> None:
    with pytest.raises(PinFormatError) as info:
        check_format(bad)
    assert isinstance(info.value, BilingualError)
    assert "4" in info.value.vi and "12" in info.value.vi and "digits" in info.value.en
    with pytest.raises(PinFormatError):
        hash_pin(bad)


@pytest.mark.parametrize("good", ["0000", "1234", "1" * 12, "000000000000"])
def test_format_accepts_4_to_12_ascii_digits(good: str) -> None:
    check_format(good)


def test_example_pin_hash_is_123456(settings: Settings) -> None:
    assert verify_pin("123456", settings.staff.pin_hash)
    assert not verify_pin("654321", settings.staff.pin_hash)


# --- the guard --------------------------------------------------------------------------------------------


def guard(stored: str, ticker: Ticker, max_attempts: int = 3, lockout_s: float = 60) -> PinGuard:
    return PinGuard(lambda: stored, max_attempts=max_attempts, lockout_s=lockout_s, monotonic=ticker)


def test_guard_accepts_the_right_pin(stored: str) -> None:
    g = guard(stored, Ticker())
    assert g.attempt("2468")
    assert g.attempts_left == 3 and g.locked_for() == 0


def test_guard_locks_after_max_attempts(stored: str) -> None:
    ticker = Ticker()
    g = guard(stored, ticker)
    assert not g.attempt("0000")
    assert g.attempts_left == 2
    assert not g.attempt("1111")
    assert g.attempts_left == 1 and g.locked_for() == 0
    assert not g.attempt("2222")
    assert g.locked_for() == 60
    # Even the right PIN fails while locked, and trying does not extend the lockout.
    ticker.now += 30
    assert not g.attempt("2468")
    assert g.locked_for() == 30
    ticker.now += 29.9
    assert not g.attempt("2468")
    assert g.locked_for() == pytest.approx(0.1)
    # Unlocked afterwards, with a full set of attempts.
    ticker.now += 0.1
    assert g.locked_for() == 0
    assert g.attempts_left == 3
    assert g.attempt("2468")


def test_guard_counts_again_after_a_lockout(stored: str) -> None:
    ticker = Ticker()
    g = guard(stored, ticker, max_attempts=2, lockout_s=10)
    assert not g.attempt("0000") and not g.attempt("0000")
    assert g.locked_for() == 10
    ticker.now += 10
    assert not g.attempt("0000")
    assert g.locked_for() == 0  # one wrong try after the lockout is not a new lockout
    assert not g.attempt("0000")
    assert g.locked_for() == 10


def test_success_resets_the_count(stored: str) -> None:
    ticker = Ticker()
    g = guard(stored, ticker)
    assert not g.attempt("0000") and not g.attempt("0000")
    assert g.attempt("2468")
    assert g.attempts_left == 3
    assert not g.attempt("0000") and not g.attempt("0000")
    assert g.locked_for() == 0  # four wrong tries in all, but never three in a row
    assert g.attempt("2468")


def test_guard_without_a_pin_opens_for_nothing() -> None:
    g = PinGuard(lambda: "", max_attempts=5, lockout_s=60, monotonic=Ticker())
    assert not g.attempt("")
    assert not g.attempt("123456")


def test_guard_reads_the_hash_each_time(stored: str) -> None:
    current = {"hash": stored}
    g = PinGuard(lambda: current["hash"], max_attempts=5, lockout_s=60, monotonic=Ticker())
    assert g.attempt("2468")
    current["hash"] = hash_pin("97531")
    assert not g.attempt("2468")
    assert g.attempt("97531")


def test_services_guard_uses_settings(settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        assert services.pin.max_attempts == settings.staff.max_attempts == 5
        assert services.pin.lockout_s == settings.staff.lockout_s == 60
        assert services.pin.attempt("123456")  # the example config's PIN
    finally:
        services.close()


# --- kiosk pin set ----------------------------------------------------------------------------------------


def pin_set(monkeypatch: pytest.MonkeyPatch, data_dir: Path, stdin: str, *, after: bool = False) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    options = ["--config", str(EXAMPLE_CONFIG), "--data-dir", str(data_dir)]
    return cli.main(["pin", "set", *options] if after else [*options, "pin", "set"])


@pytest.mark.parametrize("after", [False, True])
def test_pin_set_from_stdin_overrides_the_settings_hash(
        monkeypatch: pytest.MonkeyPatch, settings: Settings, data_dir: Path,
        capsys: pytest.CaptureFixture[str], after: bool) -> None:
    assert pin_set(monkeypatch, data_dir, "97531\n", after=after) == 0
    assert "Staff PIN set" in capsys.readouterr().out
    services = Services.open(settings, data_dir)
    try:
        stored = services.state.get(state.PIN_HASH)
        assert stored is not None and verify_pin("97531", stored)
        assert "97531" not in stored
        assert services.pin.attempt("97531")
        assert not services.pin.attempt("123456")  # the settings file's PIN no longer opens staff mode
    finally:
        services.close()
    # The settings file itself is untouched.
    assert verify_pin("123456", settings.staff.pin_hash)
    assert "97531" not in EXAMPLE_CONFIG.read_text(encoding="utf-8")


def test_pin_set_reads_only_the_first_line(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                                           data_dir: Path) -> None:
    assert pin_set(monkeypatch, data_dir, "8642\n1111\n") == 0
    services = Services.open(settings, data_dir)
    try:
        assert services.pin.attempt("8642")
    finally:
        services.close()


@pytest.mark.parametrize("line", ["12\n", "abcd\n", "١٢٣٤\n", "\n", ""])
def test_pin_set_refuses_a_bad_pin_and_changes_nothing(
        monkeypatch: pytest.MonkeyPatch, settings: Settings, data_dir: Path,
        capsys: pytest.CaptureFixture[str], line: str) -> None:
    assert pin_set(monkeypatch, data_dir, line) == 2
    err = capsys.readouterr().err
    assert "4" in err and "12" in err and "digits" in err
    services = Services.open(settings, data_dir)
    try:
        assert services.state.get(state.PIN_HASH) is None
        assert services.pin.attempt("123456")
    finally:
        services.close()


def test_pin_set_twice_keeps_the_latest(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                                        data_dir: Path) -> None:
    assert pin_set(monkeypatch, data_dir, "1111\n") == 0
    assert pin_set(monkeypatch, data_dir, "2222\n") == 0
    services = Services.open(settings, data_dir)
    try:
        assert not services.pin.attempt("1111")
        assert services.pin.attempt("2222")
    finally:
        services.close()


# --- the lockout survives a restart -----------------------------------------------------------------------


def wrong_pins(services: Services, count: int) -> None:
    for _ in range(count):
        assert not services.pin.attempt("000000")


def test_a_restart_keeps_the_lockout(settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        wrong_pins(services, settings.staff.max_attempts)
        assert services.pin.locked_for() > 0
    finally:
        services.close()
    restarted = Services.open(settings, data_dir)  # what a restart of the app, or of the machine, does
    try:
        assert 0 < restarted.pin.locked_for() <= settings.staff.lockout_s
        assert not restarted.pin.attempt("123456")  # even the right PIN, as before the restart
    finally:
        restarted.close()


def test_a_restart_keeps_the_count_of_wrong_pins(settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        wrong_pins(services, 3)
    finally:
        services.close()
    restarted = Services.open(settings, data_dir)
    try:
        assert restarted.pin.attempts_left == settings.staff.max_attempts - 3
        wrong_pins(restarted, settings.staff.max_attempts - 3)
        assert restarted.pin.locked_for() > 0
    finally:
        restarted.close()


def test_the_right_pin_clears_the_stored_count(settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        wrong_pins(services, 4)
        assert services.pin.attempt("123456")
    finally:
        services.close()
    restarted = Services.open(settings, data_dir)
    try:
        assert restarted.pin.attempts_left == settings.staff.max_attempts
        wrong_pins(restarted, 4)
        assert restarted.pin.locked_for() == 0
    finally:
        restarted.close()


class Clocks:
    """A wall clock and a monotonic clock, moved by hand; a restart starts a new monotonic clock."""

    def __init__(self) -> None:
        self.wall, self.mono = 1_800_000_000.0, 500.0

    def passes(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def stored_guard(stored: str, database: Database, clocks: Clocks) -> PinGuard:
    return PinGuard(lambda: stored, max_attempts=3, lockout_s=60, store=state.DeviceState(database),
                    monotonic=lambda: clocks.mono, wall=lambda: clocks.wall)


def lock(guard: PinGuard) -> None:
    for _ in range(3):
        assert not guard.attempt("0000")
    assert guard.locked_for() == 60


def test_a_restart_counts_the_lockout_on_the_wall_clock(stored: str, database: Database) -> None:
    clocks = Clocks()
    lock(stored_guard(stored, database, clocks))
    clocks.passes(20)
    clocks.mono = 3.0  # the machine restarted: its monotonic clock began again
    restarted = stored_guard(stored, database, clocks)
    assert restarted.locked_for() == pytest.approx(40)
    clocks.passes(40)
    assert restarted.locked_for() == 0
    assert restarted.attempts_left == 3
    assert restarted.attempt("2468")


def test_a_clock_set_back_neither_stretches_nor_ends_the_lockout(stored: str, database: Database) -> None:
    clocks = Clocks()
    lock(stored_guard(stored, database, clocks))
    clocks.passes(10)
    clocks.wall -= 3600  # someone (or a bad NTP server) set the clock back an hour, then the kiosk restarted
    restarted = stored_guard(stored, database, clocks)
    assert restarted.locked_for() == 60  # from the moment it is read back: not an hour and ten minutes, not 0
    clocks.passes(30)
    again = stored_guard(stored, database, clocks)  # and another restart: still counting down from then
    assert again.locked_for() == pytest.approx(30)
    assert not again.attempt("2468")
    clocks.passes(30)
    assert again.locked_for() == 0
    assert again.attempt("2468")


def test_while_running_the_wall_clock_does_not_time_the_lockout(stored: str, database: Database) -> None:
    clocks = Clocks()
    guard = stored_guard(stored, database, clocks)
    lock(guard)
    clocks.wall += 86400  # set forward a day: the running guard still waits the full minute
    assert guard.locked_for() == 60
    clocks.wall -= 2 * 86400
    clocks.mono += 59
    assert guard.locked_for() == pytest.approx(1)
    clocks.mono += 1
    assert guard.locked_for() == 0


@pytest.mark.parametrize("damaged", ["", "abc", "nan", "inf", "-inf", "1e999"])
def test_damaged_stored_values_are_read_as_no_lockout(stored: str, database: Database, damaged: str) -> None:
    state.DeviceState(database).put_many({state.PIN_FAILURES: damaged, state.PIN_LOCKED_UNTIL: damaged})
    guard = stored_guard(stored, database, Clocks())
    assert guard.locked_for() == 0 and guard.attempts_left == 3
    assert guard.attempt("2468")


def test_more_stored_wrong_pins_than_now_allowed_leave_one_try(stored: str, database: Database) -> None:
    state.DeviceState(database).put(state.PIN_FAILURES, "7")  # max_attempts was lowered from 8 to 3
    guard = stored_guard(stored, database, Clocks())
    assert guard.attempts_left == 1
    assert not guard.attempt("0000")
    assert guard.locked_for() == 60


# --- hashes made with older scrypt settings are replaced at the next right PIN ---------------------------------


def old_hash(pin: str) -> str:
    """A PIN hash as this kiosk made them before: scrypt N=2^14, r=8, p=1."""
    salt = b"fedcba9876543210"
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_the_settings_files_old_hash_gets_a_stronger_twin(settings: Settings, data_dir: Path) -> None:
    assert needs_rehash(settings.staff.pin_hash)  # the example file's hash of 123456 has p=1
    file_text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    services = Services.open(settings, data_dir)
    try:
        assert not services.pin.attempt("654321")
        assert services.state.get(state.PIN_REHASH) is None  # a wrong PIN replaces nothing
        assert services.pin.attempt("123456")
        fingerprint, _, twin = (services.state.get(state.PIN_REHASH) or "").partition(":")
        assert fingerprint == hashlib.sha256(settings.staff.pin_hash.encode()).hexdigest()
        assert twin.startswith("scrypt$16384$8$5$") and not needs_rehash(twin)
        assert verify_pin("123456", twin)
        assert services.state.get(state.PIN_HASH) is None  # not a PIN of the device's own: the file still rules
    finally:
        services.close()
    assert EXAMPLE_CONFIG.read_text(encoding="utf-8") == file_text
    restarted = Services.open(settings, data_dir)
    try:
        assert restarted.pin.attempt("123456")  # the old PIN keeps working
        assert not restarted.pin.attempt("123457")
        # ...checked against the stronger twin: swap the twin for another PIN's and that PIN opens instead.
        restarted.state.put(state.PIN_REHASH, f"{fingerprint}:{hash_pin('97531')}")
        assert restarted.pin.attempt("97531")
        assert not restarted.pin.attempt("123456")
    finally:
        restarted.close()


def test_a_new_hash_in_the_settings_file_takes_over_from_the_twin(settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        assert services.pin.attempt("123456")
        assert services.state.get(state.PIN_REHASH)
    finally:
        services.close()
    changed = dataclasses.replace(settings, staff=dataclasses.replace(settings.staff, pin_hash=old_hash("2468")))
    services = Services.open(changed, data_dir)
    try:
        assert not services.pin.attempt("123456")
        assert services.pin.attempt("2468")
        assert verify_pin("2468", (services.state.get(state.PIN_REHASH) or "").partition(":")[2])
    finally:
        services.close()


def test_the_devices_own_old_hash_is_replaced_in_place(settings: Settings, data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        services.state.put(state.PIN_HASH, old_hash("97531"))  # set by `kiosk pin set` before the change
        assert services.pin.attempt("97531")
        replaced = services.state.get(state.PIN_HASH) or ""
        assert replaced != old_hash("97531") and not needs_rehash(replaced)
        assert verify_pin("97531", replaced)
        assert services.state.get(state.PIN_REHASH) is None
    finally:
        services.close()
    restarted = Services.open(settings, data_dir)
    try:
        assert restarted.pin.attempt("97531")
        assert restarted.state.get(state.PIN_HASH) == replaced  # a hash of today's settings is kept as it is
        assert not restarted.pin.attempt("123456")
    finally:
        restarted.close()


def test_pin_set_after_a_twin_was_made_rules(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                                              data_dir: Path) -> None:
    services = Services.open(settings, data_dir)
    try:
        assert services.pin.attempt("123456")
    finally:
        services.close()
    assert pin_set(monkeypatch, data_dir, "8642\n") == 0
    services = Services.open(settings, data_dir)
    try:
        assert services.pin.attempt("8642")
        assert not services.pin.attempt("123456")
    finally:
        services.close()
