"""The public procedure catalog (/thu-tuc) over real HTTP, its search against the kiosk's own, the import's report of
changes (SQLite and PostgreSQL), and a phone-sized Chromium searching without diacritics.

Screenshots for the README: `python -m tests.test_server_public_catalog --screenshots docs/screenshots`.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, func, insert, select

from kiosk.catalog import SAMPLE_CATALOG, Catalog
from kiosk.db import Database
from kiosk.domain.procedure_search import ProcedureIndex
from sync.server import registry
from sync.server.catalog import search as public_catalog
from sync.server.catalog import store as catalog
from sync.server.cli import main as server_cli
from sync.server.db import open_database, utc_now, writing
from sync.server.models import CATALOG
from tests.sync_harness import ServerHandle, start_server

MARRIAGE = "1.000894"  # "Thủ tục đăng ký kết hôn" in the sample catalog
HOSTILE = "2.000777"
FORM_URL = "https://dichvucong.example.gov.vn/mau/to-khai-dang-ky-ket-hon.docx"
SCRIPT = "<script>alert(1)</script>"


def sample_records() -> list[dict[str, Any]]:
    """The sample catalog with a form to download for marriage."""
    records: list[dict[str, Any]] = json.loads(SAMPLE_CATALOG.read_text(encoding="utf-8"))
    for record in records:
        if record["MATTHC"] == MARRIAGE:
            for group in record["THANHPHANHOSO"]:
                for paper in group["GIAYTO"]:
                    if paper["TENMAUDON"]:
                        paper["URL"] = FORM_URL
    return records


def hostile_record() -> dict[str, Any]:
    """A procedure whose text is hostile."""
    # Entities decode to a literal <script> in the name (clean() strips real tags, so exports can only smuggle
    # markup this way); the form's address is a javascript: URL, which must never become a link.
    return {"MATTHC": HOSTILE, "TENTTHC": "Thủ tục thử &lt;script&gt;alert(1)&lt;/script&gt; & «ký»",
                    "LINHVUCTHUCHIEN": [{"MALINHVUC": "x", "TENLINHVUC": "Lĩnh vực <b>đậm</b>"}],
                    "THANHPHANHOSO": [{"TRUONGHOP": "", "GIAYTO": [
                        {"TENGIAYTO": "Đơn &lt;img src=x onerror=alert(2)&gt;", "SOBANCHINH": "1", "SOBANSAO": "2",
                         "TENMAUDON": "Mẫu 01", "URL": "javascript:alert(3)"}]}],
                    "CACHTHUCTHUCHIEN": [{"KENH": "Trực tiếp", "THOIGIAN": [
                        {"THOIGIANGIAIQUYET": "3", "DONVITINH": "Ngày làm việc", "MOTA": "",
                         "PHILEPHI": [{"SOTIEN": "50000", "DONVI": "Đồng", "MOTA": "Lệ phí"}]}]}]}


def store_raw_version(engine: Engine, records: list[dict[str, Any]]) -> None:
    """Store `records` as the next catalog version as they are, as a body written elsewhere would be.

    `kiosk-server catalog import` refuses a name that does not survive its own JSON round trip (a decoded <script>
    would be stripped as a tag on the way back), so a hostile name can only reach the pages from a stored body."""
    body = json.dumps(records, ensure_ascii=False).encode()
    with writing(engine) as conn:
        version = conn.execute(select(func.max(CATALOG.c.version))).scalar_one() or 0
        conn.execute(insert(CATALOG).values(version=version + 1, sha256=hashlib.sha256(body).hexdigest(), body=body,
                                            body_gzip=gzip.compress(body), source="raw", count=len(records),
                                            imported_at=utc_now()))


def write_catalog(path: Path, records: list[dict[str, Any]]) -> Path:
    """The records as a national JSON file."""
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def seed_site(directory: Path) -> str:
    """A SQLite server database holding the catalog and an agency whose counter lists three procedures."""
    url = f"sqlite:///{directory / 'server.db'}"
    engine = open_database(url)
    try:
        catalog.import_file(engine, write_catalog(directory / "catalog.json", sample_records()))
        store_raw_version(engine, [*sample_records(), hostile_record()])
        registry.add_agency(engine, "XA", {"name": "Trung tâm Phục vụ hành chính công xã Hòa Thắng",
                                           "parent": "Tỉnh Đắk Lắk"})
        registry.add_counter(engine, "XA", "Q01", "Quầy 1", ["1.001193", MARRIAGE, "1.000656"])
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A real server over the catalog."""
    directory = tmp_path_factory.mktemp("public-catalog")
    server = start_server(seed_site(directory), directory / "data")
    yield server
    server.stop()


def names(html: str) -> list[str]:
    """The procedure names of a result list, in order, as text."""
    from html import unescape

    return [unescape(n) for n in re.findall(r'<span class="name">([^<]*)</span>', html)]


def get(site: ServerHandle, path: str, **params: str) -> requests.Response:
    """A GET on the running server."""
    return requests.get(site.url + path, params=params, timeout=30)


# ---- search -------------------------------------------------------------------------------------------------

def test_search_without_diacritics_finds_what_with_them_finds(site: ServerHandle) -> None:
    plain, marked = get(site, "/thu-tuc", q="ket hon"), get(site, "/thu-tuc", q="Kết HÔN")
    assert plain.status_code == marked.status_code == 200
    assert names(plain.text) == names(marked.text)
    assert names(plain.text)[0] == "Thủ tục đăng ký kết hôn"
    assert "đăng ký kết hôn" in " ".join(names(plain.text)).lower()
    # Word starts, đ folded to d, and codes, as at the kiosk.
    assert "Thủ tục đăng ký kết hôn" in names(get(site, "/thu-tuc", q="dang ky ket h").text)
    assert names(get(site, "/thu-tuc", q=MARRIAGE).text)[0] == "Thủ tục đăng ký kết hôn"
    assert names(get(site, "/thu-tuc", q="zzzz qqqq").text) == []
    assert "Không tìm thấy thủ tục nào" in get(site, "/thu-tuc", q="zzzz qqqq").text


def test_search_finds_exactly_what_the_kiosk_finds(database: Database) -> None:
    from kiosk.domain.catalog_import import parse_national

    procedures = parse_national([*sample_records(), hostile_record()], "sample")
    kiosk = Catalog(database)
    kiosk.import_procedures(procedures, "sample")
    index = ProcedureIndex(procedures)
    for query in ("ket hon", "kết hôn", "khai sinh", "dang ky", "giay", "h", "chứng thực bản sao", "1.00", "1.000894",
                  "hộ tịch", "nuoc ngoai", "60/2014", "zzz"):
        server = [e.code for e in index.search(query, limit=1000)]
        at_kiosk = [h.code for h in kiosk.search(query, limit=1000)]
        assert server == at_kiosk, query  # the same procedures in the same order (tiers, bm25, then name)
    # Nothing typed: the kiosk shows its field buttons, the page the whole list, by name.
    for blank in ("  ", "\"*(-"):
        assert kiosk.search(blank) == [] and len(index.search(blank, limit=None)) == len(procedures)
    fields = {f.code for f in kiosk.fields()}
    assert {code for code, _, _ in index.fields()} == fields
    one = next(iter(sorted(fields)))
    assert [e.code for e in index.search("dang", one, 1000)] == [h.code for h in kiosk.search("dang", one, 1000)]
    kiosk.close()


def test_on_a_large_generated_catalog_the_first_hits_are_the_kiosk_s_in_order(database: Database) -> None:
    from bench.catalog_search import FIELDS, PREFIXES, generate
    from kiosk.domain.catalog_import import parse_national

    procedures = parse_national(generate(2000), "generated")
    kiosk = Catalog(database)
    kiosk.import_procedures(procedures, "generated")
    index = ProcedureIndex(procedures)
    for query in PREFIXES:
        assert [e.code for e in index.search(query, limit=100)] == [h.code for h in kiosk.search(query, limit=100)]
        assert [e.code for e in index.search(query, FIELDS[0][0], 100)] == \
            [h.code for h in kiosk.search(query, FIELDS[0][0], 100)]
    kiosk.close()


def test_a_field_narrows_the_list_and_pages_keep_the_query(site: ServerHandle) -> None:
    everything = get(site, "/thu-tuc")
    assert "49 thủ tục" not in everything.text and "50 thủ tục" in everything.text
    field = re.search(r'<option value="([^"]+)"[^>]*>Hộ tịch \((\d+)\)', everything.text)
    assert field
    narrowed = get(site, "/thu-tuc", **{"linh-vuc": field.group(1)})
    assert f"{field.group(2)} thủ tục" in narrowed.text
    assert len(names(narrowed.text)) == min(int(field.group(2)), 30)
    assert 'aria-current="page">1<' in everything.text and "trang=2" in everything.text
    assert get(site, "/thu-tuc", trang="²").status_code == 200   # a digit to str.isdigit, not to int(): page 1
    zero = get(site, "/thu-tuc", trang="0")   # once an empty list under "page 0"
    assert names(zero.text) == names(everything.text) and 'aria-current="page">1<' in zero.text
    second = get(site, "/thu-tuc", trang="2")
    assert len(names(second.text)) == 20 and set(names(second.text)).isdisjoint(names(everything.text))


def test_an_agency_lists_the_procedures_its_counters_handle(site: ServerHandle) -> None:
    page = get(site, "/thu-tuc/XA")
    assert page.status_code == 200 and "Trung tâm Phục vụ hành chính công xã Hòa Thắng" in page.text
    assert len(names(page.text)) == 3 and "Thủ tục đăng ký kết hôn" in names(page.text)
    assert names(get(site, "/thu-tuc/XA", q="ket hon").text) == ["Thủ tục đăng ký kết hôn"]


# ---- a procedure's page ---------------------------------------------------------------------------------------

def test_a_procedure_page_shows_documents_forms_steps_fees_and_the_online_link(site: ServerHandle) -> None:
    page = get(site, f"/thu-tuc/p/{MARRIAGE}")
    assert page.status_code == 200
    html = page.text
    engine = open_database(site.db_url)
    try:
        indexed = public_catalog.current_index(engine)
    finally:
        engine.dispose()
    assert indexed is not None
    procedure = indexed.index.get(MARRIAGE)
    assert procedure is not None
    assert f"<h1>{procedure.name}</h1>" in html and MARRIAGE in html and "Hộ tịch" in html
    assert html.count(f'href="{FORM_URL}"') == 2  # beside its document, and in the list of forms
    assert 'id="h-forms"' in html and "Tờ khai đăng ký kết hôn" in html
    first = procedure.documents[0]
    assert f"{first.originals} bản chính" in html
    for step in procedure.steps[:2]:
        assert f"<li>{step.text}</li>" in html.replace("&#39;", "'")
    for channel in ("Trực tiếp", "Trực tuyến", "Bưu chính công ích"):
        assert f"<h3>{channel} <span class=\"en\">" in html
    assert f'href="{procedure.online_url}"' in html
    assert '<svg class="qr" role="img"' in html
    assert procedure.legal_basis[0].number in html
    assert "<script" not in html  # no script on a public page at all


def test_catalog_text_is_escaped_and_only_web_addresses_become_links(site: ServerHandle) -> None:
    html = get(site, f"/thu-tuc/p/{HOSTILE}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT not in html and "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "javascript:" not in html
    assert "Mẫu 01" in html and "1 bản chính" in html and "2 bản sao" in html and "50.000 đồng" in html
    listed = get(site, "/thu-tuc", q="thu script").text
    assert "&lt;script&gt;" in listed and SCRIPT not in listed
    echoed = get(site, "/thu-tuc", q='"><script>alert(9)</script>').text
    assert "<script>alert(9)" not in echoed and "&lt;script&gt;alert(9)" in echoed


def test_the_embeddable_page_may_be_framed_and_the_others_may_not(site: ServerHandle) -> None:
    for path in (f"/thu-tuc/p/{MARRIAGE}", "/thu-tuc"):
        plain, embedded = get(site, path), get(site, path, embed="1")
        assert plain.headers["X-Frame-Options"] == "DENY" and "content-security-policy" not in plain.headers
        assert embedded.headers["Content-Security-Policy"] == "frame-ancestors *"
        assert "X-Frame-Options" not in embedded.headers
        assert "<header" in plain.text and "<footer" in plain.text
        assert "<header" not in embedded.text and "<footer" not in embedded.text
    # Links inside the embedded list stay embedded.
    assert f'href="/thu-tuc/p/{MARRIAGE}?embed=1"' in get(site, "/thu-tuc", q="ket hon", embed="1").text


def test_unknown_codes_and_agencies_get_a_bilingual_404(site: ServerHandle) -> None:
    for path, words in (("/thu-tuc/p/9.999999", ("Không có thủ tục mã «9.999999»", "No procedure with code")),
                        ("/thu-tuc/p/%3Cb%3E", ("Không có thủ tục mã «&lt;b&gt;»", "No procedure")),
                        ("/thu-tuc/KHONGCO", ("Không có cơ quan mã «KHONGCO»", "No agency with code"))):
        page = get(site, path)
        assert page.status_code == 404, path
        assert all(w in page.text for w in words), path
        assert "Không tìm thấy" in page.text and "Not found" in page.text


def test_before_any_import_the_page_says_so(tmp_path: Path) -> None:
    server = start_server(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "data")
    try:
        page = get(server, "/thu-tuc", q="ket hon")
        assert page.status_code == 200 and "Chưa có danh mục thủ tục" in page.text
        assert get(server, f"/thu-tuc/p/{MARRIAGE}").status_code == 404
    finally:
        server.stop()


def test_the_index_is_built_once_per_catalog_version(tmp_path: Path) -> None:
    url = seed_site(tmp_path)
    engine = open_database(url)
    try:
        first = public_catalog.current_index(engine)
        assert first is not None and public_catalog.current_index(engine) is first
        records = sample_records()
        records[0]["TENTTHC"] = "Thủ tục đổi tên để thử"
        catalog.import_file(engine, write_catalog(tmp_path / "v2.json", records))
        second = public_catalog.current_index(engine)
        assert second is not None and second is not first and second.version == first.version + 1
        assert second.index.get(HOSTILE) is None
        assert second.index.search("doi ten de thu")[0].name == "Thủ tục đổi tên để thử"
    finally:
        engine.dispose()


# ---- the import's report of changes ------------------------------------------------------------------------------

def test_an_import_reports_what_changed_since_the_last_one(server_db_url: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    def cli(*args: str) -> int:
        return server_cli(["--db", server_db_url, "--data-dir", str(tmp_path / "data"), *args])

    first = sample_records()
    assert cli("catalog", "import", str(write_catalog(tmp_path / "v1.json", first))) == 0
    said = capsys.readouterr().out
    assert "Lần nhập đầu tiên" in said and "first import" in said
    second = copy.deepcopy(first)
    removed = second.pop(1)
    renamed, refeed, retimed, redoc = second[2], second[3], second[4], second[5]
    renamed["TENTTHC"] += " (sửa)"
    refeed["CACHTHUCTHUCHIEN"][0]["THOIGIAN"][0]["PHILEPHI"] = [{"SOTIEN": "20000", "DONVI": "Đồng", "MOTA": ""}]
    retimed["CACHTHUCTHUCHIEN"][0]["THOIGIAN"][0]["MOTA"] = "Trong 5 ngày làm việc"
    redoc["THANHPHANHOSO"][0]["GIAYTO"].append({"TENGIAYTO": "Giấy tờ mới", "SOBANCHINH": "1"})
    second.append({"MATTHC": "2.000888", "TENTTHC": "Thủ tục mới thêm"})
    second[6]["TRANGTHAI"] = "Đã bãi bỏ"
    second[7]["TRANGTHAI"] = "Đang hoạt động"
    assert cli("catalog", "import", str(write_catalog(tmp_path / "v2.json", second)), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    changes = report["changes"]
    assert report["version"] == 2 and report["new"] is True and changes["previous_version"] == 1
    assert changes["added"] == [{"code": "2.000888", "name": "Thủ tục mới thêm"}]
    assert changes["removed"] == [{"code": removed["MATTHC"], "name": removed["TENTTHC"]}]
    by_code = {c["code"]: c["aspects"] for c in changes["changed"]}
    assert by_code == {renamed["MATTHC"]: ["name"], refeed["MATTHC"]: ["fees"], retimed["MATTHC"]: ["time"],
                       redoc["MATTHC"]: ["documents"]}
    assert changes["expired"] == [{"code": second[6]["MATTHC"], "name": second[6]["TENTTHC"], "status": "Đã bãi bỏ"}]
    # The words, for a person, in both languages.
    second[8]["TENTTHC"] += " (lần hai)"
    assert cli("catalog", "import", str(write_catalog(tmp_path / "v3.json", second))) == 0
    said = capsys.readouterr().out
    assert "So với phiên bản 2: thêm 0, bỏ 0, thay đổi 1 thủ tục" in said and "since version 2" in said
    assert f"~ thay đổi {second[8]['MATTHC']}" in said and ": tên" in said and "changed" in said
    assert "trạng thái hết hiệu lực" in said and "Đã bãi bỏ" in said
    # The same file again stores nothing and reports no changes.
    assert cli("catalog", "import", str(tmp_path / "v3.json"), "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["new"] is False and again["changes"] is None and again["version"] == 3


def test_a_broken_file_is_refused_and_changes_nothing(server_db_url: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    def cli(*args: str) -> int:
        return server_cli(["--db", server_db_url, "--data-dir", str(tmp_path / "data"), *args])

    assert cli("catalog", "import", str(write_catalog(tmp_path / "v1.json", sample_records()))) == 0
    capsys.readouterr()
    bad = tmp_path / "bad.json"
    bad.write_text('[{"MATTHC": "1.001193"}]', encoding="utf-8")
    assert cli("catalog", "import", str(bad), "--json") != 0
    err = capsys.readouterr().err
    assert "Lỗi" in err and "Error" in err
    engine = open_database(server_db_url)
    try:
        assert catalog.current_tag(engine) is not None and catalog.current_tag(engine)[0] == 1  # type: ignore[index]
    finally:
        engine.dispose()


# ---- the kiosk's guide slip: one QR for the forms ----------------------------------------------------------------

def test_the_guide_slip_carries_one_qr_to_the_forms_on_the_server(site: ServerHandle, database: Database) -> None:
    from dataclasses import replace

    from kiosk import slips
    from kiosk.domain.catalog_import import parse_national
    from kiosk.domain.procedures import forms_url
    from tests.test_slips import _qr_matrices, _read_qr

    kiosk = Catalog(database)
    kiosk.import_procedures(parse_national(sample_records(), "sample"), "sample")
    marriage = kiosk.get(MARRIAGE)
    assert marriage is not None and len([d for d in marriage.documents if d.form]) >= 1
    slip = kiosk.guide_slip(marriage, "Trung tâm xã Hòa Thắng", "0262 3 000 000", site.url + "/thu-tuc/")
    assert slip.forms_url == f"{site.url}/thu-tuc/p/{MARRIAGE}"
    # What the QR leads to is the procedure's public page, listing the form to download.
    page = requests.get(slip.forms_url, timeout=30)
    assert page.status_code == 200 and f'href="{FORM_URL}"' in page.text
    for width in (384, 576):
        alone = slips.render(replace(slip, online_url=""), width)
        assert _read_qr(alone) in _qr_matrices(slip.forms_url)
        both, without = slips.render(slip, width), slips.render(replace(slip, forms_url=""), width)
        assert _read_qr(both) in _qr_matrices(slip.forms_url)  # the forms' QR first, the online service's after
        assert _read_qr(without) in _qr_matrices(marriage.online_url)
        assert both.height - without.height >= 0.35 * width  # exactly one more QR, however many forms
    # Without the server's address: the first form's own link; without any form: no QR at all.
    assert kiosk.guide_slip(marriage, "", "").forms_url == FORM_URL == forms_url(marriage)
    birth = kiosk.get("1.001193")
    assert birth is not None and kiosk.guide_slip(birth, "", "").forms_url == ""  # a form name, but no link
    no_forms = next(p for p in parse_national(sample_records(), "s") if not any(d.form for d in p.documents))
    assert forms_url(no_forms, site.url + "/thu-tuc") == ""
    assert _read_qr(slips.render(replace(slip, online_url="", forms_url=""), 384)) is None
    kiosk.close()


def test_a_catalog_url_that_is_not_a_web_address_is_refused(tmp_path: Path) -> None:
    from kiosk.settings import SettingsError, load

    config = tmp_path / "kiosk.toml"
    config.write_text('[contact]\ncatalog_url = "ftp://x/thu-tuc"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load(config)
    assert "contact.catalog_url" in str(refused.value) and "http" in str(refused.value)
    config.write_text('[contact]\ncatalog_url = "https://kiosk.tinh.gov.vn/thu-tuc"\n', encoding="utf-8")
    assert load(config).contact.catalog_url == "https://kiosk.tinh.gov.vn/thu-tuc"


# ---- in a phone's browser ------------------------------------------------------------------------------------

def test_a_phone_searches_ket_hon_without_diacritics(site: ServerHandle) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, chromium_or_skip

    chromium_or_skip()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport=PHONE, locale="vi-VN", java_script_enabled=False)
            tab = context.new_page()
            outside: list[str] = []
            tab.on("request", lambda r: outside.append(r.url) if not r.url.startswith(site.url) else None)
            tab.goto(site.url + "/thu-tuc")
            tab.get_by_label("Tên hoặc mã thủ tục").fill("ket hon")
            tab.get_by_role("button", name="Tìm").click()
            tab.wait_for_load_state()
            assert "q=ket+hon" in tab.url
            first = tab.locator("ol.hits li a").first
            assert first.inner_text() == "Thủ tục đăng ký kết hôn"
            box = first.bounding_box()
            assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
            first.click()
            tab.wait_for_load_state()
            assert tab.locator("h1").inner_text() == "Thủ tục đăng ký kết hôn"
            assert tab.locator(f'a[href="{FORM_URL}"]').count() == 2
            width = tab.locator("body").evaluate("b => b.scrollWidth")
            assert width <= PHONE["width"]
            assert outside == []
            context.close()
        finally:
            chromium.close()


# ---- screenshots for the README ------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Make the README's screenshots of the public catalog: python -m tests.test_server_public_catalog
    --screenshots DIR."""
    import argparse
    import tempfile

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, WIDE

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        server = start_server(seed_site(directory), directory / "data")
        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                for viewport, shots in ((PHONE, (("server-catalog-390x844.png", "/thu-tuc?q=ket+hon"),
                                                 ("server-procedure-390x844.png", f"/thu-tuc/p/{MARRIAGE}"))),
                                        (WIDE, (("server-procedure-1920x1080.png", f"/thu-tuc/p/{MARRIAGE}"),))):
                    context = chromium.new_context(viewport=viewport, locale="vi-VN")
                    tab = context.new_page()
                    for file_name, path in shots:
                        tab.goto(server.url + path)
                        made.append(args.screenshots / file_name)
                        tab.screenshot(path=str(made[-1]))
                    context.close()
                chromium.close()
        finally:
            server.stop()
        # The kiosk's guide slip for the same procedure, with the QR to its forms on the server.
        from kiosk import slips
        from kiosk.db import prepare
        from kiosk.domain.catalog_import import parse_national

        kiosk = Catalog(prepare(directory / "kiosk.db"))
        kiosk.import_procedures(parse_national(sample_records(), "sample"), "sample")
        marriage = kiosk.get(MARRIAGE)
        assert marriage is not None
        slip = kiosk.guide_slip(marriage, "Trung tâm Phục vụ hành chính công xã Hòa Thắng", "0262 3 000 000",
                                "https://kiosk.daklak.gov.vn/thu-tuc")
        made.append(args.screenshots / "slip-guide-forms-576.png")
        slips.render(slip, 576).save(made[-1])
        kiosk.close()
    for path in made:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
