"""The dashboard benchmark's data set: a province's agencies, counters, officers, kiosks and two years of ratings.

Loaded into a server database already at the newest schema (sync.server.db.open_database ran the server's own
migrations): the small tables through SQLAlchemy Core, the procedures through the server's own catalog import
(sample catalog), and the ratings with PostgreSQL COPY, then ANALYZE. Everything is drawn from a fixed seed,
so every run loads the same rows.

The shape (defaults): 31 agencies (the province centre and 30 communes and wards), 300 counters (30 at the
centre, 9 at each commune), 1,500 officers (5 per counter), one kiosk per counter, and the ratings spread over
the working hours of two calendar years, busier counters and weekday mornings drawing more. Levels lean to
satisfied, a few counters and officers much less so; about 60% of citizens answer the follow-ups; about 2% of
ratings are suspected repeats, a few are test ratings, a few report harassment, about 1.5% leave a comment;
one kiosk's chain is broken, so its ratings are counted apart.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select

from kiosk.domain.chain import GENESIS_HASH
from sync.server.catalog import store as catalog
from sync.server.models import AGENCY, COUNTER, DEVICE, OFFICER, PROCEDURE_INFO

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CATALOG = ROOT / "assets" / "catalog" / "sample-procedures.json"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PROVINCE = "Tỉnh Thử nghiệm"
CENTRE_CODE = "TTHCC"
CENTRE_COUNTERS = 30
COMMUNE_COUNTERS = 9
OFFICERS_PER_COUNTER = 5
COMMUNES = ("Hòa Khánh", "Liên Chiểu", "Thanh Khê", "Hải Châu", "Sơn Trà", "Ngũ Hành Sơn", "Cẩm Lệ", "Hòa Vang",
            "Hòa Xuân", "An Hải", "Mân Thái", "Thọ Quang", "Nại Hiên Đông", "Phước Mỹ", "Bắc Mỹ An", "Khuê Mỹ",
            "Hòa Hải", "Hòa Quý", "Hòa Minh", "Hòa Hiệp", "Thanh Bình", "Thuận Phước", "Thạch Thang", "Bình Hiên",
            "Hòa Cường", "Khuê Trung", "Hòa Phát", "Hòa An", "Hòa Thọ", "Hòa Phong")
COUNTER_KINDS = ("Tư pháp – Hộ tịch", "Chứng thực", "Đất đai – Xây dựng", "Đăng ký kinh doanh", "Lao động – Xã hội",
                 "Tiếp nhận chung", "Văn hóa – Y tế", "Tài nguyên – Môi trường", "Trả kết quả")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLE = ("Thị", "Văn", "Hữu", "Minh", "Thanh", "Quốc", "Ngọc", "Đức", "Thu", "Hồng")
GIVEN = ("An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Lan", "Linh", "Long", "Mai",
         "Minh", "Nam", "Nga", "Nhung", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến")
COMMENTS = ("Cán bộ hướng dẫn tận tình, dễ hiểu.", "Phải chờ lâu quá, gọi lại cho tôi số 0912 345 678 nhé.",
            "Chỗ ngồi chờ chật, thiếu quạt.", "Mọi việc nhanh gọn, cảm ơn chị.",
            "Hồ sơ bị trả lại hai lần mà không nói rõ lý do. Email: nguoidan@example.vn",
            "Được hướng dẫn điền tờ khai rất chu đáo.", "Máy lấy số hay bị lỗi.", "Nên có thêm quầy buổi sáng.")
# Levels 1..5 of a counter's ratings: most are good, some middling, a few poor.
GOOD, MIDDLING, POOR = (2, 3, 8, 37, 50), (5, 7, 15, 40, 33), (16, 15, 20, 27, 22)
# The few officers citizens complain about, whatever their counter.
RUDE = (20, 20, 20, 25, 15)
RATING_COLUMNS = ("device_id", "uuid", "seq", "agency_id", "counter_id", "counter_code", "officer_code",
                  "procedure_code", "language", "level", "recorded_at", "received_at", "suspected_repeat", "is_test",
                  "q_access", "q_procedure", "q_officer", "q_result", "q_feedback", "harassment", "comment")
# Procedure codes kiosks still send that the catalog no longer lists (reported under "Khác / Other").
RETIRED = tuple(f"2.{n:06d}" for n in range(100, 120))
NULL = "\\N"
TOTALS = ("rating_month_officer", "rating_month_procedure", "rating_day")   # kept by the triggers of rating
COPY_CHUNK = 20_000


@dataclass(frozen=True)
class Place:
    """One counter with its kiosk and the officers and procedures it serves."""

    agency_id: int
    agency_code: str
    counter_id: int
    counter_code: str
    device_id: str
    officers: tuple[str, ...]
    procedures: tuple[str, ...]
    weight: float       # how busy it is, relative to the others
    levels: tuple[int, int, int, int, int]


@dataclass
class Loaded:
    """What was loaded, and how long each step took."""

    first: date
    last: date
    agencies: int = 0
    counters: int = 0
    officers: int = 0
    devices: int = 0
    procedures: int = 0
    ratings: int = 0
    comments: int = 0
    harassment: int = 0
    repeats: int = 0
    tests: int = 0
    broken_device: str = ""
    broken_ratings: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)   # rows in each totals table


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _places(engine: Engine, rng: random.Random, procedures: list[str], counters: int) -> list[Place]:
    """Agencies, counters, officers and one device per counter, stored; the counters as places."""
    communes = max(1, (counters - CENTRE_COUNTERS + COMMUNE_COUNTERS - 1) // COMMUNE_COUNTERS)
    agencies = [(CENTRE_CODE, f"Trung tâm Phục vụ hành chính công {PROVINCE.lower()}", CENTRE_COUNTERS)]
    agencies += [(f"X{n + 1:02d}", f"Trung tâm Phục vụ hành chính công {'phường' if n % 3 else 'xã'} "
                  f"{COMMUNES[n % len(COMMUNES)]}", COMMUNE_COUNTERS) for n in range(communes)]
    now = datetime.now(UTC)
    places: list[Place] = []
    with engine.begin() as conn:
        budget = counters
        for code, name, wanted in agencies:
            agency_id: int = conn.execute(insert(AGENCY).values(
                code=code, name=name, parent=PROVINCE, hotline="0236 3822 000",
                complaint_address="Số 24 đường Trần Phú", created_at=now).returning(AGENCY.c.id)).scalar_one()
            for n in range(min(wanted, budget)):
                budget -= 1
                counter_code = f"Q{n + 1:02d}"
                mine = tuple(rng.sample(procedures, rng.randint(4, 12)))
                counter_id: int = conn.execute(insert(COUNTER).values(
                    agency_id=agency_id, code=counter_code, name=f"Quầy số {n + 1} – {COUNTER_KINDS[n % 9]}",
                    procedures="[" + ",".join(f'"{p}"' for p in mine) + "]").returning(COUNTER.c.id)).scalar_one()
                officers = tuple(f"CB{len(places) * OFFICERS_PER_COUNTER + k + 1:04d}"
                                 for k in range(OFFICERS_PER_COUNTER))
                conn.execute(insert(OFFICER), [{"agency_id": agency_id, "code": officer, "name": _person(rng),
                                                "title": "Công chức", "counter_id": counter_id}
                                               for officer in officers])
                device_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                conn.execute(insert(DEVICE).values(
                    id=device_id, agency_id=agency_id, counter_id=counter_id, status="active",
                    local_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), hostname=f"kiosk-{code}-{n + 1}",
                    created_at=now, enrolled_at=now, last_contact_at=now, last_push_at=now, app_version="0.1.0",
                    acked_hash=GENESIS_HASH, printer_state="ok"))
                quality = rng.random()
                levels = GOOD if quality < 0.85 else MIDDLING if quality < 0.95 else POOR
                weight = rng.uniform(0.4, 1.6) * (2.0 if code == CENTRE_CODE else 1.0)
                places.append(Place(agency_id, code, counter_id, counter_code, device_id, officers, mine, weight,
                                    levels))
    return places


def _working_moments(first: date, last: date) -> tuple[list[date], list[float]]:
    """The days of the span with their share of the traffic: weekdays full, Saturday mornings, no Sundays."""
    days, weights = [], []
    day = first
    while day <= last:
        weekday = day.weekday()
        if weekday < 6:
            days.append(day)
            weights.append(1.0 if weekday < 5 else 0.4)
        day += timedelta(days=1)
    return days, weights


def _local_instant(rng: random.Random, day: date, saturday: bool) -> datetime:
    """A moment of the working day, mornings busier: 07:30–11:30 and 13:30–17:00 (Saturday: mornings only)."""
    if saturday or rng.random() < 0.6:
        seconds = 7.5 * 3600 + rng.random() * 4 * 3600
    else:
        seconds = 13.5 * 3600 + rng.random() * 3.5 * 3600
    return datetime(day.year, day.month, day.day, tzinfo=ZONE) + timedelta(seconds=int(seconds))


def _text(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _answer(rng: random.Random, level: int, spread: tuple[int, ...]) -> int:
    return max(1, min(5, level + rng.choice(spread)))


def _rows(rng: random.Random, places: list[Place], total: int, first: date, last: date, rude: set[str],
          loaded: Loaded) -> Iterator[tuple[date, str]]:
    """The rating rows as COPY text lines with their local month, device by device in recording order (so seq
    follows time)."""
    days, day_weights = _working_moments(first, last)
    weights = [p.weight for p in places]
    counts = [0] * len(places)
    for index in rng.choices(range(len(places)), weights=weights, k=total):
        counts[index] += 1
    for place, count in zip(places, counts, strict=True):
        moments = sorted(_local_instant(rng, day, day.weekday() == 5)
                         for day in rng.choices(days, weights=day_weights, k=count))
        for seq, moment in enumerate(moments, start=1):
            officer = rng.choice(place.officers) if rng.random() < 0.97 else None
            weights_ = RUDE if officer in rude else place.levels
            level = rng.choices((1, 2, 3, 4, 5), weights=weights_)[0]
            draw = rng.random()
            procedure = (rng.choice(place.procedures) if draw < 0.85 else None if draw < 0.97
                         else rng.choice(RETIRED))   # a procedure no longer in the catalog
            repeat = rng.random() < 0.02
            test = rng.random() < 0.0005
            answered = rng.random() < 0.6
            harassment = None
            if answered and rng.random() < 0.9:
                harassment = rng.random() < (0.02 if level <= 2 else 0.001)
            comment = rng.choice(COMMENTS) if rng.random() < 0.015 else None
            loaded.comments += comment is not None
            loaded.harassment += bool(harassment) and not test
            loaded.repeats += repeat
            loaded.tests += test
            received = moment + timedelta(hours=rng.uniform(8, 20))   # the nightly sync
            values = (place.device_id, uuid.UUID(int=rng.getrandbits(128), version=4), seq, place.agency_id,
                      place.counter_id, place.counter_code, officer, procedure,
                      "vi" if rng.random() < 0.97 else "en", level, moment, received, repeat, test,
                      _answer(rng, level, (-1, 0, 0, 1)) if answered and rng.random() < 0.95 else None,
                      _answer(rng, level, (-1, 0, 1)) if answered and rng.random() < 0.9 else None,
                      _answer(rng, level, (0, 0, 0, -1)) if answered and rng.random() < 0.95 else None,
                      _answer(rng, level, (0, 0, 1)) if answered and rng.random() < 0.85 else None,
                      _answer(rng, level, (-1, 0, 0)) if answered and rng.random() < 0.5 else None,
                      harassment, comment)
            yield moment.date().replace(day=1), "\t".join(_text(v) for v in values) + "\n"


def load(engine: Engine, dsn: str, ratings: int, first: date, last: date, counters: int = 300,
         seed: int = 2026) -> Loaded:
    """Load the data set into `engine`'s database (at the newest schema); `dsn` is the same database for psycopg."""
    import psycopg

    rng = random.Random(seed)
    loaded = Loaded(first, last)
    start = time.perf_counter()
    catalog.import_file(engine, SAMPLE_CATALOG)   # fills procedure_info, as `kiosk-server catalog import` does
    with engine.connect() as conn:
        found: list[str] = list(conn.execute(select(PROCEDURE_INFO.c.code).order_by(PROCEDURE_INFO.c.code)).scalars())
    procedures = [str(code) for code in found]
    places = _places(engine, rng, procedures, counters)
    all_officers = [(p.agency_code, o) for p in places for o in p.officers]
    rude = {officer for _, officer in rng.sample(all_officers, max(1, len(all_officers) // 50))}
    loaded.seconds["registry and catalog"] = time.perf_counter() - start
    start = time.perf_counter()
    months: dict[date, list[str]] = {}
    for month, line in _rows(rng, places, ratings, first, last, rude, loaded):
        months.setdefault(month, []).append(line)
    loaded.seconds["ratings generated"] = time.perf_counter() - start
    start = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as pg:
        # A month at a time, as the nightly pushes would have brought them, with the vacuuming autovacuum would
        # have done meanwhile: the month totals are rewritten by every rating, and one transaction of a million
        # would leave a million dead versions of them behind.
        for month in sorted(months):
            with pg.transaction(), pg.cursor() as cursor, cursor.copy(
                    f"COPY rating ({', '.join(RATING_COLUMNS)}) FROM STDIN") as copy:
                lines = months.pop(month)
                for begin in range(0, len(lines), COPY_CHUNK):
                    copy.write("".join(lines[begin:begin + COPY_CHUNK]).encode())
            pg.execute(f"VACUUM {', '.join(TOTALS)}")
        # Each kiosk's chain as the server holds it; one kiosk's broke at the record after its last rating stored.
        pg.execute("UPDATE device SET acked_seq = counted.n FROM (SELECT device_id, count(*) AS n FROM rating "
                   "GROUP BY device_id) AS counted WHERE device.id = counted.device_id")
        broken = places[len(places) // 3]
        row = pg.execute("UPDATE device SET chain_state = 'broken', first_bad_seq = acked_seq + 1, "
                         "problem_vi = 'nội dung bản ghi đã bị sửa (mã băm sai)', "
                         "problem_en = 'the record''s content was changed (hash mismatch)' WHERE id = %s "
                         "RETURNING acked_seq", (broken.device_id,)).fetchone()
        loaded.broken_device, loaded.broken_ratings = broken.device_id, int(row[0]) if row else 0
    loaded.seconds["COPY, a month at a time (month totals kept by the triggers)"] = time.perf_counter() - start
    start = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as pg:
        pg.execute("VACUUM (ANALYZE)")
    loaded.seconds["VACUUM ANALYZE"] = time.perf_counter() - start
    with psycopg.connect(dsn) as pg:
        for table in TOTALS:
            counted = pg.execute(f"SELECT count(*) FROM {table}").fetchone()
            loaded.totals[table] = int(counted[0]) if counted else 0
    loaded.agencies = len({p.agency_id for p in places})
    loaded.counters = loaded.devices = len(places)
    loaded.officers = len(all_officers)
    loaded.procedures = len(procedures)
    loaded.ratings = ratings
    return loaded
