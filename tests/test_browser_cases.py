"""A citizen's kiosk comment taken to a published answer, in a real headless Chromium against a real server.

A real kiosk log (a comment asking to be contacted, with a name, a phone number and an e-mail address; and a
comment holding <script>) is pushed over HTTP; a signed-in officer opens /phan-anh, finds the case, assigns it,
writes the reply (which a real SMTP server on 127.0.0.1 receives), removes the name from the question and
publishes; the public page shows the question and the reply without the contacts. For the README's screenshots
run `python -m tests.test_browser_cases --screenshots docs/screenshots` (never done by the test run itself).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from sync.server.admin import accounts
from sync.server.cases import store
from sync.server.settings import ServerSettings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, WIDE, chromium, chromium_or_skip
from tests.sync_harness import ServerHandle, push, start_server
from tests.test_server_alerts_helpers import HOST, MailCatcher

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

USER, PASSWORD = "mot.cua", "mật khẩu một cửa 2026"
ASKED = "Tôi là Nguyễn Văn An, chờ 2 tiếng mới được nhận hồ sơ. Xin trả lời qua 0912 345 678 hoặc an.nguyen@example.vn"
HOSTILE = "<script>alert('x')</script> Quầy đóng cửa sớm"
QUESTION = "Tôi chờ 2 tiếng mới được nhận hồ sơ. Xin trả lời qua ••• hoặc •••"   # the name removed by hand
REPLY = "Kính gửi ông An: Trung tâm đã bố trí thêm một cán bộ tiếp nhận vào buổi sáng. Xin cảm ơn ông."
PUBLIC_REPLY = "Trung tâm đã bố trí thêm một cán bộ tiếp nhận vào buổi sáng."   # the name taken out


@dataclass
class Site:
    """The running server, its mail server and the kiosk's device id."""

    server: ServerHandle
    smtp: MailCatcher
    device_id: str


def start_site(directory: Path) -> Site:
    """A server whose replies go to a local SMTP server, and one real kiosk's comments pushed to it."""
    smtp = MailCatcher().start()
    config = directory / "server.toml"
    config.write_text(f'[alerts]\nsmtp_host = "{HOST}"\nsmtp_port = {smtp.port}\nsmtp_tls = "none"\n'
                      'mail_from = "Trung tam PVHCC <pvhcc@xa.gov.vn>"\ncheck_interval_s = 0\n'
                      '[cases]\nanswer_within_days = 10\nholidays = ["2026-01-01"]\n', encoding="utf-8")
    server = start_server(f"sqlite:///{directory / 'server.db'}", directory / "data", config=config)
    device, device_id = server.enrolled_device(directory / "kiosk", "PA", "Q01")
    log = device.log
    asked = log.record_rating(2, counter_id="Q01", officer_id="CB001", language="vi")
    log.record_comment(asked.uuid, ASKED)
    log.record_callback(asked.uuid)
    hostile = log.record_rating(3, counter_id="Q01", officer_id="CB001", language="vi")
    log.record_comment(hostile.uuid, HOSTILE)
    answer = push(server.url, device, device_id, device.records(0))
    assert answer.status_code == 200, answer.text
    accounts.add_user(server.engine(), USER, PASSWORD)
    return Site(server, smtp, device_id)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One server for the module."""
    chromium_or_skip()
    made = start_site(tmp_path_factory.mktemp("cases-site"))
    yield made
    made.server.stop()
    made.smtp.stop()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    with chromium() as launched:
        yield launched


def sign_in(page: Page, base: str) -> None:
    """Open the cases, get sent to the sign-in form, fill it in, land on the cases."""
    page.goto(base + "/phan-anh")
    assert "/login" in page.url
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("section.login button[type=submit]")
    assert page.url.startswith(base + "/phan-anh")


def open_case(page: Page, text: str) -> None:
    """Click the case whose text starts with `text` in the list."""
    with page.expect_navigation():
        page.locator("table.cases td.text a", has_text=text).click()


def take_to_published(page: Page, site: Site, shots: Path | None = None) -> None:
    """What an officer does with the callback case: assign, answer, publish (screenshots on the way)."""
    base = site.server.url
    sign_in(page, base)
    rows = page.locator("table.cases tbody tr")
    assert rows.count() == 2
    assert page.locator("tr[data-agency=PA] td.num").first.inner_text() == "2"   # received this month
    if shots is not None:
        page.screenshot(path=str(shots / "server-cases-1920x1080.png"), full_page=True)
    open_case(page, "Tôi là Nguyễn Văn An")
    assert page.locator("#citizen-text").inner_text() == ASKED
    assert page.locator("#contact a.phone").inner_text() == "☎ 0912 345 678"
    assert page.locator("#contact .email").inner_text() == "✉ an.nguyen@example.vn"
    page.fill("#assignee", "Bộ phận Một cửa — chị Lan")
    with page.expect_navigation():
        page.click("#assign-form button")
    assert "Đã giao" in page.locator("#status").inner_text()
    page.fill("#reply", REPLY)
    if shots is not None:
        page.screenshot(path=str(shots / "server-case-1920x1080.png"), full_page=True)
    with page.expect_navigation():
        page.click("#answer-form button")
    assert "Đã trả lời" in page.locator("#status").inner_text()
    assert "Đã gửi thư" in page.locator("dl.facts").inner_text()
    # The question to publish starts masked; the officer removes the name.
    assert page.locator("#question").input_value() == ASKED.replace("0912 345 678", "•••").replace(
        "an.nguyen@example.vn", "•••")
    page.fill("#question", QUESTION)
    assert page.locator("#public-reply").input_value() == REPLY
    page.fill("#public-reply", PUBLIC_REPLY)
    with page.expect_navigation():
        page.click("#publish-form button")
    assert page.locator("#published-question").inner_text() == QUESTION
    assert page.locator("#published-reply").inner_text() == PUBLIC_REPLY
    history = page.locator("#history li").all_inner_texts()
    assert [line.split("·")[1].strip().split(" ")[0] for line in history] == [
        "Tạo", "Giao", "Trả", "Gửi", "Công"]


def test_a_kiosk_comment_is_answered_by_e_mail_and_published(site: Site, browser: Browser) -> None:
    context = browser.new_context(viewport=WIDE, locale="vi-VN")
    page = context.new_page()
    take_to_published(page, site)
    (received,) = site.smtp.wait_for(1)
    assert received.rcpt_tos == ["an.nguyen@example.vn"]
    assert REPLY in received.body and ASKED in received.body and "Reply to your comment" in received.subject
    page.goto(site.server.url + "/ket-qua/PA")
    answers = page.locator("#tra-loi").inner_text()
    assert QUESTION in answers and PUBLIC_REPLY in answers
    assert "0912" not in page.content() and "an.nguyen" not in page.content()
    assert "ông An" not in answers and "Nguyễn Văn An" not in answers
    # The dashboard's card for this month: 2 received, 1 answered the same day (on time, 0 working days).
    page.goto(site.server.url + "/dashboard?period=month&group=agency&agency=PA")
    cells = page.locator("#cases tr[data-agency=PA] td").all_inner_texts()
    assert cells[1:] == ["2", "1", "1", "0", "0"]
    context.close()


def test_a_script_in_a_comment_shows_as_text(site: Site, browser: Browser) -> None:
    context = browser.new_context(viewport=WIDE, locale="vi-VN")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, site.server.url)
    assert HOSTILE in page.locator("table.cases").inner_text()
    open_case(page, "<script>")
    assert page.locator("#citizen-text").inner_text() == HOSTILE
    assert dialogs == [] and page.locator("script").count() == 0
    context.close()


def main(argv: list[str] | None = None) -> int:
    """Make the README's screenshots of the cases: python -m tests.test_browser_cases --screenshots DIR."""
    import tempfile

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        site = start_site(Path(directory))
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                context = chromium.new_context(viewport=WIDE, locale="vi-VN")
                take_to_published(context.new_page(), site, args.screenshots)
                chromium.close()
        finally:
            site.server.stop()
            site.smtp.stop()
    for name in ("server-cases-1920x1080.png", "server-case-1920x1080.png"):
        print(args.screenshots / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _staff(site: Site) -> tuple[requests.Session, str]:
    """A signed-in session over plain HTTP, and its CSRF token."""
    session = requests.Session()
    page = session.get(site.server.url + "/login", timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = session.post(site.server.url + "/login", data={"csrf": token.group(1), "username": USER,
                                                             "password": PASSWORD, "next": "/phan-anh"},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    listed = session.get(site.server.url + "/phan-anh", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', listed)
    assert csrf
    return session, csrf.group(1)


def test_the_pages_refuse_what_they_must_and_change_nothing(site: Site) -> None:
    base = site.server.url
    assert requests.get(base + "/phan-anh", allow_redirects=False, timeout=10).headers["location"].startswith(
        "/login?next=/phan-anh")
    session, csrf = _staff(site)
    hostile = next(c for c in store.list_cases(site.server.engine(), ServerSettings()) if c.text == HOSTILE)
    before = store.get_case(site.server.engine(), hostile.id)
    cases: list[tuple[dict[str, str], int, str]] = [
        ({"csrf": "wrong", "action": "assign", "assignee": "X", "version": str(before.version)}, 403, "hết hạn"),
        ({"csrf": csrf, "action": "delete", "version": str(before.version)}, 400, "không hợp lệ"),
        ({"csrf": csrf, "action": "assign", "assignee": "X", "version": str(before.version + 7)}, 409,
         "người khác thay đổi"),
        ({"csrf": csrf, "action": "answer", "reply": "  ", "version": str(before.version)}, 400, "Cần nhập"),
        ({"csrf": csrf, "action": "close", "version": str(before.version)}, 400, "lý do"),
        ({"csrf": csrf, "action": "requeue", "version": str(before.version)}, 400, "đang gửi dở"),
        # Characters str.isdigit() takes but int() does not (or not this long) once answered with a 500.
        ({"csrf": csrf, "action": "assign", "assignee": "X", "version": "²"}, 400, "không hợp lệ"),
        ({"csrf": csrf, "action": "assign", "assignee": "X", "version": "9" * 5000}, 400, "không hợp lệ"),
    ]
    for form, status, words in cases:
        answer = session.post(f"{base}/phan-anh/{hostile.id}", data=form, allow_redirects=False, timeout=10)
        assert answer.status_code == status, form
        assert words in answer.text and "<script>alert" not in answer.text
    assert store.get_case(site.server.engine(), hostile.id) == before
    missing = session.get(base + "/phan-anh/999999", timeout=10)
    assert missing.status_code == 404 and "Không có phản ánh số 999999" in missing.text
    assert session.get(base + "/phan-anh/abc", timeout=10).status_code == 404
    assert session.get(base + "/phan-anh/²", timeout=10).status_code == 404
    assert session.post(base + "/phan-anh/²", data={"csrf": csrf}, timeout=10).status_code == 404
    assert requests.get(base + "/ket-qua/HK/²", timeout=10).status_code == 404
