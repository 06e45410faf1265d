"""Feedback cases: made once from every channel's comments and harassment reports, due dates in working days,
status changes validated and safe against a concurrent change, the reply e-mailed exactly once, the overdue alert
over a weekend and a holiday, and the report's figures against hand-worked numbers (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from kiosk.domain.settings_file import SettingsError
from sync.server import cli
from sync.server.alerts import checker, rules
from sync.server.cases import reply_mail, store, workdays
from sync.server.db import open_database, writing
from sync.server.models import CASE_EVENT, DEVICE, FEEDBACK_CASE, RATING
from sync.server.settings import Cases, ServerSettings, parse
from tests import test_server_alerts_helpers as helpers
from tests.test_server_alerts_helpers import MailCatcher, Place, mail_settings, make_place

server_engine = helpers.server_engine
smtp = helpers.smtp
VN = timedelta(hours=7)
# 2026: Friday 1 May is Labour Day and Monday 4 May is taken as a holiday here; Saturday 9 May a make-up day.
HOLIDAYS = ["2026-05-01", "2026-05-04"]


def at_vn(day: date, hour: int = 10) -> datetime:
    """`hour` o'clock Vietnam time on `day`, in UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - VN


def case_settings(base: ServerSettings | None = None, days: int = 2, holidays: list[str] | None = None,
                  working: list[str] | None = None) -> ServerSettings:
    """Settings with a [cases] calendar."""
    return dataclasses.replace(base or ServerSettings(), cases=Cases(days, holidays if holidays is not None
                                                                     else HOLIDAYS, working or []))


def callback(engine: Engine, uuid: str) -> None:
    """Mark a rating as a callback request, as the kiosk's answer folds in."""
    with writing(engine) as conn:
        conn.execute(update(RATING).where(RATING.c.uuid == uuid).values(callback=True))


# ---- working days (pure) ----------------------------------------------------------------------------------------

def test_due_date_skips_the_weekend() -> None:
    # Thursday 8 Jan 2026 + 2 working days: Friday 9, (Sat, Sun), Monday 12.
    assert workdays.due_date(date(2026, 1, 8), 2) == date(2026, 1, 12)
    assert workdays.due_date(date(2026, 1, 10), 1) == date(2026, 1, 12)   # received on a Saturday


def test_due_date_skips_a_holiday_and_counts_a_make_up_saturday() -> None:
    holidays = {date(2026, 5, 1), date(2026, 5, 4)}
    # Thursday 30 April + 2: Friday 1 May holiday, weekend, Monday 4 holiday → Tuesday 5, Wednesday 6.
    assert workdays.due_date(date(2026, 4, 30), 2, holidays) == date(2026, 5, 6)
    # With Saturday 2 May a make-up working day: Saturday 2, Tuesday 5.
    assert workdays.due_date(date(2026, 4, 30), 2, holidays, {date(2026, 5, 2)}) == date(2026, 5, 5)
    assert workdays.working_days_between(date(2026, 4, 30), date(2026, 5, 6), holidays) == 2
    assert workdays.working_days_between(date(2026, 4, 30), date(2026, 4, 30), holidays) == 0


def test_settings_read_the_calendar_and_refuse_a_bad_date_naming_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    good = parse('[cases]\nanswer_within_days = 5\nholidays = ["2026-09-02"]\nworking_days = ["2026-05-09"]\n', path)
    assert good.cases.answer_within_days == 5
    assert workdays.calendar(good) == (frozenset({date(2026, 9, 2)}), frozenset({date(2026, 5, 9)}))
    with pytest.raises(SettingsError) as caught:
        parse('[cases]\nholidays = ["2026-09-02", "2/9/2026"]\n', path)
    assert "cases.holidays[1]" in str(caught.value) and "server.toml" in str(caught.value)
    assert "YYYY-MM-DD" in caught.value.vi and "YYYY-MM-DD" in caught.value.en
    with pytest.raises(SettingsError) as caught:   # both off and worked: it silently counted as worked
        parse('[cases]\nholidays = ["2026-09-02"]\nworking_days = ["2026-09-02"]\n', path)
    assert "cases.working_days[0]" in str(caught.value) and "server.toml" in str(caught.value)
    assert "cases.holidays" in caught.value.vi and "one list only" in caught.value.en
    with pytest.raises(SettingsError) as caught:
        parse("[cases]\nanswer_within_days = 0\n", path)
    assert "cases.answer_within_days" in str(caught.value)


def test_the_example_settings_file_spells_out_the_defaults() -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "server.toml"
    assert parse(example.read_text(encoding="utf-8"), example).cases == ServerSettings().cases


# ---- cases from ratings ------------------------------------------------------------------------------------------

def test_comments_harassment_and_callbacks_of_every_channel_become_cases_once(server_engine: Engine) -> None:
    place = make_place(server_engine)
    settings = case_settings()
    thursday = date(2026, 4, 30)
    comment = place.rate("Q01", [2], at=at_vn(thursday), comment="Chờ quá lâu")[0]
    harassed = place.rate("Q01", [1], at=at_vn(thursday), harassment=True, comment="Bị đòi tiền")[0]
    asked = place.rate("Q02", [3], at=at_vn(thursday), comment="Gọi lại giúp tôi 0912 345 678, an@vi.du")[0]
    callback(server_engine, asked)
    place.rate("Q01", [5], at=at_vn(thursday))                               # no comment: no case
    place.rate("Q01", [1], at=at_vn(thursday), comment="thử", is_test=True)  # a test rating: no case
    with writing(server_engine) as conn:   # the second counter's device answers on paper
        conn.execute(update(DEVICE).where(DEVICE.c.id == place.devices["Q02"]).values(channel="paper"))
    assert store.sync_from_ratings(server_engine, settings) == 3
    assert store.sync_from_ratings(server_engine, settings) == 0   # idempotent
    cases = {c.rating_uuid: c for c in store.list_cases(server_engine, settings)}
    assert set(cases) == {comment, harassed, asked}
    assert cases[harassed].kind == "harassment" and cases[comment].kind == "comment"
    assert cases[asked].channel == "paper" and cases[comment].channel == "kiosk"
    assert (cases[asked].contact_phone, cases[asked].contact_email) == ("0912 345 678", "an@vi.du")
    assert (cases[comment].contact_phone, cases[comment].contact_email) == ("", "")
    assert all(c.due_on == date(2026, 5, 6) and c.status == "new" for c in cases.values())
    history = store.get_case(server_engine, cases[comment].id).events
    assert [(e.action, e.to_status) for e in history] == [("create", "new")]


def test_a_callback_or_comment_arriving_in_a_later_push_reaches_an_untouched_case(server_engine: Engine) -> None:
    place = make_place(server_engine)
    settings = case_settings()
    first = place.rate("Q01", [1], at=at_vn(date(2026, 5, 5)), harassment=True)[0]   # the comment comes later
    second = place.rate("Q01", [2], at=at_vn(date(2026, 5, 5)), comment="Gọi 0912 345 678")[0]
    store.sync_from_ratings(server_engine, settings)
    with writing(server_engine) as conn:
        conn.execute(update(RATING).where(RATING.c.uuid == first).values(comment="Bị đòi tiền, gọi 0987654321",
                                                                         callback=True))
    callback(server_engine, second)
    assert store.sync_from_ratings(server_engine, settings) == 0
    cases = {c.rating_uuid: c for c in store.list_cases(server_engine, settings)}
    assert (cases[first].text, cases[first].contact_phone) == ("Bị đòi tiền, gọi 0987654321", "0987654321")
    assert cases[second].contact_phone == "0912 345 678"
    # Once an officer has acted, the case keeps what they saw.
    store.assign(server_engine, cases[second].id, assignee="Chị Lan", actor="lan", version=cases[second].version)
    with writing(server_engine) as conn:
        conn.execute(update(RATING).where(RATING.c.uuid == second).values(comment="Khác"))
    store.sync_from_ratings(server_engine, settings)
    assert store.get_case(server_engine, cases[second].id).text == "Gọi 0912 345 678"


def test_two_workers_making_cases_at_once_make_each_once(server_db_url: str, server_engine: Engine) -> None:
    place = make_place(server_engine)
    place.rate("Q01", [2] * 40, at=at_vn(date(2026, 4, 30)), comment="Góp ý")
    engines = [open_database(server_db_url) for _ in range(2)]
    made: list[int] = []
    barrier = threading.Barrier(2)

    def work(engine: Engine) -> None:
        barrier.wait()
        made.append(store.sync_from_ratings(engine, case_settings()))

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    with server_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FEEDBACK_CASE)).scalar() == 40
        assert conn.execute(select(func.count()).select_from(CASE_EVENT)).scalar() == 40
    assert sum(made) == 40


def _one_case(engine: Engine, place: Place, text: str = "Thủ tục chậm") -> store.Case:
    place.rate("Q01", [2], at=at_vn(date(2026, 4, 30)), comment=text)
    store.sync_from_ratings(engine, case_settings())
    return store.list_cases(engine, case_settings())[0]


def test_statuses_move_as_allowed_with_history_and_refuse_the_rest_in_both_languages(server_engine: Engine) -> None:
    case = _one_case(server_engine, make_place(server_engine))
    with pytest.raises(store.CaseError) as caught:
        store.assign(server_engine, case.id, assignee="  ", actor="lan", version=case.version)
    assert "Cần nhập" in caught.value.vi and "is needed" in caught.value.en
    with pytest.raises(store.CaseError):
        store.answer(server_engine, case.id, reply="", actor="lan", version=case.version)
    assert store.get_case(server_engine, case.id).version == case.version   # nothing changed
    case = store.assign(server_engine, case.id, assignee="Bộ phận Tư pháp", actor="lan", version=case.version)
    assert (case.status, case.assignee) == ("assigned", "Bộ phận Tư pháp")
    case = store.answer(server_engine, case.id, reply="Đã chấn chỉnh.", actor="lan", version=case.version)
    assert case.status == "answered" and case.mail_status == ""   # no e-mail address: nothing to send
    with pytest.raises(store.CaseError) as caught:
        store.assign(server_engine, case.id, assignee="X", actor="lan", version=case.version)
    assert "Đã trả lời" in caught.value.vi and "'Answered'" in caught.value.en
    case = store.close(server_engine, case.id, actor="lan", version=case.version)
    assert case.status == "closed"
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in case.events] == [
        ("create", "", "new", ""), ("assign", "new", "assigned", "lan"), ("answer", "assigned", "answered", "lan"),
        ("close", "answered", "closed", "lan")]
    with pytest.raises(store.CaseError) as caught:
        store.get_case(server_engine, 99999)
    assert "99999" in caught.value.vi and "no case" in caught.value.en


def test_closing_an_unanswered_case_needs_a_reason(server_engine: Engine) -> None:
    case = _one_case(server_engine, make_place(server_engine))
    with pytest.raises(store.CaseError) as caught:
        store.close(server_engine, case.id, actor="lan", version=case.version)
    assert "lý do" in caught.value.vi and "reason" in caught.value.en
    closed = store.close(server_engine, case.id, actor="lan", version=case.version, note="Không phải yêu cầu")
    assert closed.status == "closed" and closed.events[-1].note == "Không phải yêu cầu"


def test_a_change_made_meanwhile_by_someone_else_is_refused_not_overwritten(server_engine: Engine) -> None:
    case = _one_case(server_engine, make_place(server_engine))
    store.assign(server_engine, case.id, assignee="Chị Lan", actor="a", version=case.version)
    with pytest.raises(store.CaseConflict) as caught:   # b still has the page of version 0
        store.assign(server_engine, case.id, assignee="Anh Đức", actor="b", version=case.version)
    assert "tải lại trang" in caught.value.vi and "reload" in caught.value.en
    assert store.get_case(server_engine, case.id).assignee == "Chị Lan"


def test_publishing_masks_contacts_and_freezes_until_withdrawn(server_engine: Engine) -> None:
    case = _one_case(server_engine, make_place(server_engine), "Gọi tôi 0912 345 678")
    with pytest.raises(store.CaseError):
        store.publish(server_engine, case.id, question="x", actor="lan", version=case.version)   # no reply yet
    case = store.answer(server_engine, case.id, reply="Đã gọi lại.", actor="lan", version=case.version)
    case = store.publish(server_engine, case.id, question=case.text, actor="lan", version=case.version)
    assert case.published_question == "Gọi tôi •••" and case.published_reply == "Đã gọi lại."
    with pytest.raises(store.CaseError) as caught:
        store.withdraw(server_engine, case.id, actor="lan", version=case.version - 1)   # a stale page
    assert "tải lại" in caught.value.vi
    with pytest.raises(store.CaseError) as caught:
        store.publish(server_engine, case.id, question="khác", actor="lan", version=case.version)
    assert "gỡ xuống" in caught.value.vi and "withdraw" in caught.value.en
    assert [q for q, _r, _at in store.published(server_engine, "HK")] == ["Gọi tôi •••"]
    case = store.withdraw(server_engine, case.id, actor="lan", version=case.version)
    assert case.published_at is None and store.published(server_engine, "HK") == []
    with pytest.raises(store.CaseError) as caught:
        store.publish(server_engine, case.id, question="Câu hỏi", reply=" ", actor="lan", version=case.version)
    assert "câu trả lời để công khai" in caught.value.vi and "the reply to publish" in caught.value.en
    case = store.publish(server_engine, case.id, question="Câu hỏi, sửa lại", reply="Đã gọi lại ông qua 0912345678",
                         actor="lan", version=case.version)
    assert (case.published_question, case.published_reply) == ("Câu hỏi, sửa lại", "Đã gọi lại ông qua •••")


# ---- the reply by e-mail ------------------------------------------------------------------------------------------

def test_the_reply_is_mailed_once_and_a_failure_keeps_it_for_the_next_round(server_engine: Engine,
                                                                           smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    uuid = place.rate("Q01", [2], at=at_vn(date(2026, 4, 30)), comment="Xin trả lời qua thư dan@vi.du")[0]
    callback(server_engine, uuid)
    store.sync_from_ratings(server_engine, case_settings())
    case = store.list_cases(server_engine, case_settings())[0]
    case = store.answer(server_engine, case.id, reply="Kính gửi ông, hồ sơ đã xong.", actor="lan",
                        version=case.version)
    assert case.mail_status == "pending"
    down = mail_settings(None)    # nothing listens there: the reply waits, untouched
    assert reply_mail.send_pending(server_engine, down) == (0, 1)
    waiting = store.get_case(server_engine, case.id)
    assert waiting.mail_status == "pending" and waiting.reply == "Kính gửi ông, hồ sơ đã xong." and waiting.mail_error
    assert reply_mail.send_pending(server_engine, mail_settings(smtp)) == (1, 0)
    assert reply_mail.send_pending(server_engine, mail_settings(smtp)) == (0, 0)   # never twice
    received = smtp.wait_for(1)
    assert len(received) == 1 and received[0].rcpt_tos == ["dan@vi.du"]
    assert "Kính gửi ông, hồ sơ đã xong." in received[0].body and "Xin trả lời qua thư" in received[0].body
    assert store.get_case(server_engine, case.id).mail_status == "sent"
    assert not reply_mail.requeue(server_engine, case.id, "lan")   # only a reply stuck mid-send goes back


def test_a_reply_left_mid_send_is_not_resent_until_the_office_says_so(server_engine: Engine,
                                                                      smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    uuid = place.rate("Q01", [2], at=at_vn(date(2026, 4, 30)), comment="Trả lời qua thư b@vi.du")[0]
    callback(server_engine, uuid)
    store.sync_from_ratings(server_engine, case_settings())
    case = store.list_cases(server_engine, case_settings())[0]
    store.answer(server_engine, case.id, reply="Đã xong", actor="lan", version=case.version)
    with writing(server_engine) as conn:   # as a server killed between the claim and the send leaves it
        conn.execute(update(FEEDBACK_CASE).where(FEEDBACK_CASE.c.id == case.id).values(mail_status="sending"))
    assert reply_mail.send_pending(server_engine, mail_settings(smtp)) == (0, 0)
    assert reply_mail.requeue(server_engine, case.id, "lan")
    assert reply_mail.send_pending(server_engine, mail_settings(smtp)) == (1, 0)
    assert len(smtp.wait_for(1)) == 1
    assert [e.action for e in store.get_case(server_engine, case.id).events][-2:] == ["requeue", "mail"]


# ---- the overdue alert ----------------------------------------------------------------------------------------------

def test_a_case_from_friday_before_a_holiday_monday_is_overdue_only_after_the_working_days(
        server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    friday = date(2026, 5, 8)    # the next Monday 11 May is a holiday here; 2 working days: Tue 12, Wed 13
    settings = case_settings(mail_settings(smtp), days=2, holidays=["2026-05-11"])
    place.rate("Q01", [1], at=at_vn(friday, 16), comment="Không ai hướng dẫn")
    rule = rules.add_rule(server_engine, "HK", None, "case_overdue",
                          email_to="truong@hk.gov.vn")
    assert rule.kind == "case_overdue"
    for day in (date(2026, 5, 9), date(2026, 5, 10), date(2026, 5, 11), date(2026, 5, 12), date(2026, 5, 13)):
        result = checker.check(server_engine, settings, now=at_vn(day, 18))
        assert result.raised == 0, day   # weekend, holiday, then the two working days to answer
    assert store.list_cases(server_engine, settings, overdue=True, now=at_vn(date(2026, 5, 13), 18)) == []
    result = checker.check(server_engine, settings, now=at_vn(date(2026, 5, 14), 8))
    assert result.raised == 1 and result.sent == 1
    assert checker.check(server_engine, settings, now=at_vn(date(2026, 5, 15), 8)).raised == 0   # once per case
    message = smtp.wait_for(1)[0]
    assert "quá hạn" in message.subject and "overdue" in message.subject
    assert "13/05/2026" in message.body and "Không ai hướng dẫn" in message.body


def test_an_answered_case_raises_no_overdue_alert(server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    settings = case_settings(mail_settings(smtp), days=1, holidays=[])
    place.rate("Q01", [1], at=at_vn(date(2026, 5, 8)), comment="Chậm")
    rules.add_rule(server_engine, "HK", None, "case_overdue", email_to="truong@hk.gov.vn")
    checker.check(server_engine, settings, now=at_vn(date(2026, 5, 8), 12))
    case = store.list_cases(server_engine, settings)[0]
    store.answer(server_engine, case.id, reply="Đã xử lý", actor="lan", version=case.version)
    assert checker.check(server_engine, settings, now=at_vn(date(2026, 5, 20))).raised == 0


# ---- the report -----------------------------------------------------------------------------------------------------

def test_report_figures_match_hand_worked_numbers(server_engine: Engine) -> None:
    place = make_place(server_engine)
    make_place(server_engine, "TP", ("T01",)).rate("T01", [2], at=at_vn(date(2026, 5, 5)), comment="TP")
    settings = case_settings(days=2, holidays=["2026-05-01", "2026-05-04"])
    # Four cases in May at HK: received Tue 5 (due Thu 7), Wed 6 (due Fri 8), Thu 7 (due Mon 11), Fri 29 (due Tue 2
    # June); one in April (Thu 30, due Wed 6 May) is outside the period.
    days = [date(2026, 5, 5), date(2026, 5, 6), date(2026, 5, 7), date(2026, 5, 29), date(2026, 4, 30)]
    for day in days:
        place.rate("Q01", [2], at=at_vn(day), comment=f"Góp ý {day}")
    store.sync_from_ratings(server_engine, settings)
    cases = {c.recorded_at.astimezone(UTC).date(): c for c in store.list_cases(server_engine, settings, agency="HK")}
    replies = {date(2026, 5, 5): date(2026, 5, 6),    # 1 working day, on time
               date(2026, 5, 6): date(2026, 5, 11),   # Thu 7, Fri 8, Mon 11: 3 working days, late (due Fri 8)
               date(2026, 5, 7): date(2026, 5, 11)}   # Fri 8, Mon 11: 2 working days, on time
    for received, replied in replies.items():
        case = cases[received]
        store.answer(server_engine, case.id, reply="Trả lời", actor="lan", version=case.version,
                     now=at_vn(replied, 15))
    figures = store.report(server_engine, settings, date(2026, 5, 1), date(2026, 5, 31), now=at_vn(date(2026, 6, 3)))
    hk = next(f for f in figures if f.agency_code == "HK")
    # Received 4, answered 3, on time 2, open and overdue 1 (29 May, due 2 June), median of 1, 3, 2 = 2.
    assert (hk.received, hk.answered, hk.on_time, hk.open_overdue, hk.median_days) == (4, 3, 2, 1, 2.0)
    assert [f.agency_code for f in figures] == ["HK", "TP"]
    only = store.report(server_engine, settings, date(2026, 5, 1), date(2026, 5, 31), "TP")
    assert [(f.agency_code, f.received, f.answered, f.median_days) for f in only] == [("TP", 1, 0, None)]
    with pytest.raises(store.CaseError) as caught:
        store.report(server_engine, settings, date(2026, 5, 1), date(2026, 5, 31), "XX")
    assert "XX" in caught.value.vi and "no agency" in caught.value.en


# ---- kiosk-server cases -------------------------------------------------------------------------------------------

def test_cli_sync_list_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = open_database(url)
    place = make_place(engine)
    place.rate("Q01", [2], at=at_vn(date(2026, 5, 5)), comment="Góp ý một")
    place.rate("Q01", [1], at=at_vn(date(2026, 5, 6)), harassment=True)
    config = tmp_path / "server.toml"
    config.write_text('[cases]\nanswer_within_days = 2\nholidays = ["2026-05-01"]\n', encoding="utf-8")
    base = ["--config", str(config), "--db", url, "--data-dir", str(tmp_path / "data")]
    assert cli.main([*base, "cases", "sync"]) == 0
    assert "Đã tạo 2 phản ánh mới" in capsys.readouterr().out
    assert cli.main([*base, "cases", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(c["kind"], c["due_on"], c["status"]) for c in listed] == [
        ("harassment", "2026-05-08", "new"), ("comment", "2026-05-07", "new")]
    first = store.get_case(engine, listed[1]["id"])
    store.answer(engine, first.id, reply="Đã trả lời", actor="lan", version=first.version, now=at_vn(date(2026, 5, 8)))
    assert cli.main([*base, "cases", "report", "--period", "month", "--date", "2026-05-20", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # Received 2; answered 1 on Fri 8 May, due Thu 7: late; Tue 5 → Fri 8 is 3 working days.
    assert report["agencies"] == [{"agency": "HK", "received": 2, "answered": 1, "on_time": 0,
                                   "open_overdue": 1, "median_working_days": 3.0}]
    assert cli.main([*base, "cases", "report", "--date", "2026-05-20", "--agency", "HK"]) == 0
    assert "HK\t2\t1\t0\t1\t3" in capsys.readouterr().out
    engine.dispose()


@pytest.mark.parametrize(("args", "vi", "en"), [
    (["cases"], "Cần chọn một việc", "choose an action"),
    (["cases", "list", "--status", "open"], "không có trạng thái 'open'", "no status 'open'"),
    (["cases", "report", "--period", "week"], "loại kỳ 'week' không hợp lệ", "invalid period kind 'week'"),
    (["cases", "report", "--date", "31/02/2026"], "ngày '31/02/2026' không hợp lệ", "invalid date '31/02/2026'"),
    (["cases", "report", "--agency", "XX"], "Không có cơ quan 'XX'", "no agency 'XX'"),
])
def test_cli_refusals_are_bilingual(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], vi: str,
                                    en: str) -> None:
    url = f"sqlite:///{tmp_path / 'server.db'}"
    assert cli.main(["--db", url, "--data-dir", str(tmp_path / "data"), *args]) == 2
    err = capsys.readouterr().err
    assert vi in err and en in err


def test_two_officers_changing_the_same_case_at_once_one_wins(server_db_url: str, server_engine: Engine) -> None:
    case = _one_case(server_engine, make_place(server_engine))
    engines = [open_database(server_db_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def act(engine: Engine, who: str) -> None:
        barrier.wait()
        try:
            store.assign(engine, case.id, assignee=f"Người {who}", actor=who, version=case.version)
            outcome[who] = "ok"
        except store.CaseConflict:
            outcome[who] = "conflict"

    threads = [threading.Thread(target=act, args=(e, who)) for e, who in zip(engines, "ab", strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert sorted(outcome.values()) == ["conflict", "ok"]
    winner = next(who for who, result in outcome.items() if result == "ok")
    final = store.get_case(server_engine, case.id)
    assert final.assignee == f"Người {winner}" and [e.action for e in final.events] == ["create", "assign"]


def test_a_database_at_0009_upgrades_keeping_its_comments_which_then_become_cases(server_db_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from sync.server import db

    engine = db.make_engine(server_db_url)
    config = Config()
    config.set_main_option("script_location", "sync.server:migrations")
    with db.writing(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0009")
    make_place(engine).rate("Q01", [2], at=at_vn(date(2026, 5, 5)), comment="Trước khi nâng cấp")
    assert "feedback_case" not in inspect(engine).get_table_names()
    engine.dispose()
    upgraded = db.open_database(server_db_url)
    try:
        assert db.schema_version(upgraded) == "0010"
        assert store.sync_from_ratings(upgraded, case_settings()) == 1
        with db.writing(upgraded) as conn:   # and back down: the tables go, the ratings stay
            config.attributes["connection"] = conn
            command.downgrade(config, "0009")
        assert "feedback_case" not in inspect(upgraded).get_table_names()
        with upgraded.connect() as conn:
            assert conn.execute(select(func.count()).select_from(RATING)).scalar() == 1
    finally:
        upgraded.dispose()


def test_a_reply_to_an_address_with_vietnamese_letters_does_not_stall_the_other_replies(
        server_engine: Engine, smtp: MailCatcher) -> None:
    place = make_place(server_engine)
    first = place.rate("Q01", [2], at=at_vn(date(2026, 4, 30)), comment="Trả lời tôi qua thư nguyễn@thư.vn")[0]
    second = place.rate("Q01", [1], at=at_vn(date(2026, 4, 30), 11), comment="Xin trả lời qua thư dan@vi.du")[0]
    third = place.rate("Q01", [1], at=at_vn(date(2026, 4, 30), 12), comment="Thư cho tôi: an@thư.vn")[0]
    for uuid in (first, second, third):
        callback(server_engine, uuid)
    store.sync_from_ratings(server_engine, case_settings())
    for case in store.list_cases(server_engine, case_settings()):
        store.answer(server_engine, case.id, reply="Đã xử lý.", actor="lan", version=case.version)
    strict = MailCatcher(enable_SMTPUTF8=False).start()   # a mail server that takes ASCII addresses only
    try:
        assert reply_mail.send_pending(server_engine, mail_settings(strict)) == (2, 1)
        # A domain with Vietnamese letters goes in its ASCII (IDNA) form, which every mail server takes.
        assert sorted(m.rcpt_tos[0] for m in strict.wait_for(2)) == ["an@xn--th-e0a.vn", "dan@vi.du"]
    finally:
        strict.stop()
    stuck = next(c for c in store.list_cases(server_engine, case_settings()) if c.contact_email == "nguyễn@thư.vn")
    # Not left 'sending' (which would need the office to requeue it): it waits, with the reason in both languages.
    assert stuck.mail_status == "pending" and "SMTPUTF8" in stuck.mail_error
    assert reply_mail.send_pending(server_engine, mail_settings(smtp)) == (1, 0)   # a server that takes UTF-8
    assert [m.rcpt_tos for m in smtp.wait_for(1)] == [["nguyễn@xn--th-e0a.vn"]]


def test_a_comment_naming_two_e_mail_addresses_is_not_mailed_to_either(server_engine: Engine) -> None:
    # "Ask me at mine" beside the address of the officer complained about: the reply (which quotes the comment)
    # must not go to the officer; which one is the citizen's cannot be told, so neither gets it.
    place = make_place(server_engine)
    uuid = place.rate("Q01", [1], at=at_vn(date(2026, 4, 30)),
                      comment="Cán bộ can.bo@phuong.gov.vn đòi tiền; trả lời tôi qua dan@vi.du")[0]
    same = place.rate("Q01", [1], at=at_vn(date(2026, 4, 30), 11), comment="Thư: Dan@Vi.du, hoặc dan@vi.du")[0]
    for rated in (uuid, same):
        callback(server_engine, rated)
    store.sync_from_ratings(server_engine, case_settings())
    cases = {c.text[:4]: c for c in store.list_cases(server_engine, case_settings())}
    two, one = cases["Cán "], cases["Thư:"]
    assert two.contact_email == "" and one.contact_email == "Dan@Vi.du"   # one address, written twice
    assert store.answer(server_engine, two.id, reply="Đã xử lý.", actor="lan", version=two.version).mail_status == ""


def test_a_case_at_the_last_millisecond_of_a_friday_before_new_year_counts_in_its_own_day_and_year(
        server_engine: Engine) -> None:
    place = make_place(server_engine)
    # Thursday 31 December 2026 23:59:59.999 Vietnam time, then Friday 1 January 2027 00:00:00 (a holiday here).
    last = datetime(2026, 12, 31, 23, 59, 59, 999000, tzinfo=UTC) - VN
    place.rate("Q01", [2], at=last, comment="Cuối năm")
    place.rate("Q01", [2], at=last + timedelta(milliseconds=1), comment="Đầu năm")
    settings = case_settings(days=2, holidays=["2027-01-01"])
    store.sync_from_ratings(server_engine, settings)
    due = {c.text: c.due_on for c in store.list_cases(server_engine, settings)}
    # Received Thu 31/12: Fri 1/1 off, the weekend, so Mon 4 and Tue 5. Received Fri 1/1: Mon 4, Tue 5.
    assert due == {"Cuối năm": date(2027, 1, 5), "Đầu năm": date(2027, 1, 5)}
    december = store.report(server_engine, settings, date(2026, 12, 1), date(2026, 12, 31))
    january = store.report(server_engine, settings, date(2027, 1, 1), date(2027, 1, 31))
    assert [f.received for f in december] == [1] and [f.received for f in january] == [1]
