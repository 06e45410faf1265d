"""Paper questionnaires into the results: typed by a clerk (the entry page), imported from a spreadsheet (all rows or
none), or scanned (OMR: clear forms stored, forms with an unclear mark held in `omr_reading` until a person
decides). Every way stores through channels.store with the form's printed number, so a form counts once.

Rules kept here:
- Only a number printed by `paper print` for the agency is taken (a typo naming no printed form is refused, not
  merely warned about: forms are always printed numbered, so an unknown number is always a mistake).
- A form's counter is the one it was printed for (`paper_form.counter_id`); forms printed without one go to the
  agency's no-counter row.
- An answer counts on the day it is entered while its period runs; a form entered after its period ended counts
  on the period's last day (noon, report time zone), so late typing never moves answers into the next quarter
  (and one entered before its period began, on its first day).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from kiosk.domain.levels import COMMENT_MAX_CHARS, PROCEDURE_CODE, QUESTION_KEYS, SCALE_KEYS, YESNO_KEYS
from sync.server import registry
from sync.server.channels import omr
from sync.server.channels import paper_form as geo
from sync.server.channels.store import Answers, FormConflict, Meta, Stored, store_in
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import AGENCY, COUNTER, OMR_READING, PAPER_FORM, SURVEY_RESPONSE
from sync.server.secret import ServerSecret

SCANS_DIR = "paper-scans"
COLUMNS = ("form_number", "counter", geo.LEVEL_KEY, *QUESTION_KEYS, "procedure_code", "comment")
REQUIRED_COLUMNS = ("form_number", geo.LEVEL_KEY)
MAX_ROWS = 5000
MAX_TABLE_BYTES = 64 * 1024 * 1024   # an .xlsx file's parts once inflated; 5000 rows of long comments need ~10 MB
_YES = {"1": 1, "có": 1, "co": 1, "yes": 1, "y": 1}
_NO = {"0": 0, "2": 0, "không": 0, "khong": 0, "no": 0, "n": 0}


@dataclass(frozen=True)
class PaperForm:
    """One typed, imported or decided form: its printed number and the citizen's answers."""

    number: int
    answers: Answers
    counter_code: str | None = None   # as written on a spreadsheet row; None: the counter it was printed for


def _form_number(text: str) -> int:
    cleaned = text.strip()
    if not cleaned.isdigit() or not 0 < int(cleaned) < 10**9:
        raise ServerError(f"Số phiếu phải là số nguyên dương, nhận được {text[:20]!r}",
                          f"the form number must be a positive whole number, got {text[:20]!r}")
    return int(cleaned)


def _digit(key: str, text: str, allowed: Sequence[int], skip: bool = False) -> int:
    if not text.isdigit() or int(text) not in allowed:
        shown = ", ".join(str(a) for a in allowed)
        vi, en = geo.titles().get(key, (key, key))
        raise ServerError(f"{vi}: gõ một trong {shown}{' (0: bỏ qua)' if skip else ''}, nhận được {text[:20]!r}",
                          f"{en}: type one of {shown}{' (0: skip)' if skip else ''}, got {text[:20]!r}")
    return int(text)


def from_digits(fields: Mapping[str, str]) -> PaperForm:
    """A form from the entry page's fields: the form number, the level digit, one digit per element (0 or empty:
    not answered), harassment 1 (yes) or 2 (no), an optional procedure code and comment; bilingual errors."""
    number = _form_number(fields.get("form_number", ""))
    level_text = fields.get(geo.LEVEL_KEY, "").strip()
    if not level_text:
        raise ServerError("Thiếu mức hài lòng chung (câu 1)", "the overall level (question 1) is missing")
    level = _digit(geo.LEVEL_KEY, level_text, (1, 2, 3, 4, 5))
    values: dict[str, int] = {}
    for key in SCALE_KEYS:
        text = fields.get(key, "").strip()
        if text and text != "0":
            values[key] = _digit(key, text, (1, 2, 3, 4, 5), skip=True)
    for key in YESNO_KEYS:
        text = fields.get(key, "").strip()
        if text and text != "0":
            values[key] = geo.HARASSMENT_DIGITS[_digit(key, text, tuple(geo.HARASSMENT_DIGITS), skip=True)]
    procedure = fields.get("procedure_code", "").strip() or None
    comment = fields.get("comment", "").strip() or None
    answers = Answers(level, values, comment, procedure)
    _check_answers(answers)
    return PaperForm(number, answers)


def _check_answers(answers: Answers) -> None:
    problem = answers.problem()
    if problem is not None:
        raise ServerError(problem[0][:1].upper() + problem[0][1:], problem[1][:1].upper() + problem[1][1:])


def _period_moment(first: date, last: date, now: datetime, zone: ZoneInfo) -> datetime:
    today = now.astimezone(zone).date()
    if first <= today <= last:
        return now
    return datetime.combine(last if today > last else first, time(12, 0), zone).astimezone(UTC)


def _printed(conn: Connection, agency_id: int, number: int) -> tuple[str | None, date, date]:
    """The counter code a form was printed for (None: none) and its period's first and last days; refused if it
    was never printed."""
    row = conn.execute(select(PAPER_FORM.c.period_first, PAPER_FORM.c.period_last, COUNTER.c.code)
                       .select_from(PAPER_FORM.outerjoin(COUNTER, COUNTER.c.id == PAPER_FORM.c.counter_id))
                       .where(PAPER_FORM.c.agency_id == agency_id, PAPER_FORM.c.number == number)).first()
    if row is None:
        raise ServerError(f"Phiếu số {number} chưa từng được in cho cơ quan này; kiểm tra lại số phiếu",
                          f"form number {number} was never printed for this agency; check the number")
    return row.code, row.period_first, row.period_last


def _store_form(conn: Connection, secret: ServerSecret, agency_code: str, form: PaperForm, meta: Meta,
                zone: ZoneInfo, now: datetime) -> Stored:
    # Locked: two clerks storing one form number at once would both pass store_in's "entered already" check and
    # one would fail on the unique index instead of with the bilingual refusal (PostgreSQL).
    owner = registry.agency(conn, agency_code, lock=True)
    counter, first, last = _printed(conn, owner.id, form.number)
    waiting = _pending_for(conn, owner.id, form.number) if meta.source != "omr" else None
    if waiting is not None:   # typed while its scan waits: one of the two would be refused later, unexplained
        raise FormConflict(f"Phiếu số {form.number} đã được quét và đang chờ duyệt (lần quét #{waiting}); hãy duyệt "
                          "ở trang Duyệt phiếu quét thay vì gõ lại",
                          f"form number {form.number} was scanned and is waiting for review (scan #{waiting}); "
                          "decide it on the review page instead of typing it")
    if form.counter_code is not None and form.counter_code != (counter or form.counter_code):
        raise ServerError(f"Phiếu số {form.number} được in cho quầy {counter}, không phải {form.counter_code}",
                          f"form number {form.number} was printed for counter {counter}, not {form.counter_code}")
    counter = counter or form.counter_code
    return store_in(conn, secret, agency_code=agency_code, counter_code=counter, channel="paper",
                    answers=form.answers, meta=Meta(source=meta.source, form_number=form.number,
                                                    entered_by=meta.entered_by, image_path=meta.image_path),
                    recorded_at=_period_moment(first, last, now, zone), now=now)


def enter(engine: Engine, secret: ServerSecret, *, agency_code: str, form: PaperForm, entered_by: str,
          zone: ZoneInfo, source: str = "entry", now: datetime | None = None) -> Stored:
    """Store one typed form; refused (nothing stored) when its number was never printed or is entered already."""
    with writing(engine) as conn:
        return _store_form(conn, secret, agency_code, form, Meta(source=source, entered_by=entered_by), zone,
                           now or utc_now())


@dataclass(frozen=True)
class Entry:
    """A paper form stored: when, its number, level, how it came (entry, import, omr) and who entered it."""

    received_at: datetime
    form_number: int
    level: int
    source: str
    entered_by: str


def recent(engine: Engine, agency_code: str, limit: int = 10) -> list[Entry]:
    """The agency's latest paper forms, newest first."""
    from sync.server.models import RATING

    with reading(engine) as conn:
        rows = conn.execute(
            select(SURVEY_RESPONSE.c.received_at, SURVEY_RESPONSE.c.form_number, RATING.c.level,
                   SURVEY_RESPONSE.c.source, SURVEY_RESPONSE.c.entered_by)
            .select_from(SURVEY_RESPONSE.join(AGENCY, AGENCY.c.id == SURVEY_RESPONSE.c.agency_id)
                         .join(RATING, and_(RATING.c.device_id == SURVEY_RESPONSE.c.device_id,
                                            RATING.c.uuid == SURVEY_RESPONSE.c.rating_uuid)))
            .where(AGENCY.c.code == agency_code, SURVEY_RESPONSE.c.channel == "paper")
            .order_by(SURVEY_RESPONSE.c.received_at.desc(), SURVEY_RESPONSE.c.form_number.desc())
            .limit(limit)).all()
    return [Entry(r.received_at, int(r.form_number), int(r.level), r.source, r.entered_by) for r in rows]


def count_since(engine: Engine, agency_code: str, since: datetime, entered_by: str | None = None) -> int:
    """How many paper forms of the agency were stored since `since` (by one person when named)."""
    with reading(engine) as conn:
        query = (select(func.count()).select_from(SURVEY_RESPONSE.join(AGENCY,
                                                                      AGENCY.c.id == SURVEY_RESPONSE.c.agency_id))
                 .where(AGENCY.c.code == agency_code, SURVEY_RESPONSE.c.channel == "paper",
                        SURVEY_RESPONSE.c.received_at >= since))
        if entered_by is not None:
            query = query.where(SURVEY_RESPONSE.c.entered_by == entered_by)
        return int(conn.execute(query).scalar_one())


# --- spreadsheet import ------------------------------------------------------------------------------------------


def read_table(name: str, data: bytes) -> list[dict[str, str]]:
    """A CSV (UTF-8, comma or semicolon) or XLSX file's rows as header -> text; a bilingual error for anything
    else, a missing or unknown column."""
    suffix = Path(name).suffix.lower()
    rows: list[list[str]]
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ServerError("Tệp CSV phải mã hoá UTF-8", "the CSV file must be UTF-8") from None
        if "\x00" in text:   # a binary file renamed, or one PostgreSQL could not store a cell of
            raise ServerError("Tệp CSV có ký tự NUL (\\x00): không phải bảng tính văn bản; lưu lại thành CSV UTF-8",
                              "the CSV file holds NUL (\\x00) characters: not a text spreadsheet; save it again as "
                              "UTF-8 CSV")
        dialect = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
        try:
            rows = _kept_rows(csv.reader(io.StringIO(text), delimiter=dialect))
        except csv.Error as error:   # a quote never closed runs past the field size limit, among others
            raise ServerError(f"Tệp CSV hỏng ({error}); kiểm tra dấu ngoặc kép",
                              f"the CSV file is malformed ({error}); check its quotes") from None
    elif suffix == ".xlsx":
        import zipfile

        from openpyxl import load_workbook
        try:
            # A zip bomb: the sizes the archive declares bound what zipfile inflates, so they are checked first.
            if sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist()) > MAX_TABLE_BYTES:
                raise ServerError(f"Tệp Excel giải nén ra hơn {MAX_TABLE_BYTES // 2**20} MB; chia nhỏ tệp",
                                  f"the Excel file is over {MAX_TABLE_BYTES // 2**20} MB uncompressed; split it")
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            rows = _kept_rows(["" if cell is None else _cell_text(cell) for cell in row]
                              for row in sheet.iter_rows(values_only=True))
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise ServerError("Không đọc được tệp Excel (.xlsx)", "the Excel (.xlsx) file cannot be read") from None
    else:
        raise ServerError(f"Chỉ nhập được tệp .xlsx hoặc .csv, không phải {suffix or name!r}",
                          f"only .xlsx or .csv files can be imported, not {suffix or name!r}")
    if not rows:
        raise ServerError("Tệp không có dòng nào", "the file has no rows")
    header = [cell.strip().lower() for cell in rows[0]]
    for column in header:
        if column and column not in COLUMNS:
            raise ServerError(f"Cột lạ {column!r}; các cột: {', '.join(COLUMNS)}",
                              f"unknown column {column!r}; the columns are: {', '.join(COLUMNS)}")
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise ServerError(f"Thiếu cột {column!r}", f"the column {column!r} is missing")
    if len(rows) - 1 > MAX_ROWS:
        raise _too_many_rows()
    return [{column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(header) if column}
            for row in rows[1:]]


def _kept_rows(rows: Iterable[list[str]]) -> list[list[str]]:
    """The rows with something in them, read one at a time and refused past MAX_ROWS (and the header), so a file of
    a million rows, or of a million empty ones, is never held whole."""
    kept: list[list[str]] = []
    for count, row in enumerate(rows):
        if any(cell.strip() for cell in row):
            kept.append(list(row))
        if len(kept) > MAX_ROWS + 1 or count > 20 * MAX_ROWS:
            raise _too_many_rows()
    return kept


def _too_many_rows() -> ServerError:
    return ServerError(f"Tệp có hơn {MAX_ROWS} dòng; chia nhỏ tệp", f"the file has more than {MAX_ROWS} rows; split it")


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _row_form(row: Mapping[str, str]) -> PaperForm:
    """One spreadsheet row as a form; a ServerError naming the column."""
    def column(name: str, vi: str, en: str) -> ServerError:
        return ServerError(f"cột {name}: {vi}", f"column {name}: {en}")

    try:
        number = _form_number(row.get("form_number", ""))
    except ServerError as error:
        raise column("form_number", error.vi, error.en) from None
    level_text = row.get(geo.LEVEL_KEY, "")
    if not level_text.isdigit() or int(level_text) not in range(1, 6):
        raise column(geo.LEVEL_KEY, f"mức phải từ 1 đến 5, nhận được {level_text[:20]!r}",
                     f"the level must be 1-5, got {level_text[:20]!r}")
    values: dict[str, int] = {}
    for key in SCALE_KEYS:
        text = row.get(key, "")
        if text:
            if not text.isdigit() or int(text) not in range(1, 6):
                raise column(key, f"phải từ 1 đến 5 hoặc để trống, nhận được {text[:20]!r}",
                             f"must be 1-5 or empty, got {text[:20]!r}")
            values[key] = int(text)
    for key in YESNO_KEYS:
        text = row.get(key, "").lower()
        if text:
            if text not in _YES and text not in _NO:
                raise column(key, f"phải là có/không (1/0) hoặc để trống, nhận được {text[:20]!r}",
                             f"must be yes/no (1/0) or empty, got {text[:20]!r}")
            values[key] = _YES.get(text, 0)
    procedure = row.get("procedure_code") or None
    if procedure is not None and not PROCEDURE_CODE.fullmatch(procedure):
        raise column("procedure_code", f"mã thủ tục không đúng dạng quốc gia: {procedure[:40]!r}",
                     f"not a national procedure code: {procedure[:40]!r}")
    comment = row.get("comment") or None
    if comment is not None and len(comment) > COMMENT_MAX_CHARS:
        raise column("comment", f"góp ý dài quá {COMMENT_MAX_CHARS} ký tự", f"longer than {COMMENT_MAX_CHARS} "
                     "characters")
    return PaperForm(number, Answers(int(level_text), values, comment, procedure), row.get("counter") or None)


def import_rows(engine: Engine, secret: ServerSecret, *, agency_code: str, rows: Sequence[Mapping[str, str]],
                entered_by: str, zone: ZoneInfo, now: datetime | None = None) -> list[Stored]:
    """Store every row, or none: the first bad row (a value outside its domain, a number twice in the file,
    already entered or never printed) is a ServerError naming its row (as the spreadsheet numbers it) and column."""
    if not rows:   # a sheet with its headers only is a wrong file more often than an empty box of forms
        raise ServerError("Bảng tính không có dòng phiếu nào dưới dòng tiêu đề; không nhập gì",
                          "the spreadsheet has no form rows under its header row; nothing imported")
    moment = now or utc_now()
    forms: list[PaperForm] = []
    seen: dict[int, int] = {}
    for index, row in enumerate(rows, start=2):   # row 1 holds the headers
        try:
            form = _row_form(row)
        except ServerError as error:
            raise ServerError(f"Dòng {index}, {error.vi}", f"row {index}, {error.en}") from None
        if form.number in seen:
            raise ServerError(f"Dòng {index}, cột form_number: phiếu số {form.number} đã có ở dòng "
                              f"{seen[form.number]}", f"row {index}, column form_number: form number "
                              f"{form.number} is already on row {seen[form.number]}")
        seen[form.number] = index
        forms.append(form)
    stored: list[Stored] = []
    with writing(engine) as conn:
        registry.agency(conn, agency_code)
        for index, form in enumerate(forms, start=2):
            try:
                stored.append(_store_form(conn, secret, agency_code, form, Meta(source="import",
                                                                                entered_by=entered_by),
                                          zone, moment))
            except ServerError as error:
                raise ServerError(f"Dòng {index}: {error.vi}", f"row {index}: {error.en}") from None
    return stored


# --- scanned forms -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scanned:
    """One scanned image's outcome: stored (counted) or held for a person (pending), with what OMR read."""

    status: str            # "stored" or "pending"
    reading: omr.Reading
    image_path: str
    stored: Stored | None = None
    reading_id: int | None = None


def keep_image(data_dir: Path, data: bytes, name: str) -> str:
    """Keep a scan under data_dir/paper-scans/ named by its content's hash; its path relative to data_dir."""
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in (".jpg", ".jpeg", ".png", ".webp",
                                                                        ".tif", ".tiff", ".bmp") else ".img"
    folder = data_dir / SCANS_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    relative = f"{SCANS_DIR}/{hashlib.sha256(data).hexdigest()}{suffix}"
    target = data_dir / relative
    if not target.exists():
        # Private like the server's other data files (the secret): a scan may show handwriting.
        partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")   # one per writer
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(fd, 0o600)   # the mode given to os.open is narrowed by the umask, never widened
            out.write(data)
        partial.replace(target)
    return relative


def _pending_for(conn: Connection, agency_id: int, number: int) -> int | None:
    return conn.execute(select(OMR_READING.c.id).where(OMR_READING.c.agency_id == agency_id,
                                                       OMR_READING.c.form_number == number,
                                                       OMR_READING.c.status == "pending")).scalar()


def scan(engine: Engine, secret: ServerSecret, data_dir: Path, *, agency_code: str, data: bytes, name: str,
         entered_by: str, zone: ZoneInfo, now: datetime | None = None) -> Scanned:
    """Read one scanned or photographed form: clear -> stored (source omr); any unclear mark -> held for a person
    (omr_reading, pending, not counted). A bad image, another agency's form, a form already entered, never printed
    or already waiting: a bilingual ServerError, nothing stored."""
    found = omr.read(data)
    moment = now or utc_now()
    if found.agency_code is not None and found.agency_code != agency_code:
        raise ServerError(f"Phiếu này của cơ quan {found.agency_code}, không phải {agency_code}",
                          f"this form belongs to agency {found.agency_code}, not {agency_code}")
    with writing(engine) as conn:
        owner = registry.agency(conn, agency_code, lock=True)   # one scan of a form held or stored, not two
        if found.form_number is not None:
            _printed(conn, owner.id, found.form_number)
            if conn.execute(select(SURVEY_RESPONSE.c.rating_uuid).where(
                    SURVEY_RESPONSE.c.agency_id == owner.id,
                    SURVEY_RESPONSE.c.form_number == found.form_number)).first() is not None:
                raise FormConflict(f"Phiếu số {found.form_number} đã được nhập rồi; không nhập lần hai",
                                  f"form number {found.form_number} was entered already; it is not entered twice")
            waiting = _pending_for(conn, owner.id, found.form_number)
            if waiting is not None:
                raise ServerError(f"Phiếu số {found.form_number} đang chờ duyệt (lần quét #{waiting})",
                                  f"form number {found.form_number} is already waiting for review (scan #{waiting})")
        path = keep_image(data_dir, data, name)
        if found.clear and found.form_number is not None:
            level = found.answers[geo.LEVEL_KEY]
            assert level is not None   # a clear reading has its required level
            answers = Answers(level, {k: v for k, v in found.answers.items() if k != geo.LEVEL_KEY and v is not None})
            stored = _store_form(conn, secret, agency_code, PaperForm(found.form_number, answers),
                                 Meta(source="omr", entered_by=entered_by, image_path=path), zone, moment)
            return Scanned("stored", found, path, stored=stored)
        reading_id: int = conn.execute(insert(OMR_READING).values(
            agency_id=owner.id, form_number=found.form_number, image_path=path,
            answers=json.dumps(found.answers), unclear=json.dumps(list(found.unclear)), status="pending",
            created_at=moment).returning(OMR_READING.c.id)).scalar_one()
    return Scanned("pending", found, path, reading_id=int(reading_id))


@dataclass(frozen=True)
class Pending:
    """A scanned form held for a person: what was read and which questions they must decide."""

    id: int
    agency_code: str
    form_number: int | None
    image_path: str
    answers: dict[str, int | None]
    unclear: tuple[str, ...]
    created_at: datetime


def pending(engine: Engine, agency_code: str | None = None) -> list[Pending]:
    """Scanned forms waiting for a person, oldest first (of one agency when named)."""
    with reading(engine) as conn:
        joined = OMR_READING.join(AGENCY, AGENCY.c.id == OMR_READING.c.agency_id)
        query = (select(OMR_READING, AGENCY.c.code).select_from(joined)
                 .where(OMR_READING.c.status == "pending").order_by(OMR_READING.c.id))
        if agency_code is not None:
            query = query.where(AGENCY.c.code == agency_code)
        rows = conn.execute(query).all()
    return [Pending(r.id, r.code, r.form_number, r.image_path, json.loads(r.answers), tuple(json.loads(r.unclear)),
                    r.created_at) for r in rows]


def decide(engine: Engine, secret: ServerSecret, reading_id: int, choices: Mapping[str, str], *, decided_by: str,
           zone: ZoneInfo, now: datetime | None = None) -> Stored:
    """A person's decision on a held scan: a value typed for each unclear question (empty: not answered, for the
    optional ones) and the form number when it was unreadable; stored (source omr, entered_by = the decider)."""
    moment = now or utc_now()
    with writing(engine) as conn:
        row = conn.execute(select(OMR_READING, AGENCY.c.code)
                           .select_from(OMR_READING.join(AGENCY, AGENCY.c.id == OMR_READING.c.agency_id))
                           .where(OMR_READING.c.id == reading_id).with_for_update()).first()
        if row is None or row.status != "pending":
            raise ServerError(f"Lần quét #{reading_id} không còn chờ duyệt", f"scan #{reading_id} is not waiting")
        answers: dict[str, int | None] = json.loads(row.answers)
        fields = {key: ("" if value is None else str(value)) for key, value in answers.items()}
        number_text = str(row.form_number or "")
        for key in json.loads(row.unclear):
            if key == geo.FORM_NUMBER_KEY:
                number_text = choices.get(key, "")
            else:
                fields[key] = choices.get(key, "").strip()
        # Yes/no answers are stored 1/0; typed on the review page as the form's digits 1 (yes) and 2 (no).
        for key in YESNO_KEYS:
            if fields.get(key) == "0":
                fields[key] = "2"
        form = from_digits({**fields, "form_number": number_text})
        stored = _store_form(conn, secret, row.code, form, Meta(source="omr", entered_by=decided_by,
                                                                image_path=row.image_path), zone, moment)
        conn.execute(update(OMR_READING).where(OMR_READING.c.id == reading_id).values(
            status="stored", decided_at=moment, decided_by=decided_by, rating_uuid=stored.rating_uuid,
            form_number=form.number))
    return stored


def reject(engine: Engine, reading_id: int, *, decided_by: str, now: datetime | None = None) -> None:
    """Set a held scan aside without counting it (not a form, a spoiled form)."""
    with writing(engine) as conn:
        done = conn.execute(update(OMR_READING).where(OMR_READING.c.id == reading_id,
                                                      OMR_READING.c.status == "pending")
                            .values(status="rejected", decided_at=now or utc_now(), decided_by=decided_by))
        if done.rowcount != 1:
            raise ServerError(f"Lần quét #{reading_id} không còn chờ duyệt", f"scan #{reading_id} is not waiting")
