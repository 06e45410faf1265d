"""One set of results from three channels: a kiosk's ratings, web answers and paper forms, counted per channel and
together against figures worked out by hand, on SQLite and PostgreSQL, through reports (from the totals and from
the stored ratings), `kiosk-server report`, the dashboard, publishing, alerts, and the server's own signed chains.

The data set, all on 10 November 2026 (Vietnam time), agency CH:
- kiosk at counter Q01: levels 5, 4, 4, 2 (no follow-ups);
- web, counter Q01: 5 (access 5), 3 (access 2), 1 (harassment yes), and one more 1 caught by the honeypot
  (kept, left out);
- paper, no counter given: form 1 level 4 (access 4), form 2 level 2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import Engine, select, update

from kiosk.domain.keys import DeviceKey, public_key_b64
from kiosk.ratings import RatingLog
from sync import protocol
from sync.server import db, registry
from sync.server.admin import accounts, fleet
from sync.server.alerts import findings, rules
from sync.server.channels.store import Answers, Meta, store
from sync.server.cli import main as server_cli
from sync.server.devices import enrolment, ingest
from sync.server.devices import verify as chains
from sync.server.errors import ServerError
from sync.server.models import DEVICE, RECORD
from sync.server.results import reports
from sync.server.results.figures import Figures, ReportQuery
from sync.server.results.periods import Period
from sync.server.secret import ServerSecret
from sync.server.settings import ServerSettings
from tests import browser
from tests.sync_harness import ServerHandle, start_server

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SETTINGS = ServerSettings()
DAY = date(2026, 11, 10)
NOVEMBER = Period.of("month", DAY)
PASSWORD = "mật khẩu kênh đủ dài"


def at(hour: int, minute: int = 0) -> datetime:
    """A moment on DAY in Vietnam, as UTC."""
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=VN).astimezone(UTC)


def fig(ratings: int, levels: tuple[int, int, int, int, int], access: tuple[int, int] = (0, 0),
        harassment: int = 0) -> tuple[int, tuple[int, ...], tuple[int, int], int]:
    """The figures that matter here: ratings, levels 1..5, access (answered, satisfied), harassment reports."""
    return ratings, levels, access, harassment


def seen(figures: Figures) -> tuple[int, tuple[int, ...], tuple[int, int], int]:
    access = figures.elements["access"]
    return figures.ratings, figures.levels, (access.answered, access.satisfied), figures.harassment_reports


# Worked out by hand from the module's docstring.
KIOSK = fig(4, (0, 1, 0, 2, 1))
WEB = fig(3, (1, 0, 1, 0, 1), (2, 1), 1)
PAPER = fig(2, (0, 1, 0, 1, 0), (1, 1))
ALL = fig(9, (1, 2, 1, 3, 2), (3, 2), 1)


@dataclass(frozen=True)
class Seeded:
    """The server, its database and the server's secret."""

    server: ServerHandle
    engine: Engine
    secret: ServerSecret
    kiosk_device: str


def seed(db_url: str, directory: Path) -> Seeded:
    """Start a server on db_url and store the module docstring's data set through each channel's own path."""
    server = start_server(db_url, directory / "server-data")
    engine = server.engine()
    registry.add_agency(engine, "CH", {"name": "Trung tâm Phục vụ hành chính công xã Kênh", "hotline": "1900 1234"})
    registry.add_counter(engine, "CH", "Q01", "Quầy 1", [])
    accounts.add_user(engine, "noi.vu", PASSWORD)
    # The kiosk: a real rating log with its clock on DAY, pushed through the real ingest.
    key = DeviceKey.load_or_create(directory / "kiosk-key.pem")
    from kiosk.db import prepare

    moments = iter([at(8), at(9), at(10), at(11)])
    database = prepare(directory / "kiosk.db")
    log = RatingLog(database, key, repeat_window_s=0, clock=lambda: next(moments))
    for level in (5, 4, 4, 2):
        log.record_rating(level, counter_id="Q01", officer_id=None, language="vi")
    made = enrolment.add_device(engine, "CH", "Q01", timedelta(hours=1))
    enrolment.enrol(engine, protocol.EnrollRequest(code=made.code, public_key=public_key_b64(key.public_key),
                                                   device_uuid=log.device_uuid), db.utc_now())
    with database.reading() as conn:
        records = [protocol.Record.model_validate({n: r[n] for n in protocol.Record.model_fields})
                   for r in log.records(conn)]
    assert ingest.push(engine, made.device_id, records).error is None
    log.close()
    database.close()
    # Web and paper answers, stored as the server stores them, signed with the running server's own secret.
    secret = ServerSecret.load_or_create(server.data_dir)
    for hour, answers, meta in (
            (12, Answers(5, {"access": 5}), Meta("web")),
            (13, Answers(3, {"access": 2}), Meta("web")),
            (14, Answers(1, {"harassment": 1}, comment="Bị đòi tiền ngoài quy định"), Meta("web")),
            (15, Answers(1), Meta("web", flag_reason="honeypot"))):
        store(engine, secret, agency_code="CH", counter_code="Q01", channel="web", answers=answers, meta=meta,
              recorded_at=at(hour), now=at(hour))
    for number, answers in ((1, Answers(4, {"access": 4})), (2, Answers(2))):
        store(engine, secret, agency_code="CH", counter_code=None, channel="paper", answers=answers,
              meta=Meta("entry", form_number=number, entered_by="noi.vu"), recorded_at=at(16), now=at(17))
    return Seeded(server, engine, secret, made.device_id)


@pytest.fixture(scope="module")
def seeded(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    made = seed(module_db_url, tmp_path_factory.mktemp("channels"))
    yield made
    made.server.stop()


@pytest.mark.parametrize("from_totals", [True, False], ids=["totals", "raw"])
def test_figures_per_channel_and_together_are_the_hand_worked_ones(seeded: Seeded, from_totals: bool) -> None:
    by_channel = reports.build(seeded.engine, ReportQuery(NOVEMBER, "channel", "CH"), SETTINGS, from_totals=from_totals)
    assert {row.key: seen(row.figures) for row in by_channel.rows} == {"kiosk": KIOSK, "web": WEB, "paper": PAPER}
    assert [row.label for row in by_channel.rows if row.key == "paper"] == ["Phiếu giấy / Paper form"]
    assert seen(by_channel.total) == ALL and by_channel.excluded_repeats == 1   # the honeypot answer
    for channel, expected in (("kiosk", KIOSK), ("web", WEB), ("paper", PAPER)):
        alone = reports.build(seeded.engine, ReportQuery(NOVEMBER, "counter", "CH", channel=channel), SETTINGS,
                              from_totals=from_totals)
        assert seen(alone.total) == expected, channel
    by_counter = reports.build(seeded.engine, ReportQuery(NOVEMBER, "counter", "CH"), SETTINGS,
                               from_totals=from_totals)
    assert {row.key: row.figures.ratings for row in by_counter.rows} == {"Q01": 7, "_": 2}
    web_day = reports.trend(seeded.engine, ReportQuery(NOVEMBER, "agency", "CH", channel="web"), SETTINGS, "day",
                            from_totals=from_totals)
    assert [(p.first, p.figures.ratings) for p in web_day if p.figures.ratings] == [(DAY, 3)]


def test_the_report_command_groups_and_filters_by_channel(seeded: Seeded, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    common = ["--db", seeded.server.db_url, "--data-dir", str(tmp_path), "report", "--agency", "CH",
              "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"]
    assert server_cli([*common, "--group-by", "channel"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["query"]["group_by"] == "channel" and printed["query"]["channel"] is None
    assert {row["key"]: row["figures"]["ratings"] for row in printed["rows"]} == {"kiosk": 4, "web": 3, "paper": 2}
    assert server_cli([*common, "--channel", "paper"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["query"]["channel"] == "paper" and printed["total"]["ratings"] == 2
    assert server_cli([*common[:-2], "--format", "table", "--channel", "web", "--lang", "en"]) == 0
    assert "Channel: Web form" in capsys.readouterr().out
    assert server_cli([*common, "--channel", "bưu điện"]) == 2
    err = capsys.readouterr().err
    assert "--channel" in err and "kiosk, web, paper" in err


def _signed_in(server: ServerHandle) -> requests.Session:
    """An HTTP session signed in on the staff pages."""
    return browser.signed_in(server.url, "noi.vu", PASSWORD)


def test_the_dashboard_chooses_a_channel_and_publishing_says_where_answers_came_from(seeded: Seeded) -> None:
    session = _signed_in(seeded.server)
    base = {"agency": "CH", "period": "month", "date": DAY.isoformat()}
    page = session.get(seeded.server.url + "/dashboard", params=base | {"group": "channel"}, timeout=30).text
    for label in ("Máy đánh giá tại quầy", "Phiếu điện tử", "Phiếu giấy"):
        assert label in page
    assert 'name="channel"' in page and "mọi kênh" in page
    web = session.get(seeded.server.url + "/dashboard", params=base | {"group": "counter", "channel": "web"},
                      timeout=30).text
    shown = re.search(r'data-kpi="ratings">.*?class="kpi-value">([^<]*)<', web, re.S)
    assert shown and shown.group(1).strip() == "3", web[:3000]
    assert "kênh <strong>Phiếu điện tử</strong>" in web
    refused = session.get(seeded.server.url + "/dashboard", params=base | {"channel": "fax"}, timeout=30)
    assert refused.status_code == 400 and "Không có kênh" in refused.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    made = session.post(seeded.server.url + "/dashboard/publish",
                        data=base | {"group": "counter", "csrf": csrf.group(1), "title": "Kết quả tháng 11/2026"},
                        allow_redirects=False, timeout=30)
    assert made.status_code == 303, made.text[:2000]
    number = re.search(r"published=(\d+)", made.headers["location"])
    assert number
    public = requests.get(f"{seeded.server.url}/ket-qua/CH/{number.group(1)}", timeout=30).text
    sources = re.search(r'<p class="sources" id="sources">(.*?)</p>', public, re.S)
    assert sources, public[:3000]
    shown = re.sub(r"<[^>]+>", "", sources.group(1))
    assert "Máy đánh giá tại quầy" in shown and "4 lượt" in shown
    assert "Phiếu điện tử" in shown and "3 lượt" in shown and "Phiếu giấy" in shown and "2 lượt" in shown
    session.close()


def test_an_alert_watches_one_channel(seeded: Seeded) -> None:
    web = rules.add_rule(seeded.engine, "CH", None, "dissatisfied", email_to="noivu@example.gov.vn", share=0.3,
                         window_h=12, min_ratings=3, channel="web")
    kiosk = rules.add_rule(seeded.engine, "CH", None, "dissatisfied", email_to="noivu@example.gov.vn", share=0.3,
                           window_h=12, min_ratings=3, channel="kiosk")
    assert "kênh Phiếu điện tử" in web.where()[0] and "channel: Web form" in web.where()[1]
    now = at(18)
    fired = findings.evaluate(seeded.engine, SETTINGS, web.id, now)   # web: 1 of 3 dissatisfied, over 30%
    assert len(fired) == 1 and "33.3%" in fired[0].subject
    assert "kênh Phiếu điện tử" in fired[0].body and "channel: Web form" in fired[0].body
    assert findings.evaluate(seeded.engine, SETTINGS, kiosk.id, now) == []   # kiosk: 1 of 4, under 30% … 25%
    with pytest.raises(ServerError, match="silent"):
        rules.add_rule(seeded.engine, "CH", None, "silent", email_to="noivu@example.gov.vn", channel="web")


def test_the_fleet_and_silent_alerts_see_only_kiosks(seeded: Seeded) -> None:
    listed = {device.device_id for device in fleet.fleet(seeded.engine, db.utc_now(), timedelta(hours=24))}
    with seeded.engine.connect() as conn:
        channels = dict(conn.execute(select(DEVICE.c.id, DEVICE.c.channel)).all())
    assert seeded.kiosk_device in listed
    assert {d for d, c in channels.items() if c != "kiosk"} and not listed & {d for d, c in channels.items()
                                                                             if c != "kiosk"}
    rule = rules.add_rule(seeded.engine, "CH", None, "silent", email_to="it@example.gov.vn", window_h=1)
    silent = findings.evaluate(seeded.engine, SETTINGS, rule.id, db.utc_now() + timedelta(days=2))
    assert all(seeded.kiosk_device in occurrence.key for occurrence in silent) and len(silent) == 1


def test_an_edited_web_or_paper_answer_no_longer_verifies(seeded: Seeded, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    walked = chains.verify(seeded.engine)
    assert walked and [v for v in walked if not v.ok] == []
    assert {v.channel for v in walked} >= {"kiosk", "web", "paper"}
    with seeded.engine.connect() as conn:
        web_device = conn.execute(select(DEVICE.c.id).where(DEVICE.c.channel == "web")).scalar_one()
    with seeded.engine.begin() as conn:   # someone with the database raises an answer from 2 to 5
        edited = conn.execute(select(RECORD.c.seq).where(RECORD.c.device_id == web_device,
                                                         RECORD.c.question == "access", RECORD.c.value == 2)
                              ).scalar_one()
        conn.execute(update(RECORD).where(RECORD.c.device_id == web_device, RECORD.c.seq == edited).values(value=5))
    try:
        code = server_cli(["--db", seeded.server.db_url, "--data-dir", str(tmp_path), "device", "verify"])
        out = capsys.readouterr().out
        assert code == 1
        assert f"{web_device} (web): chuỗi hỏng tại bản ghi số {edited}" in out and "mã băm" in out
        broken = [v for v in chains.verify(seeded.engine) if not v.ok]
        assert [v.device_id for v in broken] == [web_device]
    finally:
        with seeded.engine.begin() as conn:
            conn.execute(update(RECORD).where(RECORD.c.device_id == web_device, RECORD.c.seq == edited)
                         .values(value=2))
    assert all(v.ok for v in chains.verify(seeded.engine))


def test_answers_outside_their_domain_or_a_second_entry_of_a_form_store_nothing(seeded: Seeded) -> None:
    before = reports.build(seeded.engine, ReportQuery(NOVEMBER, "channel", "CH"), SETTINGS).total
    for answers, meta, words in (
            (Answers(0), Meta("web"), "1 đến 5"),
            (Answers(4, {"access": 6}), Meta("web"), "access"),
            (Answers(4, {"waiting": 3}), Meta("web"), "waiting"),
            (Answers(4, comment="   "), Meta("web"), "Góp ý"),
            (Answers(4), Meta("entry", form_number=1), "Phiếu số 1"),
            (Answers(4), Meta("fax"), "fax")):
        with pytest.raises(ServerError, match=words):
            store(seeded.engine, seeded.secret, agency_code="CH", counter_code=None,
                  channel="paper" if meta.source == "entry" else "web", answers=answers, meta=meta,
                  recorded_at=at(19), now=at(19))
    with pytest.raises(ServerError, match="XX"):
        store(seeded.engine, seeded.secret, agency_code="XX", counter_code=None, channel="web", answers=Answers(5),
              meta=Meta("web"))
    assert reports.build(seeded.engine, ReportQuery(NOVEMBER, "channel", "CH"), SETTINGS).total == before
    assert replace(ReportQuery(NOVEMBER, "channel", "CH"), channel="web").channel == "web"


def test_the_device_list_says_each_device_s_channel(seeded: Seeded) -> None:
    listed = enrolment.list_devices(seeded.engine)
    assert {d["channel"] for d in listed if d["agency"] == "CH"} == {"kiosk", "web", "paper"}


def main(argv: list[str] | None = None) -> int:
    """Make the README's screenshots of results by channel: python -m tests.test_server_channels --screenshots DIR."""
    import argparse
    import tempfile

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, WIDE

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--screenshots", type=Path, required=True, metavar="DIR")
    args = parser.parse_args(argv)
    args.screenshots.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    with tempfile.TemporaryDirectory() as directory:
        seeded = seed(f"sqlite:///{directory}/server.db", Path(directory))
        try:
            session = _signed_in(seeded.server)
            base = {"agency": "CH", "period": "month", "date": DAY.isoformat(), "group": "channel"}
            page = session.get(seeded.server.url + "/dashboard", params=base, timeout=30).text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf
            published = session.post(seeded.server.url + "/dashboard/publish",
                                      data=base | {"csrf": csrf.group(1), "title": "Kết quả tháng 11/2026"},
                                      allow_redirects=False, timeout=30)
            number = re.search(r"published=(\d+)", published.headers["location"])
            assert number
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
                context = chromium.new_context(viewport=WIDE, locale="vi-VN")
                context.add_cookies([{"name": c.name, "value": c.value or "", "url": seeded.server.url}
                                     for c in session.cookies])
                tab = context.new_page()
                tab.goto(seeded.server.url + "/dashboard?" + "&".join(f"{k}={v}" for k, v in base.items()))
                made.append(args.screenshots / "server-dashboard-channels-1920x1080.png")
                tab.screenshot(path=str(made[-1]), full_page=True)
                context.close()
                phone = chromium.new_context(viewport=PHONE, locale="vi-VN")
                tab = phone.new_page()
                tab.goto(f"{seeded.server.url}/ket-qua/CH/{number.group(1)}")
                made.append(args.screenshots / "server-public-channels-390x844.png")
                tab.screenshot(path=str(made[-1]))
                phone.close()
                chromium.close()
        finally:
            seeded.server.stop()
    for path in made:
        print(path)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
