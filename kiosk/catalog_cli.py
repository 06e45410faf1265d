"""`kiosk catalog ...`: import, list, search and read the procedure catalog in a terminal, in Vietnamese."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from collections.abc import Iterable

from kiosk.catalog import Catalog, Hit
from kiosk.cli_common import say
from kiosk.domain.errors import BilingualError
from kiosk.domain.procedures import CHANNELS, Document, LegalBasis, Procedure
from kiosk.i18n import document_counts

EXIT_OK, EXIT_NOTHING = 0, 1


def run(catalog: Catalog, args: argparse.Namespace) -> int:
    """Run one `kiosk catalog` action; a BilingualError goes back to the caller (exit 2)."""
    action = args.catalog_command
    if action == "import":
        return _import(catalog, args)
    if action == "show":
        return _show(catalog, args.code)
    if action == "fields":
        fields = catalog.fields()
        for item in fields:
            print(f"{item.code:<20} {item.count:>6}  {item.name}")
        return EXIT_OK if fields else _empty(catalog)
    hits = catalog.list_all(args.field) if action == "list" else catalog.search(args.query, args.field, limit=1000)
    for hit in hits:
        print(_hit_line(hit))
    if hits:
        return EXIT_OK
    if action == "search" and catalog.count():
        say("Không tìm thấy thủ tục nào.", "No procedure found.", sys.stderr)
        return EXIT_NOTHING
    return _empty(catalog)


def _empty(catalog: Catalog) -> int:
    if catalog.version() is None:
        say("Chưa có danh mục thủ tục: hãy chạy «kiosk catalog import TỆP».",
            "No catalog yet: run 'kiosk catalog import FILE'.", sys.stderr)
    else:
        say("Không có thủ tục nào trong lĩnh vực này.", "No procedure in this field.", sys.stderr)
    return EXIT_NOTHING


def _hit_line(hit: Hit) -> str:
    return f"{hit.code:<14} {hit.name}" + (f"  [{hit.field_name}]" if hit.field_name else "")


def _import(catalog: Catalog, args: argparse.Namespace) -> int:
    report = catalog.import_file(args.file, check_only=args.check)
    if args.check:
        print(f"Tệp hợp lệ: {report.count} thủ tục, {report.fields} lĩnh vực; chưa nhập gì.")
        print(f"  The file is valid: {report.count} procedures, {report.fields} fields; nothing imported.")
    else:
        print(f"Đã nhập {report.count} thủ tục, {report.fields} lĩnh vực từ {args.file} "
              f"(phiên bản {report.version_id}, {report.seconds:.2f} giây).")
        print(f"  Imported {report.count} procedures, {report.fields} fields from {args.file} "
              f"(version {report.version_id}, {report.seconds:.2f} s).")
    return EXIT_OK


def _show(catalog: Catalog, code: str) -> int:
    procedure = catalog.get(code)
    if procedure is None:
        raise BilingualError(f"Không có thủ tục mã {code!r} trong danh mục.",
                             f"There is no procedure with code {code!r} in the catalog.")
    print("\n".join(render(procedure, min(shutil.get_terminal_size((100, 24)).columns, 110))))
    return EXIT_OK


def render(procedure: Procedure, width: int = 100) -> list[str]:
    """Every section of a procedure as terminal lines, wrapped to `width`, headed in Vietnamese."""
    lines = [f"{procedure.code}  {procedure.name}", "=" * min(width, len(procedure.code) + 2 + len(procedure.name))]
    facts = (("Lĩnh vực", procedure.field_name + (f" ({procedure.field_code})" if procedure.field_code else "")),
             ("Cấp thực hiện", procedure.level), ("Cơ quan thực hiện", procedure.agency),
             ("Đối tượng thực hiện", procedure.subjects), ("Trạng thái", procedure.status))
    lines += _wrap((f"{label}: {value}" for label, value in facts if value), width, "", "    ")
    sections: list[tuple[str, list[str]]] = [
        ("Cách thức thực hiện, thời hạn, phí và lệ phí", _channels(procedure)),
        ("Trình tự thực hiện", _cased(((s.case, f"{i}. {s.text}") for i, s in enumerate(procedure.steps, 1)))),
        ("Thành phần hồ sơ", _cased((d.case, f"- {_document(d)}") for d in procedure.documents)),
        ("Yêu cầu, điều kiện", procedure.requirements.split("\n") if procedure.requirements else []),
        ("Kết quả thực hiện", [f"- {r}" for r in procedure.results]),
        ("Căn cứ pháp lý", [f"- {_law(law)}" for law in procedure.legal_basis]),
        ("Địa chỉ tiếp nhận hồ sơ", procedure.address.split("\n") if procedure.address else []),
        ("Dịch vụ công trực tuyến", [procedure.online_url] if procedure.online_url else []),
        ("Thông tin khác", [f"{key}: {value}" for key, value in sorted(procedure.extra.items())]),
    ]
    for title, body in sections:
        lines += ["", title.upper()]
        lines += _wrap(body, width, "  ", "    ") if body else ["  (không có)"]
    return lines


def _wrap(paragraphs: Iterable[str], width: int, indent: str, hanging: str) -> list[str]:
    out: list[str] = []
    for paragraph in paragraphs:
        lead = indent + " " * (len(paragraph) - len(paragraph.lstrip(" ")))
        out += textwrap.wrap(paragraph.strip(), width, initial_indent=lead,
                             subsequent_indent=lead + hanging[len(indent):] if hanging else lead,
                             break_long_words=False, break_on_hyphens=False) or [lead]
    return out


def _cased(items: Iterable[tuple[str, str]]) -> list[str]:
    """Items under a heading for each case (trường hợp) when the procedure has several."""
    out, last = [], ""
    for case, line in items:
        if case and case != last:
            out.append(f"{case}:")
            last = case
        out.append(f"  {line}" if last else line)
    return out


def _document(doc: Document) -> str:
    counts = document_counts(doc.originals, doc.copies, "vi")
    if doc.form:
        counts.append(f"mẫu: {doc.form}")
    return doc.name + (f" ({'; '.join(counts)})" if counts else "") + (f" <{doc.form_url}>" if doc.form_url else "")


def _law(law: LegalBasis) -> str:
    issued = ", ".join(x for x in ((f"ban hành {law.issued}" if law.issued else ""), law.issuer) if x)
    return " ".join(x for x in (law.number, law.title) if x) + (f" ({issued})" if issued else "")


def _channels(procedure: Procedure) -> list[str]:
    order = {name: i for i, name in enumerate(CHANNELS)}
    out = []
    for channel in sorted(procedure.channels, key=lambda c: order.get(c.name, len(order))):
        out.append(channel.name or "(kênh không rõ)")
        if channel.time_limit:
            out += [f"  Thời hạn: {line}" for line in channel.time_limit.split("\n")]
        fees = "; ".join(fee.description for fee in channel.fees if fee.description)
        if fees:
            out.append(f"  Phí, lệ phí: {fees}")
    return out
