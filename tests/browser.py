"""Debian's Chromium for the tests that read the server's pages as a person does, and a signed-in HTTP session.

Chromium is driven through Playwright without downloading a browser. Without /usr/bin/chromium a browser test is
skipped on a developer's machine and FAILS under CI=true (.ci/system-deps installs it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
WIDE: ViewportSize = {"width": 1920, "height": 1080}
PHONE: ViewportSize = {"width": 390, "height": 844}
# No sandbox when running as root, as CI does.
CHROMIUM_ARGS = ["--no-sandbox"] if os.geteuid() == 0 else []


def chromium_or_skip() -> None:
    """Skip the test when Chromium is missing; fail it under CI=true, where the browser test is required."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (Debian package chromium; see .ci/system-deps)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: the browser test is required)", pytrace=False)
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, closed on the way out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def signed_in(base: str, username: str, password: str) -> requests.Session:
    """An HTTP session signed in on the staff pages at `base` (the sign-in form with its CSRF token)."""
    session = requests.Session()
    page = session.get(base + "/login", timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    answer = session.post(base + "/login", data={"csrf": token.group(1), "username": username, "password": password,
                                                 "next": "/dashboard"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text[:500]
    return session
