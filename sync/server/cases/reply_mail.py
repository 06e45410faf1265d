"""The written reply e-mailed to a citizen who left an address: exactly once, retried until it goes.

A reply waits with mail_status 'pending'. A sender claims it by one conditional UPDATE (pending → sending), so
two senders never send it twice; success marks it 'sent', a failure puts it back to 'pending' with the reason,
and the reply itself is never touched. A process that dies mid-send leaves it 'sending' (shown on the case page):
the office decides (`requeue`, a button there), rather than the citizen getting the letter twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from sync.server.alerts import mail
from sync.server.db import reading, utc_now, writing
from sync.server.models import AGENCY, CASE_EVENT, FEEDBACK_CASE
from sync.server.settings import ServerSettings, report_timezone


def _body(agency: str, text: str, reply: str, received: str) -> str:
    return "\n".join([
        "Kính gửi Ông/Bà,", "",
        f"{agency} trả lời ý kiến Ông/Bà gửi ngày {received}:", "", f"«{text}»", "", reply, "",
        "Thư này gửi tự động từ hệ thống lấy ý kiến người dân; xin đừng trả lời thư này.", "",
        "— English —", "",
        f"{agency} replies to the comment you left on {received}:", "", f"\"{text}\"", "", reply, "",
        "This message was sent automatically by the feedback system; please do not reply to it.", ""])


def requeue(engine: Engine, case_id: int, actor: str, now: datetime | None = None) -> bool:
    """Put back a reply left 'sending' by a process that stopped mid-send (the office checked it did not arrive);
    False when it was not in that state."""
    moment = now or utc_now()
    with writing(engine) as conn:
        done = conn.execute(update(FEEDBACK_CASE).where(FEEDBACK_CASE.c.id == case_id,
                                                        FEEDBACK_CASE.c.mail_status == "sending")
                            .values(mail_status="pending")).rowcount == 1
        if done:
            conn.execute(insert(CASE_EVENT).values(case_id=case_id, at=moment, actor=actor, action="requeue"))
    return done


def send_pending(engine: Engine, settings: ServerSettings, now: datetime | None = None) -> tuple[int, int]:
    """Send every reply waiting to be e-mailed; (sent, failed). Nothing is sent without [alerts] smtp_host."""
    from zoneinfo import ZoneInfo

    moment = now or utc_now()
    zone = ZoneInfo(report_timezone(settings))
    with reading(engine) as conn:
        waiting = conn.execute(
            select(FEEDBACK_CASE.c.id, FEEDBACK_CASE.c.contact_email, FEEDBACK_CASE.c.text, FEEDBACK_CASE.c.reply,
                   FEEDBACK_CASE.c.recorded_at, AGENCY.c.name)
            .select_from(FEEDBACK_CASE.join(AGENCY, AGENCY.c.id == FEEDBACK_CASE.c.agency_id))
            .where(FEEDBACK_CASE.c.mail_status == "pending").order_by(FEEDBACK_CASE.c.id)).all()
    if not waiting:
        return 0, 0
    if not settings.alerts.smtp_host:
        unset = mail.not_configured()
        with writing(engine) as conn:
            conn.execute(update(FEEDBACK_CASE).where(FEEDBACK_CASE.c.mail_status == "pending")
                         .values(mail_error=f"{unset.vi} / {unset.en}"))
        return 0, 0
    sent = failed = 0
    try:
        mailer = mail.Mailer(settings).open()
    except mail.MailError as error:
        with writing(engine) as conn:   # the replies wait for the next round; only the reason is noted
            conn.execute(update(FEEDBACK_CASE).where(FEEDBACK_CASE.c.mail_status == "pending")
                         .values(mail_error=f"{error.vi} / {error.en}"[:500]))
        return 0, len(waiting)
    with mailer:
        for case in waiting:
            with writing(engine) as conn:
                claimed = conn.execute(update(FEEDBACK_CASE).where(
                    FEEDBACK_CASE.c.id == case.id, FEEDBACK_CASE.c.mail_status == "pending")
                    .values(mail_status="sending", mail_attempts=FEEDBACK_CASE.c.mail_attempts + 1)).rowcount
            if claimed != 1:
                continue   # another sender has it
            received = case.recorded_at.astimezone(zone).strftime("%d/%m/%Y")
            outgoing = mail.Outgoing((case.contact_email,),
                                     f"Trả lời ý kiến của Ông/Bà — {case.name} / Reply to your comment",
                                     _body(case.name, case.text, case.reply, received), f"kiosk-case-{case.id}")
            try:
                refused = mailer.send(outgoing, moment)
            except mail.MailError as error:
                with writing(engine) as conn:
                    conn.execute(update(FEEDBACK_CASE).where(FEEDBACK_CASE.c.id == case.id)
                                 .values(mail_status="pending", mail_error=f"{error.vi} / {error.en}"[:500]))
                failed += 1
                continue
            with writing(engine) as conn:
                conn.execute(update(FEEDBACK_CASE).where(FEEDBACK_CASE.c.id == case.id)
                             .values(mail_status="sent", mailed_at=moment, mail_error=refused[:500]))
                conn.execute(insert(CASE_EVENT).values(case_id=case.id, at=moment, actor="", action="mail",
                                                       note=case.contact_email))
            sent += 1
    return sent, failed
