"""The slip printer: sends rendered slips over ESC/POS, off the UI thread, and keeps the last fault.

A rating is stored before anything is printed, so nothing here may block, lose or repeat a rating: a job
runs on a worker thread with a deadline, and every way it can fail ends in a `PrintError` whose words the
citizen and the staff read, recorded with the time the fault began.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import printer_uri, state
from kiosk.domain.errors import BilingualError
from kiosk.domain.settings_file import SettingsError
from kiosk.settings import Printer as PrinterSettings

if TYPE_CHECKING:
    from PIL.Image import Image

    from kiosk.slips import Slip

log = logging.getLogger(__name__)
FAULT = "printer_fault"  # device_state key: "since|vi|en" of the fault in force, absent when the printer is fine
STATUS_TIMEOUT_S = 1.0  # many cheap printers never answer a status query; do not wait long for one
# A slip goes out as raster bands of this many rows (18 kB at 576 dots): small printer buffers cope, and on
# a slow serial line a printer that stopped reading is noticed one band after it stopped, not one slip.
FRAGMENT_ROWS = 256
SEND_BUFFER = 32 * 1024  # small, so "sent" means "the printer took it" and a dead printer shows in time


class PrintError(BilingualError):
    """A slip that could not be printed; the words say why, for staff."""


@dataclass(frozen=True)
class PrintFault:
    """The printer problem in force and when it began."""

    since: str
    vi: str
    en: str


def _profile_width(profile: str) -> int:
    from escpos.capabilities import NotSupported, get_profile

    try:
        pixels = get_profile(profile).profile_data["media"]["width"]["pixels"]
    except (NotSupported, KeyError, TypeError):
        pixels = None
    if not isinstance(pixels, int):
        raise SettingsError(None, "printer.profile", f"mẫu máy in {profile!r} không rõ khổ giấy; hãy đặt width_dots",
                            f"printer profile {profile!r} has no known paper width; set width_dots")
    return pixels


class SlipPrinter:
    """Prints slips on the configured printer; `enabled` is False for `none`."""

    def __init__(self, config: PrinterSettings, device_state: state.DeviceState,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.config = config
        self.target = printer_uri.parse(config.uri)
        self.state = device_state
        self._clock = clock
        self._busy = threading.Lock()
        self.width_dots = config.width_dots or (_profile_width(config.profile) if self.enabled else 576)

    @property
    def enabled(self) -> bool:
        """Whether a printer is configured at all."""
        return self.target.kind != "none"

    # Faults are kept in the database so `kiosk doctor`, run as another process, sees them too.
    def fault(self) -> PrintFault | None:
        """The fault in force, or None when the last job (or probe) went well."""
        raw = self.state.get(FAULT)
        if not raw:
            return None
        since, vi, en = [*raw.split("|", 2), "", ""][:3]
        return PrintFault(since, vi, en)

    def _record(self, error: PrintError | None) -> None:
        current = self.fault()
        if error is None:
            if current is not None:
                self.state.put(FAULT, "")
            return
        # The same problem going on keeps its first time: staff need to know when it began.
        since = current.since if current and current.en == error.en else self._clock().isoformat(timespec="seconds")
        self.state.put(FAULT, f"{since}|{error.vi}|{error.en}")

    def _open(self) -> Any:
        from escpos import printer as escpos_printer

        target, timeout = self.target, self.config.timeout_s
        profile = self.config.profile
        if target.kind == "file":
            return escpos_printer.File(devfile=target.path, profile=profile)
        if target.kind == "serial":
            device = escpos_printer.Serial(devfile=target.path, baudrate=target.baud, timeout=STATUS_TIMEOUT_S,
                                           xonxoff=target.flow == "xonxoff", dsrdtr=target.flow == "dsrdtr",
                                           profile=profile)
            device.device.rtscts = target.flow == "rtscts"
            # A printer that stopped reading must not hang the job, but one raster band takes a while at
            # low speeds (18 kB at 19200 baud is 9.6 s), so the write deadline grows with the line's speed.
            device.device.write_timeout = timeout + self.transfer_seconds(self.width_dots, FRAGMENT_ROWS)
            return device
        if target.kind == "socket":
            device = escpos_printer.Network(host=target.host, port=target.port, timeout=timeout, profile=profile)
            device.device.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            return device
        if target.kind == "usb":
            if importlib.util.find_spec("usb") is None:
                raise PrintError("Máy in USB cần thư viện pyusb: cài bằng pip install 'kiosk[usb]'",
                                 "A USB printer needs the pyusb library: pip install 'kiosk[usb]'")
            return escpos_printer.Usb(target.vendor, target.product, timeout=timeout * 1000, profile=profile)
        raise PrintError("Chưa cấu hình máy in", "No printer is configured")

    def _check_paper(self, device: Any) -> None:
        if self.target.kind not in ("serial", "socket"):
            return
        if self.target.kind == "socket":
            device.device.settimeout(STATUS_TIMEOUT_S)
        try:
            paper = device.paper_status()
        except OSError:
            return  # no answer: many printers do not report status; print and let the send tell
        finally:
            if self.target.kind == "socket":
                device.device.settimeout(self.config.timeout_s)
        if paper == 0:
            raise PrintError("Máy in hết giấy", "The printer is out of paper")

    def send(self, image: Image) -> None:
        """Print one rendered slip now, on this thread; raises PrintError and records the fault."""
        from escpos.exceptions import Error as EscposError

        device = None
        try:
            device = self._open()
            self._check_paper(device)
            write_slip(device, image)
            if self.target.kind == "file":
                device.flush()
                image.save(Path(self.target.path).with_suffix(".png"))
        except PrintError as exc:
            self._record(exc)
            raise
        except (EscposError, OSError, ValueError) as exc:
            error = _explain(exc, self.target)
            self._record(error)
            raise error from exc
        finally:
            if device is not None:
                _close_quietly(device)
        self._record(None)

    def submit(self, render: Callable[[], Image], on_done: Callable[[PrintError | None], None]) -> bool:
        """Render and print on a worker thread; `on_done` gets None or the error, within the timeout.

        `on_done` runs on a worker thread: a screen must hand it to Kivy with Clock.schedule_once.
        Returns False (and calls nothing) when a job is already running, so taps cannot queue up slips.
        """
        if not self._busy.acquire(blocking=False):
            return False
        finished = threading.Event()
        reported = threading.Lock()

        def report(error: PrintError | None) -> None:
            if reported.acquire(blocking=False):
                on_done(error)

        deadline = [time.monotonic() + self.config.timeout_s + STATUS_TIMEOUT_S + 1]

        def job() -> None:
            try:
                image = render()
                deadline[0] += self.transfer_seconds(image.width, image.height)
                self.send(image)
                report(None)
            except PrintError as exc:
                report(exc)
            except Exception as exc:  # a bug in rendering must still end the job visibly
                log.exception("print job failed")
                error = PrintError(f"Lỗi khi in: {exc}", f"Printing failed: {exc}")
                self._record(error)
                report(error)
            finally:
                finished.set()
                self._busy.release()

        def watchdog() -> None:
            # The job may push the deadline out once it knows how long its slip takes on a slow line.
            while not finished.wait(0.1) and time.monotonic() < deadline[0]:
                pass
            if not finished.is_set():
                error = PrintError(f"Máy in không phản hồi sau {self.config.timeout_s} giây",
                                   f"The printer did not respond within {self.config.timeout_s} s")
                self._record(error)
                report(error)

        threading.Thread(target=job, name="print-job", daemon=True).start()
        threading.Thread(target=watchdog, name="print-watchdog", daemon=True).start()
        return True

    def submit_slip(self, slip: Slip, on_done: Callable[[PrintError | None], None]) -> bool:
        """Render `slip` at this printer's width and print it on a worker thread (see `submit`)."""
        from kiosk.slips import render

        return self.submit(lambda: render(slip, self.width_dots), on_done)

    def transfer_seconds(self, width: int, height: int) -> float:
        """How long the raster of a `width`×`height` slip takes on the line itself (serial only)."""
        if self.target.kind != "serial":
            return 0.0  # USB and networks move a slip in well under a second
        raster_bytes = (width + 7) // 8 * height
        return raster_bytes * 10 / self.target.baud  # 8 data bits, a start and a stop bit

    def probe(self) -> PrintError | None:
        """Open the printer and ask its paper status without printing; the error, or None if it answers."""
        if not self.enabled:
            return None
        device = None
        try:
            device = self._open()
            self._check_paper(device)
        except PrintError as exc:
            return exc
        except Exception as exc:
            return _explain(exc, self.target)
        finally:
            if device is not None:
                _close_quietly(device)
        return None


def write_slip(device: Any, image: Image) -> None:
    """The ESC/POS of one slip on any python-escpos printer: raster bands of the image, then feed and cut."""
    device.image(image, impl="bitImageRaster", center=False, fragment_height=FRAGMENT_ROWS)
    device.cut()


def _close_quietly(device: Any) -> None:
    try:
        device.close()
    except Exception:  # closing a pulled cable fails too; the job's own error is what matters
        log.debug("closing the printer failed", exc_info=True)
        # python-escpos flushes before closing and, when that fails, tries again when the object is
        # collected; drop what the printer will never take and close the line ourselves instead.
        raw = getattr(device, "_device", None)
        for step in ("reset_output_buffer", "close"):
            with contextlib.suppress(Exception):
                getattr(raw, step)()
        device._device = False


def _explain(exc: BaseException, target: printer_uri.PrinterTarget) -> PrintError:
    """Turn a low-level failure into words for staff, naming where the printer was looked for."""
    from escpos.exceptions import DeviceNotFoundError

    where = target.uri
    if isinstance(exc, DeviceNotFoundError | ConnectionRefusedError | FileNotFoundError):
        return PrintError(f"Không kết nối được máy in tại {where} (chưa bật, chưa cắm cáp hoặc sai địa chỉ)",
                          f"Cannot reach the printer at {where} (off, unplugged or wrong address)")
    if isinstance(exc, TimeoutError | socket.timeout) or "timeout" in str(exc).lower():
        return PrintError(f"Máy in tại {where} không nhận dữ liệu (bận, kẹt giấy hoặc mất kết nối)",
                          f"The printer at {where} stopped taking data (busy, jammed or disconnected)")
    if isinstance(exc, BrokenPipeError | ConnectionResetError | ConnectionAbortedError):
        return PrintError(f"Mất kết nối với máy in tại {where} khi đang in", f"Lost the printer at {where} mid-job")
    return PrintError(f"Lỗi máy in tại {where}: {exc}", f"Printer error at {where}: {exc}")
