"""The central server's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

`record` is the evidence: every signed record exactly as the device made it, append only, one row per
(device, seq) and per (device, uuid); the database enforces both, so several server processes never store
one twice. `rating` is the same ratings folded for reports: one row per rating with its follow-up answers,
indexed for aggregation by agency, counter, officer, procedure and period.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    false,
    text,
    true,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from kiosk.domain.chain import GENESIS_HASH
from kiosk.domain.levels import CALLBACK_KEY, HARASSMENT_KEY, LEVELS, SCALE_KEYS

# Stable constraint names, so migrations can name what they alter on both databases.
metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
})


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """An aware moment as whole microseconds since 1970-01-01 UTC (exact: no floating point)."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """The aware UTC moment `micros` microseconds after 1970-01-01 UTC."""
    return _EPOCH + timedelta(microseconds=micros)


class _SqliteMicros(sqlite.DATETIME):
    """SQLite's side of UtcDateTime: the column is still declared DATETIME (a name with numeric affinity in
    SQLite), but holds an integer, so the value passes to and from the driver untouched."""

    def bind_processor(self, dialect: Dialect) -> None:
        """No conversion: UtcDateTime gives the integer."""
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        """No conversion: UtcDateTime reads the integer."""
        return None


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC: timestamptz on PostgreSQL; on SQLite, integer microseconds since 1970-01-01 UTC.

    One canonical form per database, compared as a moment and never as text: SQLite has no time type, and text
    forms of one instant differ ('17:00:00' and '17:00:00.000000' sort apart), which once put a rating made at
    exactly midnight on the day before. Always aware UTC in Python.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """Integer microseconds on SQLite, the dialect's own timestamp type elsewhere."""
        if dialect.name == "sqlite":
            return _SqliteMicros()  # type: ignore[no-untyped-call]  # SQLAlchemy's DATETIME has no hints
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Store in UTC; a naive datetime is a programming error (whose clock would it be?)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return to_micros(value) if dialect.name == "sqlite" else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        if value is None:
            return None
        if isinstance(value, int):
            return from_micros(value)
        if isinstance(value, str):   # SQLite's text form before migration 0006, read by a downgraded database
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"a UTC column holds {value!r}, not a moment")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


AGENCY = Table(
    "agency", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("parent", String(200), nullable=False, server_default=""),   # province or commune
    Column("hotline", String(40), nullable=False, server_default=""),
    Column("complaint_address", String(200), nullable=False, server_default=""),
    Column("email", String(200), nullable=False, server_default=""),
    Column("website", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
)

COUNTER = Table(
    "counter", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("procedures", Text, nullable=False, server_default="[]"),  # JSON list of procedure codes
    UniqueConstraint("agency_id", "code"),
)

OFFICER = Table(
    "officer", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("title", String(200), nullable=False, server_default=""),
    Column("counter_id", Integer, ForeignKey("counter.id")),  # NULL: may serve at any counter of the agency
    UniqueConstraint("agency_id", "code"),
)

DEVICE = Table(
    "device", metadata,
    Column("id", String(36), primary_key=True),             # server-assigned UUID
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("counter_id", Integer, ForeignKey("counter.id"), nullable=False),
    Column("status", String(16), nullable=False),           # pending (not enrolled yet), active, revoked
    Column("public_key", String(64), unique=True),          # base64 Ed25519; a key belongs to one device ever
    Column("local_uuid", String(36)),                       # the kiosk's own device_uuid
    Column("hostname", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("enrolled_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    # The chain as the server holds it: everything up to acked_seq is stored and verified.
    Column("acked_seq", BigInteger, nullable=False, server_default="0"),
    Column("acked_hash", String(64), nullable=False, server_default=GENESIS_HASH),
    Column("chain_state", String(16), nullable=False, server_default="intact"),  # intact, gap, broken
    Column("first_bad_seq", BigInteger),
    Column("problem_vi", Text, nullable=False, server_default=""),
    Column("problem_en", Text, nullable=False, server_default=""),
    Column("last_contact_at", UtcDateTime),
    Column("last_push_at", UtcDateTime),
    # The latest health report.
    Column("health_at", UtcDateTime),
    Column("app_version", String(200), nullable=False, server_default=""),
    Column("queue_depth", BigInteger),
    Column("head_seq", BigInteger),
    Column("disk_free_bytes", BigInteger),
    Column("printer_state", String(16), nullable=False, server_default=""),
    Column("printer_fault", String(500), nullable=False, server_default=""),
    Column("catalog_version", String(80), nullable=False, server_default=""),
    Column("settings_version", String(64), nullable=False, server_default=""),
    Column("last_error", String(500), nullable=False, server_default=""),
    Column("clock_drift_s", Float),            # device clock minus server clock, from the last push or health report
    Column("clock_drift_at", UtcDateTime),     # when that was measured (the server's clock)
    Column("clock_flagged", Boolean, nullable=False, server_default=false()),
    Column("last_record_at", UtcDateTime),     # the placed time of the newest record whose time is trusted
    # IT has looked at a broken chain; from then its ratings up to acked_seq count again.
    Column("chain_reviewed_at", UtcDateTime),
    Column("chain_reviewed_by", String(64)),
    # How its ratings reach the server (kiosk.domain.levels.CHANNELS): a kiosk enrolled with its own key, or the
    # server itself for the web form and paper questionnaires of one counter, signing with a key only it holds
    # (sync/server/channels, migration 0007).
    Column("channel", String(8), nullable=False, server_default="kiosk"),
    Index(None, "agency_id"),
)
# One server device per counter and channel: two first answers arriving at once cannot make two chains.
_SERVER_CHANNEL = DEVICE.c.channel != "kiosk"
Index("uq_device_agency_id_counter_id_channel", DEVICE.c.agency_id, DEVICE.c.counter_id, DEVICE.c.channel,
      unique=True, postgresql_where=_SERVER_CHANNEL, sqlite_where=_SERVER_CHANNEL)

ENROLMENT_CODE = Table(
    "enrolment_code", metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", String(36), ForeignKey("device.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),  # SHA-256 of the normalised code
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

NONCE = Table(
    "nonce", metadata,
    Column("device", String(36), nullable=False),  # device id, or the kiosk's local uuid when enrolling
    Column("nonce", String(128), nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("device", "nonce"),
    Index(None, "device", "seen_at"),
)

HEALTH = Table(
    "health", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("device_id", String(36), ForeignKey("device.id"), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("device_time", UtcDateTime, nullable=False),
    Column("clock_drift_s", Float, nullable=False),
    Column("clock_flagged", Boolean, nullable=False),
    Column("app_version", String(200), nullable=False),
    Column("queue_depth", BigInteger, nullable=False),
    Column("head_seq", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("acked_seq", BigInteger, nullable=False),
    Column("disk_free_bytes", BigInteger, nullable=False),
    Column("printer_state", String(16), nullable=False),
    Column("printer_fault", String(500), nullable=False),
    Column("catalog_version", String(80), nullable=False),
    Column("settings_version", String(64), nullable=False),
    Column("last_error", String(500), nullable=False),
    Index(None, "device_id", "received_at"),
)

RECORD = Table(
    "record", metadata,
    Column("device_id", String(36), ForeignKey("device.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("uuid", String(36), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("recorded_at", String(40), nullable=False),   # exactly as signed
    Column("prev_hash", String(64), nullable=False),
    Column("rating_uuid", String(36)),
    Column("level", SmallInteger),
    Column("counter_id", String(64)),
    Column("officer_id", String(64)),
    Column("procedure_code", String(64)),
    Column("language", String(8)),
    Column("suspected_repeat", Boolean, nullable=False),
    Column("is_test", Boolean, nullable=False),
    Column("question", String(32)),
    Column("value", SmallInteger),
    Column("text", Text),
    Column("hash", String(64), nullable=False),
    Column("signature", String(256), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("device_id", "seq"),
    UniqueConstraint("device_id", "uuid"),
)

# One row per rating; answers arrive as later records and are folded in. Reports aggregate this table.
RATING = Table(
    "rating", metadata,
    Column("device_id", String(36), ForeignKey("device.id"), nullable=False),
    Column("uuid", String(36), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("counter_id", Integer, ForeignKey("counter.id"), nullable=False),  # the device's counter
    Column("counter_code", String(64)),          # as the kiosk recorded it
    Column("officer_code", String(64)),          # agency-scoped officer code, e.g. CB001
    Column("procedure_code", String(64)),        # given with the rating, or chosen after it
    Column("language", String(8)),
    Column("level", SmallInteger, nullable=False),
    # When the rating happened as best known (sync.server.devices.clock): the device's own time (the signed text is in
    # `record`) moved by `clock_offset_s` when the device's clock was found off. A rating whose time cannot be
    # trusted (time_trusted false) keeps its device time and counts in no period.
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("clock_offset_s", Float, nullable=False, server_default="0"),
    Column("time_trusted", Boolean, nullable=False, server_default=true()),
    Column("received_at", UtcDateTime, nullable=False),
    Column("suspected_repeat", Boolean, nullable=False),
    Column("is_test", Boolean, nullable=False),
    # The five SIPAS elements (1-5), harassment (yes/no) and the comment, NULL until answered.
    *(Column(f"q_{key}", SmallInteger) for key in SCALE_KEYS),
    Column(HARASSMENT_KEY, Boolean),
    Column("comment", Text),
    # The citizen asked to be contacted about the comment (migration 0003): its contact is then shown unmasked.
    Column(CALLBACK_KEY, Boolean),
    PrimaryKeyConstraint("device_id", "uuid"),
    Index(None, "recorded_at"),   # reports over every agency (migration 0002)
    Index(None, "agency_id", "recorded_at"),
    Index(None, "counter_id", "recorded_at"),
    Index(None, "agency_id", "officer_code", "recorded_at"),
    Index(None, "agency_id", "procedure_code", "recorded_at"),
)
# The dashboard's newest comments and harassment reports, of every agency or one, read newest first from these
# small indexes instead of every rating of the period (migration 0004).
COMMENTED = and_(RATING.c.comment.is_not(None), RATING.c.comment != "")
HARASSMENT_REPORTED = RATING.c[HARASSMENT_KEY].is_(true())
for _what, _where in (("commented", COMMENTED), (HARASSMENT_KEY, HARASSMENT_REPORTED)):
    Index(f"ix_rating_recorded_at_{_what}", RATING.c.recorded_at, postgresql_where=_where, sqlite_where=_where)
    Index(f"ix_rating_agency_id_recorded_at_{_what}", RATING.c.agency_id, RATING.c.recorded_at,
          postgresql_where=_where, sqlite_where=_where)
# The few ratings whose time cannot be trusted, shown apart by when they were received (migration 0006).
TIME_UNTRUSTED = RATING.c.time_trusted.is_(false())
Index("ix_rating_received_at_untrusted", RATING.c.received_at, postgresql_where=TIME_UNTRUSTED,
      sqlite_where=TIME_UNTRUSTED)

ADMIN_USER = Table(
    "admin_user", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),   # scrypt$N$r$p$salt$hash
    Column("created_at", UtcDateTime, nullable=False),
)

LOGIN_THROTTLE = Table(
    "login_throttle", metadata,
    Column("username", String(64), primary_key=True),       # also for names that do not exist
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UtcDateTime, nullable=False),
)

ADMIN_SESSION = Table(
    "admin_session", metadata,
    Column("token_hash", String(64), primary_key=True),     # SHA-256 of the cookie's token
    Column("user_id", Integer, ForeignKey("admin_user.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

CATALOG = Table(
    "catalog_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),           # of `body`, the ETag
    Column("body", LargeBinary, nullable=False),            # the national JSON, UTF-8
    Column("body_gzip", LargeBinary, nullable=False),       # the same, gzip-compressed, for clients that accept it
    Column("source", String(500), nullable=False),
    Column("count", Integer, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
)

# --- Reports, publications and alerts (migration 0002) ---------------------------------------------------------

# The distributed catalog's procedures, refreshed on `kiosk-server catalog import`: reports group by field
# through it (a procedure code not in it reports as field "Khác / Other").
PROCEDURE_INFO = Table(
    "procedure_info", metadata,
    Column("code", String(64), primary_key=True),
    Column("name", Text, nullable=False, server_default=""),
    Column("field_code", String(64), nullable=False, server_default=""),
    Column("field_name", Text, nullable=False, server_default=""),
)

# Results an office chose to publish; `snapshot` is the Report as JSON, frozen when published, and is what the
# public page shows. One not-withdrawn publication per (agency, period_kind, first, last, group_by), in code.
PUBLICATION = Table(
    "publication", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("period_kind", String(16), nullable=False),
    Column("first", Date, nullable=False),
    Column("last", Date, nullable=False),
    Column("group_by", String(16), nullable=False),
    Column("title", Text, nullable=False, server_default=""),
    Column("snapshot", Text, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("published_by", String(64), nullable=False, server_default=""),
    Column("withdrawn_at", UtcDateTime),
    Index(None, "agency_id", "period_kind", "first", "last"),
)

# What to watch: kind 'dissatisfied' (share over `share` within `window_h` hours, at least `min_ratings`),
# 'harassment' (any report), 'silent' (a device silent longer than `window_h`). counter_id NULL: whole agency.
ALERT_RULE = Table(
    "alert_rule", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("counter_id", Integer, ForeignKey("counter.id")),
    Column("kind", String(16), nullable=False),
    Column("share", Float),
    Column("window_h", Float),
    Column("min_ratings", Integer),
    Column("email_to", Text, nullable=False),           # comma-separated addresses
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", UtcDateTime, nullable=False),
    Column("channel", String(8)),                        # one channel (kiosk.domain.levels); NULL: every channel
    Index(None, "agency_id"),
)

# One row per alert raised; UNIQUE(rule_id, occurrence) is what makes each alert sent once, even when several
# server processes check at the same time.
ALERT_EVENT = Table(
    "alert_event", metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", Integer, ForeignKey("alert_rule.id"), nullable=False),
    Column("occurrence", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("subject", Text, nullable=False, server_default=""),
    Column("body", Text, nullable=False, server_default=""),
    Column("sent_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
    UniqueConstraint("rule_id", "occurrence"),
)

# The satisfaction index an agency aims for in a year (migration 0009): `index_permille` is the target share in
# tenths of a percent (830 is 83%, 835 is 83.5%), an integer so a target is stored and compared exactly;
# `elements` is a JSON object of per-element targets in the same unit, keys from kiosk.domain.levels SCALE_KEYS.
SATISFACTION_TARGET = Table(
    "satisfaction_target", metadata,
    Column("agency_id", Integer, ForeignKey("agency.id"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("index_permille", Integer, nullable=False),
    Column("elements", Text, nullable=False, server_default="{}"),
    Column("set_by", String(64), nullable=False, server_default=""),
    Column("set_at", UtcDateTime, nullable=False),
)

# --- Day and month totals of the ratings (migration 0004) ------------------------------------------------------

# The totals count days and months in this fixed offset from UTC (Vietnam time, which has no daylight saving):
# reports use them only where the report time zone has this offset over the whole span asked for.
TOTALS_OFFSET_S = 7 * 3600
# The level values, lowest first.
LEVEL_VALUES = tuple(sorted(level.value for level in LEVELS))
# The counts a total holds, named as the reports' aggregation names them: ratings, each level, each element's
# answers ("a_") and answers at 4–5 ("s_"), harassment reports.
TOTAL_COUNTS = ("n", *(f"l{value}" for value in LEVEL_VALUES),
                *(f"{kind}_{key}" for key in SCALE_KEYS for kind in "as"), HARASSMENT_KEY)


def _totals(name: str, period: str, code: str | None) -> Table:
    """Counts of the non-test ratings whose time is trusted per local `period` (day, or month: its first day),
    place, device, `code` (if any) and repeat flag.

    Kept by database triggers on `rating` (insert, update, delete; created by migration 0004), so every way a
    rating is written or changed keeps them exact, in the same transaction. The device is part of the key, so a
    push (which holds its device's row lock) only ever touches its own device's totals: pushes from different
    kiosks never wait for, or deadlock on, each other here. A missing officer or procedure is stored as ''.
    """
    key = [period, "agency_id", "counter_id", "device_id", *([code] if code else []), "suspected_repeat"]
    return Table(
        name, metadata,
        Column(period, Date, nullable=False),            # at TOTALS_OFFSET_S
        Column("agency_id", Integer, nullable=False),
        Column("counter_id", Integer, nullable=False),
        Column("device_id", String(36), nullable=False),
        *([Column(code, String(64), nullable=False)] if code else []),
        Column("suspected_repeat", Boolean, nullable=False),
        *(Column(count, Integer, nullable=False) for count in TOTAL_COUNTS),
        PrimaryKeyConstraint(*key),
        Index(None, "agency_id", period),   # one agency's span; every agency's is the primary key's
        # Every rating rewrites a row here: room on each page keeps the new version beside the old one, so
        # PostgreSQL updates it in place of the indexes (a "HOT" update).
        postgresql_with={"fillfactor": 70},
    )


# Reports grouped by agency, counter and officer read the first for whole months, by procedure and field the
# second; the trend reads the day totals, and the month totals for whole months when it counts by month.
MONTH_BY_OFFICER = _totals("rating_month_officer", "month", "officer_code")
MONTH_BY_PROCEDURE = _totals("rating_month_procedure", "month", "procedure_code")
DAY_TOTALS = _totals("rating_day", "day", None)

# While it holds its one row, SQLite's insert trigger leaves the counting to the push, which adds its batch to
# the totals grouped by key (results.totals.insert_ratings; migration 0005). Set and cleared inside one
# transaction, so no other connection ever sees it set. PostgreSQL's statement trigger needs no such help.
TOTALS_DEFERRED = Table(
    "rating_totals_deferred", metadata,
    Column("one", Integer, primary_key=True),
)

# --- Web and paper answers (migration 0007) ------------------------------------------------------------------

# One-time tokens printed as QR codes (a token rates once: a second answer with it is kept but flagged).
SURVEY_TOKEN = Table(
    "survey_token", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("counter_id", Integer, ForeignKey("counter.id")),    # NULL: the agency's form, any counter
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the token the QR carries
    Column("batch", String(64), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Column("rating_uuid", String(36)),
)

# What the server knows of a web or paper answer beyond its signed records: why it was flagged (kept, left out of
# the counts like a kiosk's suspected repeat), its token, a paper form's number, who entered it and from what.
# Nothing about the person: no address, no browser identity.
SURVEY_RESPONSE = Table(
    "survey_response", metadata,
    Column("device_id", String(36), ForeignKey("device.id"), nullable=False),
    Column("rating_uuid", String(36), nullable=False),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("source", String(16), nullable=False),         # web, entry (typed), import (spreadsheet), omr (scanned)
    Column("received_at", UtcDateTime, nullable=False),
    Column("flag_reason", String(32)),                    # token_reused, rate_limited, repeat_browser, honeypot
    Column("token_id", Integer, ForeignKey("survey_token.id")),
    Column("form_number", Integer),                       # a paper form's printed number
    Column("entered_by", String(64), nullable=False, server_default=""),
    Column("image_path", Text, nullable=False, server_default=""),  # a scanned form, kept for audit
    PrimaryKeyConstraint("device_id", "rating_uuid"),
    UniqueConstraint("agency_id", "form_number"),         # a paper form is entered once
    Index(None, "agency_id", "received_at"),
)

# Numbered paper questionnaires, printed for an agency (and counter) and period.
PAPER_FORM = Table(
    "paper_form", metadata,
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("counter_id", Integer, ForeignKey("counter.id")),
    Column("period_first", Date, nullable=False),
    Column("period_last", Date, nullable=False),
    Column("printed_at", UtcDateTime, nullable=False),
    Column("printed_by", String(64), nullable=False, server_default=""),
    PrimaryKeyConstraint("agency_id", "number"),
)

# A scanned or photographed paper form whose marks the server read, held for a person when any mark is unclear.
OMR_READING = Table(
    "omr_reading", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("form_number", Integer),
    Column("image_path", Text, nullable=False),
    Column("answers", Text, nullable=False),              # JSON: what was read, question key -> value or null
    Column("unclear", Text, nullable=False, server_default="[]"),  # JSON: the question keys a person must decide
    Column("status", String(16), nullable=False),         # pending, stored, rejected
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("decided_by", String(64), nullable=False, server_default=""),
    Column("rating_uuid", String(36)),
    Index(None, "agency_id", "status"),
)

# Answers seen per hashed address and minute, for the web form's rate limit (the address itself is never kept:
# only an HMAC of it under a key that changes every day, and rows older than an hour are removed).
RATE_WINDOW = Table(
    "rate_window", metadata,
    Column("key_hash", String(64), nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("key_hash", "window_start"),
)

# --- Feedback cases (migration 0010; sync/server/cases) ----------------------------------------------------------

# A comment, harassment report or callback request to handle: one per rating and kind, made from `rating` by
# cases.store.sync_from_ratings. `case` is an SQL keyword, hence the name. The contact is kept as the citizen left
# it (staff need it to call or write back); the published question and reply are frozen once published.
FEEDBACK_CASE = Table(
    "feedback_case", metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", Integer, ForeignKey("agency.id"), nullable=False),
    Column("counter_id", Integer, ForeignKey("counter.id"), nullable=False),
    Column("device_id", String(36), nullable=False),
    Column("rating_uuid", String(36), nullable=False),
    Column("kind", String(16), nullable=False),              # comment, harassment, callback
    Column("channel", String(8), nullable=False),            # kiosk, web, paper
    Column("level", SmallInteger, nullable=False),
    Column("text", Text, nullable=False, server_default=""),  # the citizen's comment when the case was made
    Column("contact_phone", String(40), nullable=False, server_default=""),
    Column("contact_email", String(200), nullable=False, server_default=""),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("due_on", Date, nullable=False),                  # the last working day to answer on (report time zone)
    Column("status", String(16), nullable=False, server_default="new"),  # new, assigned, answered, closed
    Column("assignee", String(200), nullable=False, server_default=""),
    Column("reply", Text, nullable=False, server_default=""),
    Column("replied_at", UtcDateTime),
    Column("replied_by", String(64), nullable=False, server_default=""),
    Column("closed_at", UtcDateTime),
    Column("mail_status", String(16), nullable=False, server_default=""),  # '', pending, sending, sent
    Column("mail_attempts", Integer, nullable=False, server_default="0"),
    Column("mail_error", String(500), nullable=False, server_default=""),
    Column("mailed_at", UtcDateTime),
    Column("published_question", Text),
    Column("published_reply", Text),
    Column("published_at", UtcDateTime),
    Column("published_by", String(64), nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default="0"),   # bumped by every change (optimistic lock)
    UniqueConstraint("device_id", "rating_uuid", "kind"),
    Index(None, "agency_id", "status"),
    Index(None, "status", "due_on"),
)

# Who did what to a case, when, and the status it moved from and to.
CASE_EVENT = Table(
    "case_event", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("feedback_case.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False, server_default=""),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16), nullable=False, server_default=""),
    Column("to_status", String(16), nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
)

# Answer question keys (kiosk.domain.levels) and the rating column each is folded into.
ANSWER_COLUMNS = {**{key: f"q_{key}" for key in SCALE_KEYS}, HARASSMENT_KEY: HARASSMENT_KEY, CALLBACK_KEY: CALLBACK_KEY}

__all__ = ["ADMIN_SESSION", "ADMIN_USER", "AGENCY", "ALERT_EVENT", "ALERT_RULE", "ANSWER_COLUMNS", "CASE_EVENT",
           "CATALOG", "COMMENTED", "COUNTER", "DAY_TOTALS", "DEVICE", "ENROLMENT_CODE", "FEEDBACK_CASE",
           "HARASSMENT_REPORTED", "HEALTH", "LEVEL_VALUES", "LOGIN_THROTTLE", "MONTH_BY_OFFICER", "MONTH_BY_PROCEDURE",
           "NONCE", "OFFICER", "OMR_READING", "PAPER_FORM", "PROCEDURE_INFO", "PUBLICATION", "RATE_WINDOW", "RATING",
           "RECORD", "SATISFACTION_TARGET", "SURVEY_RESPONSE", "SURVEY_TOKEN", "TIME_UNTRUSTED", "TOTALS_DEFERRED",
           "TOTALS_OFFSET_S", "TOTAL_COUNTS", "metadata", "text"]
