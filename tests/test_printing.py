"""Printing over real lines: a socat PTY pair, a TCP listener, a file; faults end in time and lose nothing."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from escpos.printer import Dummy
from PIL import Image, ImageDraw

from kiosk import printer_uri
from kiosk.domain.settings_file import SettingsError
from kiosk.flow import RatingSession
from kiosk.printing import PrintError, SlipPrinter, write_slip
from kiosk.services import Services
from kiosk.settings import Printer, Settings, parse
from tests.printer_doubles import PAPER_OUT, Emulator, SerialLine, TcpPrinter

TIMEOUT_S = 2


def slip_image(height: int = 1200) -> Image.Image:
    """A slip-sized 1-bit image with some ink on it (about 86 kB of raster at 576 dots)."""
    image = Image.new("1", (576, height), 1)
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 40):
        draw.rectangle((20, y, 556, y + 12), fill=0)
    return image


def expected_bytes(image: Image.Image) -> bytes:
    """The exact ESC/POS a correct job sends for `image`, as python-escpos's Dummy printer makes it."""
    dummy = Dummy(profile="TM-T20II")
    write_slip(dummy, image)
    return bytes(dummy.output)


def printer_for(services: Services, uri: str) -> SlipPrinter:
    return SlipPrinter(Printer(uri=uri, timeout_s=TIMEOUT_S), services.state)


@pytest.fixture
def line(tmp_path: Path) -> Iterator[SerialLine]:
    pair = SerialLine(tmp_path)
    yield pair
    pair.close()


# --- the printer URI -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("uri", "kind"), [
    ("none", "none"), ("", "none"), ("file:/tmp/out.bin", "file"), ("file:///tmp/out.bin", "file"),
    ("serial:/dev/ttyUSB0?baud=19200&flow=rtscts", "serial"), ("usb://04b8:0e15", "usb"),
    ("socket://192.168.1.50:9100", "socket"), ("socket://printer.local", "socket"),
])
def test_accepted_uris(uri: str, kind: str) -> None:
    assert printer_uri.parse(uri).kind == kind


def test_uri_details() -> None:
    serial_target = printer_uri.parse("serial:/dev/ttyS0?baud=9600&flow=xonxoff")
    assert (serial_target.path, serial_target.baud, serial_target.flow) == ("/dev/ttyS0", 9600, "xonxoff")
    usb = printer_uri.parse("usb://04B8:0E15")
    assert (usb.vendor, usb.product, usb.uri) == (0x04B8, 0x0E15, "usb://04b8:0e15")
    assert printer_uri.parse("socket://10.0.0.7").port == 9100


@pytest.mark.parametrize("uri", [
    "lpt:1", "serial:ttyUSB0", "serial:/dev/ttyUSB0?baud=12345", "serial:/dev/ttyUSB0?flow=magic",
    "serial:/dev/ttyUSB0?speed=9600", "usb://4b8:e15", "usb://zzzz:0e15", "usb:04b8:0e15",
    "socket://:9100", "socket://host:99999", "socket://host:9100/path", "file:", "http://printer",
])
def test_malformed_uris_are_refused_with_the_accepted_forms(uri: str) -> None:
    with pytest.raises(printer_uri.PrinterUriError) as info:
        printer_uri.parse(uri)
    for form in ("none", "serial:/dev/ttyUSB0?baud=19200&flow=rtscts", "usb://04b8:0e15", "socket://"):
        assert form in info.value.en and form in info.value.vi


def test_malformed_uri_stops_start_up_naming_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    with pytest.raises(SettingsError) as info:
        parse('[printer]\nuri = "serial:ttyUSB0"\n', path)
    assert info.value.key == "printer.uri" and str(path) in info.value.en and "Accepted forms" in info.value.en


@pytest.mark.parametrize(("text", "key"), [
    ('[printer]\nrating_slip = "sometimes"\n', "printer.rating_slip"),
    ("[printer]\nwidth_dots = 100\n", "printer.width_dots"),
    ("[printer]\ntimeout_s = 0\n", "printer.timeout_s"),
])
def test_other_printer_settings_are_checked(text: str, key: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse(text)
    assert info.value.key == key


def test_unknown_profile_without_width_is_refused(services: Services) -> None:
    with pytest.raises(SettingsError) as info:
        SlipPrinter(Printer(uri="file:/tmp/x.bin", profile="no-such-model"), services.state)
    assert info.value.key == "printer.profile"
    assert SlipPrinter(Printer(uri="file:/tmp/x.bin", profile="no-such-model", width_dots=384),
                       services.state).width_dots == 384


def test_profile_sets_the_paper_width(services: Services) -> None:
    assert SlipPrinter(Printer(uri="file:/tmp/x.bin", profile="POS-5890"), services.state).width_dots == 384
    assert SlipPrinter(Printer(uri="file:/tmp/x.bin", profile="TM-T20II"), services.state).width_dots == 576
    assert not SlipPrinter(Printer(uri="none"), services.state).enabled


# --- a file --------------------------------------------------------------------------------------------

def test_file_printer_writes_the_exact_bytes_and_a_png_preview(services: Services, tmp_path: Path) -> None:
    image = slip_image()
    out = tmp_path / "slip.bin"
    printer_for(services, f"file:{out}").send(image)
    assert out.read_bytes() == expected_bytes(image)
    preview = Image.open(out.with_suffix(".png"))
    assert preview.size == image.size and preview.convert("1").tobytes() == image.tobytes()


def test_file_printer_in_a_missing_folder_is_a_fault(services: Services, tmp_path: Path) -> None:
    printer = printer_for(services, f"file:{tmp_path}/no/such/folder/slip.bin")
    with pytest.raises(PrintError):
        printer.send(slip_image(80))
    assert printer.fault() is not None


# --- a serial line -------------------------------------------------------------------------------------

def test_serial_line_carries_the_exact_bytes(services: Services, line: SerialLine) -> None:
    emulator = Emulator()
    line.serve(emulator)
    image = slip_image()
    printer_for(services, f"serial:{line.kiosk_end}?baud=115200").send(image)
    expected = expected_bytes(image)
    assert emulator.wait_for(len(expected) + 3)
    assert emulator.received.startswith(b"\x10\x04\x04")  # the paper status was asked first
    assert emulator.job_bytes() == expected


def test_serial_printer_out_of_paper_prints_nothing(services: Services, line: SerialLine) -> None:
    emulator = Emulator(paper=PAPER_OUT)
    line.serve(emulator)
    printer = printer_for(services, f"serial:{line.kiosk_end}")
    with pytest.raises(PrintError) as info:
        printer.send(slip_image())
    assert "out of paper" in info.value.en and "hết giấy" in info.value.vi
    time.sleep(0.2)
    assert emulator.job_bytes() == b""
    fault = printer.fault()
    assert fault is not None and "hết giấy" in fault.vi


def test_serial_cable_pulled_mid_job(services: Services, line: SerialLine) -> None:
    emulator = Emulator(drop_after=8000)
    line.serve(emulator)
    printer = printer_for(services, f"serial:{line.kiosk_end}")
    started = time.monotonic()
    with pytest.raises(PrintError):
        printer.send(slip_image())
    assert time.monotonic() - started < TIMEOUT_S + 2
    assert printer.fault() is not None


def test_silent_serial_printer_times_out(services: Services, line: SerialLine) -> None:
    printer = printer_for(services, f"serial:{line.kiosk_end}?baud=115200")  # nobody reads the printer end
    started = time.monotonic()
    with pytest.raises(PrintError) as info:
        printer.send(slip_image(3000))
    # Given up within the timeout plus one band's time on the line (18 kB at 115200 baud: 1.6 s).
    assert time.monotonic() - started < TIMEOUT_S + printer.transfer_seconds(576, 256) + 2
    assert "stopped taking data" in info.value.en


def test_missing_serial_device(services: Services, tmp_path: Path) -> None:
    printer = printer_for(services, f"serial:{tmp_path}/ttyUSB9")
    with pytest.raises(PrintError) as info:
        printer.send(slip_image(80))
    assert "Cannot reach the printer" in info.value.en and str(tmp_path) in info.value.en


# --- a network printer ---------------------------------------------------------------------------------

def test_tcp_printer_gets_the_exact_bytes(services: Services) -> None:
    emulator = Emulator()
    tcp = TcpPrinter(emulator)
    try:
        image = slip_image()
        printer_for(services, tcp.uri).send(image)
        expected = expected_bytes(image)
        assert emulator.wait_for(len(expected) + 3)
        assert emulator.job_bytes() == expected
    finally:
        tcp.close()


def test_tcp_printer_that_never_answers_status_still_prints(services: Services) -> None:
    emulator = Emulator(answer_status=False)
    tcp = TcpPrinter(emulator)
    try:
        image = slip_image(200)
        printer_for(services, tcp.uri).send(image)
        assert emulator.wait_for(len(expected_bytes(image)) + 3)
        assert emulator.job_bytes() == expected_bytes(image)
    finally:
        tcp.close()


def test_tcp_connection_dropped_mid_job(services: Services) -> None:
    tcp = TcpPrinter(Emulator(drop_after=6000))
    try:
        printer = printer_for(services, tcp.uri)
        with pytest.raises(PrintError):
            printer.send(slip_image(4000))
        assert printer.fault() is not None
    finally:
        tcp.close()


def test_silent_tcp_printer_times_out(services: Services) -> None:
    tcp = TcpPrinter(Emulator(), read=False)
    try:
        printer = printer_for(services, tcp.uri)
        started = time.monotonic()
        with pytest.raises(PrintError) as info:
            printer.send(slip_image(4000))
        assert time.monotonic() - started < TIMEOUT_S + 3
        assert "stopped taking data" in info.value.en
    finally:
        tcp.close()


def test_refused_connection(services: Services) -> None:
    # Port 1 on loopback: nothing listens there, and being below the ephemeral range it can never be
    # the client's own port (a just-closed ephemeral port can be, and TCP then connects to itself).
    printer = printer_for(services, "socket://127.0.0.1:1")
    with pytest.raises(PrintError) as info:
        printer.send(slip_image(80))
    assert "Cannot reach the printer" in info.value.en


# --- faults and the worker thread ----------------------------------------------------------------------

def test_fault_keeps_its_first_time_and_clears_on_success(services: Services, tmp_path: Path) -> None:
    times = iter(["2026-11-23T09:00:00", "2026-11-23T09:05:00", "2026-11-23T09:10:00"])
    from datetime import datetime

    bad = SlipPrinter(Printer(uri=f"file:{tmp_path}/missing/x.bin"), services.state,
                      clock=lambda: datetime.fromisoformat(next(times)))
    for _ in range(2):
        with pytest.raises(PrintError):
            bad.send(slip_image(40))
    fault = bad.fault()
    assert fault is not None and fault.since == "2026-11-23T09:00:00"
    SlipPrinter(Printer(uri=f"file:{tmp_path}/x.bin"), services.state).send(slip_image(40))
    assert bad.fault() is None


def run_job(printer: SlipPrinter, image: Image.Image) -> tuple[PrintError | None, float]:
    """Submit a job and wait for its report; returns the error (or None) and how long the report took."""
    outcome: list[PrintError | None] = []
    reported = threading.Event()

    def done(error: PrintError | None) -> None:
        outcome.append(error)
        reported.set()

    started = time.monotonic()
    assert printer.submit(lambda: image, done)
    assert reported.wait(TIMEOUT_S + 5), "the job never reported"
    return outcome[0], time.monotonic() - started


def test_rating_is_stored_once_whatever_the_printer_does(settings: Settings, data_dir: Path,
                                                         line: SerialLine) -> None:
    settings = dataclasses.replace(settings, printer=Printer(uri=f"serial:{line.kiosk_end}?baud=115200",
                                                             timeout_s=TIMEOUT_S))
    services = Services.open(settings, data_dir)
    try:
        session = RatingSession(services)
        receipt = session.rate(4)
        error, took = run_job(services.printer, slip_image(3000))  # silent printer: nobody reads the line
        assert error is not None and took < TIMEOUT_S + services.printer.transfer_seconds(576, 256) + 3
        line.pull()
        error, _ = run_job(services.printer, slip_image(100))
        assert error is not None and "Cannot reach" in error.en
        with services.database.reading() as con:
            rows = con.execute("SELECT uuid FROM log WHERE kind = 'rating'").fetchall()
        assert [row[0] for row in rows] == [receipt.uuid]
        assert services.ratings.verify().ok
    finally:
        services.close()


def test_only_one_job_at_a_time(services: Services) -> None:
    tcp = TcpPrinter(Emulator(), read=False)
    try:
        printer = printer_for(services, tcp.uri)
        reported = threading.Event()
        assert printer.submit(lambda: slip_image(4000), lambda _error: reported.set())
        assert not printer.submit(lambda: slip_image(40), lambda _error: None)  # the first is still going
        assert reported.wait(TIMEOUT_S + 5)
    finally:
        tcp.close()


def test_probe_reports_without_printing(services: Services, line: SerialLine) -> None:
    emulator = Emulator(paper=PAPER_OUT)
    line.serve(emulator)
    error = printer_for(services, f"serial:{line.kiosk_end}").probe()
    assert error is not None and "out of paper" in error.en
    assert emulator.job_bytes() == b""


def test_usb_printer_without_pyusb_says_what_to_install(services: Services) -> None:
    import importlib.util

    if importlib.util.find_spec("usb") is not None:
        pytest.skip("pyusb is installed here; this checks the message for kiosks without it")
    printer = printer_for(services, "usb://04b8:0e15")
    with pytest.raises(PrintError) as info:
        printer.send(slip_image(40))
    assert "pyusb" in info.value.en and "kiosk[usb]" in info.value.vi
    assert printer.probe() is not None


def test_deadlines_grow_with_a_slow_serial_line(services: Services) -> None:
    slow = SlipPrinter(Printer(uri="serial:/dev/ttyS0?baud=9600"), services.state)
    fast = SlipPrinter(Printer(uri="serial:/dev/ttyS0?baud=115200"), services.state)
    network = SlipPrinter(Printer(uri="socket://127.0.0.1:9100"), services.state)
    # A 576 x 1200 slip is 86,400 bytes of raster: 90 s at 9600 baud, 7.5 s at 115200.
    assert slow.transfer_seconds(576, 1200) == pytest.approx(90.0)
    assert fast.transfer_seconds(576, 1200) == pytest.approx(7.5)
    assert network.transfer_seconds(576, 1200) == 0.0
