"""Alert rules checked against real ratings and sent through a real SMTP server on 127.0.0.1 (SQLite and PostgreSQL).

Each rule kind must fire once and only once across repeated checks and concurrent checkers, stay quiet below its
thresholds, survive the mail server being down (retried, then sent once), and produce e-mails an officer can read:
Vietnamese intact, naming the agency, counter and officer, the figures, the time in Vietnam time and a link.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from sync.server.alerts import checker, findings, rules
from sync.server.db import open_database, utc_now
from sync.server.models import ALERT_RULE, RATING
from tests import test_server_alerts_helpers as helpers
from tests.test_server_alerts_helpers import MailCatcher, events, mail_settings, make_place

smtp = helpers.smtp                    # fixtures shared with the other alert tests
server_engine = helpers.server_engine

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE = "phong.noivu@tinh.gov.vn"


def _local(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def test_a_dissatisfied_breach_is_mailed_once_naming_place_officer_figures_and_time(
        server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rule = rules.add_rule(server_engine, "HK", "Q01", "dissatisfied", share=0.5, window_h=24, min_ratings=4,
                           email_to=OFFICE)
    now = utc_now()
    place.rate("Q01", [1, 2], at=now - timedelta(hours=3), officer="CB001")
    place.rate("Q01", [2, 5], at=now - timedelta(hours=2), officer="CB002")
    settings = mail_settings(smtp)

    first = checker.check(server_engine, settings, now=now)
    assert (first.raised, first.sent, first.failed) == (1, 1, 0)
    for later in (now, now + timedelta(minutes=5), now + timedelta(hours=6)):
        again = checker.check(server_engine, settings, now=later)
        assert (again.raised, again.sent) == (0, 0)

    (received,) = smtp.messages
    assert received.rcpt_tos == [OFFICE]
    assert "75%" in received.subject and "không hài lòng" in received.subject and "dissatisfied" in received.subject
    assert "Quầy Tư pháp – Hộ tịch Q01" in received.subject
    body = received.body
    assert "3/4 lượt đánh giá" in body and "3 of 4 ratings" in body
    assert "Trung tâm Phục vụ hành chính công xã Hà Khê HK" in body
    # By officer, worst first, with names from the agency's register.
    assert body.index("CB001 Nguyễn Thị Hồng Nhung: 2/2") < body.index("CB002 Trần Văn Đức: 1/2")
    since = now - timedelta(hours=24)
    assert f"Từ {_local(since)} đến {_local(now)} (giờ Việt Nam)" in body
    assert f"\nFrom {_local(since)} to {_local(now)} (Vietnam time)" in body  # not mangled to ">From"
    assert "Rất không hài lòng 1" in body and "Very dissatisfied 1" in body
    assert "http://127.0.0.1:8080/dashboard?period=day" in body and "agency=HK" in body
    assert body.index("CẢNH BÁO") < body.index("ALERT")  # Vietnamese first
    (event,) = events(server_engine)
    assert event.rule_id == rule.id and event.sent_at is not None and event.attempts == 1
    assert event.subject == received.subject and event.last_error == ""


def test_mail_is_encoded_for_any_smtp_server_and_decodes_with_diacritics_intact(
        server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    place.rate("Q01", [1], at=utc_now() - timedelta(minutes=5), harassment=True,
               comment="Cán bộ đòi “bồi dưỡng” mới giải quyết hồ sơ; gọi lại cho tôi số 0912 345 678")
    assert checker.check(server_engine, mail_settings(smtp)).sent == 1
    (received,) = smtp.messages
    assert received.raw.isascii()  # RFC 2047 subject and quoted-printable body: no 8-bit data on the wire
    assert received.message.get_content_charset() == "utf-8"
    assert received.message["From"].addresses[0].display_name == "Kiosk Một cửa"
    assert received.message["Auto-Submitted"] == "auto-generated"
    assert "Phản ánh phiền hà, sách nhiễu" in received.subject
    assert "Cán bộ đòi “bồi dưỡng” mới giải quyết hồ sơ" in received.body
    assert "0912 345 678" not in received.body and "•••" in received.body  # a phone number is masked


@pytest.mark.parametrize(("levels", "share", "min_ratings"), [
    ([1, 2, 5, 5], 0.5, 4),      # exactly 50 %: not over the threshold
    ([1, 1, 1], 0.5, 4),         # every rating bad, but too few
    ([3, 3, 4, 5, 5], 0.0, 1),   # nobody dissatisfied: 0 % is not over 0 %
])
def test_no_alert_at_or_below_the_threshold_or_below_min_ratings(server_engine: Engine, smtp: MailCatcher,
                                                                 levels: list[int], share: float,
                                                                 min_ratings: int) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", "Q01", "dissatisfied", share=share, window_h=24, min_ratings=min_ratings,
                    email_to=OFFICE)
    now = utc_now()
    place.rate("Q01", levels, at=now - timedelta(hours=1))
    result = checker.check(server_engine, mail_settings(smtp), now=now)
    assert (result.raised, result.sent) == (0, 0)
    assert smtp.messages == [] and events(server_engine) == []


def test_one_more_bad_rating_over_min_ratings_fires(server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", "Q01", "dissatisfied", share=0.5, window_h=24, min_ratings=4,
                    email_to=OFFICE)
    now = utc_now()
    place.rate("Q01", [1, 1, 1], at=now - timedelta(hours=2))
    assert checker.check(server_engine, mail_settings(smtp), now=now).raised == 0
    place.rate("Q01", [2], at=now - timedelta(hours=1))
    assert checker.check(server_engine, mail_settings(smtp), now=now).sent == 1
    assert "4/4" in smtp.messages[0].body and "100%" in smtp.messages[0].subject


def test_test_ratings_suspected_repeats_other_counters_and_old_ratings_do_not_count(
        server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    now = utc_now()
    place.rate("Q01", [1, 1, 5, 5], at=now - timedelta(hours=2))          # 50 %: not over
    place.rate("Q01", [1, 1], at=now - timedelta(hours=2), is_test=True)  # counted, these would make it 4/6
    place.rate("Q01", [1], at=now - timedelta(hours=2), repeat=True)
    place.rate("Q02", [1, 1, 1, 1], at=now - timedelta(hours=2))          # another counter
    place.rate("Q01", [1, 1, 1, 1], at=now - timedelta(hours=25))         # before the 24-hour window
    rules.add_rule(server_engine, "HK", "Q01", "dissatisfied", share=0.5, window_h=24, min_ratings=4,
                    email_to=OFFICE)
    assert checker.check(server_engine, mail_settings(smtp), now=now).raised == 0
    # A lower threshold shows which ratings were counted: the four real ones at Q01 in the window.
    rules.add_rule(server_engine, "HK", "Q01", "dissatisfied", share=0.4, window_h=24, min_ratings=4,
                    email_to="lanh.dao@tinh.gov.vn")
    # The whole agency counts both counters: 6 of 8.
    rules.add_rule(server_engine, "HK", None, "dissatisfied", share=0.5, window_h=24, min_ratings=4,
                    email_to="ubnd@tinh.gov.vn")
    result = checker.check(server_engine, mail_settings(smtp), now=now)
    assert (result.raised, result.sent) == (2, 2)
    (counter_mail,) = smtp.to("lanh.dao@tinh.gov.vn")
    assert "2/4 lượt" in counter_mail.body
    (agency_mail,) = smtp.to("ubnd@tinh.gov.vn")
    assert "6/8 lượt" in agency_mail.body and "toàn cơ quan" in agency_mail.body


def test_the_same_breach_never_sends_twice_and_a_new_breach_in_a_later_window_does(
        server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", "Q01", "dissatisfied", share=0.5, window_h=24, min_ratings=4,
                    email_to=OFFICE)
    settings = mail_settings(smtp)
    t0 = utc_now()
    place.rate("Q01", [1, 1, 1, 1], at=t0 - timedelta(hours=1))
    assert checker.check(server_engine, settings, now=t0).sent == 1
    # The same four ratings stay in the window for another 23 hours: no second mail about them.
    assert checker.check(server_engine, settings, now=t0 + timedelta(hours=2)).raised == 0
    place.rate("Q01", [1, 2, 1], at=t0 + timedelta(hours=3))
    assert checker.check(server_engine, settings, now=t0 + timedelta(hours=4)).raised == 0  # 3 new: too few
    place.rate("Q01", [2], at=t0 + timedelta(hours=5))
    assert checker.check(server_engine, settings, now=t0 + timedelta(hours=6)).sent == 1     # 4 new: a new breach
    assert checker.check(server_engine, settings, now=t0 + timedelta(hours=40)).raised == 0
    assert len(smtp.messages) == 2 and "4/4" in smtp.messages[1].body
    keys = [e.occurrence for e in events(server_engine)]
    assert keys[0].startswith("window:") and keys[1] == f"after:{events(server_engine)[0].id}"


def test_each_harassment_report_is_mailed_once_with_officer_and_masked_comment(
        server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    now = utc_now()
    # Received long before the rule existed: a new rule does not mail the past.
    place.rate("Q01", [1], at=now - timedelta(days=3), harassment=True, received_at=now - timedelta(days=3))
    rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    first, second = place.rate("Q02", [2, 1], at=now - timedelta(minutes=30), officer="CB002", harassment=True,
                               comment="Liên hệ tôi qua email dan@example.com")
    place.rate("Q02", [5], at=now - timedelta(minutes=20), harassment=False)
    place.rate("Q02", [1], at=now - timedelta(minutes=10), harassment=True, is_test=True)
    settings = mail_settings(smtp)
    assert checker.check(server_engine, settings, now=now).sent == 2
    assert checker.check(server_engine, settings, now=now + timedelta(minutes=1)).raised == 0
    assert sorted(e.occurrence for e in events(server_engine)) == sorted([first, second])
    mail = next(m for m in smtp.messages if first in m.body)
    assert "Quầy Tư pháp – Hộ tịch Q02" in mail.subject
    assert "Cán bộ trực: CB002 Trần Văn Đức" in mail.body and "Officer on duty: CB002 Trần Văn Đức" in mail.body
    assert "Mức hài lòng: Không hài lòng" in mail.body
    assert f"{_local(now - timedelta(minutes=30))} (giờ Việt Nam)" in mail.body
    assert "dan@example.com" not in mail.body and "•••" in mail.body
    (third,) = place.rate("Q01", [3], at=now + timedelta(minutes=2), harassment=True, officer=None)
    assert checker.check(server_engine, settings, now=now + timedelta(minutes=3)).sent == 1
    assert third in smtp.messages[-1].body and "(không ghi cán bộ)" in smtp.messages[-1].body
    assert len(smtp.messages) == 3


def test_a_silent_device_is_mailed_once_per_silence(server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine, counters=("Q01", "Q02", "Q03"))
    now = utc_now()
    quiet = place.contact("Q01", now - timedelta(hours=30))
    place.contact("Q02", now - timedelta(hours=1))
    # Q03's device is still pending (never enrolled): not a silent kiosk.
    rules.add_rule(server_engine, "HK", None, "silent", email_to=OFFICE)
    rules.add_rule(server_engine, "HK", None, "silent", window_h=48, email_to="it@tinh.gov.vn")
    settings = mail_settings(smtp)
    assert checker.check(server_engine, settings, now=now).sent == 1
    assert checker.check(server_engine, settings, now=now + timedelta(hours=2)).raised == 0
    (mail,) = smtp.messages
    assert mail.rcpt_tos == [OFFICE]
    assert "kiosk-q01" in mail.subject and "im lặng 30 giờ" in mail.subject and "silent for 30 h" in mail.subject
    assert quiet in mail.body and f"Liên lạc lần cuối: {_local(now - timedelta(hours=30))}" in mail.body
    assert "/fleet" in mail.body
    # It calls again, then falls silent again: a new silence, a new mail (and the 48-hour rule's first).
    place.contact("Q01", now + timedelta(hours=3))
    assert checker.check(server_engine, settings, now=now + timedelta(hours=4)).raised == 0
    place.contact("Q02", now + timedelta(hours=51))  # Q02 keeps calling
    assert checker.check(server_engine, settings, now=now + timedelta(hours=3 + 49)).sent == 2
    assert len(smtp.to(OFFICE)) == 2 and len(smtp.to("it@tinh.gov.vn")) == 1


def test_concurrent_checkers_send_each_alert_once(server_db_url: str, server_engine: Engine,
                                                  smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    now = utc_now()
    rules.add_rule(server_engine, "HK", "Q01", "dissatisfied", share=0.5, window_h=24, min_ratings=4,
                    email_to=OFFICE)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    rules.add_rule(server_engine, "HK", None, "silent", email_to=OFFICE)
    place.rate("Q01", [1, 1, 2, 2], at=now - timedelta(hours=1), harassment=True)
    place.contact("Q02", now - timedelta(days=2))
    settings = mail_settings(smtp)
    engines = [open_database(server_db_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    results: list[checker.CheckResult] = []

    def check(engine: Engine) -> None:
        start.wait()
        results.append(checker.check(engine, settings, now=now))

    threads = [threading.Thread(target=check, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert len(results) == 4
    # 1 dissatisfied + 4 harassment reports + 1 silent device, each raised and sent by exactly one checker.
    assert sum(r.raised for r in results) == 6 and sum(r.sent for r in results) == 6
    assert len(smtp.messages) == 6 and len({m.message["Message-ID"] for m in smtp.messages}) == 6
    assert all(e.sent_at is not None and e.attempts == 1 for e in events(server_engine))


def test_the_unique_claim_alone_lets_one_of_two_racing_claims_win(server_db_url: str, server_engine: Engine,
                                                                  smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    now = utc_now()
    rule = rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    place.rate("Q01", [1, 2, 3], at=now - timedelta(minutes=5), harassment=True)
    found = findings.evaluate(server_engine, mail_settings(smtp), rule.id, now)
    assert len(found) == 3
    engines = [open_database(server_db_url) for _ in range(2)]
    start = threading.Barrier(2)
    claimed: list[int] = []

    def racer(engine: Engine) -> None:
        start.wait()
        claimed.append(checker.claim(engine, rule.id, found, now))

    threads = [threading.Thread(target=racer, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert sorted(claimed) == [0, 3] and len(events(server_engine)) == 3
    assert findings.evaluate(server_engine, mail_settings(smtp), rule.id, now) == []


def test_smtp_down_is_logged_changes_nothing_else_and_the_alert_is_sent_once_later(
        server_engine: Engine, smtp: MailCatcher, caplog: pytest.LogCaptureFixture) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    now = utc_now()
    place.rate("Q01", [1, 1], at=now - timedelta(minutes=5), harassment=True)
    settings = mail_settings(smtp)
    smtp.stop()
    before = snapshot(server_engine)
    with caplog.at_level(logging.ERROR, logger="sync.server.alerts.checker"):
        down = checker.check(server_engine, settings, now=now)
        again = checker.check(server_engine, settings, now=now + timedelta(minutes=5))
    assert snapshot(server_engine) == before
    assert (down.raised, down.sent, down.failed) == (2, 0, 1) and (again.raised, again.sent) == (0, 0)
    (vi, en), = down.errors
    assert f"127.0.0.1:{smtp.port}" in vi and "Không kết nối được máy chủ thư" in vi
    assert "cannot connect to the mail server" in en
    assert "cannot connect to the mail server" in caplog.text
    assert all(e.sent_at is None and e.attempts == 2 and "Không kết nối được" in e.last_error
               for e in events(server_engine))
    smtp.start()
    up = checker.check(server_engine, settings, now=now + timedelta(minutes=10))
    assert (up.raised, up.sent, up.failed) == (0, 2, 0)
    assert checker.check(server_engine, settings, now=now + timedelta(minutes=15)).sent == 0
    assert len(smtp.messages) == 2
    assert all(e.sent_at is not None and e.attempts == 3 and e.last_error == "" for e in events(server_engine))


def snapshot(engine: Engine) -> list[object]:
    """The rules and ratings as stored (what a failed send must not change)."""
    with engine.connect() as conn:
        return [list(conn.execute(select(ALERT_RULE).order_by(ALERT_RULE.c.id)).all()),
                list(conn.execute(select(RATING).order_by(RATING.c.uuid)).all())]


def test_without_a_mail_server_alerts_are_recorded_with_the_reason_and_sent_once_one_is_set(
        server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    now = utc_now()
    place.rate("Q01", [2], at=now - timedelta(minutes=5), harassment=True)
    unset = mail_settings(smtp, smtp_host="")
    result = checker.check(server_engine, unset, now=now)
    assert (result.raised, result.sent, result.failed) == (1, 0, 0)
    (event,) = events(server_engine)
    assert event.attempts == 0 and "Chưa cấu hình máy chủ thư" in event.last_error and "smtp_host" in event.last_error
    assert checker.check(server_engine, mail_settings(smtp), now=now + timedelta(minutes=1)).sent == 1
    assert len(smtp.messages) == 1


def test_an_alert_unsent_for_longer_than_retry_for_h_is_left_alone(server_engine: Engine,
                                                                    smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    now = utc_now()
    place.rate("Q01", [1], at=now - timedelta(minutes=5), harassment=True)
    smtp.stop()
    settings = mail_settings(smtp, retry_for_h=2.0)
    assert checker.check(server_engine, settings, now=now).failed == 1
    smtp.start()
    assert checker.check(server_engine, settings, now=now + timedelta(hours=3)).sent == 0
    (event,) = events(server_engine)
    assert event.sent_at is None and event.attempts == 1 and smtp.messages == []


def test_a_removed_rule_stops_raising_and_its_unsent_alerts_are_not_sent(server_engine: Engine,
                                                                         smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rule = rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    now = utc_now()
    place.rate("Q01", [1], at=now - timedelta(minutes=5), harassment=True)
    smtp.stop()
    assert checker.check(server_engine, mail_settings(smtp), now=now).raised == 1
    rules.remove_rule(server_engine, rule.id)
    smtp.start()
    place.rate("Q01", [1], at=now, harassment=True)
    result = checker.check(server_engine, mail_settings(smtp), now=now + timedelta(minutes=1))
    assert (result.raised, result.sent) == (0, 0) and smtp.messages == []
    assert len(events(server_engine)) == 1  # the past alert stays on record


def test_a_refused_recipient_does_not_stop_the_others_and_all_refused_is_retried(server_engine: Engine,
                                                                                 smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", "Q01", "harassment", email_to="refuse@tinh.gov.vn,noivu@tinh.gov.vn")
    rules.add_rule(server_engine, "HK", "Q02", "harassment", email_to="refuse.me@tinh.gov.vn")
    now = utc_now()
    place.rate("Q01", [1], at=now - timedelta(minutes=5), harassment=True)
    place.rate("Q02", [1], at=now - timedelta(minutes=5), harassment=True)
    result = checker.check(server_engine, mail_settings(smtp), now=now)
    assert (result.raised, result.sent, result.failed) == (2, 1, 1)
    (delivered,) = smtp.messages
    assert delivered.rcpt_tos == ["noivu@tinh.gov.vn"]
    partly, refused = events(server_engine)
    assert partly.sent_at is not None and "refuse@tinh.gov.vn: 550" in partly.last_error
    assert refused.sent_at is None and refused.attempts == 1 and "550" in refused.last_error
    (vi, en), = result.errors
    assert "không nhận thư" in vi and "did not take the message" in en


def test_active_alerts_lists_what_the_dashboard_shows(server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    other = make_place(server_engine, agency="XT", counters=("Q09",))
    rules.add_rule(server_engine, "HK", "Q01", "harassment", email_to=OFFICE)
    rules.add_rule(server_engine, "XT", None, "silent", email_to=OFFICE)
    now = utc_now()
    place.rate("Q01", [1], at=now - timedelta(minutes=5), harassment=True)
    other.contact("Q09", now - timedelta(days=3))
    smtp.stop()
    checker.check(server_engine, mail_settings(smtp, smtp_timeout_s=1.0), now=now)
    smtp.start()
    place.rate("Q01", [2], at=now + timedelta(minutes=1), harassment=True)
    checker.check(server_engine, mail_settings(smtp), now=now + timedelta(minutes=2))

    shown = checker.active_alerts(server_engine)
    assert [a.kind for a in shown] == ["harassment", "silent", "harassment"]  # newest first
    newest = shown[0]
    assert (newest.agency_code, newest.counter_code, newest.counter_name) == ("HK", "Q01",
                                                                              "Quầy Tư pháp – Hộ tịch Q01")
    assert newest.agency_name == "Trung tâm Phục vụ hành chính công xã Hà Khê HK"
    assert newest.sent_at is not None and newest.kind_label() == "Phản ánh phiền hà, sách nhiễu"
    assert newest.subject == smtp.messages[-1].subject
    silent = shown[1]
    assert silent.counter_code is None and silent.kind_label("en") == "Silent device"
    assert all(a.sent_at is not None for a in shown)  # the first round failed; the second sent all three
    assert [a.kind for a in checker.active_alerts(server_engine, "XT")] == ["silent"]
    assert checker.active_alerts(server_engine, since=now + timedelta(minutes=1)) == shown[:1]
    assert datetime.fromisoformat(newest.as_json()["created_at"]) == newest.created_at == now + timedelta(minutes=2)


def test_a_checker_finding_another_at_work_says_busy_and_touches_nothing(server_engine: Engine,
                                                                          smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    place.rate("Q01", [1], at=utc_now() - timedelta(minutes=5), harassment=True)
    settings = mail_settings(smtp)
    with checker._exclusive(server_engine, 0) as mine:  # another server process, mid-check
        assert mine
        busy = checker.check(server_engine, settings, wait_s=0.3)
    assert busy.busy and (busy.raised, busy.sent) == (0, 0) and events(server_engine) == []
    assert checker.check(server_engine, settings, wait_s=0.3).sent == 1


def test_the_background_checker_sends_on_its_own_and_stops(server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    rules.add_rule(server_engine, "HK", None, "harassment", email_to=OFFICE)
    off = checker.BackgroundChecker(server_engine, mail_settings(smtp, check_interval_s=0.0))
    off.start()
    assert not any(t.name == "alert-checker" for t in threading.enumerate())
    background = checker.BackgroundChecker(server_engine, mail_settings(smtp, check_interval_s=1.0))
    background.start()
    try:
        place.rate("Q01", [2], at=utc_now(), harassment=True)
        assert len(smtp.wait_for(1)) == 1
    finally:
        background.stop()
    assert not any(t.name == "alert-checker" for t in threading.enumerate())
