"""SQLAlchemy tables of the device database: the append-only rating log and the device state."""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the device schema."""


class LogRecord(Base):
    """One signed, chained record: a rating, or a follow-up answer that refers to a rating."""

    __tablename__ = "log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "rating" or "answer"
    recorded_at: Mapped[str] = mapped_column(String(32))  # UTC, ISO 8601 with milliseconds and Z
    rating_uuid: Mapped[str | None] = mapped_column(String(36))
    level: Mapped[int | None] = mapped_column(Integer)
    counter_id: Mapped[str | None] = mapped_column(String(64))
    officer_id: Mapped[str | None] = mapped_column(String(64))
    procedure_code: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    suspected_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    question: Mapped[str | None] = mapped_column(String(32))
    value: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(String(128))

    __table_args__ = (
        Index("ix_log_kind_seq", "kind", "seq"),
        Index("ix_log_rating_uuid", "rating_uuid"),
    )


class DeviceState(Base):
    """Small key/value facts about this device: its id, the chain head, the staff PIN, who is on duty."""

    __tablename__ = "device_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


LOG = LogRecord.__table__
STATE = DeviceState.__table__
