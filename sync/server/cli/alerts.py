"""`kiosk-server alert`: alert rules and their e-mails (dissatisfied share, harassment, silent devices)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from kiosk.domain.errors import BilingualError
from sync.server.cli.common import EXIT_OK, EXIT_PROBLEM, Adder, Handler, Precheck, print_json, refuse, say
from sync.server.db import utc_now
from sync.server.settings import ServerSettings

if TYPE_CHECKING:
    from sync.server.alerts.checker import BackgroundChecker


def add_commands(sub: Any, add: Adder) -> None:
    """The `alert` sub-command and its actions."""
    alert = add(sub, "alert", "alert rules and their e-mails (dissatisfied share, harassment, silent devices)")
    # Values are read by _alert (not argparse types or `required`), so every refusal is one bilingual line.
    sub = alert.add_subparsers(dest="alert_command", metavar="ACTION")
    a_add = add(sub, "add", "add a rule: too many dissatisfied ratings, a harassment report, or a silent device")
    a_add.add_argument("--agency", metavar="CODE", help="the agency whose ratings or devices are watched")
    a_add.add_argument("--counter", metavar="CODE", help="only this counter of the agency (default: all of them)")
    a_add.add_argument("--kind", metavar="KIND", help="dissatisfied, harassment, silent, below_target "
                       "(a completed month below the year's target) or case_overdue (a case not answered by its "
                       "due date in working days)")
    a_add.add_argument("--share", metavar="SHARE", help="dissatisfied: fire when the share rated 1 or 2 is over "
                       "this, e.g. 0.5 or 50%% (default 0.5)")
    a_add.add_argument("--window-h", metavar="HOURS", help="dissatisfied: within the last HOURS (default 24); "
                       "silent: hours without contact (default: [alerts] or [fleet] silent_after_h)")
    a_add.add_argument("--min-ratings", metavar="N", help="dissatisfied: only with at least N ratings (default 4); "
                       "below_target: a month with at least N ratings (default 30)")
    a_add.add_argument("--channel", metavar="CHANNEL", help="dissatisfied or harassment: only ratings of this "
                       "channel, kiosk, web or paper (default: every channel)")
    a_add.add_argument("--email", metavar="ADDRESSES", help="who receives the alerts, e.g. a@b.gov.vn,c@d.gov.vn")
    a_list = add(sub, "list", "list the alert rules")
    a_list.add_argument("--all", action="store_true", help="include removed rules")
    a_list.add_argument("--json", action="store_true", help="print as JSON for scripts")
    a_remove = add(sub, "remove", "stop a rule (its past alerts stay on record)")
    a_remove.add_argument("rule_id", metavar="ID")
    a_check = add(sub, "check", "evaluate every rule now and e-mail new alerts (for cron; `run` also does it)")
    a_check.add_argument("--json", action="store_true", help="print the outcome as JSON")
    a_test = add(sub, "send-test", "send a test e-mail through the [alerts] SMTP settings")
    a_test.add_argument("--to", metavar="ADDRESSES", help="who receives it")


def _alert_args(args: argparse.Namespace) -> dict[str, Any]:
    """The `alert add` options, parsed; a ServerError names the first one that is wrong."""
    from sync.server.alerts import rules

    command = args.alert_command
    if command is None:
        raise BilingualError("Cần chọn một việc: alert add | list | remove | check | send-test",
                             "choose an action: alert add | list | remove | check | send-test")
    if command == "remove":
        try:
            return {"rule_id": int(args.rule_id)}
        except ValueError:
            raise BilingualError(f"Số quy tắc {args.rule_id[:40]!r} không phải một số (xem «kiosk-server alert list»)",
                                 f"the rule number {args.rule_id[:40]!r} is not a number (see "
                                 "'kiosk-server alert list')") from None
    if command == "send-test" and not args.to:
        raise BilingualError("Cần --to ĐỊA_CHỈ: thư thử gửi tới đâu", "--to ADDRESS is needed: where to send the test")
    if command != "add":
        return {}
    for option, value in (("--agency", args.agency), ("--kind", args.kind), ("--email", args.email)):
        if not value:
            raise BilingualError(f"Thiếu {option} (xem «kiosk-server alert add --help»)",
                                 f"{option} is missing (see 'kiosk-server alert add --help')")
    return {
            "share": None if args.share is None else rules.parse_share(args.share),
            "window_h": None if args.window_h is None else rules.parse_hours(args.window_h),
            "min_ratings": None if args.min_ratings is None else rules.parse_count(args.min_ratings),
            "channel": args.channel,
    }


def _precheck_alert(args: argparse.Namespace) -> int | None:
    try:
        args.alert_values = _alert_args(args)
    except BilingualError as error:
        return refuse(error)
    return None


def _alert(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from sync.server.alerts import checker, mail, rules

    command, values = args.alert_command, args.alert_values
    if command == "add":
        rule = rules.add_rule(engine, args.agency, args.counter, args.kind, email_to=args.email, **values)
        vi, en = rule.condition(settings)
        say(f"Đã thêm quy tắc cảnh báo #{rule.id} cho {rule.where()[0]}: {vi}; gửi tới {', '.join(rule.email_to)}",
            f"added alert rule #{rule.id} for {rule.where()[1]}: {en}; mailed to {', '.join(rule.email_to)}")
        return EXIT_OK
    if command == "remove":
        rule = rules.remove_rule(engine, values["rule_id"])
        say(f"Đã gỡ quy tắc cảnh báo #{rule.id} ({rule.where()[0]}); các cảnh báo đã có vẫn được lưu",
            f"removed alert rule #{rule.id} ({rule.where()[1]}); the alerts it raised stay on record")
        return EXIT_OK
    if command == "list":
        listed = rules.list_rules(engine, include_removed=args.all)
        if args.json:
            print_json([r.as_json(settings) for r in listed])
        elif not listed:
            say("Chưa có quy tắc cảnh báo nào", "no alert rules yet")
        for r in listed if not args.json else []:
            vi, en = r.condition(settings)
            state = "" if r.active else "  [đã gỡ / removed]"
            print(f"#{r.id}\t{r.agency_code}/{r.counter_code or '*'}\t{r.kind}\t{vi} / {en}\t"
                  f"→ {', '.join(r.email_to)}{state}")
        return EXIT_OK
    if command == "send-test":
        recipients = rules.parse_recipients(args.to)
        with mail.Mailer(settings) as mailer:
            refused = mailer.send(mail.Outgoing(
                recipients, "[Kiosk Một cửa] Thư thử cảnh báo / alert test e-mail",
                "Thư thử từ máy chủ kiosk Một cửa: cấu hình gửi thư cảnh báo hoạt động.\n\n"
                "A test from the one-stop kiosk server: alert e-mails work.\n", "kiosk-alert-test"), utc_now())
        if refused:
            raise BilingualError(f"Máy chủ thư từ chối: {refused}", f"the mail server refused: {refused}")
        say(f"Đã gửi thư thử tới {', '.join(recipients)}", f"sent a test e-mail to {', '.join(recipients)}")
        return EXIT_OK
    result = checker.check(engine, settings)
    if args.json:
        print_json({"raised": result.raised, "sent": result.sent, "failed": result.failed, "busy": result.busy,
                    "errors": [{"vi": vi, "en": en} for vi, en in result.errors]})
    elif result.busy:
        say("Một tiến trình khác đang kiểm tra cảnh báo quá lâu; hãy thử lại sau",
            "another process has been checking the alerts for too long; try again later", sys.stderr)
    else:
        say(f"Đã kiểm tra: {result.raised} cảnh báo mới, {result.sent} thư đã gửi, {result.failed} thư chưa gửi được",
            f"checked: {result.raised} new alerts, {result.sent} e-mails sent, {result.failed} not sent")
        for vi, en in result.errors:
            say(f"Lỗi: {vi}", f"Error: {en}", sys.stderr)
    return EXIT_PROBLEM if result.busy or result.failed else EXIT_OK


def start_checker(engine: Engine, settings: ServerSettings) -> BackgroundChecker:
    """The background alert checker of `run` (every [alerts] check_interval_s; 0: none)."""
    from sync.server.alerts.checker import BackgroundChecker

    background = BackgroundChecker(engine, settings)
    background.start()
    return background


COMMANDS: dict[str, Handler] = {"alert": _alert}
PRECHECKS: dict[str, Precheck] = {"alert": _precheck_alert}
