"""The services a kiosk runs on, built once from the settings and the data directory, shared by screens and CLI."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk import db, paths, state
from kiosk.catalog import SAMPLE_CATALOG, Catalog
from kiosk.domain.catalog_import import CatalogError
from kiosk.domain.errors import BilingualError
from kiosk.domain.keys import DeviceKey
from kiosk.domain.settings_file import SettingsError
from kiosk.pin import PinGuard
from kiosk.printing import SlipPrinter
from kiosk.ratings import RatingLog, Receipt
from kiosk.settings import Officer, Settings, apply_server_settings
from kiosk.sync_status import SyncStatus, read_status

if TYPE_CHECKING:
    from kiosk.slips import RatingSlip, TestPage

log = logging.getLogger(__name__)


class PassOutcome(Protocol):
    """What the app learns of a sync pass that ran."""

    @property
    def ok(self) -> bool:
        """True when everything reached the server and was accepted."""


class Enrolled(Protocol):
    """What staff mode shows of an enrolment the server accepted."""

    @property
    def device_id(self) -> str:
        """The device ID the server gave."""

    @property
    def agency_name(self) -> str:
        """The agency the server registered the device for."""

    @property
    def counter_name(self) -> str:
        """The counter the server registered the device for."""


class SyncRunner(Protocol):
    """The device's sync agent as the app uses it; the app (the composition root) hands one to the services."""

    def start(self, on_done: Callable[[PassOutcome | BilingualError], None]) -> bool:
        """Start a pass on a worker thread; False when one is under way. `on_done` runs on that thread."""

    def join(self, timeout: float | None = None) -> None:
        """Wait for the pass under way, if any."""

    def enroll(self, server_url: str, code: str, *, force: bool = False) -> Enrolled:
        """Enrol the device with IT's one-time code (blocks on the network)."""


def pin_hash(settings: Settings, device_state: state.DeviceState) -> str:
    """The PIN set on this device with `kiosk pin set`, else the one in the settings file."""
    return device_state.get(state.PIN_HASH) or settings.staff.pin_hash


@dataclass
class Services:
    """Everything a screen or a command needs; nothing here imports Kivy."""

    settings: Settings
    data_dir: Path
    database: db.Database
    key: DeviceKey
    ratings: RatingLog
    state: state.DeviceState
    pin: PinGuard
    printer: SlipPrinter
    catalog: Catalog
    _on_duty_id: str | None = field(default=None, repr=False)
    # The settings file as read; `settings` is this with the central server's settings for the device laid over.
    file_settings: Settings | None = field(default=None, repr=False)
    settings_version: str = ""  # the server settings' version in force, "" when none were pulled
    # Makes the sync agent when it is first needed; None where nothing syncs (the `kiosk` commands, tools).
    sync_factory: Callable[[Services], SyncRunner] | None = field(default=None, repr=False)
    _sync: SyncRunner | None = field(default=None, repr=False)
    _sync_guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, settings: Settings, data_dir: Path | None = None, *,
             sync: Callable[[Services], SyncRunner] | None = None) -> Services:
        """Open the database and device key in `data_dir` (made on first run) and wire the services.

        `sync` makes the sync agent from the services, on the first pass or enrolment asked for.
        """
        directory = paths.prepare(data_dir)
        database = db.prepare(directory / paths.DB_NAME)
        try:
            key = DeviceKey.load_or_create(directory / paths.KEY_NAME)
            device_state = state.DeviceState(database)
            ratings = RatingLog(database, key, repeat_window_s=settings.ui.repeat_window_s)
            pin = PinGuard(lambda: pin_hash(settings, device_state), max_attempts=settings.staff.max_attempts,
                           lockout_s=settings.staff.lockout_s, store=device_state)
            printer = SlipPrinter(settings.printer, device_state)
            catalog = Catalog(database)
        except BaseException:
            database.close()
            raise
        services = cls(settings, directory, database, key, ratings, device_state, pin, printer, catalog,
                       file_settings=settings, sync_factory=sync)
        services.apply_server_settings()
        return services

    def apply_server_settings(self) -> bool:
        """Lay the settings last pulled from the central server over the file's; True if they changed.

        Called when the services open and whenever the app returns to its idle screen. Stored settings that
        no longer validate are logged and left out: the kiosk keeps running on its settings file.
        """
        with self.database.reading() as con:
            version, raw = state.get(con, state.SETTINGS_VERSION), state.get(con, state.SERVER_SETTINGS)
        if not version or not raw or version == self.settings_version:
            return False
        base = self.file_settings or self.settings
        try:
            pulled = json.loads(raw)
            if not isinstance(pulled, dict):
                raise ValueError("not a JSON object")
            merged = apply_server_settings(base, pulled, self.database.path)
        except (ValueError, SettingsError) as exc:
            log.error("the server's settings version %s stored on this device cannot be applied: %s", version, exc)
            return False
        self.settings, self.settings_version = merged, version
        return True

    def start_sync(self, on_done: Callable[[PassOutcome | BilingualError], None]) -> bool:
        """Start one sync pass on a worker thread; False when this app already runs one.

        `on_done` gets the pass's result on the worker thread, or the error that kept it from running
        (another pass, the nightly timer's, holds the device's sync lock).
        """
        return self._sync_runner().start(on_done)

    def enroll(self, server_url: str, code: str, *, force: bool = False) -> Enrolled:
        """Enrol this device with the central server at `server_url`; blocks, so never on the UI thread."""
        return self._sync_runner().enroll(server_url, code, force=force)

    def _sync_runner(self) -> SyncRunner:
        with self._sync_guard:  # the enrolment screen asks from its worker thread, staff mode from the UI's
            if self._sync is None:
                if self.sync_factory is None:
                    raise RuntimeError("these services were opened without a sync agent: Services.open(sync=...)")
                self._sync = self.sync_factory(self)
            return self._sync

    def sync_status(self) -> SyncStatus:
        """Where this device stands with its central server, as the last sync pass left it."""
        return read_status(self.state, self.ratings.device_uuid)

    def officer_on_duty(self) -> Officer | None:
        """The officer staff chose as on duty, else the first one listed in settings."""
        # Read once and then kept: every tap asks, and only staff mode in this process changes it.
        if self._on_duty_id is None:
            self._on_duty_id = self.state.get(state.ON_DUTY) or ""
        chosen = self.settings.officer(self._on_duty_id)
        return chosen or (self.settings.officers[0] if self.settings.officers else None)

    def set_officer_on_duty(self, officer_id: str) -> None:
        """Record who is on duty; ratings from now on carry this officer."""
        if self.settings.officer(officer_id) is None:
            raise ValueError(f"unknown officer {officer_id!r}")
        self.state.put(state.ON_DUTY, officer_id)
        self._on_duty_id = officer_id

    def default_language(self) -> str:
        """The language a new citizen sees: staff's choice on this device, else the settings'."""
        chosen = self.state.get(state.DEFAULT_LANGUAGE)
        return chosen if chosen in self.settings.ui.languages else self.settings.ui.default_language

    def set_default_language(self, lang: str) -> None:
        """Staff's choice of the language a new citizen sees."""
        if lang not in self.settings.ui.languages:
            raise ValueError(f"language {lang!r} is not enabled in settings")
        self.state.put(state.DEFAULT_LANGUAGE, lang)

    def photo_path(self, officer: Officer) -> Path | None:
        """The officer's photo file, relative paths taken from the settings file's folder; None if absent."""
        if not officer.photo:
            return None
        path = Path(officer.photo)
        if not path.is_absolute() and self.settings.source is not None:
            path = self.settings.source.parent / path
        return path if path.is_file() else None

    def rating_slip(self, receipt: Receipt, language: str) -> RatingSlip:
        """What the citizen's slip says about the rating just stored."""
        from kiosk.slips import RatingSlip  # Pillow and qrcode are loaded when a slip is first needed

        settings, contact = self.settings, self.settings.contact
        return RatingSlip(agency=settings.agency.name, parent=settings.agency.parent,
                          counter=settings.counter.name, reference=receipt.reference,
                          moment=receipt.local_time(), level=receipt.level, language=language,
                          hotline=contact.hotline, complaint_address=contact.complaint_address,
                          email=contact.email, website=contact.website, feedback_url=contact.feedback_url,
                          survey_url=contact.survey_url)

    def test_page(self, uri: str | None = None) -> TestPage:
        """The printer test page for this device's printer (or for `uri`)."""
        from kiosk.slips import TestPage

        printer = self.settings.printer
        return TestPage(profile=printer.profile, width_dots=self.printer.width_dots, uri=uri or printer.uri,
                        qr_url=self.settings.contact.feedback_url or self.settings.contact.website)

    def ensure_sample_catalog(self, path: Path = SAMPLE_CATALOG) -> bool:
        """On first start, import the sample catalog if none was ever imported; True if it did.

        A broken sample is logged, not raised: the kiosk still takes ratings without a catalog.
        """
        try:
            return self.catalog.ensure_sample(path)
        except CatalogError:
            log.exception("the sample catalog %s was not imported", path)
            return False

    def close(self) -> None:
        """Release the database (after letting a sync pass under way finish, for a few seconds at most)."""
        if self._sync is not None:
            self._sync.join(timeout=5)
        self.catalog.close()
        self.ratings.close()
        self.database.close()
