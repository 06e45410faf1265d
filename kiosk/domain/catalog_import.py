"""Reading procedure catalogs: the national database's JSON and a province's or commune's spreadsheet (CSV).

Real exports are messy, so values are cleaned where they can be (kiosk.domain.catalog_text) and kept as text where
they cannot. A record the kiosk cannot use at all (no code, no name, a malformed or repeated code) stops the
whole file with a CatalogError naming the file, the record and the field, so a bad file never half-replaces
a good catalog.

CSV columns (header names; Vietnamese headers such as "Mã thủ tục" are accepted too, extra columns are kept
in Procedure.extra), UTF-8 with or without BOM, separated by "," or ";":

    ma_thu_tuc      procedure code, e.g. 1.001193 or 1.012753.H19 (required)
    ten_thu_tuc     name (required)
    linh_vuc        field name (its code is made from the name: "Hộ tịch" is "ho-tich")
    cap_thuc_hien   level, e.g. "Cấp Xã"
    co_quan         implementing agency
    thoi_han        processing time, in words
    phi_le_phi      fees; one per line or "|"; a plain amount ("50.000 đồng/bản") is also read as a number
    ho_so           dossier documents, one per line or "|", each optionally ending "(1 bản chính, 1 bản sao)"
    trinh_tu        steps, one per line or "|"
    can_cu_phap_ly  legal basis, one document per line or "|", its number first ("60/2014/QH13 Luật Hộ tịch")
    yeu_cau         requirements and conditions
    ket_qua         results, one per line or "|"
    dia_chi         where the dossier is submitted
    link_dvc        the online public service page
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kiosk.domain import catalog_text as text
from kiosk.domain.errors import BilingualError
from kiosk.domain.levels import PROCEDURE_CODE
from kiosk.domain.procedures import CHANNELS, Channel, Document, Fee, LegalBasis, Procedure, Step, fold

_CHANNEL_NUMBERS = {"1": CHANNELS[0], "2": CHANNELS[1], "3": CHANNELS[2]}
_URL_KEYS = ("URL_DVC", "LINKDVC", "URL")
_KNOWN = frozenset({
    "MATTHC", "TENTTHC", "TRANGTHAI", "CAPTHUCHIEN", "LINHVUCTHUCHIEN", "COQUANTHUCHIEN", "DOITUONGTHUCHIEN",
    "CACHTHUCTHUCHIEN", "TRINHTUTHUCHIEN", "THANHPHANHOSO", "KETQUATHUCHIEN", "CANCUPHAPLY", "YEUCAU",
    "DIACHITIEPNHAN", *_URL_KEYS,
})
CSV_COLUMNS = ("ma_thu_tuc", "ten_thu_tuc", "linh_vuc", "cap_thuc_hien", "co_quan", "thoi_han", "phi_le_phi",
               "ho_so", "trinh_tu", "can_cu_phap_ly", "yeu_cau", "ket_qua", "dia_chi", "link_dvc")
_COUNTS = re.compile(r"\(([^()]*\bban\b[^()]*)\)\s*$")
_LEGAL_NUMBER = re.compile(r"^(\S*\d\S*/\S+)\s*[-–:,]?\s*(.*)$")


class CatalogError(BilingualError):
    """A catalog file that cannot be imported, naming the file, the record and the field."""

    def __init__(self, source: str, record: tuple[str, str], field: str, vi: str, en: str) -> None:
        where_vi = f"{source}: {record[0]}" if record[0] else source
        where_en = f"{source}: {record[1]}" if record[1] else source
        field_vi = f"trường «{field}»: " if field else ""
        field_en = f"field '{field}': " if field else ""
        super().__init__(f"{where_vi}: {field_vi}{vi}", f"{where_en}: {field_en}{en}")
        self.source = source
        self.record = record[1]
        self.field = field


def _record(index: int, code: str = "", row: bool = False) -> tuple[str, str]:
    """How a message names a record: its code when it has a usable one, else its position."""
    if code:
        return f"thủ tục {code}", f"procedure {code}"
    return (f"dòng {index}", f"row {index}") if row else (f"bản ghi số {index}", f"record #{index}")


# --- the national database's JSON ---------------------------------------------------------------------------


def parse_national(data: Any, source: str) -> list[Procedure]:
    """Procedures from the national database's JSON: one object, a list, or an object with a "data" list."""
    records = _records(data, source)
    procedures = []
    for index, record in enumerate(records, start=1):
        try:
            procedures.append(_national(record, index, source))
        except RecursionError as exc:  # valid JSON, absurdly nested: refused like any unusable record
            raise CatalogError(source, _record(index), "", "dữ liệu lồng nhau quá sâu",
                               "the data is nested too deeply") from exc
    _check_unique(procedures, source, "MATTHC", row=False)
    return procedures


def _records(data: Any, source: str) -> list[Any]:
    if isinstance(data, dict):
        keys = {str(k).strip().upper(): k for k in data}
        for wrapper in ("DATA", "RESULT"):  # {"data": [...]} from exports, {"result": [...]} from the API
            if wrapper in keys and "MATTHC" not in keys:
                inner = data[keys[wrapper]]
                if isinstance(inner, list):
                    data = inner
                    break
                if isinstance(inner, dict):
                    return [inner]
                kind = _kind(inner)
                raise CatalogError(source, ("", ""), str(keys[wrapper]),
                                   f"cần một danh sách thủ tục, nhận được {kind[0]}",
                                   f"expected a list of procedures, got {kind[1]}")
        else:
            return [data]
    if not isinstance(data, list):
        kind = _kind(data)
        raise CatalogError(source, ("", ""), "", f"cần một thủ tục hoặc danh sách thủ tục, nhận được {kind[0]}",
                           f"expected a procedure or a list of procedures, got {kind[1]}")
    if not data:
        raise CatalogError(source, ("", ""), "", "tệp không có thủ tục nào", "the file holds no procedures")
    return data


def _kind(value: Any) -> tuple[str, str]:
    if value is None:
        return "null", "null"
    if isinstance(value, bool):
        return f"giá trị {value!r}", f"the value {value!r}"
    if isinstance(value, int | float):
        return f"số {value!r}", f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"chuỗi {shown!r}", f"the string {shown!r}"
    if isinstance(value, list):
        return "một danh sách", "a list"
    return "một đối tượng", "an object"


def _national(record: Any, index: int, source: str) -> Procedure:
    if not isinstance(record, dict):
        kind = _kind(record)
        raise CatalogError(source, _record(index), "", f"cần một đối tượng JSON, nhận được {kind[0]}",
                           f"expected a JSON object, got {kind[1]}")
    values = {str(k).strip().upper(): v for k, v in record.items()}
    code = _code(values.get("MATTHC"), index, source, "MATTHC", row=False)
    where = _record(index, code)
    name = values.get("TENTTHC")
    if isinstance(name, dict | list | bool):
        kind = _kind(name)
        raise CatalogError(source, where, "TENTTHC", f"cần tên thủ tục, nhận được {kind[0]}",
                           f"expected the procedure's name, got {kind[1]}")
    name_text = text.one_line(name)
    if not name_text:
        raise CatalogError(source, where, "TENTTHC", "thiếu tên thủ tục", "the procedure has no name")
    field_code, field_name = _first_pair(values.get("LINHVUCTHUCHIEN"), "MALINHVUC", "TENLINHVUC")
    extra = {str(key).strip(): text.stringify(value) for key, value in record.items()
             if str(key).strip().upper() not in _KNOWN and value is not None and value != "" and value != []}
    online_url = ""
    for key in _URL_KEYS:
        raw = text.one_line(values.get(key))
        if raw and not online_url and _url(raw):
            online_url = _url(raw)
        elif raw:
            extra[key] = raw  # not a link (e.g. "Đang cập nhật"): kept as text, no QR code made from it
    documents, odd_counts = _national_documents(values.get("THANHPHANHOSO"))
    extra.update(odd_counts)
    return Procedure(
        code=code,
        name=name_text,
        field_code=field_code or (text.slug(field_name) if field_name else ""),
        field_name=field_name,
        level=_names(values.get("CAPTHUCHIEN"), "TENCAP", "CAPTHUCHIEN"),
        agency=_names(values.get("COQUANTHUCHIEN"), "TENDONVI", "MADONVI"),
        subjects=_names(values.get("DOITUONGTHUCHIEN"), "TENDOITUONG", "MADOITUONG"),
        channels=_national_channels(values.get("CACHTHUCTHUCHIEN")),
        steps=_national_steps(values.get("TRINHTUTHUCHIEN")),
        documents=documents,
        requirements=text.clean(values.get("YEUCAU")),
        results=tuple(_each_name(values.get("KETQUATHUCHIEN"), "TENKETQUA", "MAKETQUA")),
        legal_basis=_national_legal(values.get("CANCUPHAPLY")),
        address=text.clean(values.get("DIACHITIEPNHAN")),
        online_url=online_url,
        status=text.one_line(values.get("TRANGTHAI")),
        extra=extra,
    )


def _code(value: Any, index: int, source: str, field: str, *, row: bool) -> str:
    """The procedure code, checked against the national pattern; the message shows what was found."""
    where = _record(index, row=row)
    if isinstance(value, dict | list | bool):
        kind = _kind(value)
        raise CatalogError(source, where, field, f"cần mã thủ tục, nhận được {kind[0]}",
                           f"expected a procedure code, got {kind[1]}")
    given = text.one_line(value)
    code = given.replace(" ", "").upper()  # "1.012753.h19 " is 1.012753.H19
    if not code:
        raise CatalogError(source, where, field, "thiếu mã thủ tục", "the procedure has no code")
    if not PROCEDURE_CODE.fullmatch(code):
        raise CatalogError(source, where, field,
                           f"mã thủ tục {given!r} không đúng dạng (ví dụ 1.001193 hoặc 1.012753.H19)",
                           f"procedure code {given!r} is malformed (expected e.g. 1.001193 or 1.012753.H19)")
    return code


def _check_unique(procedures: Iterable[Procedure], source: str, field: str, *, row: bool,
                  positions: Mapping[int, int] | None = None) -> None:
    seen: dict[str, int] = {}
    for index, procedure in enumerate(procedures, start=1):
        position = positions[index] if positions else index
        first = seen.setdefault(procedure.code, position)
        if first != position:
            earlier = _record(first, row=row)
            raise CatalogError(source, (f"thủ tục {procedure.code} ({_record(position, row=row)[0]})",
                                        f"procedure {procedure.code} ({_record(position, row=row)[1]})"), field,
                               f"mã thủ tục trùng với {earlier[0]}", f"the code repeats {earlier[1]}")


def _items(value: Any) -> list[Any]:
    """The entries of a list-valued field however it was exported: list, a single object, or null."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _get(item: Any, key: str) -> Any:
    """item[key], also when an export wrote the key in another case or with spaces around it."""
    if not isinstance(item, dict):
        return None
    if key in item:
        return item[key]
    return next((v for k, v in item.items() if str(k).strip().upper() == key), None)


def _each_name(value: Any, key: str, fallback: str) -> Iterator[str]:
    """Each entry's name (a bare string entry is its own name); `fallback` only when it reads as words."""
    for item in _items(value):
        if not isinstance(item, dict):
            name = text.clean(item)
        else:
            name = text.clean(_get(item, key))
            other = text.clean(_get(item, fallback))
            # A code such as "KQ1" or "3" says nothing to a citizen; "Cấp Xã" under the code key does.
            if not name and (" " in other or any(ch.islower() for ch in other)):
                name = other
        if name:
            yield name


def _names(value: Any, key: str, fallback: str) -> str:
    return "; ".join(dict.fromkeys(_each_name(value, key, fallback)))


def _first_pair(value: Any, code_key: str, name_key: str) -> tuple[str, str]:
    for item in _items(value):
        if isinstance(item, dict):
            code, name = text.one_line(_get(item, code_key)), text.one_line(_get(item, name_key))
        else:
            code, name = "", text.one_line(item)
        if code or name:
            return code, name
    return "", ""


def _channel_name(value: Any) -> str:
    name = text.one_line(value)
    if name.lstrip("0") in _CHANNEL_NUMBERS:
        return _CHANNEL_NUMBERS[name.lstrip("0")]
    folded = fold(name)
    for known in CHANNELS:
        if fold(known) in folded:  # "Nộp qua bưu chính công ích" is the post channel
            return known
    return name


def _national_channels(value: Any) -> tuple[Channel, ...]:
    channels: list[Channel] = []
    for item in _items(value):
        if not isinstance(item, dict):
            if text.one_line(item):
                channels.append(Channel(_channel_name(item)))
            continue
        limits: list[str] = []
        fees: list[Fee] = []
        for timing in _items(_get(item, "THOIGIAN")):
            if not isinstance(timing, dict):
                limits.append(text.clean(timing))
                continue
            limits.append(_time_limit(_get(timing, "THOIGIANGIAIQUYET"), _get(timing, "DONVITINH"),
                                      _get(timing, "MOTA")))
            fees.extend(_national_fee(fee) for fee in _items(_get(timing, "PHILEPHI")))
        name = _channel_name(_get(item, "KENH"))  # left blank when missing rather than guessed
        channels.append(Channel(name, "\n".join(dict.fromkeys(x for x in limits if x)),
                                tuple(fee for fee in fees if fee.description or fee.amount is not None)))
    return tuple(channels)


def _time_limit(number: Any, unit: Any, description: Any) -> str:
    """ "15 Ngày làm việc", with the export's own words after it when it has some."""
    count = text.count(number)
    amount = str(count) if count is not None else text.one_line(number)
    base = f"{amount} {text.one_line(unit)}".strip() if amount and amount != "0" else ""
    words = text.clean(description)
    if base and words:
        return words if fold(base) in fold(words) else f"{base} ({words})"
    return base or words


def _national_fee(item: Any) -> Fee:
    if not isinstance(item, dict):
        return Fee(text.clean(item), *text.amount(item))
    raw = _get(item, "SOTIEN")
    number, unit = text.amount(raw)
    unit = unit or text.fee_unit(_get(item, "DONVI"))
    words = text.clean(_get(item, "MOTA"))
    # Without a plain amount ("Miễn phí", "từ 50.000 đến 100.000 đồng") the words are all there is.
    if number is None:
        stated = text.clean(raw) if isinstance(raw, str) else ""  # true, [] or {} say nothing about money
    else:
        stated = text.money(number) + (f"/{unit}" if unit else "")
    # The export's words first; the amount is added only when the words do not already say it.
    said = number is not None and (number == 0 or str(number) in re.sub(r"[.,\s]", "", words))
    if words and stated and not said and fold(stated) not in fold(words):
        description = f"{words}: {stated}"
    else:
        description = words or stated
    return Fee(description, number, unit, text.one_line(_get(item, "MAPHILEPHI")))


def _national_steps(value: Any) -> tuple[Step, ...]:
    steps: list[Step] = []
    for item in _items(value):
        if not isinstance(item, dict):
            steps.extend(Step(line) for line in text.clean(item).split("\n") if line)
            continue
        case = text.clean(_get(item, "TRUONGHOP"))
        inner = _get(item, "TRINHTU")
        for step in _items(inner) if inner is not None else [item]:
            words = text.clean(_get(step, "TENTRINHTU") if isinstance(step, dict) else step)
            if words:
                steps.append(Step(words, case))
    return tuple(steps)


def _national_documents(value: Any) -> tuple[tuple[Document, ...], dict[str, str]]:
    documents: list[Document] = []
    odd: dict[str, str] = {}  # counts that are not numbers ("Một bản"), kept as text
    for group in _items(value):
        if not isinstance(group, dict):
            documents.extend(Document(line) for line in text.clean(group).split("\n") if line)
            continue
        case = text.clean(_get(group, "TRUONGHOP"))
        papers = _get(group, "GIAYTO")
        for paper in _items(papers) if papers is not None else [group]:
            if not isinstance(paper, dict):
                if text.clean(paper):
                    documents.append(Document(text.clean(paper), case=case))
                continue
            form = text.one_line(_get(paper, "TENMAUDON"))
            name = text.clean(_get(paper, "TENGIAYTO")) or form
            if not name:
                continue
            counts = {}
            for key in ("SOBANCHINH", "SOBANSAO"):
                raw = _get(paper, key)
                counts[key] = text.count(raw)
                if counts[key] is None and text.one_line(raw):
                    odd[f"THANHPHANHOSO.{name[:60]}.{key}"] = text.one_line(raw)
            documents.append(Document(name, counts["SOBANCHINH"], counts["SOBANSAO"], form,
                                      _url(text.one_line(_get(paper, "URL"))), case))
    return tuple(documents), odd


def _national_legal(value: Any) -> tuple[LegalBasis, ...]:
    laws: list[LegalBasis] = []
    for item in _items(value):
        if not isinstance(item, dict):
            laws.extend(_legal_line(line) for line in text.clean(item).split("\n") if line)
            continue
        number, title = text.one_line(_get(item, "SOVANBAN")), text.clean(_get(item, "TENVANBAN"))
        if number or title:
            laws.append(LegalBasis(number, title, text.iso_to_vn_date(text.one_line(_get(item, "NGAYBANHANH"))),
                                   text.one_line(_get(item, "COQUANBANHANH"))))
    return tuple(laws)


def _legal_line(line: str) -> LegalBasis:
    match = _LEGAL_NUMBER.match(line)
    return LegalBasis(match[1], match[2]) if match else LegalBasis("", line)


def _url(value: str) -> str:
    """A web address, "https://" added to a bare "www."; "" for anything that is not one."""
    value = value.strip()
    if re.match(r"https?://\S+$", value, re.IGNORECASE):
        return value
    if re.match(r"www\.\S+$", value, re.IGNORECASE):
        return "https://" + value
    return ""


# --- spreadsheets -------------------------------------------------------------------------------------------


def parse_csv(content: str, source: str) -> list[Procedure]:
    """Procedures from a spreadsheet saved as CSV (columns in the module docstring)."""
    content = content.lstrip("\ufeff")
    if not content.strip():
        raise CatalogError(source, ("", ""), "", "tệp rỗng", "the file is empty")
    # Excel writes ";" where the decimal separator is ",", as on Vietnamese Windows: the header tells which.
    header_line = content.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(content.lstrip("\r\n"), newline=""), delimiter=delimiter)
    header = [_column(name) for name in _csv_row(reader, 1, source) or []]
    for required in ("ma_thu_tuc", "ten_thu_tuc"):
        if required not in header:
            raise CatalogError(source, ("dòng tiêu đề", "header row"), required, "thiếu cột này",
                               f"the column is missing (columns: {', '.join(CSV_COLUMNS)})")
    procedures, positions = [], {}
    # Rows are counted as a spreadsheet shows them (the header is row 1), whatever line breaks cells hold.
    number = 1
    while (cells := _csv_row(reader, number + 1, source)) is not None:
        number += 1
        if not any(cell.strip() for cell in cells):
            continue
        row = {name: cell for name, cell in zip(header, cells, strict=False) if name}
        procedures.append(_csv_procedure(row, number, source))
        positions[len(procedures)] = number
    if not procedures:
        raise CatalogError(source, ("", ""), "", "tệp không có thủ tục nào", "the file holds no procedures")
    _check_unique(procedures, source, "ma_thu_tuc", row=True, positions=positions)
    return procedures


def _csv_row(reader: Iterator[list[str]], number: int, source: str) -> list[str] | None:
    """The next row, or None at the end; a row the csv module cannot read is named like any bad record."""
    try:
        return next(reader, None)
    except csv.Error as exc:
        raise CatalogError(source, _record(number, row=True), "", f"không đọc được dòng CSV: {exc}",
                           f"cannot read the CSV row: {exc}") from exc


def _column(name: str) -> str:
    """ "Mã thủ tục", "MA_THU_TUC " and "ma thu tuc" all name the column ma_thu_tuc."""
    return re.sub(r"[^a-z0-9]+", "_", fold(unicodedata.normalize("NFC", name))).strip("_")


def _csv_procedure(row: dict[str, str], line: int, source: str) -> Procedure:
    code = _code(row.get("ma_thu_tuc"), line, source, "ma_thu_tuc", row=True)
    name = text.one_line(row.get("ten_thu_tuc"))
    if not name:
        raise CatalogError(source, _record(line, code), "ten_thu_tuc", "thiếu tên thủ tục",
                           "the procedure has no name")
    field_name = text.one_line(row.get("linh_vuc"))
    cell = {key: text.clean(value) for key, value in row.items()}
    fees = tuple(Fee(words, *text.amount(words)) for words in text.split_items(cell.get("phi_le_phi", "")))
    time_limit = cell.get("thoi_han", "")
    channels = (Channel(CHANNELS[0], time_limit, fees),) if time_limit or fees else ()
    raw_url = text.one_line(row.get("link_dvc"))
    extra = {key: value for key, value in cell.items() if key not in CSV_COLUMNS and value}
    if raw_url and not _url(raw_url):
        extra["link_dvc"] = raw_url
    return Procedure(
        code=code,
        name=name,
        field_code=text.slug(field_name),
        field_name=field_name,
        level=text.one_line(row.get("cap_thuc_hien")),
        agency=text.one_line(row.get("co_quan")),
        channels=channels,
        steps=tuple(Step(item) for item in text.split_items(cell.get("trinh_tu", ""))),
        documents=tuple(_csv_document(item) for item in text.split_items(cell.get("ho_so", ""))),
        requirements=cell.get("yeu_cau", ""),
        results=tuple(text.split_items(cell.get("ket_qua", ""))),
        legal_basis=tuple(_legal_line(item) for item in text.split_items(cell.get("can_cu_phap_ly", ""))),
        address=cell.get("dia_chi", ""),
        online_url=_url(raw_url),
        extra=extra,
    )


def _csv_document(item: str) -> Document:
    """ "Giấy chứng sinh (1 bản chính, 1 bản sao)": the name and the counts, when the end says them."""
    match = _COUNTS.search(fold(item))
    if not match:
        return Document(item)
    inside = match[1]
    originals = re.search(r"(\d+)\s*ban\s*chinh", inside)
    copies = re.search(r"(\d+)\s*ban\s*sao", inside)
    if not (originals or copies):
        return Document(item)
    # fold() keeps length for NFC Vietnamese, so the match's position holds in the original text too.
    name = item[:match.start()].rstrip(" ,;:-") if len(fold(item)) == len(item) else item
    return Document(name or item, int(originals[1]) if originals else None, int(copies[1]) if copies else None)


# --- files --------------------------------------------------------------------------------------------------


def load_file(path: Path) -> list[Procedure]:
    """Procedures from a .json or .csv file (by extension, else by its first character)."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(source, ("", ""), "", f"không đọc được tệp: {exc.strerror or exc}",
                           f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(source, ("", ""), "",
                           f"tệp không phải UTF-8 (byte lạ ở vị trí {exc.start}); hãy lưu lại dạng UTF-8",
                           f"the file is not UTF-8 (bad byte at offset {exc.start}); save it as UTF-8") from exc
    if not content.strip():
        raise CatalogError(source, ("", ""), "", "tệp rỗng", "the file is empty")
    suffix = path.suffix.lower()
    is_json = suffix == ".json" or (suffix != ".csv" and content.lstrip()[:1] in ("{", "["))
    if not is_json:
        return parse_csv(content, source)
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise CatalogError(source, (f"dòng {exc.lineno}, cột {exc.colno}", f"line {exc.lineno}, column {exc.colno}"),
                           "", f"JSON không hợp lệ: {exc.msg}", f"invalid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise CatalogError(source, ("", ""), "", "JSON lồng nhau quá sâu", "JSON nested too deeply") from exc
    return parse_national(data, source)
