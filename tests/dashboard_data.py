"""A small, realistic set of stored ratings for the results pages' tests and screenshots.

Two agencies; the first has three counters, four officers, procedures in two fields and a kiosk whose chain
broke. Ratings fill the 70 days up to `today` (levels drawn from a fixed seed, so every run stores the same
rows): one counter is clearly worse than the others (flagged once it has enough ratings), one has too few
ratings to judge, a few citizens report harassment, some comments carry a phone number or an e-mail address
to be masked, a few ratings are suspected repeats or tests, and two came from a kiosk whose clock was reset.
The expected figures are never written here: the tests take them from reports.build over the same database.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, update

from sync.server import registry
from sync.server.devices import enrolment
from sync.server.models import DEVICE, PROCEDURE_INFO, RATING

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MAIN = "HK"
OTHER = "BD"
AGENCIES = {
    MAIN: {"name": "Trung tâm Phục vụ hành chính công phường Hoàn Kiếm", "parent": "Thành phố Hà Nội",
           "hotline": "024 3825 3536", "complaint_address": "Số 126 Hàng Trống, phường Hoàn Kiếm, Hà Nội"},
    OTHER: {"name": "Trung tâm Phục vụ hành chính công phường Ba Đình", "parent": "Thành phố Hà Nội",
            "hotline": "024 3733 6666", "complaint_address": "Số 25 Liễu Giai, phường Ba Đình, Hà Nội"},
}
COUNTERS = {
    (MAIN, "Q01"): "Quầy Tư pháp – Hộ tịch",
    (MAIN, "Q02"): "Quầy Đất đai – Xây dựng",
    (MAIN, "Q03"): "Quầy Đăng ký kinh doanh",
    (OTHER, "Q01"): "Quầy tiếp nhận chung",
}
OFFICERS = {
    "CB001": ("Nguyễn Thị Lan", "Q01"),
    "CB002": ("Trần Văn Minh", "Q02"),
    "CB003": ("Lê Thị Hồng Nhung", "Q02"),
    "CB004": ("Phạm Quốc Đạt", "Q03"),
}
PROCEDURES = {
    "1.001193": ("Đăng ký khai sinh", "HT", "Hộ tịch"),
    "1.000894": ("Đăng ký kết hôn", "HT", "Hộ tịch"),
    "1.003003": ("Đăng ký biến động quyền sử dụng đất", "DD", "Đất đai"),
}
# Weights of levels 1..5 per counter.
WEIGHTS = {"Q01": (2, 3, 8, 40, 47), "Q03": (5, 5, 15, 40, 35)}
# Q02 is the one citizens are unhappy with: its levels repeat this cycle (half of them 1 or 2) instead of being
# drawn, so every month of ~45 ratings is flagged whatever day the tests run on (drawn levels fell under 25%
# in some months).
WORSE = "Q02"
WORSE_LEVELS = (1, 4, 2, 5, 1, 3, 4, 2, 5, 1)
PER_DAY = {"Q01": 2, "Q02": 1, "Q03": 0}
COMMENTS = (
    "Cán bộ hướng dẫn tận tình, dễ hiểu.",
    "Phải chờ lâu quá, gọi lại cho tôi số 0912 345 678 nhé.",
    "Chỗ ngồi chờ chật, thiếu quạt.",
    "Mọi việc nhanh gọn, cảm ơn chị Lan.",
    "Hồ sơ bị trả lại hai lần mà không nói rõ lý do. Email: nguoidan@example.vn",
    "Được hướng dẫn điền tờ khai rất chu đáo.",
)


@dataclass
class Seeded:
    """What was stored: the agencies' codes, the device IDs by counter, and the day the data ends on."""

    today: date
    devices: dict[tuple[str, str], str] = field(default_factory=dict)
    broken_device: str = ""
    ratings: int = 0


def _moment(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(7, 30), ZONE).astimezone(UTC) + timedelta(minutes=minutes)


def _add_device(engine: Engine, agency: str, counter: str, chain_state: str = "intact") -> str:
    made = enrolment.add_device(engine, agency, counter, timedelta(hours=1))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(update(DEVICE).where(DEVICE.c.id == made.device_id).values(
            status="active", enrolled_at=now, last_contact_at=now, chain_state=chain_state,
            first_bad_seq=7 if chain_state != "intact" else None,
            problem_vi="mã băm sai" if chain_state != "intact" else "",
            problem_en="hash mismatch" if chain_state != "intact" else ""))
    return made.device_id


def seed(engine: Engine, today: date, *, days: int = 70) -> Seeded:
    """Store the data set in a server database at the newest schema (see the module's docstring)."""
    for code, fields in AGENCIES.items():
        registry.add_agency(engine, code, fields, exist_ok=True)
    for (agency, counter), name in COUNTERS.items():
        registry.add_counter(engine, agency, counter, name, [], exist_ok=True)
    for code, (name, counter) in OFFICERS.items():
        registry.add_officer(engine, MAIN, code, name, "Công chức", counter)
    with engine.begin() as conn:
        conn.execute(insert(PROCEDURE_INFO), [{"code": code, "name": name, "field_code": f_code,
                                               "field_name": f_name}
                                              for code, (name, f_code, f_name) in PROCEDURES.items()])
    seeded = Seeded(today)
    for place in COUNTERS:
        seeded.devices[place] = _add_device(engine, *place)
    seeded.broken_device = _add_device(engine, MAIN, "Q01", "broken")
    ids = {}
    with engine.begin() as conn:
        for (agency, counter), device_id in seeded.devices.items():
            ids[(agency, counter)] = conn.execute(
                DEVICE.select().where(DEVICE.c.id == device_id)).one()
    pick = random.Random(6)
    rows: list[dict[str, object]] = []
    seqs: dict[str, int] = {}

    def add(agency: str, counter: str, device_id: str, day: date, minutes: int, level: int, **extra: object) -> None:
        seqs[device_id] = seqs.get(device_id, 0) + 1
        device = ids[(agency, counter)]
        officers = [code for code, (_, at) in OFFICERS.items() if at == counter] if agency == MAIN else []
        answered = pick.random() < 0.6
        row: dict[str, object] = {
            "device_id": device_id, "uuid": str(uuid.UUID(int=pick.getrandbits(128), version=4)),
            "seq": seqs[device_id], "agency_id": device.agency_id, "counter_id": device.counter_id,
            "counter_code": counter, "officer_code": pick.choice(officers) if officers else None,
            "procedure_code": pick.choice([*PROCEDURES, None]), "language": "vi", "level": level,
            "recorded_at": _moment(day, minutes), "received_at": _moment(day, minutes + 5),
            "suspected_repeat": False, "is_test": False, "time_trusted": True,
            "q_access": max(1, min(5, level + pick.choice((-1, 0, 0, 1)))) if answered else None,
            "q_procedure": max(1, min(5, level + pick.choice((-1, 0, 1)))) if answered else None,
            "q_officer": level if answered else None,
            "q_result": max(1, min(5, level + pick.choice((0, 0, 1)))) if answered and level > 2 else None,
            "q_feedback": None, "harassment": (level <= 2 and pick.random() < 0.25) if answered else None,
            "comment": pick.choice(COMMENTS) if pick.random() < 0.15 else None,
        }
        row.update(extra)
        rows.append(row)

    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        for (agency, counter), device_id in seeded.devices.items():
            if agency != MAIN:
                continue
            count = PER_DAY[counter] + (1 if pick.random() < 0.5 else 0)
            if counter == "Q03":
                count = 1 if day.day % 3 == 0 else 0  # about ten a month: too few to judge
            for n in range(count):
                if counter == WORSE:
                    level = WORSE_LEVELS[seqs.get(device_id, 0) % len(WORSE_LEVELS)]
                else:
                    level = pick.choices((1, 2, 3, 4, 5), weights=WEIGHTS[counter])[0]
                add(agency, counter, device_id, day, 40 * n + pick.randrange(30), level)
        if back % 4 == 0:  # the other agency rates rarely, and is never published in the tests
            add(OTHER, "Q01", seeded.devices[(OTHER, "Q01")], day, 90, pick.choice((3, 4, 5)))
    # A double tap, a selftest and a kiosk whose log was tampered with, in the last days.
    q01 = seeded.devices[(MAIN, "Q01")]
    for back in (0, 1, 2):
        day = today - timedelta(days=back)
        add(MAIN, "Q01", q01, day, 400, 1, suspected_repeat=True)
        add(MAIN, "Q01", q01, day, 420, 5, is_test=True)
    broken = seeded.broken_device
    for back in range(5):
        add(MAIN, "Q01", broken, today - timedelta(days=back), 300, 1 if back % 2 else 2)
    # A kiosk whose clock fell back to 2000 and was put right before it synced: the server could not tell when
    # these two were made, so they count in no period and are shown apart under the day they arrived.
    q02 = seeded.devices[(MAIN, "Q02")]
    for minutes in (10, 25):
        add(MAIN, "Q02", q02, today, 200, 3, recorded_at=datetime(2000, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes),
            time_trusted=False)
    with engine.begin() as conn:
        conn.execute(insert(RATING), rows)
    seeded.ratings = len(rows)
    return seeded
