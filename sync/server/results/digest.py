"""The monthly digest to heads of unit: for each agency in `[[digest.heads]]`, the officers the month's ranking
flagged (reports.build decides, with [reports] flag_share and flag_min_ratings), their figures and a link to each
one's sheet, Vietnamese first, then English; sent through the alert mail settings (alerts.mail).

Sent by `kiosk-server digest send --month YYYY-MM` (cron on the first days of a month): not by the background
checker, so a restart can never send a month twice behind the operator's back; running the command twice sends
twice, on purpose (a head who lost the e-mail asks again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from sync.server.alerts import mail
from sync.server.errors import ServerError
from sync.server.results import charts, report_view, reports
from sync.server.results.figures import Report, ReportQuery, Row
from sync.server.results.officer_sheet import sheet_url
from sync.server.results.periods import Period
from sync.server.settings import DigestHeads, ServerSettings


@dataclass(frozen=True)
class Sent:
    """One agency's digest as it went out."""

    agency_code: str
    to: tuple[str, ...]
    flagged: tuple[str, ...]   # the officer codes it names
    refused: str               # recipients the mail server refused ('' when every one took it)


def _heads(settings: ServerSettings, agency_code: str | None) -> list[DigestHeads]:
    """The [[digest.heads]] entries to send to; a ServerError when there are none (or not for that agency)."""
    configured = settings.digest.heads
    if not configured:
        raise ServerError("Chưa cấu hình người nhận: thêm [[digest.heads]] (agency, emails) vào tệp cấu hình",
                          "no recipients: add [[digest.heads]] (agency, emails) to the settings file")
    if agency_code is None:
        return list(configured)
    chosen = [heads for heads in configured if heads.agency == agency_code]
    if not chosen:
        raise ServerError(f"Cơ quan {agency_code[:64]!r} không có trong [[digest.heads]] của tệp cấu hình",
                          f"agency {agency_code[:64]!r} is not in the settings file's [[digest.heads]]")
    return chosen


def _figures_line(row: Row) -> tuple[str, str]:
    figures = row.figures
    share, index = charts.percent(figures.dissatisfied_share), charts.percent(figures.satisfaction_index)
    return (f"{report_view.count(figures.ratings)} lượt đánh giá, không hài lòng {share}, chỉ số hài lòng {index}, "
            f"phản ánh sách nhiễu {figures.harassment_reports}",
            f"{figures.ratings} ratings, dissatisfied {share}, satisfaction index {index}, "
            f"harassment reports {figures.harassment_reports}")


def compose(settings: ServerSettings, report: Report, to: tuple[str, ...]) -> mail.Outgoing:
    """One agency's digest for the month of its officer ranking `report`."""
    period, agency_code = report.query.period, str(report.query.agency_code)
    flagged = [row for row in report.rows if row.flagged]
    limit = charts.percent(report.flag_share, 0)
    rule_vi, rule_en = report_view.rule_words(report)
    month_vi, month_en = period.label("vi"), period.label("en")
    lines = [f"Kính gửi Thủ trưởng {report.agency_name},", "",
             f"Kết quả đánh giá sự hài lòng {month_vi.lower()}: "
             + (f"{len(flagged)} cán bộ có trên {limit} đánh giá không hài lòng." if flagged
                else f"không có cán bộ nào trên {limit} đánh giá không hài lòng."), f"({rule_vi}.)", ""]
    for number, row in enumerate(flagged, start=1):
        lines += [f"{number}. CẢNH BÁO: {row.label} ({row.key}): {_figures_line(row)[0]}",
                  f"   Phiếu kết quả để in, ký: {sheet_url(settings, agency_code, row.key, period)}"]
    total = report.total
    lines += ["", f"Cả cơ quan: {report_view.count(total.ratings)} lượt, chỉ số hài lòng "
              f"{charts.percent(total.satisfaction_index)}, không hài lòng {charts.percent(total.dissatisfied_share)}.",
              "Mở phiếu cần đăng nhập trang quản trị của máy chủ kiosk.", "", "— English —", "",
              f"Satisfaction results, {month_en}, {report.agency_name}: "
              + (f"{len(flagged)} officer{'s' if len(flagged) != 1 else ''} over {limit} dissatisfied."
                 if flagged else f"no officer over {limit} dissatisfied."), f"({rule_en}.)", ""]
    for number, row in enumerate(flagged, start=1):
        lines += [f"{number}. FLAGGED: {row.label} ({row.key}): {_figures_line(row)[1]}",
                  f"   Sheet to print and sign: {sheet_url(settings, agency_code, row.key, period)}"]
    lines += ["", f"Whole agency: {total.ratings} ratings, satisfaction index "
              f"{charts.percent(total.satisfaction_index)}, dissatisfied {charts.percent(total.dissatisfied_share)}.",
              "The sheets open after signing in to the kiosk server's staff pages.", ""]
    subject = (f"Cán bộ cần lưu ý {month_vi.lower()}: {len(flagged)} — {report.agency_name} / "
               f"Officers flagged, {month_en}: {len(flagged)}")
    return mail.Outgoing(to, subject, "\n".join(lines),
                         f"digest-{agency_code}-{period.first.strftime('%Y-%m')}")


def send(engine: Engine, settings: ServerSettings, period: Period, now: datetime,
         agency_code: str | None = None) -> list[Sent]:
    """Send the month's digest to each agency's heads (or one agency's); everything is checked, and every report
    made, before the first message goes: a ServerError (or MailError) leaves nothing half sent by our doing."""
    chosen = _heads(settings, agency_code)
    if not settings.server.public_url:
        raise ServerError("Cần [server] public_url: thư gửi đường dẫn tới phiếu của từng cán bộ",
                          "[server] public_url is needed: the e-mail links to each officer's sheet")
    if not settings.alerts.smtp_host:
        raise mail.not_configured()
    outgoing = []
    for heads in chosen:
        report = reports.build(engine, ReportQuery(period, "officer", heads.agency), settings)
        outgoing.append((heads.agency, compose(settings, report, tuple(heads.emails)),
                         tuple(row.key for row in report.rows if row.flagged)))
    sent = []
    with mail.Mailer(settings) as mailer:
        for agency, message, flagged in outgoing:
            sent.append(Sent(agency, message.to, flagged, mailer.send(message, now)))
    return sent
