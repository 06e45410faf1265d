"""The paper forms' pages in a real headless Chromium, as a clerk uses them: a form typed with digits and Enter
only (the page's script moves field to field; Enter on the last field saves), the day's count going up, the same
form number typed again refused with a bilingual message and nothing stored; a held scan decided on the review page.

Debian's chromium through Playwright, as tests/test_browser_dashboard.py (skipped without it, failing under
CI=true). For the README's screenshots run `python -m tests.test_browser_paper --screenshots docs/screenshots`
(never done by the test run itself).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select

from bench.paper_images import filled, mark, photo
from sync.server import registry
from sync.server.admin import accounts
from sync.server.channels import paper_entry
from sync.server.channels import paper_form as geo
from sync.server.db import open_database
from sync.server.models import SURVEY_RESPONSE
from sync.server.results.periods import Period
from sync.server.secret import ServerSecret
from tests.browser import CHROMIUM, CHROMIUM_ARGS, WIDE, chromium, chromium_or_skip
from tests.sync_harness import ServerHandle, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCY = "CL"
AGENCY_NAME = "Trung tâm Phục vụ hành chính công phường Chợ Lớn, Thành phố Hồ Chí Minh"
USERS = {"nhap.lan": "mật khẩu của Lan đủ dài", "nhap.minh": "mật khẩu của Minh đủ dài"}


@dataclass
class Site:
    """The running server, the quarter its forms were printed for, and its data directory."""

    server: ServerHandle
    period: Period


def start_site(directory: Path) -> Site:
    """A SQLite server with an agency, 40 forms printed for this quarter, two clerks, a few forms entered and two
    scans held for review."""
    url = f"sqlite:///{directory / 'server.db'}"
    data = directory / "data"
    engine = open_database(url)
    period = Period.of("quarter", datetime.now(UTC).astimezone(VN).date())
    try:
        registry.add_agency(engine, AGENCY, {"name": AGENCY_NAME})
        registry.add_counter(engine, AGENCY, "Q01", "Quầy 1 — Tư pháp, hộ tịch", [])
        geo.print_forms(engine, agency_code=AGENCY, counter_code="Q01", period=period, count=40, printed_by="van.thu")
        for user, password in USERS.items():
            accounts.add_user(engine, user, password)
        data.mkdir(parents=True)
        secret = ServerSecret.load_or_create(data)
        for number, level, user in ((11, 5, "nhap.minh"), (12, 4, "nhap.minh"), (13, 2, "nhap.lan")):
            paper_entry.enter(engine, secret, agency_code=AGENCY, form=paper_entry.from_digits(
                {"form_number": str(number), "level": str(level), "access": "4"}), entered_by=user, zone=VN)
        sheet = geo.FormSheet(AGENCY, AGENCY_NAME, "Quầy 1 — Tư pháp, hộ tịch", period, 21)
        page = filled(sheet, {geo.LEVEL_KEY: 4, "access": 5, "officer": 4, "harassment": 0})
        mark(page, "result", 4)
        mark(page, "result", 3)
        mark(page, "feedback", 2, "half")
        paper_entry.scan(engine, secret, data, agency_code=AGENCY, data=photo(page), name="phieu-21.jpg",
                         entered_by="nhap.minh", zone=VN)
    finally:
        engine.dispose()
    return Site(start_server(url, data), period)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    chromium_or_skip()
    made = start_site(tmp_path_factory.mktemp("paper-site"))
    yield made
    made.server.stop()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def sign_in(page: Page, base: str, user: str, target: str) -> None:
    """Open `target`, get sent to the sign-in form, fill it in, land back on `target`."""
    page.goto(base + target)
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", USERS[user])
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


def type_form(page: Page, keys: list[str]) -> None:
    """Type a whole form as a clerk does: each answer's digit (or nothing) then Enter."""
    for key in keys:
        if key:
            page.keyboard.type(key)
        page.keyboard.press("Enter")


def stored_count(site: Site) -> int:
    with site.server.engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(SURVEY_RESPONSE)).scalar_one())


def test_a_clerk_types_forms_with_digits_and_enter_and_a_second_entry_is_refused(site: Site,
                                                                                 browser: Browser) -> None:
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    sign_in(page, site.server.url, "nhap.lan", f"/phieu-giay/nhap?agency={AGENCY}")
    assert page.locator(".counts .mine").inner_text() == "1"
    before = stored_count(site)
    # Form 5: level 4, access 5, procedure skipped, officer 3, result and feedback skipped, harassment "2" (no),
    # no procedure code, a comment; Enter on the comment saves.
    assert page.evaluate("document.activeElement.id") == "f-form_number"
    with page.expect_navigation():
        type_form(page, ["5", "4", "5", "", "3", "", "", "2", "", "Cán bộ tận tình"])
    assert "Đã ghi phiếu số 5" in page.locator("#saved").inner_text()
    assert page.locator(".counts .mine").inner_text() == "2" and stored_count(site) == before + 1
    assert page.locator("tr[data-form='5'] td.who").inner_text() == "nhap.lan"
    assert page.evaluate("document.activeElement.id") == "f-form_number"   # ready for the next form
    # A key that is not one of the field's digits is dropped.
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    page.keyboard.type("9")
    assert page.input_value("#f-level") == ""
    # The same form again: refused in both languages, nothing stored, what was typed still there.
    page.goto(f"{site.server.url}/phieu-giay/nhap?agency={AGENCY}")
    with page.expect_navigation():
        type_form(page, ["5", "1", "", "", "", "", "", "", "", ""])
    alert = page.locator("#message").inner_text()
    assert "Phiếu số 5 đã được nhập rồi" in alert and "form number 5 was entered already" in alert
    assert page.input_value("#f-form_number") == "5" and stored_count(site) == before + 1
    context.close()


def test_a_held_scan_is_decided_on_the_review_page_and_counted(site: Site, browser: Browser) -> None:
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    sign_in(page, site.server.url, "nhap.minh", "/phieu-giay/duyet")
    assert [page.locator(".field.unclear").nth(i).get_attribute("data-key") for i in range(2)] == [
        "result", "feedback"]
    # The crops are real pictures of the rows, not broken images.
    assert page.evaluate("Array.from(document.querySelectorAll('img.crop')).every(i => i.naturalWidth > 1000)")
    before = stored_count(site)
    page.fill("#d-result", "4")
    page.fill("#d-feedback", "")
    with page.expect_navigation():
        page.click("button.save")
    assert "Không còn phiếu nào chờ duyệt" in page.content() and stored_count(site) == before + 1
    context.close()


# ---- screenshots for the README -----------------------------------------------------------------------------


def screenshots(browser: Browser, site: Site, out: Path) -> list[Path]:
    """The printed form (1240 px wide), the entry page after a refusal, and the review page at 1920x1080."""
    made = [out / "server-paper-form.png", out / "server-paper-entry-1920x1080.png",
            out / "server-paper-review-1920x1080.png"]
    sheet = geo.FormSheet(AGENCY, AGENCY_NAME, "Quầy 1 — Tư pháp, hộ tịch", site.period, 41)
    form = geo.render(sheet)
    form.resize((1240, 1754), Image.Resampling.LANCZOS).save(made[0], optimize=True)
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    sign_in(page, site.server.url, "nhap.lan", f"/phieu-giay/nhap?agency={AGENCY}")
    with page.expect_navigation():
        type_form(page, ["14", "5", "5", "4", "5", "", "", "2", "", ""])
    page.goto(f"{site.server.url}/phieu-giay/nhap?agency={AGENCY}")
    with page.expect_navigation():
        type_form(page, ["13", "3", "", "", "", "", "", "", "", ""])
    page.screenshot(path=str(made[1]))
    page.goto(site.server.url + "/phieu-giay/duyet")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    page.screenshot(path=str(made[2]))
    context.close()
    return made


def main(argv: list[str] | None = None) -> int:
    """Make the README's screenshots: python -m tests.test_browser_paper --screenshots docs/screenshots."""
    import tempfile

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        made = start_site(Path(directory))
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                paths = screenshots(chromium, made, args.screenshots)
                chromium.close()
        finally:
            made.server.stop()
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
