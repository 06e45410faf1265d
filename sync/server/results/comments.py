"""Citizens' comments and harassment reports as the dashboard lists them, and the masking of their contacts.

The software keeps no personal data of a citizen unless the citizen chooses to leave a contact for a callback:
a phone number or e-mail address written in a comment is shown masked (•••) everywhere (pages, downloads, alert
e-mails) unless the citizen asked to be contacted about it.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Engine, and_, select

from sync.server.models import AGENCY, COMMENTED, COUNTER, HARASSMENT_REPORTED, OFFICER, RATING
from sync.server.results.figures import Comment, ReportQuery
from sync.server.results.scope import At, counting, opened
from sync.server.settings import ServerSettings

MASK = "•••"

# Vietnamese phone numbers as citizens type them: a mobile 0912 345 678 (0 + 9 digits), a landline
# 024 3825 1234 (0 + 10 digits), either with +84 / (+84) / 84 / 0084 instead of the 0 (sometimes keeping it,
# as 0 or "(0)"), digits grouped by spaces, dots or dashes. Amounts (2.000.000 đồng), procedure codes
# (1.001193) and hotlines (1900 1234) do not start with 0 or 84 and stay as written.
_PHONE = re.compile(r"(?<!\d)(?:\(?(?:\+|00)?84\)?[\s.\-]?(?:\(0\)[\s.\-]?)?|0)\d(?:[\s.\-]?\d){8,9}(?!\d)")
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def mask(text: str) -> str:
    """The comment with phone numbers and e-mail addresses replaced by •••."""
    return _PHONE.sub(MASK, _EMAIL.sub(MASK, text))


def contacts_in(text: str) -> tuple[str, str]:
    """The first phone number written in `text` and its one e-mail address ('' for none, or for two different
    ones), for a callback."""
    phone = _PHONE.search(_EMAIL.sub(" ", text))
    emails = {found.lower() for found in _EMAIL.findall(text)}
    # With two addresses we cannot tell the citizen's from another's (an officer's, say, named in a complaint):
    # the reply, which quotes the comment, is then not mailed at all; the office calls back or reads the text.
    email = _EMAIL.search(text) if len(emails) == 1 else None
    return (phone.group(0).strip() if phone else ""), (email.group(0) if email else "")


def comments_on(at: At, query: ReportQuery, condition: ColumnElement[bool], limit: int) -> list[Comment]:
    """The period's ratings that count and meet `condition`, newest first, at most `limit`."""
    zone = at.zone
    start, end = query.period.bounds(zone)
    conditions = [*counting(at.conn, query, at.scope, start, end, at.not_intact), condition]
    rows = at.conn.execute(
        select(RATING.c.recorded_at, RATING.c.level, RATING.c.comment, RATING.c.harassment,
               RATING.c.officer_code, AGENCY.c.name.label("agency"), COUNTER.c.name.label("counter"),
               OFFICER.c.name.label("officer"), RATING.c.callback)
        .select_from(RATING.join(AGENCY, AGENCY.c.id == RATING.c.agency_id)
                     .join(COUNTER, COUNTER.c.id == RATING.c.counter_id)
                     .outerjoin(OFFICER, and_(OFFICER.c.agency_id == RATING.c.agency_id,
                                              OFFICER.c.code == RATING.c.officer_code)))
        .where(*conditions).order_by(RATING.c.recorded_at.desc(), RATING.c.seq.desc()).limit(max(limit, 0))
    ).all()
    # A contact stays hidden unless the citizen chose to leave it for a callback (DESIGN: no personal data).
    return [Comment(row.recorded_at.astimezone(zone).strftime("%d/%m/%Y %H:%M"), str(row.agency), str(row.counter),
                    str(row.officer or row.officer_code or "—"), int(row.level),
                    (row.comment or "") if row.callback else mask(row.comment or ""), bool(row.harassment),
                    bool(row.callback)) for row in rows]


def latest_comments(engine: Engine, query: ReportQuery, settings: ServerSettings, limit: int = 20) -> list[Comment]:
    """The newest comments of the period (newest first); contacts masked unless a callback was asked for."""
    with opened(engine, query, settings) as at:
        return comments_on(at, query, COMMENTED, limit)


def harassment_reports(engine: Engine, query: ReportQuery, settings: ServerSettings,
                       limit: int = 50) -> list[Comment]:
    """The period's reports of harassment or unofficial payments (newest first), comments as latest_comments."""
    with opened(engine, query, settings) as at:
        return comments_on(at, query, HARASSMENT_REPORTED, limit)
