"""Paper questionnaires end to end, on SQLite and PostgreSQL, through a real server over HTTP and the real CLI:
printed and numbered, typed on the entry page (a second entry refused, never-printed numbers refused, the day's
count and who entered what), imported from a spreadsheet (all rows or none), scanned (clear forms counted with the
image kept, unclear ones held until a person decides on the review page), and counted in reports as channel paper.

Each test works in its own agency, so the module's one server serves them all.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import unescape
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import requests
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from bench.paper_images import filled, mark, pdf_pages, photo
from sync.server import registry
from sync.server.admin import accounts
from sync.server.channels import omr, paper_entry
from sync.server.channels import paper_form as geo
from sync.server.channels.store import Answers
from sync.server.cli import main as server_cli
from sync.server.errors import ServerError
from sync.server.models import AGENCY, OMR_READING, PAPER_FORM, RATING, SURVEY_RESPONSE
from sync.server.results import reports
from sync.server.results.figures import ReportQuery
from sync.server.results.periods import Period
from sync.server.secret import ServerSecret
from sync.server.settings import ServerSettings
from tests.sync_harness import ServerHandle

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "mật khẩu phiếu giấy đủ dài"
_codes = itertools.count(1)


@dataclass
class Place:
    """An agency of its own with a counter, forms 1..count printed for the current quarter, and the server."""

    server: ServerHandle
    code: str
    period: Period

    @property
    def engine(self) -> Engine:
        """The server's database."""
        return self.server.engine()

    def cli(self, *args: str) -> int:
        """`kiosk-server` on the server's database and data directory."""
        return server_cli(["--db", self.server.db_url, "--data-dir", str(self.server.data_dir), *args])

    def sheet(self, number: int) -> geo.FormSheet:
        """What form `number` says."""
        return geo.FormSheet(self.code, f"Trung tâm {self.code}", "Quầy 1", self.period, number)


@pytest.fixture(scope="module")
def users(module_server: ServerHandle) -> tuple[str, str]:
    """Two clerks' accounts."""
    for name in ("nhap.lan", "nhap.minh"):
        accounts.add_user(module_server.engine(), name, PASSWORD)
    return "nhap.lan", "nhap.minh"


@pytest.fixture
def place(module_server: ServerHandle, users: tuple[str, str]) -> Iterator[Place]:
    code = f"P{next(_codes)}"
    engine = module_server.engine()
    registry.add_agency(engine, code, {"name": f"Trung tâm {code}"})
    registry.add_counter(engine, code, "Q01", "Quầy 1", [])
    period = Period.of("quarter", datetime.now(UTC).astimezone(VN).date())
    geo.print_forms(engine, agency_code=code, counter_code="Q01", period=period, count=8, printed_by="in.test")
    yield Place(module_server, code, period)


def signed_in(base: str, username: str) -> requests.Session:
    """A browser session signed in as `username`."""
    session = requests.Session()
    page = session.get(base + "/login", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert csrf is not None
    answer = session.post(base + "/login", data={"csrf": unescape(csrf.group(1)), "username": username,
                                                 "password": PASSWORD, "next": "/phieu-giay/nhap"},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    return session


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found is not None
    return unescape(found.group(1))


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def stored(place: Place) -> dict[int, tuple[int, str, str]]:
    """The agency's stored paper forms: number -> (level, source, entered_by)."""
    with place.engine.connect() as conn:
        rows = conn.execute(
            select(SURVEY_RESPONSE.c.form_number, RATING.c.level, SURVEY_RESPONSE.c.source,
                   SURVEY_RESPONSE.c.entered_by)
            .select_from(SURVEY_RESPONSE.join(AGENCY, AGENCY.c.id == SURVEY_RESPONSE.c.agency_id)
                         .join(RATING, RATING.c.uuid == SURVEY_RESPONSE.c.rating_uuid))
            .where(AGENCY.c.code == place.code)).all()
    return {int(r.form_number): (int(r.level), r.source, r.entered_by) for r in rows}


def paper_total(place: Place) -> tuple[int, tuple[int, ...]]:
    """The agency's paper ratings in the quarter and their levels 1..5, as reports count them (from the totals)."""
    report = reports.build(place.engine, ReportQuery(place.period, "channel", place.code), ServerSettings())
    rows = {row.key: row.figures for row in report.rows}
    assert set(rows) <= {"paper"}
    figures = rows.get("paper")
    return (figures.ratings, tuple(figures.levels)) if figures else (0, (0, 0, 0, 0, 0))


# --- printing -----------------------------------------------------------------------------------------------------


def test_print_numbers_forms_from_the_next_free_number_and_records_them(place: Place, tmp_path: Path) -> None:
    out = tmp_path / "forms.pdf"
    assert place.cli("paper", "print", "--agency", place.code, "--counter", "Q01", "--period", "2026-Q4",
                     "--count", "3", "--by", "van.thu", "--out", str(out)) == 0
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type /Page\b", pdf)) == 3
    # The printed pages read back: each its own number, and marks drawn on a page are read.
    pages = pdf_pages(pdf)
    assert [omr.read_page(np.asarray(p.convert("L"))).form_number for p in pages] == [9, 10, 11]
    mark(pages[1], geo.LEVEL_KEY, 2)
    mark(pages[1], "officer", 5, "fill")
    found = omr.read(photo(pages[1], size=(1600, 2000)))
    assert (found.agency_code, found.form_number, found.unclear) == (place.code, 10, ())
    assert found.answers[geo.LEVEL_KEY] == 2 and found.answers["officer"] == 5
    assert place.cli("paper", "print", "--agency", place.code, "--from", "2026-11-01", "--to", "2026-11-15",
                     "--count", "2", "--out", str(tmp_path / "more.pdf")) == 0
    with place.engine.connect() as conn:
        rows = conn.execute(select(PAPER_FORM.c.number, PAPER_FORM.c.counter_id.is_not(None).label("counter"),
                                   PAPER_FORM.c.period_first, PAPER_FORM.c.printed_by)
                            .join(AGENCY, AGENCY.c.id == PAPER_FORM.c.agency_id)
                            .where(AGENCY.c.code == place.code, PAPER_FORM.c.number > 8)
                            .order_by(PAPER_FORM.c.number)).all()
    assert [tuple(r) for r in rows] == [(9, True, date(2026, 10, 1), "van.thu"), (10, True, date(2026, 10, 1),
                                                                                  "van.thu"),
                                        (11, True, date(2026, 10, 1), "van.thu"), (12, False, date(2026, 11, 1), ""),
                                        (13, False, date(2026, 11, 1), "")]


@pytest.mark.parametrize("bad", [["--period", "2026-Q5", "--count", "2"], ["--count", "2"],
                                 ["--period", "2026-Q4", "--count", "0"],
                                 ["--period", "2026-Q4", "--count", "2", "--counter", "NOPE"],
                                 ["--from", "2026-11-01", "--to", "9999-12-31", "--count", "2"]])
def test_a_bad_print_is_refused_and_numbers_nothing(place: Place, tmp_path: Path, bad: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert place.cli("paper", "print", "--agency", place.code, *bad, "--out", str(tmp_path / "x.pdf")) == 2
    assert "Lỗi:" in capsys.readouterr().err and not (tmp_path / "x.pdf").exists()
    with place.engine.connect() as conn:
        assert conn.execute(select(func.max(PAPER_FORM.c.number)).join(AGENCY).where(
            AGENCY.c.code == place.code)).scalar() == 8


def test_a_print_into_a_missing_folder_is_refused_before_numbering(place: Place, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-folder" / "x.pdf"
    assert place.cli("paper", "print", "--agency", place.code, "--period", "2026-Q4", "--count", "2",
                     "--out", str(missing)) == 2
    assert f"there is no folder {missing.parent}" in capsys.readouterr().err
    with place.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PAPER_FORM).join(AGENCY).where(
            AGENCY.c.code == place.code)).scalar() == 8


# --- the entry page -----------------------------------------------------------------------------------------------


def entry(session: requests.Session, place: Place, **fields: str) -> requests.Response:
    page = session.get(f"{place.server.url}/phieu-giay/nhap?agency={place.code}", timeout=10)
    return session.post(place.server.url + "/phieu-giay/nhap", data={"csrf": csrf_of(page.text),
                                                                    "agency": place.code, **fields},
                        allow_redirects=False, timeout=10)


def test_the_entry_page_needs_a_sign_in(place: Place) -> None:
    answer = requests.get(place.server.url + "/phieu-giay/nhap", allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    posted = requests.post(place.server.url + "/phieu-giay/nhap", data={"form_number": "1", "level": "5"},
                           allow_redirects=False, timeout=10)
    assert posted.status_code == 303 and stored(place) == {}


def test_a_typed_form_is_stored_once_with_who_typed_it(place: Place, users: tuple[str, str]) -> None:
    lan, minh = (signed_in(place.server.url, user) for user in users)
    saved = entry(lan, place, form_number="3", level="4", access="5", procedure="0", officer="", result="2",
                  harassment="2", procedure_code="1.001193", comment="Cán bộ nhiệt tình")
    assert saved.status_code == 303 and "saved=3" in saved.headers["location"]
    assert entry(minh, place, form_number="4", level="1", harassment="1").status_code == 303
    assert stored(place) == {3: (4, "entry", users[0]), 4: (1, "entry", users[1])}
    # The same form a second time, by anyone: refused in both languages, what was typed kept, nothing stored.
    again = entry(minh, place, form_number="3", level="2")
    assert again.status_code == 409
    text = text_of(again.text)
    assert "Phiếu số 3 đã được nhập rồi" in text and "form number 3 was entered already" in text
    assert 'value="3"' in again.text and stored(place)[3] == (4, "entry", users[0])
    # The page: this clerk's count today, everyone's, and the latest forms with who entered them.
    page = lan.get(f"{place.server.url}/phieu-giay/nhap?agency={place.code}&saved=3", timeout=10)
    assert re.search(r'data-mine="1" data-all="2"', page.text)
    rows = re.findall(r'<tr data-form="(\d+)"><td class="num">\d+</td><td class="num">(\d)</td>.*?'
                      r'<td class="who">([^<]*)</td>', page.text)
    assert rows == [("4", "1", users[1]), ("3", "4", users[0])]
    assert "Đã ghi phiếu số 3" in text_of(page.text)
    with place.engine.connect() as conn:   # the answers as typed: harassment 2 on paper is "no" (0)
        values = dict(conn.execute(select(RATING.c.procedure_code, RATING.c.level).where(
            RATING.c.level == 4)).all())
    assert values.get("1.001193") == 4
    assert paper_total(place) == (2, (1, 0, 0, 1, 0))


@pytest.mark.parametrize(("fields", "vi", "en"), [
    ({"form_number": "99", "level": "3"}, "chưa từng được in", "never printed"),
    ({"form_number": "5", "level": "7"}, "Mức hài lòng chung (câu 1): gõ một trong 1, 2, 3, 4, 5, nhận được '7'",
     "Overall level (question 1): type one of 1, 2, 3, 4, 5, got '7'"),
    ({"form_number": "5", "level": ""}, "Thiếu mức hài lòng chung", "is missing"),
    ({"form_number": "5", "level": "3", "access": "9"}, "Tiếp cận dịch vụ: gõ một trong 1, 2, 3, 4, 5 (0: bỏ qua)",
     "Access to the service: type one of 1, 2, 3, 4, 5 (0: skip)"),
    ({"form_number": "5", "level": "3", "harassment": "3"}, "gõ một trong 1, 2 (0: bỏ qua)",
     "type one of 1, 2 (0: skip)"),
    ({"form_number": "năm", "level": "3"}, "Số phiếu phải là số nguyên dương", "positive whole number"),
    ({"form_number": "5", "level": "3", "procedure_code": "abc"}, "Mã thủ tục", "procedure code"),
], ids=["never printed", "level 7", "no level", "element 9", "harassment 3", "number in words", "bad procedure"])
def test_a_bad_entry_is_refused_in_both_languages_and_stores_nothing(place: Place, fields: dict[str, str], vi: str,
                                                                     en: str) -> None:
    session = signed_in(place.server.url, "nhap.lan")
    answer = entry(session, place, **fields)
    assert answer.status_code == 400
    text = text_of(answer.text)
    assert vi in text and en in text and stored(place) == {}


def test_an_entry_without_the_session_token_stores_nothing(place: Place) -> None:
    session = signed_in(place.server.url, "nhap.lan")
    answer = session.post(place.server.url + "/phieu-giay/nhap", data={"csrf": "forged", "agency": place.code,
                                                                      "form_number": "2", "level": "5"}, timeout=10)
    assert answer.status_code == 403 and stored(place) == {}


def test_a_form_typed_outside_its_period_counts_on_the_periods_last_or_first_day(place: Place) -> None:
    engine = place.engine
    geo.print_forms(engine, agency_code=place.code, counter_code=None, period=Period.of("quarter", date(2026, 7, 1)),
                    count=1, printed_by="")
    secret = ServerSecret.load_or_create(place.server.data_dir)
    later = datetime(2026, 10, 20, 3, 0, tzinfo=UTC)
    done = paper_entry.enter(engine, secret, agency_code=place.code, form=paper_entry.PaperForm(9, Answers(5)),
                             entered_by="nhap.lan", zone=VN, now=later)
    with engine.connect() as conn:
        moment = conn.execute(select(RATING.c.recorded_at).where(RATING.c.uuid == done.rating_uuid)).scalar_one()
    assert moment.astimezone(VN) == datetime(2026, 9, 30, 12, 0, tzinfo=VN)
    geo.print_forms(engine, agency_code=place.code, counter_code=None, period=Period.of("month", date(2027, 1, 1)),
                    count=1, printed_by="")
    early = paper_entry.enter(engine, secret, agency_code=place.code, form=paper_entry.PaperForm(10, Answers(4)),
                              entered_by="nhap.lan", zone=VN, now=later)
    with engine.connect() as conn:
        moment = conn.execute(select(RATING.c.recorded_at).where(RATING.c.uuid == early.rating_uuid)).scalar_one()
    assert moment.astimezone(VN) == datetime(2027, 1, 1, 12, 0, tzinfo=VN)


# --- spreadsheet import -------------------------------------------------------------------------------------------


def csv_file(path: Path, *rows: str) -> Path:
    path.write_text("form_number,counter,level,access,officer,harassment,procedure_code,comment\n" +
                    "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_an_import_stores_every_row_or_none(place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = ("1,Q01,5,5,4,không,1.001193,Nhanh gọn", "2,,3,,,có,,", "6,Q01,2,1,1,0,,\"=HYPERLINK(\"\"x\"\")\"")
    bad = csv_file(tmp_path / "bad.csv", *good, "7,Q01,4,6,,,,")
    assert place.cli("paper", "import", str(bad), "--agency", place.code, "--by", "nhap.lan") == 2
    err = capsys.readouterr().err
    assert "Dòng 5, cột access" in err and "row 5, column access" in err and stored(place) == {}
    headers_only = csv_file(tmp_path / "empty.csv")
    headers_only.write_text(headers_only.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert place.cli("paper", "import", str(headers_only), "--agency", place.code, "--by", "nhap.lan") == 2
    assert "no form rows under its header row" in capsys.readouterr().err
    twice = csv_file(tmp_path / "twice.csv", *good, "2,,4,,,,,")
    assert place.cli("paper", "import", str(twice), "--agency", place.code, "--by", "nhap.lan") == 2
    assert "row 5, column form_number: form number 2 is already on row 3" in capsys.readouterr().err
    unknown = csv_file(tmp_path / "unknown.csv", *good, "50,,4,,,,,")
    assert place.cli("paper", "import", str(unknown), "--agency", place.code, "--by", "nhap.lan") == 2
    assert "row 5: form number 50 was never printed" in capsys.readouterr().err and stored(place) == {}
    ok = csv_file(tmp_path / "ok.csv", *good)
    assert place.cli("paper", "import", str(ok), "--agency", place.code, "--by", "nhap.lan") == 0
    assert stored(place) == {1: (5, "import", "nhap.lan"), 2: (3, "import", "nhap.lan"), 6: (2, "import", "nhap.lan")}
    # Once entered, a row is refused the second time, and the whole file with it.
    again = csv_file(tmp_path / "again.csv", "8,,4,,,,,", "1,,5,,,,,")
    assert place.cli("paper", "import", str(again), "--agency", place.code, "--by", "nhap.minh") == 2
    assert "row 3: form number 1 was entered already" in capsys.readouterr().err and 8 not in stored(place)
    assert paper_total(place) == (3, (0, 1, 1, 0, 1))
    # The report command's table, grouped by channel, shows them as paper forms.
    assert place.cli("report", "--agency", place.code, "--period", "quarter", "--group-by", "channel") == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("Phiếu giấy"))
    assert line.split()[5:11] == ["3", "1", "0", "1", "1", "0"]   # ratings, then levels 5 … 1


def test_an_import_names_a_wrong_counter_and_unknown_columns(place: Place, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    wrong = csv_file(tmp_path / "wrong.csv", "1,Q09,5,,,,,")
    assert place.cli("paper", "import", str(wrong), "--agency", place.code, "--by", "x") == 2
    assert "row 2: form number 1 was printed for counter Q01, not Q09" in capsys.readouterr().err
    odd = tmp_path / "odd.csv"
    odd.write_text("form_number,level,mood\n1,5,happy\n", encoding="utf-8")
    assert place.cli("paper", "import", str(odd), "--agency", place.code, "--by", "x") == 2
    assert "unknown column 'mood'" in capsys.readouterr().err
    assert place.cli("paper", "import", str(tmp_path / "missing.xlsx"), "--agency", place.code, "--by", "x") == 2
    assert stored(place) == {}


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_spreadsheet_uploaded_on_the_page_is_all_or_nothing(place: Place) -> None:
    session = signed_in(place.server.url, "nhap.minh")
    csrf = csrf_of(session.get(f"{place.server.url}/phieu-giay/nhap?agency={place.code}", timeout=10).text)
    header = ["form_number", "level", "access", "harassment", "comment"]
    bad = xlsx([header, [1, 5, 4, "không", "Tốt"], [2, 6, None, None, None]])

    def upload(data: bytes) -> requests.Response:
        return session.post(place.server.url + "/phieu-giay/tai-len",
                            data={"csrf": csrf, "agency": place.code, "kind": "table"},
                            files={"file": ("phieu.xlsx", data)}, timeout=30)

    refused = upload(bad)
    assert refused.status_code == 400 and "row 3, column level" in text_of(refused.text) and stored(place) == {}
    done = upload(xlsx([header, [1, 5, 4, "không", "Tốt"], [2, 3, None, "có", None]]))
    assert done.status_code == 200 and "2 forms imported" in text_of(done.text)
    assert stored(place) == {1: (5, "import", "nhap.minh"), 2: (3, "import", "nhap.minh")}


# --- scanned forms ------------------------------------------------------------------------------------------------


def test_scans_clear_ones_counted_unclear_ones_held_until_a_person_decides(place: Place) -> None:
    clear = photo(filled(place.sheet(1), {geo.LEVEL_KEY: 5, "access": 4, "harassment": 0}), seed=11)
    doubtful = filled(place.sheet(2), {geo.LEVEL_KEY: 2, "officer": 1})
    mark(doubtful, "result", 4)
    mark(doubtful, "result", 2)   # two boxes: a person must say which
    session = signed_in(place.server.url, "nhap.lan")
    csrf = csrf_of(session.get(f"{place.server.url}/phieu-giay/nhap?agency={place.code}", timeout=10).text)
    answer = session.post(place.server.url + "/phieu-giay/tai-len",
                          data={"csrf": csrf, "agency": place.code, "kind": "scan"},
                          files=[("images", ("a.jpg", clear)), ("images", ("b.jpg", photo(doubtful, seed=12))),
                                 ("images", ("c.jpg", b"not a picture")), ("images", ("d.jpg", clear))], timeout=60)
    assert answer.status_code == 200
    results = dict(re.findall(r'<li class="scan-(\w+)"><strong>(\w\.jpg)</strong>', answer.text)[i][::-1]
                   for i in range(4))
    assert results == {"a.jpg": "stored", "b.jpg": "pending", "c.jpg": "refused", "d.jpg": "refused"}
    assert "form number 1 was entered already" in text_of(answer.text)
    assert "not a readable image" in text_of(answer.text)
    # Only the clear form counts; its image is kept under a name made of its content's hash.
    assert stored(place) == {1: (5, "omr", "nhap.lan")} and paper_total(place) == (1, (0, 0, 0, 0, 1))
    with place.engine.connect() as conn:
        path = conn.execute(select(SURVEY_RESPONSE.c.image_path).where(SURVEY_RESPONSE.c.form_number == 1)
                            .join(AGENCY).where(AGENCY.c.code == place.code)).scalar_one()
        held = conn.execute(select(OMR_READING).join(AGENCY).where(AGENCY.c.code == place.code)).one()
    assert re.fullmatch(r"paper-scans/[0-9a-f]{64}\.jpg", path) and (place.server.data_dir / path).read_bytes() == clear
    assert (held.form_number, held.status, held.unclear) == (2, "pending", '["result"]')
    # Typing the held form instead is refused with the reason, so the scan never lingers unexplained.
    typed = entry(session, place, form_number="2", level="2")
    assert typed.status_code == 409 and "waiting for review" in text_of(typed.text) and 2 not in stored(place)
    # The review page shows the unclear row cut from the scan and asks for it.
    minh = signed_in(place.server.url, "nhap.minh")
    review = minh.get(place.server.url + "/phieu-giay/duyet", timeout=10)
    assert review.status_code == 200 and 'data-key="result"' in review.text
    crop = minh.get(f"{place.server.url}/phieu-giay/duyet/{held.id}/anh?row=result", timeout=30)
    assert crop.status_code == 200 and crop.content.startswith(b"\x89PNG")
    assert requests.get(f"{place.server.url}/phieu-giay/duyet/{held.id}/anh", timeout=10).status_code == 401
    bad = minh.post(f"{place.server.url}/phieu-giay/duyet/{held.id}",
                    data={"csrf": csrf_of(review.text), "result": "8"}, timeout=10)
    assert bad.status_code == 400 and "The result: type one of" in text_of(bad.text) and 2 not in stored(place)
    decided = minh.post(f"{place.server.url}/phieu-giay/duyet/{held.id}",
                        data={"csrf": csrf_of(review.text), "result": "4", "action": "store"},
                        allow_redirects=False, timeout=10)
    assert decided.status_code == 303
    assert stored(place) == {1: (5, "omr", "nhap.lan"), 2: (2, "omr", "nhap.minh")}
    assert paper_total(place) == (2, (0, 1, 0, 0, 1))
    with place.engine.connect() as conn:
        after = conn.execute(select(OMR_READING).where(OMR_READING.c.id == held.id)).one()
    assert (after.status, after.decided_by, after.rating_uuid is not None) == ("stored", "nhap.minh", True)


def test_the_scan_command_stores_holds_and_refuses_per_image(place: Place, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "1.jpg").write_bytes(photo(filled(place.sheet(3), {geo.LEVEL_KEY: 4}), size=(1600, 2000)))
    faint = filled(place.sheet(4), {geo.LEVEL_KEY: 3})
    mark(faint, "access", 2, "faint")
    (tmp_path / "2.jpg").write_bytes(photo(faint))
    (tmp_path / "3.jpg").write_bytes(b"")
    other = geo.FormSheet("XX", "Khác", "", place.period, 5)
    (tmp_path / "4.jpg").write_bytes(photo(filled(other, {geo.LEVEL_KEY: 4})))
    code = place.cli("paper", "scan", *(str(tmp_path / f"{n}.jpg") for n in (1, 2, 3, 4)), "--agency", place.code,
                     "--by", "quet.an")
    out, err = capsys.readouterr()
    assert code == 1
    assert "form number 3 stored" in out and "form number 4 held for review" in out
    assert "unclear: Access to the service" in out
    assert "3.jpg: error: the file is not a readable image" in err
    assert f"this form belongs to agency XX, not {place.code}" in err
    assert stored(place) == {3: (4, "omr", "quet.an")}
    held = [p for p in paper_entry.pending(place.engine, place.code)]
    assert [(p.form_number, p.unclear) for p in held] == [(4, ("access",))]
    # Set aside by a person: never counted.
    paper_entry.reject(place.engine, held[0].id, decided_by="nhap.lan")
    assert paper_entry.pending(place.engine, place.code) == [] and paper_total(place) == (1, (0, 0, 0, 1, 0))
    with pytest.raises(ServerError):
        paper_entry.reject(place.engine, held[0].id, decided_by="nhap.lan")


def test_a_scan_whose_number_is_unreadable_is_decided_with_the_number_typed(place: Place) -> None:
    from PIL import ImageDraw

    page = filled(place.sheet(7), {geo.LEVEL_KEY: 4, "feedback": 5})
    ImageDraw.Draw(page).rectangle((geo.QR_X, geo.QR_Y, geo.QR_X + geo.QR_SIZE, geo.QR_Y + 200), fill="white")
    secret = ServerSecret.load_or_create(place.server.data_dir)
    done = paper_entry.scan(place.engine, secret, place.server.data_dir, agency_code=place.code, data=photo(page),
                            name="x.jpg", entered_by="quet.an", zone=VN)
    assert done.status == "pending" and done.reading.unclear == (geo.FORM_NUMBER_KEY,) and done.reading_id
    with pytest.raises(ServerError):   # a number never printed: refused, still held
        paper_entry.decide(place.engine, secret, done.reading_id, {"form_number": "77"}, decided_by="a", zone=VN)
    paper_entry.decide(place.engine, secret, done.reading_id, {"form_number": "7"}, decided_by="nhap.lan", zone=VN)
    assert stored(place) == {7: (4, "omr", "nhap.lan")}


def test_an_upload_without_the_session_token_or_a_sign_in_stores_nothing(place: Place) -> None:
    image = photo(filled(place.sheet(5), {geo.LEVEL_KEY: 5}), size=(1600, 2000))
    session = signed_in(place.server.url, "nhap.lan")
    forged = session.post(place.server.url + "/phieu-giay/tai-len",
                          data={"csrf": "forged", "agency": place.code, "kind": "scan"},
                          files={"images": ("a.jpg", image)}, timeout=30)
    assert forged.status_code == 403
    anonymous = requests.post(place.server.url + "/phieu-giay/tai-len", data={"agency": place.code, "kind": "scan"},
                              files={"images": ("a.jpg", image)}, allow_redirects=False, timeout=30)
    assert anonymous.status_code == 303 and stored(place) == {} and paper_entry.pending(place.engine, place.code) == []
