"""`kiosk-server written-report`: the office's quarterly, 6-month, 9-month or annual report to the People's
Committee as a Word document (and a PDF where LibreOffice is installed)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from kiosk.domain.errors import BilingualError
from sync.server import settings as server_settings
from sync.server.cli.common import EXIT_OK, Adder, Handler, Precheck, refuse, say
from sync.server.db import utc_now
from sync.server.settings import ServerSettings


def add_commands(sub: Any, add: Adder) -> None:
    """The `written-report` sub-command."""
    written = add(sub, "written-report", "the office's report to the People's Committee for a quarter, half-year, "
                  "nine months or year, as a Word document ready to edit and sign (and PDF)")
    written.add_argument("--agency", metavar="CODE", help="the agency reported on")
    written.add_argument("--period", default="quarter", metavar="KIND",
                         help="quarter, half, nine_months or year (default: quarter)")
    written.add_argument("--date", metavar="DATE", help="a day in that period, YYYY-MM-DD (default: today)")
    written.add_argument("--out", type=Path, metavar="FILE", help="the .docx file to write")
    written.add_argument("--pdf", action="store_true", help="also write FILE.pdf (needs LibreOffice)")
    written.add_argument("--office", default="Phòng Nội vụ", metavar="NAME",
                         help="the issuing office (default: Phòng Nội vụ)")
    written.add_argument("--place", default="", metavar="PLACE", help="the place on the date line (default: from "
                         "the agency's name)")
    written.add_argument("--signer", default="", metavar="NAME", help="the name under the signature")
    written.add_argument("--issued", metavar="DATE", help="the date on the date line (default: today)")


def _options(args: argparse.Namespace) -> None:
    from sync.server.cli.common import parse_day
    from sync.server.results.written_report import WRITTEN_KINDS, written_period

    if not args.agency:
        raise BilingualError("Thiếu --agency (mã cơ quan)", "--agency is missing (the agency's code)")
    if args.out is None:
        raise BilingualError("Thiếu --out TỆP.docx", "--out FILE.docx is missing")
    if args.out.suffix.lower() != ".docx":
        raise BilingualError(f"--out: tệp {args.out} phải có đuôi .docx", f"--out: {args.out} must end in .docx")
    if not args.out.parent.is_dir():
        raise BilingualError(f"--out: không có thư mục {args.out.parent}", f"--out: no folder {args.out.parent}")
    if args.period not in WRITTEN_KINDS:
        written_period(args.period, utc_now().date())  # the bilingual refusal
    args.anchor = None if args.date is None else parse_day(args.date, "--date")
    args.issued_on = None if args.issued is None else parse_day(args.issued, "--issued")
    if args.pdf:
        from sync.server.results.written_report import converter

        if converter() is None:
            raise BilingualError(
                "--pdf cần LibreOffice (gói libreoffice-writer-nogui); chưa cài nên không ghi tệp nào. Bỏ --pdf để "
                "chỉ ghi tệp Word", "--pdf needs LibreOffice (package libreoffice-writer-nogui), which is not "
                "installed, so nothing was written; leave out --pdf to write the Word file only")


def _precheck(args: argparse.Namespace) -> int | None:
    try:
        _options(args)
    except BilingualError as error:
        return refuse(error)
    return None


def _written_report(engine: Engine, args: argparse.Namespace, settings: ServerSettings) -> int:
    from zoneinfo import ZoneInfo

    from sync.server.results import written_report

    today = utc_now().astimezone(ZoneInfo(server_settings.report_timezone(settings))).date()
    period = written_report.written_period(args.period, args.anchor or today)
    data = written_report.gather(engine, settings, args.agency, period, args.issued_on or today,
                                 office=args.office, place=args.place, signer=args.signer)
    content = written_report.render_docx(data)
    out: Path = args.out
    # Written beside the target and renamed: a failed write or conversion leaves no half-made file behind.
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".written-report-") as work:
        staged = Path(work) / out.name
        staged.write_bytes(content)
        pdf = written_report.to_pdf(staged, Path(work)) if args.pdf else None
        staged.replace(out)
        if pdf is not None:
            pdf.replace(out.with_suffix(".pdf"))
    say(f"Đã ghi báo cáo {written_report.subject_period(period)} của {data.agency.name} vào {out}"
        + (f" và {out.with_suffix('.pdf')}" if args.pdf else ""),
        f"wrote {data.agency.name}'s report for {period.label('en')} to {out}"
        + (f" and {out.with_suffix('.pdf')}" if args.pdf else ""))
    return EXIT_OK


COMMANDS: dict[str, Handler] = {"written-report": _written_report}
PRECHECKS: dict[str, Precheck] = {"written-report": _precheck}
