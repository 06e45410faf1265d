"""A citizen's request to be contacted, end to end: a real kiosk log with a comment holding a phone number and an
e-mail address, pushed over HTTP to a real server process, on SQLite and PostgreSQL. Without the request the
dashboard masks the contact; with it the contact is shown as written and the comment is marked. Public pages
never show comments at all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, insert, select

from kiosk.domain.levels import CALLBACK_KEY
from sync.server import db, registry
from sync.server.admin import accounts
from sync.server.devices import enrolment
from sync.server.models import DEVICE, RATING, RECORD
from sync.server.results import publications, report_view, reports
from sync.server.results.comments import harassment_reports, latest_comments
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.results.report_view import Column, Table
from sync.server.settings import ServerSettings, report_timezone
from sync.server.web import templates
from tests.page_reader import Node, parse
from tests.sync_harness import Device, ServerHandle, push, times_as_before_0006, wire_record

SETTINGS = ServerSettings()  # what the server process runs with: no settings file
ZONE = ZoneInfo(report_timezone(SETTINGS))
PASSWORD = "mật khẩu xem góp ý"
# One comment whose writer asked to be called back, one whose writer did not; both leave a phone and an e-mail.
ASKED = "Xin gọi lại cho tôi: 0912 345 678 hoặc an.nguyen@example.vn"
NOT_ASKED = "Thủ tục chậm. Số tôi 0987.654.321, thư binh.tran@example.vn"
NOT_ASKED_MASKED = "Thủ tục chậm. Số tôi •••, thư •••"  # worked by hand
CONTACTS_NOT_ASKED = ("0987", "654.321", "binh.tran", "@example.vn, ")


@pytest.fixture(scope="module")
def staff(module_server: ServerHandle) -> Iterator[requests.Session]:
    """A browser session signed in as an IT user."""
    accounts.add_user(module_server.engine(), "gop.y", PASSWORD)
    session = requests.Session()
    page = session.get(module_server.url + "/login", timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    answer = session.post(module_server.url + "/login", data={"csrf": token.group(1), "username": "gop.y",
                                                                "password": PASSWORD, "next": "/dashboard"},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    yield session
    session.close()


@dataclass
class Kiosk:
    """A real kiosk enrolled at its own agency (so tests sharing a server do not see each other's comments)."""

    device: Device
    device_id: str
    agency: str

    def push_new(self, server: ServerHandle, after_seq: int = 0) -> dict[str, Any]:
        """Push every record after `after_seq` over HTTP; the server's answer."""
        answer = push(server.url, self.device, self.device_id, self.device.records(after_seq))
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


def enrolled(server: ServerHandle, directory: Path, agency: str) -> Kiosk:
    """A new kiosk registered at `agency`/Q01 and enrolled over HTTP."""
    device, device_id = server.enrolled_device(directory, agency, "Q01")
    return Kiosk(device, device_id, agency)


def day_of(recorded_at: str) -> date:
    """The report day (in the server's report time zone) of a stored UTC time."""
    return datetime.fromisoformat(recorded_at).astimezone(ZONE).date()


def day_query(agency: str, day: date) -> ReportQuery:
    """That agency's report for one day."""
    return ReportQuery(Period.of("day", day), "agency", agency)


def dashboard(session: requests.Session, server: ServerHandle, agency: str, day: date) -> Node:
    """The dashboard page of that agency and day, as a person's browser gets it."""
    answer = session.get(server.url + "/dashboard", params={"period": "day", "date": day.isoformat(),
                                                             "group": "agency", "agency": agency}, timeout=30)
    assert answer.status_code == 200, answer.text[:2000]
    return parse(answer.text)


def shown_comments(page: Node, table: str) -> list[str]:
    """The comment cells of one of the dashboard's comment tables, top to bottom."""
    return [cell.text() for cell in page.one("table", data_table=table).all("td", data_col="text")]


def stored_callbacks(engine: Engine, device_id: str) -> dict[int, bool | None]:
    """rating.callback per rating level for one device."""
    with engine.connect() as conn:
        rows = conn.execute(select(RATING.c.level, RATING.c.callback).where(RATING.c.device_id == device_id))
        return {int(r.level): r.callback for r in rows}


def test_a_comment_is_shown_unmasked_only_when_the_citizen_asked_for_a_callback(
        module_server: ServerHandle, staff: requests.Session, tmp_path: Path) -> None:
    kiosk = enrolled(module_server, tmp_path / "kiosk", "CBA")
    log = kiosk.device.log
    asked = log.record_rating(2, counter_id="Q01", officer_id="CB001", language="vi")
    log.record_answer(asked.uuid, "harassment", 1)
    log.record_comment(asked.uuid, ASKED)
    log.record_callback(asked.uuid)
    not_asked = log.record_rating(4, counter_id="Q01", officer_id="CB001", language="vi")
    log.record_comment(not_asked.uuid, NOT_ASKED)
    assert kiosk.push_new(module_server)["stored"] == 6

    engine = module_server.engine()
    assert stored_callbacks(engine, kiosk.device_id) == {2: True, 4: None}
    day = day_of(asked.recorded_at)
    found = {c.level: c for c in latest_comments(engine, day_query(kiosk.agency, day), SETTINGS)}
    assert (found[2].text, found[2].callback) == (ASKED, True)
    assert (found[4].text, found[4].callback) == (NOT_ASKED_MASKED, False)
    (harassment,) = harassment_reports(engine, day_query(kiosk.agency, day), SETTINGS)
    assert (harassment.text, harassment.callback) == (ASKED, True)

    page = dashboard(staff, module_server, kiosk.agency, day)
    assert sorted(shown_comments(page, "comments")) == sorted([ASKED, NOT_ASKED_MASKED])
    assert shown_comments(page, "harassment") == [ASKED]
    comments = page.one("section", id="comments").text()
    assert not any(contact in comments for contact in CONTACTS_NOT_ASKED)
    assert "trừ ý kiến của người dân xin được liên hệ lại" in comments
    assert "except where the citizen asked for a callback" in comments
    assert len(page.one("table", data_table="comments").all(data_callback="requested")) == 1
    kiosk.device.close()


def test_a_callback_pushed_after_its_rating_unmasks_the_comment_then(
        module_server: ServerHandle, tmp_path: Path) -> None:
    kiosk = enrolled(module_server, tmp_path / "kiosk", "CBB")
    log = kiosk.device.log
    receipt = log.record_rating(3, counter_id="Q01", officer_id="CB001", language="vi")
    comment_seq = log.record_comment(receipt.uuid, ASKED)
    assert kiosk.push_new(module_server)["acked_seq"] == comment_seq  # a sync pass ran in between
    engine, query = module_server.engine(), day_query(kiosk.agency, day_of(receipt.recorded_at))
    (before,) = latest_comments(engine, query, SETTINGS)
    assert (before.text, before.callback) == ("Xin gọi lại cho tôi: ••• hoặc •••", False)

    log.record_callback(receipt.uuid)
    assert kiosk.push_new(module_server, comment_seq)["stored"] == 1
    assert stored_callbacks(engine, kiosk.device_id) == {3: True}
    (after,) = latest_comments(engine, query, SETTINGS)
    assert (after.text, after.callback) == (ASKED, True)
    # The same batch again changes nothing: the record is a duplicate.
    again = push(module_server.url, kiosk.device, kiosk.device_id, kiosk.device.records(comment_seq))
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert stored_callbacks(engine, kiosk.device_id) == {3: True}
    kiosk.device.close()


def test_public_pages_never_show_comments_even_with_a_callback(
        module_server: ServerHandle, tmp_path: Path) -> None:
    kiosk = enrolled(module_server, tmp_path / "kiosk", "CBC")
    log = kiosk.device.log
    receipt = log.record_rating(1, counter_id="Q01", officer_id="CB001", language="vi")
    log.record_comment(receipt.uuid, ASKED)
    log.record_callback(receipt.uuid)
    kiosk.push_new(module_server)
    engine, query = module_server.engine(), day_query(kiosk.agency, day_of(receipt.recorded_at))
    report = reports.build(engine, query, SETTINGS)
    assert report.total.ratings == 1
    published = publications.publish(engine, report, "Kết quả trong ngày", "gop.y")
    for path in (f"/ket-qua/{kiosk.agency}", f"/ket-qua/{kiosk.agency}/{published.id}",
                 f"/ket-qua/{kiosk.agency}/{published.id}?embed=1"):
        answer = requests.get(module_server.url + path, timeout=30)
        assert answer.status_code == 200, path
        assert "Kết quả trong ngày" in answer.text
        for secret in ("0912", "an.nguyen", "Xin gọi lại", "Xin liên hệ lại", "Callback"):
            assert secret not in answer.text, (path, secret)
    kiosk.device.close()


def test_the_comments_table_marks_a_callback_in_words() -> None:
    columns = (Column("recorded_at", "Thời điểm", "When"), Column("text", "Ý kiến", "Comment"),
               Column("callback", "Liên hệ lại", "Callback"))
    table = Table("comments", "Ý kiến mới nhất", "Latest comments", columns,
                  [("01/12/2025 09:00", ASKED, True), ("01/12/2025 08:00", NOT_ASKED_MASKED, None)])
    module = templates.env.get_template("_results.html").make_module({"view": report_view})
    page = parse(str(module.plain_table(table, "Không có ý kiến nào.", "No comments.")))
    first, second = page.all("tr")[1:]
    mark = first.one("td", data_col="callback").one("strong", data_callback="requested")
    assert mark.text() == "Xin liên hệ lại Callback requested"
    assert mark.one("span", **{"class": "en"}).text() == "Callback requested"
    assert second.one("td", data_col="callback").text() == "–"
    assert second.all(data_callback="requested") == []


def test_upgrading_from_0002_folds_callback_answers_already_received(server_db_url: str, tmp_path: Path) -> None:
    engine = db.make_engine(server_db_url)
    config = Config()
    config.set_main_option("script_location", "sync.server:migrations")
    with db.writing(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    engine.dispose()
    # A kiosk of this version synced to a server of revision 0002: the answer is in `record`, not folded.
    kiosk = Device.create(tmp_path / "kiosk")
    asked = kiosk.log.record_rating(2, counter_id="Q01", officer_id=None, language="vi")
    kiosk.log.record_comment(asked.uuid, ASKED)
    kiosk.log.record_callback(asked.uuid)
    not_asked = kiosk.log.record_rating(5, counter_id="Q01", officer_id=None, language="vi")
    kiosk.log.record_comment(not_asked.uuid, NOT_ASKED)
    old = db.make_engine(server_db_url)
    registry.add_agency(old, "CBD", {"name": "Trung tâm CBD"})
    registry.add_counter(old, "CBD", "Q01", "Quầy 1", [])
    made = enrolment.add_device(old, "CBD", "Q01", timedelta(hours=1))
    now = db.utc_now()
    with db.writing(old) as conn:
        place = conn.execute(select(DEVICE.c.agency_id, DEVICE.c.counter_id)
                             .where(DEVICE.c.id == made.device_id)).one()
        conn.execute(insert(RECORD), [{**wire_record(r), "device_id": made.device_id, "received_at": now}
                                      for r in kiosk.records()])
        for receipt, text in ((asked, ASKED), (not_asked, NOT_ASKED)):
            conn.execute(insert(RATING).values(
                device_id=made.device_id, uuid=receipt.uuid, seq=receipt.seq, agency_id=place.agency_id,
                counter_id=place.counter_id, level=receipt.level, recorded_at=now, received_at=now,
                suspected_repeat=False, is_test=False, comment=text))
    times_as_before_0006(old)
    old.dispose()
    kiosk.close()

    upgraded = db.open_database(server_db_url)
    try:
        assert db.schema_version(upgraded) == db.SCHEMA_HEAD
        assert stored_callbacks(upgraded, made.device_id) == {2: True, 5: None}
        with upgraded.connect() as conn:
            questions = conn.execute(select(RECORD.c.question).where(RECORD.c.question == CALLBACK_KEY)).all()
        assert len(questions) == 1
    finally:
        upgraded.dispose()
