"""The results pages in a real headless Chromium, as a person uses them.

Signs in, changes the period and the grouping, reads the numbers off the page and checks them against
reports.build, downloads the Excel file and compares it with the page, publishes, opens the public page (also
framed in another site, and printed to PDF on A4), and takes screenshots at 1920×1080 and 390×844.

Debian's chromium is driven through Playwright (no browser is downloaded). Without /usr/bin/chromium the test
is skipped on a developer's machine and FAILS under CI=true. For the README's screenshots run
`python -m tests.test_browser_dashboard --screenshots docs/screenshots` (never done by the test run itself).
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from openpyxl import load_workbook

from sync.server.admin import accounts
from sync.server.db import open_database
from sync.server.results import reports
from sync.server.results.figures import Report, ReportQuery
from sync.server.results.periods import Period
from sync.server.results.report_view import RANKING_PAGE_ROWS
from sync.server.settings import ServerSettings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, WIDE, chromium, chromium_or_skip
from tests.dashboard_data import MAIN, OTHER, ZONE, seed
from tests.page_reader import close, number, share
from tests.sync_harness import ServerHandle, start_server
from tests.test_server_dashboard import PAGED_MONTH, add_many_officers

USER, PASSWORD = "noi.vu", "mật khẩu phòng nội vụ"
SETTINGS = ServerSettings()

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@dataclass
class Site:
    """The running server with its data, and the day the data ends on."""

    server: ServerHandle
    today: date
    paged: ReportQuery   # a month whose ranking runs to three pages


def start_site(directory: Path) -> Site:
    """A SQLite server database with the shared data set (and a month of many officers, for the ranking's pages)
    and an IT account, served by a real server process."""
    url = f"sqlite:///{directory / 'server.db'}"
    engine = open_database(url)
    today = datetime.now(UTC).astimezone(ZONE).date()
    try:
        seeded = seed(engine, today)
        paged = add_many_officers(engine, seeded.devices[(OTHER, "Q01")])
        accounts.add_user(engine, USER, PASSWORD)
    finally:
        engine.dispose()
    return Site(start_server(url, directory / "data"), today, paged)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the module."""
    chromium_or_skip()
    made = start_site(tmp_path_factory.mktemp("browser-site"))
    yield made
    made.server.stop()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    """Debian's Chromium, headless (no sandbox when running as root, as CI does)."""
    with chromium() as launched:
        yield launched


# ---- what a person does -------------------------------------------------------------------------------------

def sign_in(page: Page, base: str) -> None:
    """Open the dashboard, get sent to the sign-in form, fill it in, land on the dashboard."""
    page.goto(base + "/dashboard")
    assert "/login" in page.url
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("section.login button[type=submit]")
    assert page.url.startswith(base + "/dashboard")


def choose(page: Page, *, agency: str | None = None, period: str | None = None, day: date | None = None,
           group: str | None = None) -> None:
    """Change the choices in the form and press "Xem"."""
    if agency is not None:
        page.select_option("#f-agency", agency)
    if period is not None:
        page.select_option("#f-period", period)
    if day is not None:
        page.fill("#f-date", day.isoformat())
    if group is not None:
        page.select_option("#f-group", group)
    with page.expect_navigation():
        page.click("#filters button[type=submit]")


@dataclass(frozen=True)
class Shown:
    """The numbers a person reads off a results page."""

    label: str
    ratings: int
    index: float | None
    dissatisfied: float | None
    harassment: int
    rows: dict[str, tuple[int, float | None, float | None]]  # key -> ratings, index, dissatisfied
    order: list[str]


def read(page: Page) -> Shown:
    """Read the key figures and the ranking as they are displayed (innerText: what is on screen)."""
    def kpi(name: str) -> str:
        return page.inner_text(f'[data-kpi="{name}"] .kpi-value').strip()

    rows: dict[str, tuple[int, float | None, float | None]] = {}
    order = []
    for row in page.query_selector_all('table[data-table="ranking"] tr[data-key]'):
        key = row.get_attribute("data-key") or ""
        order.append(key)
        cells = {name: (row.query_selector(f'[data-col="{name}"]') or row).inner_text()
                 for name in ("ratings", "index", "dissatisfied")}
        rows[key] = (number(cells["ratings"]), share(cells["index"]), share(cells["dissatisfied"]))
    return Shown(page.inner_text(".period-label").strip(), number(kpi("ratings")), share(kpi("index")),
                 share(kpi("dissatisfied")), number(kpi("harassment")), rows, order)


def assert_shows(shown: Shown, report: Report) -> None:
    """What was read off the page is the report's figures."""
    assert shown.label == report.query.period.label()
    assert shown.ratings == report.total.ratings and shown.harassment == report.total.harassment_reports
    assert close(shown.index, report.total.satisfaction_index)
    assert close(shown.dissatisfied, report.total.dissatisfied_share)
    assert shown.order == [row.key for row in report.rows]
    for row in report.rows:
        ratings, index, dissatisfied = shown.rows[row.key]
        assert ratings == row.figures.ratings
        assert close(index, row.figures.satisfaction_index) and close(dissatisfied, row.figures.dissatisfied_share)


def no_sideways_scroll(page: Page) -> bool:
    """True when the page fits the screen's width (nothing makes the whole page scroll sideways)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def screenshots(browser: Browser, base: str, dashboard_path: str, public_path: str, out: Path) -> list[Path]:
    """The dashboard and the public page at 1920×1080 and 390×844, and the public page as printed."""
    made = []
    for size, name in ((WIDE, "1920x1080"), (PHONE, "390x844")):
        context = browser.new_context(viewport=size, device_scale_factor=1, locale="vi-VN")
        page = context.new_page()
        sign_in(page, base)
        page.goto(base + dashboard_path)
        assert no_sideways_scroll(page), f"the dashboard scrolls sideways at {name}"
        page.screenshot(path=str(out / f"server-dashboard-{name}.png"))
        if size is WIDE:
            page.locator("#ranking").screenshot(path=str(out / f"server-dashboard-ranking-{name}.png"))
        page.goto(base + public_path)
        assert no_sideways_scroll(page), f"the public page scrolls sideways at {name}"
        page.screenshot(path=str(out / f"server-public-{name}.png"), full_page=size is WIDE)
        made += [out / f"server-dashboard-{name}.png", out / f"server-public-{name}.png"]
        context.close()
    context = browser.new_context(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
    page = context.new_page()
    page.goto(base + public_path)
    page.emulate_media(media="print")
    page.screenshot(path=str(out / "server-public-print.png"), full_page=True)
    context.close()
    return [*made, out / "server-dashboard-ranking-1920x1080.png", out / "server-public-print.png"]


class Website:
    """An agency's website on another port of 127.0.0.1: one page that frames the given addresses."""

    def __init__(self, *frames: str) -> None:
        page = ("<!doctype html><meta charset='utf-8'><h1>Cổng thông tin phường</h1>"
                + "".join(f'<iframe src="{src}" width="900" height="700"></iframe>' for src in frames)).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def stop(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


def pdf_pages(data: bytes) -> int:
    """How many pages a PDF made by Chromium has."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


# ---- the test -----------------------------------------------------------------------------------------------

def test_a_person_reads_downloads_publishes_and_prints_the_results(site: Site, browser: Browser,
                                                                    tmp_path: Path) -> None:
    base, engine = site.server.url, site.server.engine()
    last_month = site.today.replace(day=1) - timedelta(days=1)
    context = browser.new_context(viewport=WIDE, accept_downloads=True, locale="vi-VN")
    page = context.new_page()
    sign_in(page, base)

    # This month, every agency, by counter: the defaults.
    default = ReportQuery(Period.of("month", site.today), "counter")
    assert_shows(read(page), reports.build(engine, default, SETTINGS))

    # One agency, last month, by officer.
    choose(page, agency=MAIN, period="month", day=last_month, group="officer")
    by_officer = ReportQuery(Period.of("month", last_month), "officer", MAIN)
    report = reports.build(engine, by_officer, SETTINGS)
    shown = read(page)
    assert_shows(shown, report)
    assert "Rất hài lòng" in page.inner_text("#levels") and "Tiếp cận dịch vụ" in page.inner_text("#elements")

    # The Excel file holds the numbers on the screen.
    with page.expect_download() as download:
        page.click('#ranking a[data-format="xlsx"]')
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".xlsx" and last_month.replace(day=1).isoformat() in saved.name
    book = load_workbook(saved)
    in_excel = {}
    for key, _label, ratings, *rest in book["Nhóm"].iter_rows(min_row=2, values_only=True):
        if key:
            header = [cell.value for cell in book["Nhóm"][1]]
            index = rest[header.index("Chỉ số hài lòng (4–5)") - 3]
            in_excel[key] = (ratings, index)
    assert set(in_excel) == set(shown.rows)
    for key, (ratings, index) in in_excel.items():
        assert ratings == shown.rows[key][0]
        assert close(shown.rows[key][1], index)

    # Change the grouping, then step to the period before with the arrow.
    choose(page, group="counter")
    page.click("a[rel=prev]")
    page.wait_for_load_state()
    before = ReportQuery(Period.of("month", last_month).previous(), "counter", MAIN)
    assert_shows(read(page), reports.build(engine, before, SETTINGS))
    choose(page, period="month", day=last_month)  # back to last month, by counter

    # Flags are words as well as colour, with the threshold beside them.
    flagged = [row.key for row in reports.build(engine, ReportQuery(
        Period.of("month", last_month), "counter", MAIN), SETTINGS).rows if row.flagged]
    assert flagged
    for key in flagged:
        assert "CẢNH BÁO" in page.inner_text(f'tr[data-key="{key}"] [data-col="flag"]')

    # Publish last month by counter, then read the public page as a citizen would, with no sign-in.
    page.fill("#p-title", "Kết quả đánh giá sự hài lòng tháng trước")
    with page.expect_navigation():
        page.click("#publish button.primary")
    assert "Đã công bố" in page.inner_text(".done")
    published = reports.build(engine, ReportQuery(Period.of("month", last_month), "counter", MAIN),
                              SETTINGS)
    number_ = re.search(r"published=(\d+)", page.url)
    assert number_
    public_path = f"/ket-qua/{MAIN}/{number_.group(1)}"
    citizen = browser.new_context(viewport=PHONE, locale="vi-VN")
    public = citizen.new_page()
    public.goto(base + f"/ket-qua/{MAIN}")
    assert public.inner_text("h1") == "Kết quả đánh giá sự hài lòng tháng trước"
    shown_public = read(public)
    assert_shows(shown_public, published)
    # Harassment reports are published as the agency's total only, never per counter or officer.
    assert public.query_selector('table[data-table="ranking"] [data-col="harassment"]') is None
    assert "Sách nhiễu" not in public.inner_text('table[data-table="ranking"]')
    assert no_sideways_scroll(public)
    assert "024 3825 3536" in public.inner_text(".contact")  # the hotline for complaints, posted with the results

    # Printed on A4: no buttons or navigation, and it fits the notice board.
    public.emulate_media(media="print")
    assert not public.is_visible(".actions button") and not public.is_visible("header.top")
    assert public.is_visible('[data-kpi="index"]')
    printed = public.pdf(format="A4", print_background=True)
    assert printed.startswith(b"%PDF") and pdf_pages(printed) == 1  # a month by counter: one notice
    citizen.close()

    # An agency's website frames the embeddable variant; the ordinary page refuses to be framed.
    host = browser.new_context(viewport=WIDE)
    website = host.new_page()
    # A real site on loopback: Chromium never lets a public site frame a loopback one, whatever the headers say.
    portal = Website(f"{base}{public_path}?embed=1", f"{base}{public_path}")
    website.goto(portal.url)  # returns once the frames have loaded
    framed = [frame for frame in website.frames if frame.parent_frame is not None]
    assert len(framed) == 2
    served = [frame for frame in framed if frame.url.startswith(base)]
    assert [frame.url for frame in served] == [f"{base}{public_path}?embed=1"]  # the other one was refused
    embedded = served[0]
    assert share(embedded.inner_text('[data-kpi="index"] .kpi-value')) == shown_public.index
    assert embedded.query_selector("header") is None and embedded.query_selector("footer") is None
    host.close()
    portal.stop()
    context.close()

    # A ranking of many officers is shown fifty a page: the pager leads to the next fifty, the flagged ones can be
    # shown alone, and the key figures stay the month's on every page.
    context = browser.new_context(viewport=WIDE, locale="vi-VN")
    page = context.new_page()
    sign_in(page, base)
    paged_path = f"/dashboard?agency={OTHER}&period=month&date={PAGED_MONTH.isoformat()}&group=officer"
    page.goto(base + paged_path)
    paged = reports.build(engine, site.paged, SETTINGS)
    keys = [row.key for row in paged.rows]
    first = read(page)
    assert first.ratings == paged.total.ratings
    assert first.order == keys[:RANKING_PAGE_ROWS]
    assert "Trang 1/3" in page.inner_text("#ranking-summary")
    with page.expect_navigation():
        page.click('#ranking nav.pager >> nth=0 >> a[data-page-link="next"]')
    second = read(page)
    assert second.order == keys[RANKING_PAGE_ROWS:2 * RANKING_PAGE_ROWS]
    assert second.ratings == paged.total.ratings and "page=2" in page.url and f"agency={OTHER}" in page.url
    for row in paged.rows[RANKING_PAGE_ROWS:2 * RANKING_PAGE_ROWS]:
        ratings, index, dissatisfied = second.rows[row.key]
        assert ratings == row.figures.ratings and close(index, row.figures.satisfaction_index)
        assert close(dissatisfied, row.figures.dissatisfied_share)
    positions = page.eval_on_selector_all('#ranking tr[data-key] [data-col="position"]', "cells => cells.map("
                                          "c => Number(c.innerText))")
    assert positions == list(range(RANKING_PAGE_ROWS + 1, 2 * RANKING_PAGE_ROWS + 1))
    assert no_sideways_scroll(page)
    page.locator("#ranking").screenshot(path=str(tmp_path / "server-dashboard-ranking-page2-1920x1080.png"))
    with page.expect_navigation():
        page.click('#ranking nav.ranking-views a[data-view="flagged"]')
    assert read(page).order == [row.key for row in paged.rows if row.flagged]
    context.close()
    phone = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = phone.new_page()
    sign_in(page, base)
    page.goto(base + paged_path + "&page=2")
    assert read(page).order == keys[RANKING_PAGE_ROWS:2 * RANKING_PAGE_ROWS]
    assert no_sideways_scroll(page), "the paged ranking scrolls sideways on a phone"
    page.locator("#ranking nav.pager >> nth=0").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "server-dashboard-ranking-page2-390x844.png"))
    phone.close()

    shots = screenshots(browser, base, f"/dashboard?agency={MAIN}&period=month&date={last_month.isoformat()}",
                        public_path, tmp_path)
    for shot in shots:
        assert shot.stat().st_size > 10_000, shot


# ---- screenshots for the README -----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Make the README's screenshots: python -m tests.test_browser_dashboard --screenshots docs/screenshots."""
    import tempfile

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        made = start_site(Path(directory))
        try:
            last_month = made.today.replace(day=1) - timedelta(days=1)
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                context = chromium.new_context(viewport=WIDE)
                page = context.new_page()
                sign_in(page, made.server.url)
                choose(page, agency=MAIN, period="month", day=last_month, group="counter")
                page.fill("#p-title", f"Kết quả đánh giá sự hài lòng tháng {last_month.month:02d}/{last_month.year}")
                with page.expect_navigation():
                    page.click("#publish button.primary")
                found = re.search(r"published=(\d+)", page.url)
                assert found, page.url
                context.close()
                paths: list[Any] = screenshots(
                    chromium, made.server.url, f"/dashboard?agency={MAIN}&period=month&date={last_month.isoformat()}",
                    f"/ket-qua/{MAIN}/{found.group(1)}", args.screenshots)
                chromium.close()
        finally:
            made.server.stop()
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
