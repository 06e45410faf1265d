"""The agent as the app runs it: its own sync pass on a worker thread, under the same lock as the timer and
skipped when it is held, and enrolment from staff mode. The app's services are given one when it starts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.domain.errors import BilingualError
from sync import protocol
from sync.agent.device import Device
from sync.agent.enroll import enroll as enroll_device
from sync.agent.lock import PassRunning
from sync.agent.run import PassResult, locked_pass

log = logging.getLogger(__name__)


class BackgroundSync:
    """Starts at most one pass at a time for the app; the UI never waits for one."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    @property
    def running(self) -> bool:
        """Whether this app's pass is under way."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, on_done: Callable[[PassResult | BilingualError], None]) -> bool:
        """Start a pass; False (and no call to on_done) when this app already runs one.

        `on_done` gets the result on the worker thread, or the error that kept the pass from running.
        """
        with self._guard:
            if self.running:
                return False
            self._thread = threading.Thread(target=self._run, args=(on_done,), name="kiosk-sync", daemon=True)
            self._thread.start()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the pass under way, if any (for closing and tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def enroll(self, server_url: str, code: str, *, force: bool = False) -> protocol.EnrollResponse:
        """Enrol the device with IT's one-time code; blocks on the network (staff mode calls it off the UI thread)."""
        return enroll_device(self.device, server_url, code, force=force)

    def _run(self, on_done: Callable[[PassResult | BilingualError], None]) -> None:
        outcome: PassResult | BilingualError
        try:
            outcome = locked_pass(self.device)
            if outcome.ok:
                log.info("sync pass done")
            else:
                log.warning("sync pass had errors: %s", "; ".join(e.en for e in outcome.errors))
        except PassRunning as exc:
            log.info("sync pass skipped: another one holds the lock")
            outcome = exc
        except Exception as exc:  # a background pass must never take the app down; the next one tries again
            log.exception("sync pass failed")
            outcome = BilingualError(f"Lượt đồng bộ gặp lỗi không lường trước: {exc}",
                                     f"The sync pass failed unexpectedly: {exc}")
        on_done(outcome)
