"""Catalog import: the national JSON and spreadsheets, messy exports cleaned, broken files refused whole."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.catalog import SAMPLE_CATALOG, Catalog, from_json, to_json
from kiosk.db import Database
from kiosk.domain import catalog_text
from kiosk.domain.catalog_import import CatalogError, load_file, parse_csv, parse_national
from kiosk.domain.errors import BilingualError
from kiosk.domain.procedures import Channel, Document, Fee, LegalBasis, Procedure, Step
from kiosk.services import Services
from kiosk.settings import Settings

DATA = Path(__file__).resolve().parent / "data"
BROKEN = DATA / "broken"

BIRTH = Procedure(
    code="1.001193", name="Thủ tục đăng ký khai sinh", field_code="HT", field_name="Hộ tịch", level="Cấp Xã",
    agency="Ủy ban nhân dân cấp xã", subjects="Công dân Việt Nam",
    channels=(
        Channel("Trực tiếp", "Ngay trong ngày tiếp nhận hồ sơ; trường hợp nhận hồ sơ sau 15 giờ mà không giải quyết "
                "được ngay thì trả kết quả trong ngày làm việc tiếp theo", (Fee("Miễn lệ phí", 0, "", "LP01"),)),
        Channel("Trực tuyến", "Ngay trong ngày tiếp nhận hồ sơ", (Fee("Miễn lệ phí", 0, "", "LP01"),)),
        Channel("Bưu chính công ích", "Ngay trong ngày tiếp nhận hồ sơ"),
    ),
    steps=(Step("Người yêu cầu nộp hồ sơ tại Bộ phận Một cửa của Ủy ban nhân dân cấp xã."),
           Step("Công chức tư pháp - hộ tịch kiểm tra hồ sơ, ghi vào Sổ hộ tịch."),
           Step("Chủ tịch Ủy ban nhân dân cấp xã cấp Giấy khai sinh cho người được đăng ký khai sinh.")),
    documents=(Document("Tờ khai đăng ký khai sinh theo mẫu", 1, 0, "Tờ khai đăng ký khai sinh",
                        "https://dichvucong.gov.vn/mau/to-khai-khai-sinh.docx"),
               Document("Giấy chứng sinh", 1, 0)),
    requirements="Không",
    results=("Giấy khai sinh",),
    legal_basis=(LegalBasis("60/2014/QH13", "Luật Hộ tịch", "20/11/2014", "Quốc hội"),
                 LegalBasis("123/2015/NĐ-CP", "Nghị định quy định chi tiết một số điều và biện pháp thi hành Luật "
                            "Hộ tịch", "15/11/2015", "Chính phủ")),
    address="Bộ phận Một cửa, Ủy ban nhân dân cấp xã nơi cư trú của người cha hoặc người mẹ",
    online_url="https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193",
    status="1",
    extra={"MUCDO": "Toàn trình"},
)



@pytest.fixture
def catalog(database: Database) -> Iterator[Catalog]:
    cat = Catalog(database)
    yield cat
    cat.close()


def by_code(procedures: list[Procedure]) -> dict[str, Procedure]:
    return {p.code: p for p in procedures}


def snapshot(catalog: Catalog, path: Path) -> tuple[Any, ...]:
    """Everything a failed import must leave as it was: the version, counts, a procedure, the raw tables."""
    con = sqlite3.connect(path)
    try:
        tables = tuple(con.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall()
                       for name in ("catalog_version", "procedure"))
    finally:
        con.close()
    return (catalog.version(), catalog.count(), catalog.fields(), catalog.get("1.001193"),
            [h.code for h in catalog.search("khai sinh")], tables)


# --- well-formed files --------------------------------------------------------------------------------------


def test_national_json_is_read_field_by_field() -> None:
    procedures = load_file(DATA / "national_good.json")
    assert [p.code for p in procedures] == ["1.001193", "1.000656", "2.000908"]
    birth = procedures[0]
    assert birth == BIRTH
    assert birth.extra == BIRTH.extra
    copy = by_code(procedures)["2.000908"]
    assert copy.channels[0].fees == (
        Fee("Phí chứng thực bản sao từ bản chính: 2.000 đồng/trang", 2000, "trang", "P01"),)
    assert copy.documents[1] == Document("Bản sao cần chứng thực", 0, 1)
    assert copy.legal_basis[0].issued == "16/02/2015"  # ISO dates shown as Vietnamese write them


def test_one_object_and_wrapped_shapes(tmp_path: Path) -> None:
    one = load_file(DATA / "national_one.json")
    assert [(p.code, p.field_code, p.field_name) for p in one] == [("2.000908", "CT", "Chứng thực")]
    record = {"MATTHC": "1.001193", "TENTTHC": "Đăng ký khai sinh"}
    for shape in ({"data": [record]}, {"DATA": [record]}, {"result": [record]}, {"data": record}, [record], record):
        assert [p.code for p in parse_national(shape, "x.json")] == ["1.001193"], shape


def test_csv_with_bom_and_commas() -> None:
    procedures = by_code(load_file(DATA / "catalog_bom.csv"))
    birth = procedures["1.001193"]
    assert (birth.name, birth.field_code, birth.field_name, birth.level) == (
        "Đăng ký khai sinh", "ho-tich", "Hộ tịch", "Cấp Xã")
    assert birth.documents == (Document("Tờ khai đăng ký khai sinh", 1, None),
                               Document("Giấy chứng sinh", 1, 1), Document("Văn bản ủy quyền"))
    assert birth.steps == (Step("Nộp hồ sơ"), Step("Nhận kết quả"))
    assert birth.legal_basis == (LegalBasis("60/2014/QH13", "Luật Hộ tịch"),)
    assert birth.channels == (Channel("Trực tiếp", "Ngay trong ngày tiếp nhận hồ sơ", (Fee("Miễn lệ phí"),)),)
    assert birth.address == "Bộ phận Một cửa, UBND xã"
    assert birth.online_url.endswith("ma_thu_tuc=1.001193")
    assert birth.extra == {"ghi_chu": "Thủ tục liên thông"}
    copy = procedures["2.000908"]
    assert copy.channels[0].fees == (
        Fee("2.000 đồng/trang", 2000, "trang"),
        Fee("Từ trang thứ ba trở lên: 1.000 đồng/trang, tối đa 200.000 đồng/bản"),  # not one amount: words only
    )
    assert copy.documents == (Document("Bản chính", 1, None), Document("Bản sao", None, 1))


def test_csv_with_semicolons_and_vietnamese_headers() -> None:
    procedures = by_code(load_file(DATA / "catalog_semicolon.csv"))
    assert set(procedures) == {"1.000656", "1.012753.H19"}
    death = procedures["1.000656"]
    assert death.channels == (Channel("Trực tiếp", "Ngay trong ngày", (Fee("50000", 50000),)),)
    assert death.documents == (Document("Tờ khai", 1), Document("Giấy báo tử", 1))
    assert death.online_url == "" and death.extra == {"link_dvc": "Đang cập nhật"}
    business = procedures["1.012753.H19"]
    assert business.online_url == "https://www.dichvucong.gov.vn/x"
    assert business.channels[0].fees == (Fee("100.000 đồng", 100000),)


def test_csv_without_bom_reads_the_same(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_bytes((DATA / "catalog_bom.csv").read_bytes().removeprefix(b"\xef\xbb\xbf"))
    assert load_file(plain) == load_file(DATA / "catalog_bom.csv")


def test_file_kind_is_taken_from_the_content_when_the_extension_says_nothing(tmp_path: Path) -> None:
    as_txt = tmp_path / "export.txt"
    as_txt.write_bytes((DATA / "national_one.json").read_bytes())
    assert [p.code for p in load_file(as_txt)] == ["2.000908"]
    csv_txt = tmp_path / "sheet.txt"
    csv_txt.write_bytes((DATA / "catalog_semicolon.csv").read_bytes())
    assert len(load_file(csv_txt)) == 2


# --- messy exports ------------------------------------------------------------------------------------------


def test_messy_national_export_is_cleaned() -> None:
    first, second = load_file(DATA / "national_messy.json")
    assert first.code == "1.012753.H19"  # lower-case key, spaces and a lower-case suffix
    assert first.name == "Đăng ký kinh doanh hộ kinh doanh (thành lập mới)"
    assert (first.field_code, first.field_name) == ("thanh-lap-va-hoat-dong-cua-ho-kinh-doanh",
                                                    "Thành lập và hoạt động của hộ kinh doanh")
    assert first.level == "Cấp Xã" and first.agency == "" and first.subjects == ""
    assert first.status == "1"
    direct, post, online = first.channels
    assert direct == Channel("Trực tiếp", "3 Ngày làm việc", (
        Fee("Lệ phí đăng ký: 100.000 đồng", 100000, "", "LP"), Fee("50.000 đồng/lần", 50000, "lần")))
    assert post == Channel("Bưu chính công ích")
    assert online.name == "Trực tuyến" and online.time_limit == "3 Ngày làm việc"
    assert online.fees == (Fee("Miễn phí"), Fee("Phí cung cấp thông tin: Từ 50.000 đến 100.000 đồng"))
    assert first.steps == (Step("Bước 1: Nộp hồ sơ tại Bộ phận Một cửa.\nBước 2: Nhận kết quả."),)
    assert first.documents == (
        Document("Giấy đề nghị đăng ký hộ kinh doanh & bản sao giấy tờ pháp lý", 1, None, "Mẫu số 01",
                 "https://www.dichvucong.gov.vn/mau-01.docx", "Trường hợp chủ hộ trực tiếp nộp"),
        Document("Biên bản họp thành viên hộ gia đình", None, 1, case="Trường hợp chủ hộ trực tiếp nộp"),
        Document("Văn bản ủy quyền", 1, None, case="Trường hợp ủy quyền"),
    )
    assert first.requirements == "Chủ hộ là cá nhân <đủ 18 tuổi>\nTên hộ kinh doanh không trùng"
    assert first.results == ("Giấy chứng nhận đăng ký hộ kinh doanh",)  # "KQ1" is a code, not a result
    assert first.legal_basis == (LegalBasis("168/2025/NĐ-CP", "Nghị định về đăng ký doanh nghiệp", "30/06/2025"),)
    assert first.online_url.startswith("https://dichvucong.gov.vn/") and first.online
    assert first.extra == {
        "MUCDO": "4",
        "GHICHU": '{"noidung": "Áp dụng từ 01/07/2025", "so": 2}',
        "Nguon": '["CSDL quốc gia", "UBND tỉnh"]',
        "THANHPHANHOSO.Biên bản họp thành viên hộ gia đình.SOBANCHINH": "Một bản",
    }

    assert (second.code, second.name) == ("2.000001", "12345")  # a number where text belongs
    assert second.field_name == "Hộ tịch"
    assert second.channels == (Channel("Trực tiếp", "Trong thời hạn 5 ngày làm việc"),)
    assert second.documents == (Document("Đơn đề nghị"), Document("Bản sao giấy tờ tùy thân"))
    assert second.steps == (Step("Nộp hồ sơ; nhận kết quả"),)
    assert second.results == ("Quyết định",)
    assert second.legal_basis == (LegalBasis("60/2014/QH13", "Luật Hộ tịch"),)
    assert second.requirements == "Điều kiện một\nĐiều kiện hai"
    assert second.online_url == "" and second.extra == {"URL_DVC": "Đang cập nhật"}


@pytest.mark.parametrize(("raw", "expected"), [
    ("<p>Bước 1:&nbsp;Nộp</p><p>Bước 2</p>", "Bước 1: Nộp\nBước 2"),
    ("a<br>b<BR/>c<br />d", "a\nb\nc\nd"),
    ("<ul><li>một</li><li>hai</li></ul>", "một\nhai"),
    ("  nhiều    khoảng\t trắng  ", "nhiều khoảng trắng"),
    ("&lt;b&gt; là chữ, &amp;amp; nữa", "<b> là chữ, &amp; nữa"),
    ("trẻ em <6 tuổi và a < b", "trẻ em <6 tuổi và a < b"),
    ("<!-- ghi chú -->Có<span style='x'>  chữ</span>", "Có chữ"),
    ("dòng 1\r\n\r\n\r\ndòng 2\r", "dòng 1\ndòng 2"),
    ("Nghi\u0323 đi\u0323nh", "Nghị định"),  # decomposed marks become precomposed (NFC)
    ("kh\u200bai\ufeff si\u00adnh", "khai sinh"),
    ("nul\x00 và\x07 chuông", "nul và chuông"),
    (None, ""), (12, "12"), (1.0, "1"), (True, "true"), (["a", None, "b"], "a\nb"), ({"x": "y"}, "y"),
])
def test_clean(raw: Any, expected: str) -> None:
    cleaned = catalog_text.clean(raw)
    assert cleaned == expected
    assert unicodedata.is_normalized("NFC", cleaned)


@pytest.mark.parametrize(("raw", "expected"), [
    ("50.000", (50000, "")), ("50000", (50000, "")), ("50,000", (50000, "")), ("50.000 đồng/bản", (50000, "bản")),
    ("2.000đ/trang", (2000, "trang")), (" 100.000 VNĐ ", (100000, "")), (2000, (2000, "")), (2000.0, (2000, "")),
    ("0", (0, "")), ("Miễn phí", (None, "")), ("Từ 50.000 đến 100.000 đồng", (None, "")), ("1,5", (None, "")),
    ("2.000 đồng/trang, tối đa 200.000 đồng/bản", (None, "")), (None, (None, "")), (12.5, (None, "")),
    (True, (None, "")), ([], (None, "")),
])
def test_amount(raw: Any, expected: tuple[int | None, str]) -> None:
    assert catalog_text.amount(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    (1, 1), ("1", 1), ("01", 1), (" 2 ", 2), (2.0, 2), ("", None), (None, None), ("Một", None), (-1, None),
    (1.5, None), (True, None), ("٣", None),
])
def test_count(raw: Any, expected: int | None) -> None:
    assert catalog_text.count(raw) == expected


def test_odd_but_valid_json_never_crashes() -> None:
    odd = [
        {"MATTHC": "1.000001", "TENTTHC": "Một", "CACHTHUCTHUCHIEN": "Trực tiếp", "THANHPHANHOSO": [1, None, True],
         "TRINHTUTHUCHIEN": [[["sâu"]]], "CANCUPHAPLY": {"SOVANBAN": 5}, "KETQUATHUCHIEN": [{}],
         "LINHVUCTHUCHIEN": {"MALINHVUC": 7}, "COQUANTHUCHIEN": [{"TENDONVI": ["a", "b"]}], "YEUCAU": {"a": [1, 2]}},
        {"MATTHC": "1.000002", "TENTTHC": "Hai", "CACHTHUCTHUCHIEN": [{"KENH": None, "THOIGIAN": "5 ngày"}, 3, None],
         "THANHPHANHOSO": [{"GIAYTO": {"TENGIAYTO": "Đơn", "SOBANCHINH": [1]}}], "DIACHITIEPNHAN": 1e300,
         "URL_DVC": 5, "extra": {"nested": {"deep": [None]}}},
        {"MATTHC": "1.000003", "TENTTHC": "Ba", "CACHTHUCTHUCHIEN": [{"KENH": "4", "THOIGIAN": [
            {"THOIGIANGIAIQUYET": "mười", "DONVITINH": None, "PHILEPHI": [None, "50.000", {"SOTIEN": True}]}]}]},
    ]
    procedures = parse_national(odd, "odd.json")
    assert [p.name for p in procedures] == ["Một", "Hai", "Ba"]
    assert procedures[0].channels == (Channel("Trực tiếp"),)
    assert procedures[0].field_code == "7"
    assert procedures[1].documents == (Document("Đơn", 1),)  # a count in a list is still a count
    assert procedures[2].channels[0].name == "4"  # an unknown channel is kept as written
    assert procedures[2].channels[0].fees == (Fee("50.000", 50000),)
    for procedure in procedures:
        assert from_json(to_json(procedure)) == procedure


# --- importing ----------------------------------------------------------------------------------------------


def test_import_replaces_the_catalog_in_one_step(catalog: Catalog, database: Database) -> None:
    assert catalog.version() is None and catalog.count() == 0 and catalog.fields() == []
    first = catalog.import_file(DATA / "national_good.json")
    assert (first.count, first.fields, first.version_id) == (3, 2, 1)
    assert first.seconds >= 0 and first.source.endswith("national_good.json")
    version = catalog.version()
    assert version is not None and version.id == 1 and version.count == 3 and version.active
    assert version.imported_at.endswith("Z") and version.source.endswith("national_good.json")
    assert [(f.code, f.name, f.count) for f in catalog.fields()] == [("CT", "Chứng thực", 1), ("HT", "Hộ tịch", 2)]

    second = catalog.import_file(DATA / "catalog_bom.csv")
    assert (second.count, second.version_id) == (2, 2)
    assert catalog.count() == 2
    assert catalog.get("1.000656") is None  # only in the old catalog
    assert catalog.get("1.001193") == load_file(DATA / "catalog_bom.csv")[0]
    con = sqlite3.connect(database.path)
    try:
        assert con.execute("SELECT DISTINCT version_id FROM procedure").fetchall() == [(2,)]
        assert con.execute("SELECT id, active FROM catalog_version ORDER BY id").fetchall() == [(1, 0), (2, 1)]
        for index in ("procedure_fts", "procedure_name_fts"):  # the indexes hold the new version, nothing else
            assert con.execute(f"SELECT count(*) FROM {index}").fetchone()[0] == 2
            con.execute(f"INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', 1)")
    finally:
        con.close()


def test_stored_procedures_round_trip_exactly(catalog: Catalog) -> None:
    parsed = load_file(DATA / "national_messy.json")
    catalog.import_procedures(parsed, "messy")
    for procedure in parsed:
        stored = catalog.get(procedure.code)
        assert stored == procedure
        assert stored is not None and stored.extra == procedure.extra
    assert catalog.get(" 1.012753.h19 ") == parsed[0]  # looked up as a code is typed


def test_check_only_writes_nothing(catalog: Catalog, tmp_path: Path) -> None:
    catalog.import_file(DATA / "national_good.json")
    before = snapshot(catalog, tmp_path / "kiosk.db")
    report = catalog.import_file(DATA / "catalog_bom.csv", check_only=True)
    assert (report.count, report.fields, report.version_id) == (2, 2, None)
    assert snapshot(catalog, tmp_path / "kiosk.db") == before
    with pytest.raises(CatalogError):
        catalog.import_file(BROKEN / "bad_code.json", check_only=True)


BROKEN_CASES = [
    # file, the record as the message names it (vi, en), the field
    ("invalid.json", ("dòng 1, cột 56", "line 1, column 56"), None),
    ("record_not_object.json", ("bản ghi số 2", "record #2"), None),
    ("code_is_object.json", ("bản ghi số 1", "record #1"), "MATTHC"),
    ("name_is_list.json", ("thủ tục 1.001193", "procedure 1.001193"), "TENTTHC"),
    ("missing_code.json", ("bản ghi số 2", "record #2"), "MATTHC"),
    ("missing_name.json", ("thủ tục 1.000656", "procedure 1.000656"), "TENTTHC"),
    ("bad_code.json", ("bản ghi số 2", "record #2"), "MATTHC"),
    ("duplicate_code.json", ("thủ tục 1.001193 (bản ghi số 3)", "procedure 1.001193 (record #3)"), "MATTHC"),
    ("data_not_list.json", None, "data"),
    ("top_level_number.json", None, None),
    ("empty_list.json", None, None),
    ("empty.json", None, None),
    ("blank.csv", None, None),
    ("not_utf8.csv", None, None),
    ("duplicate_code.csv", ("thủ tục 1.001193 (dòng 4)", "procedure 1.001193 (row 4)"), "ma_thu_tuc"),
    ("missing_code.csv", ("dòng 3", "row 3"), "ma_thu_tuc"),
    ("missing_name_column.csv", ("dòng tiêu đề", "header row"), "ten_thu_tuc"),
]


@pytest.mark.parametrize(("name", "record", "field"), BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES])
def test_a_broken_file_names_file_record_and_field_and_changes_nothing(
        catalog: Catalog, tmp_path: Path, name: str, record: tuple[str, str] | None, field: str | None) -> None:
    catalog.import_file(DATA / "national_good.json")
    before = snapshot(catalog, tmp_path / "kiosk.db")
    assert before[0].id == 1 and before[1] == 3 and before[3] == BIRTH

    path = BROKEN / name
    with pytest.raises(CatalogError) as info:
        catalog.import_file(path)
    error = info.value
    assert isinstance(error, BilingualError)
    assert error.vi.startswith(f"{path}: ") and error.en.startswith(f"{path}: ")
    if record is not None:
        assert f"{path}: {record[0]}: " in error.vi and f"{path}: {record[1]}: " in error.en
    if field is not None:
        assert f"trường «{field}»" in error.vi and f"field '{field}'" in error.en
        assert error.field == field
    assert snapshot(catalog, tmp_path / "kiosk.db") == before


def test_a_csv_row_the_csv_module_cannot_read(catalog: Catalog, tmp_path: Path) -> None:
    catalog.import_file(DATA / "national_good.json")
    before = snapshot(catalog, tmp_path / "kiosk.db")
    huge = tmp_path / "huge_cell.csv"
    huge.write_text("ma_thu_tuc,ten_thu_tuc\n1.001193,Đăng ký\n1.000656,\"" + "x" * 200_000 + "\"\n", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        catalog.import_file(huge)
    assert info.value.en.startswith(f"{huge}: row 3: cannot read the CSV row")
    assert snapshot(catalog, tmp_path / "kiosk.db") == before


def test_an_unreadable_file(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        catalog.import_file(tmp_path / "no-such-file.json")
    assert str(tmp_path / "no-such-file.json") in info.value.en


class _FailingConnection:
    """A connection that fails on the statement containing `marker`, as a full disk or a crash would."""

    def __init__(self, con: sqlite3.Connection, marker: str) -> None:
        self.con, self.marker = con, marker

    def execute(self, sql: str, *args: Any) -> Any:
        if self.marker in sql:
            raise sqlite3.OperationalError("database or disk is full")
        return self.con.execute(sql, *args)

    def executemany(self, sql: str, rows: Any) -> Any:
        if self.marker in sql:
            raise sqlite3.OperationalError("database or disk is full")
        return self.con.executemany(sql, rows)


@pytest.mark.parametrize("marker", ["INSERT INTO procedure (", "UPDATE catalog_version SET active = 1",
                                    "DELETE FROM procedure", "'rebuild'", "'optimize'"])
def test_a_failure_inside_the_transaction_rolls_everything_back(
        catalog: Catalog, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marker: str) -> None:
    catalog.import_file(DATA / "national_good.json")
    before = snapshot(catalog, tmp_path / "kiosk.db")
    real_writing = database.writing

    def failing_writing() -> Any:
        class Wrapper:
            def __enter__(self) -> _FailingConnection:
                self.inner = real_writing()
                return _FailingConnection(self.inner.__enter__(), marker)

            def __exit__(self, *exc: Any) -> Any:
                return self.inner.__exit__(*exc)

        return Wrapper()

    monkeypatch.setattr(database, "writing", failing_writing)
    with pytest.raises(sqlite3.OperationalError):
        catalog.import_file(DATA / "catalog_bom.csv")
    assert snapshot(catalog, tmp_path / "kiosk.db") == before


def test_import_procedures_refuses_what_a_file_would_be_refused_for(catalog: Catalog) -> None:
    catalog.import_procedures([BIRTH], "first")
    cases = [([], None), ([BIRTH, BIRTH], "code"), ([Procedure("1.001193", "  ")], "name"),
             ([Procedure("TT-1", "Tên")], "code")]
    for procedures, field in cases:
        with pytest.raises(CatalogError) as info:
            catalog.import_procedures(procedures, "api")
        assert info.value.en.startswith("api")
        if field:
            assert info.value.field == field
    assert catalog.get(BIRTH.code) == BIRTH and catalog.count() == 1


def test_the_write_ahead_log_is_given_back_after_an_import(catalog: Catalog, database: Database) -> None:
    catalog.import_file(DATA / "national_good.json")
    wal = database.path.with_name(database.path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


# --- the sample on first start ------------------------------------------------------------------------------


@pytest.mark.skipif(not SAMPLE_CATALOG.is_file(), reason="the sample catalog is not in assets/ yet")
def test_the_bundled_sample_catalog_imports(catalog: Catalog) -> None:
    assert catalog.ensure_sample() is True
    assert catalog.count() > 0 and catalog.fields()
    assert catalog.search("khai sinh")


def test_ensure_sample_imports_only_into_an_empty_catalog(catalog: Catalog, tmp_path: Path) -> None:
    assert catalog.ensure_sample(tmp_path / "missing.json") is False
    assert catalog.ensure_sample(DATA / "national_good.json") is True
    assert catalog.count() == 3
    assert catalog.ensure_sample(DATA / "national_one.json") is False  # a catalog exists: left alone
    assert catalog.count() == 3


def test_services_carry_the_catalog_and_a_broken_sample_does_not_stop_the_kiosk(
        settings: Settings, data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    services = Services.open(settings, data_dir)
    try:
        assert isinstance(services.catalog, Catalog)
        with caplog.at_level(logging.ERROR):
            assert services.ensure_sample_catalog(BROKEN / "bad_code.json") is False
        assert "bad_code.json" in caplog.text
        assert services.catalog.version() is None
        assert services.ensure_sample_catalog(DATA / "national_good.json") is True
        assert services.catalog.count() == 3
    finally:
        services.close()


def test_the_catalog_modules_load_nothing_heavy() -> None:
    """Services.open stays fast: no SQLAlchemy, Pillow or Kivy come with the catalog."""
    code = ("import sys, kiosk.catalog, kiosk.domain.catalog_import, kiosk.catalog_cli; "
            "print(sorted(m for m in ('sqlalchemy', 'alembic', 'PIL', 'kivy', 'qrcode') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- the guide slip -----------------------------------------------------------------------------------------


def test_guide_slip_from_a_procedure(catalog: Catalog) -> None:
    from kiosk.slips import GuideDocument

    slip = catalog.guide_slip(BIRTH, "Trung tâm Phục vụ hành chính công phường Hoàn Kiếm", "1900 1234")
    assert (slip.agency, slip.code, slip.name, slip.hotline) == (
        "Trung tâm Phục vụ hành chính công phường Hoàn Kiếm", "1.001193", BIRTH.name, "1900 1234")
    assert slip.documents == (
        GuideDocument("Tờ khai đăng ký khai sinh theo mẫu", 1, 0, "Tờ khai đăng ký khai sinh"),
        GuideDocument("Giấy chứng sinh", 1, 0))
    assert slip.time_limit == BIRTH.channels[0].time_limit
    assert slip.fees == "Miễn lệ phí"
    assert slip.where == BIRTH.address
    assert slip.channels == ("Trực tiếp", "Trực tuyến", "Bưu chính công ích")
    assert slip.online_url == BIRTH.online_url
    assert slip.online


def test_a_portal_link_without_an_online_channel_is_not_online(catalog: Catalog) -> None:
    in_person = Procedure("2.000815", "Chứng thực bản sao", online_url="https://dichvucong.gov.vn/thu-tuc-hanh-chinh/x",
                          channels=(Channel("Trực tiếp", "Trong ngày"),))
    assert not in_person.online
    assert not catalog.guide_slip(in_person, "Trung tâm", "").online  # the slip's QR says "see the page"
    assert Procedure("1.000001", "Tên", online_url="https://dichvucong.gov.vn/x").online  # channels unknown


def test_guide_slip_without_an_in_person_channel_or_address(catalog: Catalog) -> None:
    procedure = Procedure(
        "1.012753.H19", "Đăng ký hộ kinh doanh", agency="Phòng Kinh tế",
        channels=(Channel("Trực tuyến", "3 ngày làm việc", (Fee("", 100000, "lần"), Fee("Phí khác"))),
                  Channel("Bưu chính công ích", "5 ngày làm việc")),
        documents=(Document("Giấy đề nghị", 1, case="Chủ hộ nộp"), Document("Văn bản ủy quyền", 1, case="Ủy quyền")))
    slip = catalog.guide_slip(procedure, "Trung tâm", "")
    assert slip.time_limit == "3 ngày làm việc"  # no in-person channel: the first one
    assert slip.fees == "100.000 đồng/lần; Phí khác"
    assert slip.where == "Phòng Kinh tế"
    assert slip.channels == ("Trực tuyến", "Bưu chính công ích")
    assert [d.name for d in slip.documents] == ["Chủ hộ nộp: Giấy đề nghị", "Ủy quyền: Văn bản ủy quyền"]
    bare = catalog.guide_slip(Procedure("1.000001", "Tên"), "Trung tâm", "")
    assert (bare.time_limit, bare.fees, bare.where, bare.channels, bare.documents) == ("", "", "Trung tâm", (), ())


def test_csv_parser_directly() -> None:
    text = "ma_thu_tuc;ten_thu_tuc;ket_qua\n1.001193;Đăng ký khai sinh;Giấy khai sinh | Bản sao trích lục\n\n;;\n"
    (procedure,) = parse_csv(text, "inline.csv")
    assert procedure.results == ("Giấy khai sinh", "Bản sao trích lục")


def test_the_example_spreadsheet_in_assets_imports() -> None:
    from kiosk.domain.catalog_import import load_file as load

    example = Path(__file__).resolve().parent.parent / "assets" / "catalog" / "example.csv"
    procedures = load(example)
    assert [p.code for p in procedures] == ["1.001193", "2.000815", "1.001612"]
    assert all(p.documents and p.name for p in procedures)
