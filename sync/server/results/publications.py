"""Published results: a report frozen as JSON when the office publishes it, the only thing the public page shows.

A publication is never edited. Publishing the same agency, period and grouping again while one is out is
refused (withdraw the old one first), so the notice board and the website never disagree about a period.
The snapshot is exports.report_json (what `kiosk-server report --format json` prints), read back with
exports.report_from_json, so the public page renders it with the same templates as the dashboard.

Harassment reports are published only as the agency's total. A report is an unverified allegation, and a count
per group (an officer by name, a counter, a procedure) would publish it against that group: the snapshot keeps
the office's figures as they were, and every reading of it for the public drops the per-group counts, so
publications stored before this rule are shown under it too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, insert, select, update

from kiosk.domain.levels import CHANNELS, Channel
from sync.server import registry
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import AGENCY, PUBLICATION
from sync.server.results import exports
from sync.server.results.figures import Figures, Report
from sync.server.results.targets import Goal

TITLE_MAX = 200


class AlreadyPublished(ServerError):
    """The same agency, period and grouping is already out: withdraw it first."""


@dataclass(frozen=True)
class Publication:
    """One published report: where, which period and grouping, who published it and the frozen figures."""

    id: int
    agency_code: str
    agency_name: str
    period_kind: str
    first: date
    last: date
    group_by: str
    title: str
    published_at: datetime
    published_by: str
    withdrawn_at: datetime | None
    snapshot: str = ""  # empty in lists, which never need the figures

    def report(self) -> Report:
        """The frozen figures as the public sees them (harassment reports only as the agency's total)."""
        return public_report(report_from_snapshot(self.snapshot))

    def channels(self) -> list[tuple[Channel, int]]:
        """The channels the figures came from and how many answers each gave, in CHANNELS order (empty for a
        publication frozen before channels were counted)."""
        counts = json.loads(self.snapshot).get("channels", {}) if self.snapshot else {}
        return [(channel, int(counts[channel.key])) for channel in CHANNELS if counts.get(channel.key)]

    def goal(self) -> Goal | None:
        """The target the period was held to, as it stood when published (None: none then, or published before
        targets were kept)."""
        found = json.loads(self.snapshot).get("target") if self.snapshot else None
        return Goal.from_json(found) if found else None


# ---- the snapshot: a Report to JSON and back (exports.report_json, the same JSON the CLI prints) ------------

def snapshot_json(report: Report, channels: Mapping[str, int] | None = None, target: Goal | None = None) -> str:
    """The report as the JSON text a publication keeps, with how many answers each channel gave and the target
    the period is held to (frozen with the figures: changing a target later leaves the publication as it was)."""
    data = exports.report_json(report)
    if channels is not None:
        data["channels"] = {key: int(count) for key, count in channels.items()}
    if target is not None:
        data["target"] = target.as_json()
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def report_from_snapshot(text: str) -> Report:
    """The Report a snapshot holds."""
    return exports.report_from_json(json.loads(text))


def _without_harassment(figures: Figures) -> Figures:
    return dataclasses.replace(figures, harassment_reports=0)


def public_report(report: Report) -> Report:
    """The report without any group's harassment reports (the rows' counts, now and before, become 0): only the
    total stays, which is the agency's own (a publication is always one whole agency)."""
    rows = [dataclasses.replace(row, figures=_without_harassment(row.figures),
                                previous=_without_harassment(row.previous)) for row in report.rows]
    return dataclasses.replace(report, rows=rows, unverified=_without_harassment(report.unverified))


# ---- storing and finding publications ---------------------------------------------------------------------

def _lock_agency(conn: Connection, agency_id: int) -> None:
    # Two offices publishing the same period at once: on PostgreSQL they queue on the agency row; SQLite
    # already has one writer at a time (BEGIN IMMEDIATE).
    if conn.dialect.name == "postgresql":
        conn.execute(select(AGENCY.c.id).where(AGENCY.c.id == agency_id).with_for_update())


def _row_to_publication(row: Any) -> Publication:
    return Publication(row.id, row.agency_code, row.agency_name, row.period_kind, row.first, row.last,
                       row.group_by, row.title, row.published_at, row.published_by, row.withdrawn_at,
                       getattr(row, "snapshot", ""))


def _select(*, with_snapshot: bool = True) -> Select[Any]:
    columns = [c for c in PUBLICATION.c if with_snapshot or c.name != "snapshot"]
    return (select(*columns, AGENCY.c.code.label("agency_code"), AGENCY.c.name.label("agency_name"))
            .select_from(PUBLICATION.join(AGENCY, AGENCY.c.id == PUBLICATION.c.agency_id)))


def publish(engine: Engine, report: Report, title: str, published_by: str,
            channels: Mapping[str, int] | None = None, target: Goal | None = None) -> Publication:
    """Freeze the report of one agency (with how many answers each channel gave, when told); refused when that
    agency, period and grouping is already published."""
    query = report.query
    if not query.agency_code:
        raise ServerError("Chỉ công bố được kết quả của một cơ quan: hãy chọn cơ quan",
                          "only one agency's results can be published: choose the agency")
    if query.channel is not None:
        raise ServerError("Công bố kết quả của mọi kênh cùng nhau: hãy bỏ chọn kênh (trang công khai ghi số lượt của "
                          "từng kênh)", "publish every channel together: clear the channel choice (the public page "
                          "says how many answers each channel gave)")
    title = " ".join(title.split())
    if not title:
        raise ServerError("Tiêu đề không được để trống", "the title must not be empty")
    if len(title) > TITLE_MAX:
        raise ServerError(f"Tiêu đề dài quá {TITLE_MAX} ký tự", f"the title is longer than {TITLE_MAX} characters")
    period = query.period
    with writing(engine) as conn:
        agency = registry.agency(conn, query.agency_code)
        _lock_agency(conn, agency.id)
        existing = conn.execute(select(PUBLICATION.c.id).where(
            PUBLICATION.c.agency_id == agency.id, PUBLICATION.c.period_kind == period.kind,
            PUBLICATION.c.first == period.first, PUBLICATION.c.last == period.last,
            PUBLICATION.c.group_by == query.group_by, PUBLICATION.c.withdrawn_at.is_(None))).scalar()
        if existing is not None:
            raise AlreadyPublished(f"Kết quả kỳ này theo cách nhóm này đã được công bố (số {existing}); hãy thu hồi "
                              "bản cũ trước khi công bố lại",
                              f"these results are already published (number {existing}); withdraw that one "
                              "before publishing again")
        new_id: int = conn.execute(insert(PUBLICATION).values(
            agency_id=agency.id, period_kind=period.kind, first=period.first, last=period.last,
            group_by=query.group_by, title=title, snapshot=snapshot_json(report, channels, target),
            published_at=utc_now(), published_by=published_by[:64]).returning(PUBLICATION.c.id)).scalar_one()
        row = conn.execute(_select().where(PUBLICATION.c.id == new_id)).one()
    return _row_to_publication(row)


def withdraw(engine: Engine, publication_id: int) -> Publication:
    """Take a publication off the public page (kept in the database, marked withdrawn)."""
    with writing(engine) as conn:
        row = conn.execute(_select().where(PUBLICATION.c.id == publication_id)).first()
        if row is None:
            raise ServerError(f"Không có bản công bố số {publication_id}", f"no publication number {publication_id}")
        if row.withdrawn_at is None:
            conn.execute(update(PUBLICATION).where(PUBLICATION.c.id == publication_id)
                         .values(withdrawn_at=utc_now()))
            row = conn.execute(_select().where(PUBLICATION.c.id == publication_id)).one()
    return _row_to_publication(row)


def published(engine: Engine, agency_code: str) -> list[Publication]:
    """The agency's publications still out, the newest period first (without their figures)."""
    with reading(engine) as conn:
        return published_on(conn, agency_code)


def published_on(conn: Connection, agency_code: str) -> list[Publication]:
    """As published, read on an open connection (a page's one read transaction)."""
    rows = conn.execute(_select(with_snapshot=False)
                        .where(AGENCY.c.code == agency_code, PUBLICATION.c.withdrawn_at.is_(None))
                        .order_by(PUBLICATION.c.last.desc(), PUBLICATION.c.first.desc(), PUBLICATION.c.id.desc()))
    return [_row_to_publication(row) for row in rows]


def find(engine: Engine, agency_code: str, publication_id: int) -> Publication | None:
    """One publication of the agency still out, or None (withdrawn ones are gone from the public)."""
    with reading(engine) as conn:
        row = conn.execute(_select().where(AGENCY.c.code == agency_code, PUBLICATION.c.id == publication_id,
                                           PUBLICATION.c.withdrawn_at.is_(None))).first()
    return None if row is None else _row_to_publication(row)


def agencies_with_publications(engine: Engine) -> list[tuple[str, str, int]]:
    """(code, name, how many publications are out) of every agency that has published something."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(AGENCY.c.code, AGENCY.c.name, func.count(PUBLICATION.c.id))
            .select_from(PUBLICATION.join(AGENCY, AGENCY.c.id == PUBLICATION.c.agency_id))
            .where(PUBLICATION.c.withdrawn_at.is_(None)).group_by(AGENCY.c.code, AGENCY.c.name)
            .order_by(AGENCY.c.name)).all()
    return [(row[0], row[1], int(row[2])) for row in rows]
