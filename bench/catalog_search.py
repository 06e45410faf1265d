"""Catalog import time and search-as-you-type latency on 10,000 procedures, against a bare FTS5 MATCH query.

The catalog is generated from word lists into the national database's JSON shape, written to a file and
imported with Catalog.import_file (parsing, cleaning and the one-transaction switch included). Each typed
prefix is then searched through Catalog.search and as a bare FTS5 query (the same folded prefix terms, ranked
by bm25, first 100 rows) on the same connection, interleaved so cache and CPU drift hit both alike.

Run: .venv/bin/python -m bench.catalog_search [ROUNDS]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import percentile
from kiosk import catalog_query
from kiosk.catalog import Catalog
from kiosk.db import prepare

PROCEDURES = 10_000
LIMIT = 100
PREFIXES = ("d", "da", "dang", "dang k", "dang ky kh", "khai sinh", "chung thuc ban s", "1.00", "ho kinh doanh",
            "giay phep xay", "tro cap", "ket hon co yeu to", "cap lai giay", "Đăng ký thường trú", "nguoi co cong",
            "dat dai", "x", "th", "bao hiem y te", "1.0012")
TARGET_P95_MS = 15.0
TARGET_RATIO = 2.0
TARGET_IMPORT_S = 10.0

ACTIONS = ("Đăng ký", "Cấp", "Cấp lại", "Cấp đổi", "Điều chỉnh", "Gia hạn", "Thu hồi", "Xác nhận", "Chứng thực",
           "Thay đổi", "Công nhận", "Thẩm định", "Phê duyệt", "Giải quyết", "Hỗ trợ", "Chuyển đổi", "Đăng ký lại",
           "Xóa đăng ký", "Cho phép", "Thông báo", "Trợ cấp", "Đính chính")
OBJECTS = ("khai sinh", "khai tử", "kết hôn", "giám hộ", "nhận cha, mẹ, con", "hộ kinh doanh", "giấy phép xây dựng",
           "quyền sử dụng đất", "bản sao từ bản chính", "chữ ký trong các giấy tờ, văn bản", "hợp đồng, giao dịch",
           "thường trú", "tạm trú", "hộ nghèo, hộ cận nghèo", "trợ cấp xã hội hằng tháng",
           "người có công với cách mạng", "thay đổi, cải chính hộ tịch", "biển số nhà", "tổ hợp tác", "hợp tác xã",
           "lễ hội truyền thống", "cơ sở giáo dục mầm non", "nhà văn hóa thôn", "giống cây trồng",
           "an toàn thực phẩm", "kế hoạch bảo vệ môi trường", "khai thác nước dưới đất", "di tích lịch sử",
           "biển hiệu quảng cáo", "kinh doanh dịch vụ karaoke", "thư viện cộng đồng", "đối tượng bảo trợ xã hội",
           "trẻ em có hoàn cảnh đặc biệt", "người cao tuổi", "người khuyết tật", "mai táng phí", "bảo hiểm y tế",
           "nhà ở riêng lẻ", "công trình tín ngưỡng", "vệ sinh thú y", "tàu cá", "chăn nuôi trang trại",
           "đất nông nghiệp", "lao động nước ngoài", "học bổng chính sách", "hồ sơ địa chính", "tình trạng hôn nhân",
           "quốc tịch", "con nuôi", "dân quân tự vệ")
QUALIFIERS = ("", "", "", "có yếu tố nước ngoài", "lưu động", "trong trường hợp bị mất, hư hỏng", "theo yêu cầu",
              "tại Ủy ban nhân dân cấp xã", "đối với cá nhân", "đối với tổ chức", "kết hợp",
              "trên môi trường điện tử", "cho người đang cư trú ở nước ngoài", "lần đầu")
FIELDS = (("HT", "Hộ tịch"), ("CTH", "Chứng thực"), ("DD", "Đất đai"), ("XD", "Xây dựng"),
          ("HKD", "Thành lập và hoạt động của hộ kinh doanh"), ("BTXH", "Bảo trợ xã hội"), ("NCC", "Người có công"),
          ("GDDT", "Giáo dục và Đào tạo"), ("VH", "Văn hóa cơ sở"), ("MT", "Môi trường"), ("NN", "Nông nghiệp"),
          ("YT", "Y tế"), ("CTR", "Cư trú"), ("LD", "Lao động"), ("TN", "Tài nguyên nước"), ("TG", "Tôn giáo"))
DOCUMENTS = ("Tờ khai theo mẫu", "Bản sao giấy tờ tùy thân", "Giấy chứng sinh", "Văn bản ủy quyền",
             "Đơn đề nghị theo mẫu", "Giấy chứng nhận đăng ký hộ kinh doanh", "Bản sao hợp đồng",
             "Sơ đồ vị trí thửa đất", "Biên bản xác minh", "Giấy xác nhận tình trạng hôn nhân", "Bản vẽ thiết kế",
             "Giấy tờ chứng minh nơi cư trú", "Ảnh chân dung 4x6", "Hộ chiếu hoặc giấy tờ có giá trị thay hộ chiếu",
             "Giấy báo tử", "Quyết định của cơ quan có thẩm quyền", "Bản kê khai tài sản", "Giấy khám sức khỏe")
STEPS = ("Tổ chức, cá nhân chuẩn bị hồ sơ theo quy định và nộp tại Bộ phận Một cửa hoặc qua Cổng Dịch vụ công.",
         "Công chức tiếp nhận kiểm tra tính đầy đủ, hợp lệ của hồ sơ; nếu chưa đầy đủ thì hướng dẫn bổ sung một lần.",
         "Cơ quan có thẩm quyền thẩm định hồ sơ, xác minh khi cần thiết và trình người có thẩm quyền quyết định.",
         "Trả kết quả tại Bộ phận Một cửa hoặc qua dịch vụ bưu chính công ích theo yêu cầu.")
LAWS = (("60/2014/QH13", "Luật Hộ tịch"), ("123/2015/NĐ-CP", "Nghị định quy định chi tiết Luật Hộ tịch"),
        ("23/2015/NĐ-CP", "Nghị định về cấp bản sao từ sổ gốc, chứng thực"), ("31/2024/QH15", "Luật Đất đai"),
        ("118/2025/NĐ-CP", "Nghị định về thực hiện thủ tục hành chính theo cơ chế một cửa"))


def generate(count: int, seed: int = 2025) -> list[dict[str, Any]]:
    """`count` procedures in the national database's JSON shape, names unique, reproducible."""
    rng = random.Random(seed)
    names: set[str] = set()
    records = []
    while len(records) < count:
        name = " ".join(x for x in (rng.choice(ACTIONS), rng.choice(OBJECTS), rng.choice(QUALIFIERS)) if x)
        if name in names:
            name = f"{name} (thủ tục {len(records) + 1})"
        names.add(name)
        number = len(records) + 1
        code = f"{rng.choice((1, 1, 1, 2, 3))}.{number:06d}" + (".H19" if number % 17 == 0 else "")
        field_code, field_name = rng.choice(FIELDS)
        law = rng.choice(LAWS)
        records.append({
            "MATTHC": code, "TENTTHC": f"Thủ tục {name[0].lower()}{name[1:]}", "TRANGTHAI": "1",
            "CAPTHUCHIEN": [{"CAPTHUCHIEN": "3", "TENCAP": "Cấp Xã"}],
            "LINHVUCTHUCHIEN": [{"MALINHVUC": field_code, "TENLINHVUC": field_name}],
            "COQUANTHUCHIEN": [{"MADONVI": "UBNDX", "TENDONVI": "Ủy ban nhân dân cấp xã"}],
            "CACHTHUCTHUCHIEN": [{"KENH": kenh, "THOIGIAN": [{
                "THOIGIANGIAIQUYET": str(rng.choice((1, 3, 5, 10, 15))), "DONVITINH": "Ngày làm việc",
                "MOTA": "kể từ ngày nhận đủ hồ sơ hợp lệ",
                "PHILEPHI": [{"MAPHILEPHI": "LP", "SOTIEN": rng.choice(("0", "50.000", "Miễn phí")), "DONVI": "Đồng",
                              "MOTA": "Lệ phí"}]}]} for kenh in ("1", "2")],
            "TRINHTUTHUCHIEN": [{"TRUONGHOP": "", "TRINHTU": [{"TENTRINHTU": f"<p>Bước {i + 1}: {s}</p>"}
                                                               for i, s in enumerate(STEPS)]}],
            "THANHPHANHOSO": [{"TRUONGHOP": "", "GIAYTO": [
                {"MAGIAYTO": f"GT{k}", "TENGIAYTO": doc, "SOBANCHINH": "1", "SOBANSAO": rng.choice(("0", "1", "")),
                 "TENMAUDON": "", "URL": ""} for k, doc in enumerate(rng.sample(DOCUMENTS, rng.randint(2, 6)))]}],
            "KETQUATHUCHIEN": [{"MAKETQUA": "KQ", "TENKETQUA": f"Giấy xác nhận {rng.choice(OBJECTS)}"}],
            "CANCUPHAPLY": [{"SOVANBAN": law[0], "TENVANBAN": law[1], "NGAYBANHANH": "2014-11-20",
                             "COQUANBANHANH": "Quốc hội"}],
            "YEUCAU": "Người yêu cầu phải xuất trình giấy tờ tùy thân; hồ sơ đầy đủ, hợp lệ theo quy định.",
            "DIACHITIEPNHAN": "Bộ phận Một cửa, Trung tâm Phục vụ hành chính công xã",
            "URL_DVC": f"https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc={code}",
        })
    return records


def bare_search(con: Any, query: str) -> list[Any]:
    """The bare FTS5 query for what is typed: every folded term as a quoted prefix, bm25 order, 100 rows."""
    expression = catalog_query.expression(catalog_query.terms(query), prefix=True)
    return con.execute("SELECT rowid FROM procedure_fts WHERE procedure_fts MATCH ? ORDER BY rank LIMIT ?",
                       (expression, LIMIT)).fetchall()


def main() -> int:
    """Generate, import, then time both searches over every prefix, and print the figures."""
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        source = base / "catalog.json"
        source.write_text(json.dumps({"data": generate(PROCEDURES)}, ensure_ascii=False), encoding="utf-8")
        database = prepare(base / "kiosk.db")
        catalog = Catalog(database)
        report = catalog.import_file(source)
        db_mb = (base / "kiosk.db").stat().st_size / 1e6
        catalog.search("warm up")
        kiosk: dict[str, list[float]] = {q: [] for q in PREFIXES}
        bare: dict[str, list[float]] = {q: [] for q in PREFIXES}
        narrowed: list[float] = []  # the same prefixes within one field, as after tapping a field button
        for _ in range(rounds):
            for query in PREFIXES:
                start = time.perf_counter()
                catalog.search(query, limit=LIMIT)
                kiosk[query].append(time.perf_counter() - start)
                start = time.perf_counter()
                catalog.search(query, field_code=FIELDS[0][0], limit=LIMIT)
                narrowed.append(time.perf_counter() - start)
                with catalog._reading() as con:  # the same connection, inside the same kind of read transaction
                    start = time.perf_counter()
                    bare_search(con, query)
                    bare[query].append(time.perf_counter() - start)
        hits = {q: len(catalog.search(q, limit=LIMIT)) for q in PREFIXES}
        catalog.close()
        database.close()
    print(f"catalog of {report.count} procedures, {report.fields} fields: source {source.name} "
          f"{len(json.dumps(generate(10), ensure_ascii=False)) // 10} B/procedure, database {db_mb:.1f} MB")
    print(f"  import (parse, clean, one transaction, index): {report.seconds:.2f} s  "
          f"(target < {TARGET_IMPORT_S:.0f} s)")
    print(f"search latency over {rounds} rounds of {len(PREFIXES)} typed prefixes, milliseconds, first {LIMIT} hits")
    print(f"  {'typed':<22}{'hits':>5}{'kiosk p50':>11}{'p95':>8}{'bare p50':>10}{'p95':>8}")
    for query in PREFIXES:
        print(f"  {query:<22}{hits[query]:>5}{percentile(kiosk[query], 50) * 1000:>11.3f}"
              f"{percentile(kiosk[query], 95) * 1000:>8.3f}{percentile(bare[query], 50) * 1000:>10.3f}"
              f"{percentile(bare[query], 95) * 1000:>8.3f}")
    all_kiosk = [s for q in PREFIXES for s in kiosk[q]]
    all_bare = [s for q in PREFIXES for s in bare[q]]
    p50, p95 = percentile(all_kiosk, 50) * 1000, percentile(all_kiosk, 95) * 1000
    b50, b95 = percentile(all_bare, 50) * 1000, percentile(all_bare, 95) * 1000
    print(f"  {'all':<27}{p50:>11.3f}{p95:>8.3f}{b50:>10.3f}{b95:>8.3f}   "
          f"mean kiosk {statistics.fmean(all_kiosk) * 1000:.3f}")
    print(f"  {'all, within one field':<27}{percentile(narrowed, 50) * 1000:>11.3f}"
          f"{percentile(narrowed, 95) * 1000:>8.3f}")
    print(f"  ratio kiosk/bare: p50 {p50 / b50:.2f}x  p95 {p95 / b95:.2f}x  "
          f"(target p95 < {TARGET_P95_MS:.0f} ms and <= {TARGET_RATIO:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
