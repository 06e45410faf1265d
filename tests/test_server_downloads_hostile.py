"""The dashboard's downloads over real HTTP, on SQLite and PostgreSQL, when every stored name, code and comment
starts like a spreadsheet formula (tests/hostile_data.py): no CSV cell would run in Excel, no XLSX cell is a
formula, and the text is still all there."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, time

import requests
from openpyxl import load_workbook

from sync.server.admin import accounts
from tests import hostile_data
from tests.sync_harness import ServerHandle
from tests.test_server_reports import add_rating

PASSWORD = "mật khẩu tải báo cáo"
# What each download shows of the hostile data across every agency (tests/hostile_data.py's kinds of text):
# the report's tables by each grouping, and the comments tables (one commented harassment report per agency).
GROUPS = {"agency": ("agency",), "counter": ("counter",), "officer": ("officer", "ocode"),
          "procedure": ("pcode", "procedure"), "field": ("field",)}
COMMENTED = ("agency", "counter", "officer", "comment")


def signed_in(server: ServerHandle) -> requests.Session:
    """A browser session signed in as an IT user."""
    accounts.add_user(server.engine(), "tai.ve", PASSWORD)
    session = requests.Session()
    token = re.search(r'name="csrf" value="([^"]+)"', session.get(server.url + "/login", timeout=10).text)
    assert token
    answer = session.post(server.url + "/login", data={"csrf": token.group(1), "username": "tai.ve",
                                                      "password": PASSWORD, "next": "/dashboard"},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    return session


def test_no_download_lets_stored_text_run_as_a_formula(sync_server: ServerHandle) -> None:
    made = hostile_data.seed(sync_server.engine())
    session = signed_in(sync_server)

    def download(name: str, fmt: str, group: str = "counter") -> bytes:
        answer = session.get(f"{sync_server.url}/dashboard/export/{name}.{fmt}", timeout=30,
                             params={"period": "month", "date": hostile_data.DAY.isoformat(), "group": group})
        assert answer.status_code == 200, answer.text[:500]
        assert "attachment;" in answer.headers["content-disposition"]
        return answer.content

    try:
        for group, kinds in GROUPS.items():
            expected = [text for kind in kinds for text in made.texts[kind]]
            rows = hostile_data.csv_rows(download("groups", "csv", group))
            hostile_data.assert_csv_inert(rows, expected)
            assert all(row[2].isdigit() for row in rows[1:])                  # counts stay plain numbers
            book = load_workbook(io.BytesIO(download("groups", "xlsx", group)))
            hostile_data.assert_xlsx_inert(book, expected)
            assert all(isinstance(row[2], int) for row in book["Nhóm"].iter_rows(min_row=2, values_only=True))
        for name in ("levels", "elements", "trend"):
            hostile_data.assert_csv_inert(hostile_data.csv_rows(download(name, "csv")), [])
        hostile_data.assert_xlsx_inert(load_workbook(io.BytesIO(download("trend", "xlsx"))), [])
        expected = [text for kind in COMMENTED for text in made.texts[kind]]
        for name in ("comments", "harassment"):
            rows = hostile_data.csv_rows(download(name, "csv"))
            hostile_data.assert_csv_inert(rows, expected)
            book = load_workbook(io.BytesIO(download(name, "xlsx")))
            hostile_data.assert_xlsx_inert(book, expected)
            assert len(rows) - 1 == book.active.max_row - 1 == len(made.agencies)
    finally:
        session.close()


def test_a_control_character_in_a_comment_does_not_break_the_excel_download(sync_server: ServerHandle) -> None:
    made = hostile_data.seed(sync_server.engine())
    at = datetime.combine(hostile_data.DAY, time(15), hostile_data.ZONE).astimezone(UTC)
    add_rating(sync_server.engine(), made.devices[0], at, 2, "CB1", None, comment="Chờ\x07 quá\x1b lâu")
    session = signed_in(sync_server)
    try:
        params = {"period": "month", "date": hostile_data.DAY.isoformat()}
        answer = session.get(f"{sync_server.url}/dashboard/export/comments.xlsx", params=params, timeout=30)
        assert answer.status_code == 200, answer.text[:500]
        texts = [row[-2] for row in load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True)]
        assert "Chờ quá lâu" in texts
        answer = session.get(f"{sync_server.url}/dashboard/export/comments.csv", params=params, timeout=30)
        assert "Chờ\x07 quá\x1b lâu" in [row[-2] for row in hostile_data.csv_rows(answer.content)]  # CSV keeps it
    finally:
        session.close()
