"""The web and paper channels attacked from outside, on SQLite and PostgreSQL: two requests at once through a
check-then-act (the same form number typed by two clerks, the same scan uploaded twice, forms printed twice),
oversized or forged files (a CSV with NUL bytes, a spreadsheet of a million rows, an image declaring 50000 × 50000
pixels), scans kept private, and spreadsheets written from citizens' text that never become formulas."""

from __future__ import annotations

import itertools
import stat
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from bench.paper_images import filled, mark, photo
from sync.server import registry
from sync.server.channels import omr, paper_entry
from sync.server.channels import paper_form as geo
from sync.server.channels.store import Answers
from sync.server.db import open_database
from sync.server.errors import ServerError
from sync.server.models import AGENCY, OMR_READING, PAPER_FORM, SURVEY_RESPONSE
from sync.server.results.periods import Period
from sync.server.secret import ServerSecret

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AT_ONCE = 6
T = TypeVar("T")
_codes = itertools.count(1)


@pytest.fixture(scope="module")
def engine(module_db_url: str) -> Iterator[Engine]:
    made = open_database(module_db_url)
    yield made
    made.dispose()


@pytest.fixture
def agency(engine: Engine) -> str:
    """An agency of its own with counter Q01 and forms 1..8 printed for the current quarter."""
    code = f"A{next(_codes)}"
    registry.add_agency(engine, code, {"name": f"Trung tâm {code}"})
    registry.add_counter(engine, code, "Q01", "Quầy 1", [])
    geo.print_forms(engine, agency_code=code, counter_code="Q01", period=_quarter(), count=8, printed_by="in.test")
    return code


def _quarter() -> Period:
    return Period.of("quarter", datetime.now(UTC).astimezone(VN).date())


def at_once(work: Callable[[int], T]) -> tuple[list[T], list[BaseException]]:
    """Run work(0..AT_ONCE-1) in threads released together: what they returned and what they raised."""
    gate = threading.Barrier(AT_ONCE)
    results: list[T] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        gate.wait()
        try:
            results.append(work(index))
        except BaseException as error:   # collected: the test asserts on each kind
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def _responses(engine: Engine, code: str) -> list[int]:
    with engine.connect() as conn:
        return [int(n) for n in conn.execute(select(SURVEY_RESPONSE.c.form_number).join(AGENCY)
                                             .where(AGENCY.c.code == code)).scalars()]


def test_forms_printed_at_once_never_share_a_number(engine: Engine, agency: str) -> None:
    results, errors = at_once(lambda _i: geo.print_forms(engine, agency_code=agency, counter_code=None,
                                                         period=_quarter(), count=5, printed_by="in.test"))
    assert errors == []
    numbers = sorted(n for printed in results for n in printed.numbers)
    assert numbers == list(range(9, 9 + 5 * AT_ONCE))
    with engine.connect() as conn:
        assert conn.execute(select(PAPER_FORM.c.number).join(AGENCY).where(AGENCY.c.code == agency)
                            .order_by(PAPER_FORM.c.number)).scalars().all() == list(range(1, 9 + 5 * AT_ONCE))


def test_one_form_number_typed_by_several_clerks_at_once_is_stored_once(engine: Engine, agency: str,
                                                                          tmp_path: Path) -> None:
    secret = ServerSecret.load_or_create(tmp_path)
    form = paper_entry.PaperForm(3, Answers(4))
    results, errors = at_once(lambda i: paper_entry.enter(engine, secret, agency_code=agency, form=form,
                                                          entered_by=f"clerk{i}", zone=VN))
    assert len(results) == 1 and len(errors) == AT_ONCE - 1
    assert all(isinstance(e, ServerError) and "form number 3 was entered already" in e.en for e in errors), errors
    assert _responses(engine, agency) == [3]


def test_one_scan_uploaded_several_times_at_once_is_held_or_stored_once(engine: Engine, agency: str,
                                                                       tmp_path: Path) -> None:
    secret = ServerSecret.load_or_create(tmp_path)
    sheet = geo.FormSheet(agency, f"Trung tâm {agency}", "Quầy 1", _quarter(), 2)
    doubtful = filled(sheet, {geo.LEVEL_KEY: 2})
    mark(doubtful, "result", 4)
    mark(doubtful, "result", 2)
    unclear = photo(doubtful, size=(1600, 2000), seed=5)
    clear = photo(filled(geo.FormSheet(agency, f"Trung tâm {agency}", "Quầy 1", _quarter(), 4),
                         {geo.LEVEL_KEY: 5}), size=(1600, 2000), seed=6)
    for data, status in ((unclear, "pending"), (clear, "stored")):
        results, errors = at_once(lambda _i, data=data: paper_entry.scan(  # type: ignore[misc]
            engine, secret, tmp_path, agency_code=agency, data=data, name="a.jpg", entered_by="clerk", zone=VN))
        assert [r.status for r in results] == [status] and len(errors) == AT_ONCE - 1
        assert all(isinstance(e, ServerError) for e in errors), errors
    with engine.connect() as conn:
        held = conn.execute(select(OMR_READING.c.form_number).join(AGENCY).where(AGENCY.c.code == agency)).all()
    assert [tuple(h) for h in held] == [(2,)] and _responses(engine, agency) == [4]


# --- forged and oversized files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"form_number,level\n1,5\x00\n", b"form_number;level\n1\x00;5\n"])
def test_a_csv_with_nul_bytes_is_refused_in_both_languages(data: bytes) -> None:
    with pytest.raises(ServerError) as refused:
        paper_entry.read_table("phieu.csv", data)
    assert "NUL" in refused.value.vi and "NUL" in refused.value.en


def test_a_csv_with_a_bom_and_semicolons_is_read() -> None:
    rows = paper_entry.read_table("phieu.csv", "\ufeffform_number;level;comment\r\n1;5;Tốt, nhanh\r\n".encode())
    assert rows == [{"form_number": "1", "level": "5", "comment": "Tốt, nhanh"}]


def _huge_xlsx(rows: int) -> bytes:
    """A real XLSX whose one sheet has `rows` rows of one cell (written by hand: openpyxl would take minutes)."""
    import zipfile

    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData>' + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'
                                                              for r in range(1, rows + 1)) + "</sheetData></worksheet>")
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                      'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                      'ContentType="application/xml"/>'
                      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument'
                      '.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                      '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        book.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                      'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                      'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        book.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                      'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                      'relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        book.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                      'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                      'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                      '</Relationships>')
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def test_a_spreadsheet_of_a_million_rows_is_refused_without_reading_them_all() -> None:
    data = _huge_xlsx(1_000_000)
    assert len(data) < paper_entry.MAX_TABLE_BYTES
    with pytest.raises(ServerError) as refused:
        paper_entry.read_table("phieu.xlsx", data)
    assert f"more than {paper_entry.MAX_ROWS} rows" in refused.value.en


def test_a_zip_bomb_spreadsheet_is_refused() -> None:
    import zipfile

    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/sharedStrings.xml", b"<" + b"a" * (paper_entry.MAX_TABLE_BYTES + 10))
    with pytest.raises(ServerError) as refused:
        paper_entry.read_table("phieu.xlsx", out.getvalue())
    assert "giải nén" in refused.value.vi and "uncompressed" in refused.value.en


def _png_declaring(width: int, height: int) -> bytes:
    """A small PNG file whose header declares width × height grey pixels (rows of zeros, highly compressible)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    rows = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(rows.compress(row) for _ in range(min(height, 64))) + rows.flush()
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(50_000, 50_000), (20_000, 20_000)])
def test_an_image_declaring_too_many_pixels_is_refused_before_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(ServerError) as refused:
        omr.decode(_png_declaring(*size))
    assert "megapixel" in refused.value.en and "triệu điểm ảnh" in refused.value.vi


def test_a_kept_scan_is_private(tmp_path: Path) -> None:
    relative = paper_entry.keep_image(tmp_path / "data", b"scan bytes", "../../etc/x.png")
    kept = tmp_path / "data" / relative
    assert kept.parent == tmp_path / "data" / paper_entry.SCANS_DIR and kept.read_bytes() == b"scan bytes"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700


# --- text that must not become a formula or break a database --------------------------------------------------------


def test_token_links_as_csv_keep_a_formula_like_batch_label_as_text(engine: Engine, agency: str) -> None:
    from sync.server.channels import posters, web_form

    place = web_form.find_place(engine, agency, "Q01")
    assert place is not None
    text = posters.token_csv(place, "https://ykien.example.vn", ["a" * 22], "=HYPERLINK(\"http://x\",\"y\")")
    cells = text.splitlines()[1].split(",", 2)
    assert cells[:2] == [agency, "Q01"] and cells[2].startswith("\"'=HYPERLINK")


@pytest.mark.parametrize("comment", ["tốt\x00", "\x00"])
def test_a_comment_with_a_nul_byte_is_refused_on_both_databases_and_stores_nothing(engine: Engine, agency: str,
                                                                                  comment: str,
                                                                                  tmp_path: Path) -> None:
    from sync.server.channels import store as channel_store

    secret = ServerSecret.load_or_create(tmp_path)
    for attempt in (
        lambda: channel_store.store(engine, secret, agency_code=agency, counter_code="Q01", channel="web",
                                    answers=Answers(5, comment=comment),
                                    meta=channel_store.Meta(source="web")),
        lambda: paper_entry.enter(engine, secret, agency_code=agency, zone=VN, entered_by="clerk",
                                  form=paper_entry.from_digits({"form_number": "5", "level": "4",
                                                                "comment": comment})),
    ):
        with pytest.raises(ServerError) as refused:
            attempt()
        assert "NUL" in refused.value.vi and "NUL" in refused.value.en
    assert _responses(engine, agency) == []
    with engine.connect() as conn:
        assert conn.execute(select(SURVEY_RESPONSE.c.rating_uuid).join(AGENCY)
                            .where(AGENCY.c.code == agency)).first() is None


# --- time at its edges ------------------------------------------------------------------------------------------------


def _channel_counts(engine: Engine, code: str, period: Period) -> dict[str, int]:
    from sync.server.results import reports
    from sync.server.results.figures import ReportQuery
    from sync.server.settings import ServerSettings

    report = reports.build(engine, ReportQuery(period, "channel", code), ServerSettings())
    return {row.key: row.figures.ratings for row in report.rows if row.figures.ratings}


def test_answers_at_the_edges_of_a_local_day_land_in_the_right_period(engine: Engine, tmp_path: Path) -> None:
    """Web answers and paper forms at 00:00:00.000 local on a quarter's first day and at its last millisecond
    count in that quarter, and a millisecond either side does not (Asia/Ho_Chi_Minh, both databases)."""
    from datetime import date, timedelta

    from sync.server.channels import store as channel_store

    secret = ServerSecret.load_or_create(tmp_path)
    code = f"T{next(_codes)}"
    registry.add_agency(engine, code, {"name": f"Trung tâm {code}"})
    q2 = Period.of("quarter", date(2026, 4, 1))
    first = datetime(2026, 4, 1, tzinfo=VN).astimezone(UTC)             # 2026-03-31 17:00:00.000Z
    last = datetime(2026, 7, 1, tzinfo=VN).astimezone(UTC) - timedelta(milliseconds=1)
    geo.print_forms(engine, agency_code=code, counter_code=None, period=q2, count=2, printed_by="in.test")
    for moment in (first - timedelta(milliseconds=1), first, last, last + timedelta(milliseconds=1)):
        channel_store.store(engine, secret, agency_code=code, counter_code=None, channel="web", answers=Answers(4),
                            meta=channel_store.Meta(source="web"), now=moment)
    for number, moment in ((1, first), (2, last)):
        paper_entry.enter(engine, secret, agency_code=code, form=paper_entry.PaperForm(number, Answers(5)),
                          entered_by="clerk", zone=VN, now=moment)
    assert _channel_counts(engine, code, q2) == {"web": 2, "paper": 2}
    assert _channel_counts(engine, code, Period.of("quarter", date(2026, 3, 31))) == {"web": 1}
    assert _channel_counts(engine, code, Period.of("quarter", date(2026, 7, 1))) == {"web": 1}
    assert _channel_counts(engine, code, Period.of("day", date(2026, 4, 1))) == {"web": 1, "paper": 1}
    assert _channel_counts(engine, code, Period.of("day", date(2026, 6, 30))) == {"web": 1, "paper": 1}


@pytest.mark.parametrize(("data", "en"), [
    (b"form_number,level\n" + b"\n" * (25 * paper_entry.MAX_ROWS), "more than 5000 rows"),
    (b"form_number,level\n" + b"1,5\n" * (paper_entry.MAX_ROWS + 1), "more than 5000 rows"),
    (b'form_number,level,comment\n1,5,"' + b"x" * 200_000 + b"\n", "the CSV file is malformed"),
])
def test_a_csv_too_long_or_malformed_is_refused_in_both_languages(data: bytes, en: str) -> None:
    with pytest.raises(ServerError) as refused:
        paper_entry.read_table("phieu.csv", data)
    assert en in refused.value.en and refused.value.vi.startswith("Tệp")


def test_blank_rows_left_in_a_spreadsheet_are_skipped_not_counted() -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["form_number", "level"])
    sheet.append([1, 5])
    sheet.cell(row=paper_entry.MAX_ROWS + 500, column=1, value=" ")   # a stray space far below: blank rows between
    out = BytesIO()
    book.save(out)
    assert paper_entry.read_table("phieu.xlsx", out.getvalue()) == [{"form_number": "1", "level": "5"}]


# --- the web form's rate limit ------------------------------------------------------------------------------------


def test_the_rate_limit_counts_an_ipv6_home_as_one_address(engine: Engine, tmp_path: Path) -> None:
    """A phone or home gets a whole IPv6 /64 and may answer from a new address each time: it is one address to the
    rate limit (and an IPv4-mapped IPv6 address is its IPv4 one); other /64s and IPv4 addresses count apart."""
    from datetime import timedelta

    from sync.server.channels import web_form

    secret = ServerSecret.load_or_create(tmp_path)
    now, keep = datetime(2026, 5, 4, 9, 30, 5, tzinfo=UTC), timedelta(hours=2)
    counts = [web_form.count_address(engine, secret, address, now, keep)
              for address in ("2001:db8:1:2::1", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:3::1",
                              "203.0.113.7", "::ffff:203.0.113.7", "2001:DB8:1:2::ffff")]
    assert counts == [1, 2, 1, 1, 2, 3]
    assert web_form.address_key(secret, "2001:db8:1:2::1") != web_form.address_key(secret, "2001:db8:1:3::1")


def test_one_scan_kept_by_several_writers_at_once_is_one_private_file(tmp_path: Path) -> None:
    data = b"the same scan" * 1000
    results, errors = at_once(lambda _i: paper_entry.keep_image(tmp_path, data, "a.jpg"))
    assert errors == [] and len(set(results)) == 1
    assert [p.name for p in (tmp_path / paper_entry.SCANS_DIR).iterdir()] == [Path(results[0]).name]
    assert (tmp_path / results[0]).read_bytes() == data
