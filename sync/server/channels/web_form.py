"""The public web form: a citizen's answers read from a posted form, judged against the abuse rules, and stored
through the channels' one store (sync.server.channels.store) as the `web` channel.

Nothing about the person is kept. The rules see only:
- a one-time token from a printed QR card (`?t=`), stored as its SHA-256 only: its first use counts, a second is
  kept but flagged `token_reused`. An unknown token is treated as no token: it proves nothing (anyone can make
  one up), and refusing or flagging it would only silence a citizen whose card was mistyped or withdrawn;
- the address, only as an HMAC with a key derived from the server's secret, counted per minute in `rate_window`:
  answers over `[webform] rate_limit_per_min` are kept but flagged `rate_limited`;
- a cookie the server signs, saying when this browser last answered for an agency: a repeat within
  `[webform] repeat_window_h` is flagged `repeat_browser`;
- a honeypot field people never see: filled, the answer is flagged `honeypot`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, exc, insert, select, update

from kiosk.domain.levels import (
    COMMENT_KEY,
    COMMENT_MAX_CHARS,
    LANGUAGES,
    PROCEDURE_CODE,
    PROCEDURE_KEY,
    QUESTIONS,
    SCALE_KEYS,
    YESNO_KEYS,
)
from sync.server import registry
from sync.server.channels.store import Answers, Meta, Stored, store
from sync.server.db import reading, utc_now, writing
from sync.server.errors import ServerError
from sync.server.models import COUNTER, PROCEDURE_INFO, RATE_WINDOW, SURVEY_TOKEN
from sync.server.secret import ServerSecret
from sync.server.settings import WebForm

FORM_PATH = "/y-kien"
SHORT_PATH = "/f"
LEVEL_FIELD = "level"
LANG_FIELD = "lang"
TOKEN_FIELD = "t"
# The honeypot: a field named like one a form-filling robot fills, hidden from people.
HONEYPOT_FIELD = "website"
FIELDS = frozenset({LEVEL_FIELD, LANG_FIELD, TOKEN_FIELD, HONEYPOT_FIELD, PROCEDURE_KEY, COMMENT_KEY,
                    *(q.key for q in QUESTIONS)})
COOKIE = "ykien"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_COOKIE_AGENCIES = 20   # agencies one browser's cookie remembers (the most recent)
_RATE_LABEL = "web-form:rate-limit"
_COOKIE_LABEL = "web-form:cookie"


@dataclass(frozen=True)
class Place:
    """Where a form's answers are filed: an agency and, if the link names one, its counter."""

    agency: registry.Agency
    counter_code: str | None
    counter_name: str
    procedures: tuple[tuple[str, str], ...]   # (code, name) the counter lists, for the form's choice


def find_place(engine: Engine, agency_code: str, counter_code: str | None) -> Place | None:
    """The agency (and counter) a form link names, or None when either does not exist."""
    if not registry.CODE.fullmatch(agency_code) or (counter_code is not None
                                                    and not registry.CODE.fullmatch(counter_code)):
        return None
    with reading(engine) as conn:
        try:
            agency = registry.agency(conn, agency_code)
        except ServerError:
            return None
        if counter_code is None:
            return Place(agency, None, "", ())
        row = conn.execute(select(COUNTER.c.name, COUNTER.c.procedures).where(
            COUNTER.c.agency_id == agency.id, COUNTER.c.code == counter_code)).first()
        if row is None:
            return None
        try:
            listed = json.loads(row.procedures or "[]")
            codes = [c for c in listed if isinstance(c, str) and PROCEDURE_CODE.fullmatch(c)]
        except ValueError:
            codes = []
        names: dict[str, str] = dict(conn.execute(select(PROCEDURE_INFO.c.code, PROCEDURE_INFO.c.name)
                                  .where(PROCEDURE_INFO.c.code.in_(codes))).tuples().all()) if codes else {}
        return Place(agency, counter_code, row.name, tuple((code, names.get(code, "")) for code in codes))


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field of a posted form, in both languages."""

    field: str
    vi: str
    en: str


@dataclass(frozen=True)
class Reading:
    """A posted form read: the answers when they can be stored, else the problems; the entered values (to show
    the form again with them), the language, the token and whether the honeypot was filled."""

    values: dict[str, str]
    language: str
    answers: Answers | None = None
    problems: tuple[Problem, ...] = ()
    forged: bool = False          # fields or values the form never sends: refused with 422 whatever else
    token: str | None = None
    honeypot: bool = False


def _choice(fields: Mapping[str, str], key: str, allowed: tuple[int, ...]) -> tuple[int | None, bool]:
    """A radio answer: (its value or None when not answered, whether it is outside what the form offers)."""
    raw = fields.get(key, "")
    if raw == "":
        return None, False
    if raw.isascii() and raw.isdigit() and int(raw) in allowed:
        return int(raw), False
    return None, True


def read_form(fields: Mapping[str, str]) -> Reading:
    """Read a posted form against the questions of kiosk.domain.levels (the one place they are defined)."""
    language = fields.get(LANG_FIELD, "vi")
    forged = language not in LANGUAGES or any(name not in FIELDS for name in fields)
    language = language if language in LANGUAGES else "vi"
    kept = {name: value[:COMMENT_MAX_CHARS * 2] for name, value in fields.items() if name in FIELDS}
    problems: list[Problem] = []
    level, bad = _choice(fields, LEVEL_FIELD, (1, 2, 3, 4, 5))
    forged = forged or bad
    if level is None and not bad:
        problems.append(Problem(LEVEL_FIELD, "Xin chọn một mức hài lòng (câu 1).",
                                "Please choose how satisfied you are (question 1)."))
    values: dict[str, int] = {}
    for key in SCALE_KEYS + YESNO_KEYS:
        answer, bad = _choice(fields, key, (1, 2, 3, 4, 5) if key in SCALE_KEYS else (0, 1))
        forged = forged or bad
        if answer is not None:
            values[key] = answer
    comment = fields.get(COMMENT_KEY, "").replace("\r\n", "\n")
    if len(comment) > COMMENT_MAX_CHARS:
        problems.append(Problem(COMMENT_KEY, f"Góp ý dài quá {COMMENT_MAX_CHARS} ký tự ({len(comment)}).",
                                f"The comment is longer than {COMMENT_MAX_CHARS} characters ({len(comment)})."))
    procedure = fields.get(PROCEDURE_KEY, "").strip().upper()
    if procedure and not PROCEDURE_CODE.fullmatch(procedure):
        problems.append(Problem(PROCEDURE_KEY, "Mã thủ tục không đúng dạng (ví dụ 1.001193); có thể để trống.",
                                "The procedure code is not in the national form (e.g. 1.001193); it may be left "
                                "empty."))
    token = fields.get(TOKEN_FIELD, "") or None
    if token is not None and not TOKEN_PATTERN.fullmatch(token):
        forged = True
    answers = None
    if not problems and not forged and level is not None:
        answers = Answers(level, values, comment.strip() or None, procedure or None, language)
        found = answers.problem()
        if found is not None:   # the domain's own check, should the form and the domain ever part ways
            problems.append(Problem(LEVEL_FIELD, found[0], found[1]))
            answers = None
    return Reading(kept, language, answers, tuple(problems), forged, token, bool(fields.get(HONEYPOT_FIELD)))


# ---- tokens --------------------------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    """How a token is stored: its SHA-256, hex (the token itself is only on the printed card)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def make_tokens(engine: Engine, agency_code: str, counter_code: str | None, count: int, batch: str,
                now: datetime | None = None) -> list[str]:
    """`count` new one-time tokens for the agency's (or counter's) form, stored as hashes under `batch`."""
    if not 1 <= count <= 10_000:
        raise ServerError("Số mã phải từ 1 đến 10000", "the count must be from 1 to 10000")
    if len(batch) > 64:
        raise ServerError("Tên đợt dài quá 64 ký tự", "the batch label is longer than 64 characters")
    moment = now or utc_now()
    tokens = [secrets.token_urlsafe(16) for _ in range(count)]
    with writing(engine) as conn:
        agency = registry.agency(conn, agency_code)
        counter = registry.counter_id(conn, agency, counter_code) if counter_code is not None else None
        conn.execute(insert(SURVEY_TOKEN), [
            {"agency_id": agency.id, "counter_id": counter, "token_hash": token_hash(token), "batch": batch,
             "created_at": moment} for token in tokens])
    return tokens


def _claim_token(engine: Engine, place: Place, token: str, now: datetime) -> tuple[int | None, bool]:
    """(the token's id or None when unknown here, whether this use is its first). The claim is one conditional
    UPDATE, so of two answers posted at once with one token exactly one is first."""
    with writing(engine) as conn:
        row = conn.execute(select(SURVEY_TOKEN.c.id, SURVEY_TOKEN.c.counter_id).where(
            SURVEY_TOKEN.c.token_hash == token_hash(token), SURVEY_TOKEN.c.agency_id == place.agency.id)).first()
        if row is None:
            return None, False
        claimed = conn.execute(update(SURVEY_TOKEN).where(SURVEY_TOKEN.c.id == row.id,
                                                          SURVEY_TOKEN.c.used_at.is_(None)).values(used_at=now))
        return int(row.id), claimed.rowcount == 1


# ---- the rate limit ------------------------------------------------------------------------------------------

def address_key(secret: ServerSecret, address: str) -> str:
    """The address as the rate limit keeps it: an HMAC with the server's key for it, never the address. An IPv6
    address counts as its /64 (one home or phone is given a whole /64 and may pick any address in it)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        parsed = None
    if isinstance(parsed, ipaddress.IPv6Address):
        mapped = parsed.ipv4_mapped
        address = str(mapped) if mapped is not None else str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return hmac.new(secret.derive(_RATE_LABEL), address.encode("utf-8"), hashlib.sha256).hexdigest()


def count_address(engine: Engine, secret: ServerSecret, address: str, now: datetime, keep: timedelta) -> int:
    """Count one answer from `address` in the current minute; how many it has made this minute, this one
    included. A new minute's first answer prunes counts older than `keep`."""
    key = address_key(secret, address)
    window = now.replace(second=0, microsecond=0)
    for _attempt in range(3):
        try:
            with writing(engine) as conn:
                bumped = conn.execute(update(RATE_WINDOW).where(RATE_WINDOW.c.key_hash == key,
                                                                RATE_WINDOW.c.window_start == window)
                                      .values(count=RATE_WINDOW.c.count + 1))
                if bumped.rowcount == 0:
                    conn.execute(insert(RATE_WINDOW).values(key_hash=key, window_start=window, count=1))
                    conn.execute(delete(RATE_WINDOW).where(RATE_WINDOW.c.window_start < window - keep))
                    return 1
                return int(conn.execute(select(RATE_WINDOW.c.count).where(
                    RATE_WINDOW.c.key_hash == key, RATE_WINDOW.c.window_start == window)).scalar_one())
        except exc.IntegrityError:   # another answer from the address opened the minute at the same moment
            continue
    return 1


# ---- the browser's cookie ------------------------------------------------------------------------------------

def _cookie_mac(secret: ServerSecret, payload: bytes) -> str:
    return hmac.new(secret.derive(_COOKIE_LABEL), payload, hashlib.sha256).hexdigest()


def read_cookie(secret: ServerSecret, value: str | None) -> dict[str, int]:
    """When this browser last answered for each agency (code -> Unix time); {} for no cookie, or one that is
    damaged or not the server's own."""
    if not value or len(value) > 4096 or "." not in value:
        return {}
    encoded, _, mac = value.rpartition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded.encode("ascii") + b"=" * (-len(encoded) % 4))
    except (ValueError, UnicodeEncodeError):
        return {}
    if not hmac.compare_digest(mac, _cookie_mac(secret, payload)):
        return {}
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)}


def make_cookie(secret: ServerSecret, answered: Mapping[str, int]) -> str:
    """The signed cookie value for `answered` (agency code -> Unix time), the most recent agencies only."""
    recent = dict(sorted(answered.items(), key=lambda item: item[1])[-_COOKIE_AGENCIES:])
    payload = json.dumps(recent, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=") + "." + _cookie_mac(secret, payload)


# ---- submitting ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submitted:
    """A stored answer, why it was flagged (None: it counts), and the cookie value to send back."""

    stored: Stored
    flag_reason: str | None
    cookie: str
    checks: dict[str, bool] = field(default_factory=dict)


def submit(engine: Engine, secret: ServerSecret, rules: WebForm, place: Place, form: Reading, *,
           address: str, cookie: str | None, now: datetime | None = None) -> Submitted:
    """Judge a readable form against the abuse rules and store it (flagged or not); the first rule that
    applies names the flag, in the order honeypot, token reused, rate limited, repeat browser."""
    if form.answers is None:
        raise ValueError("submit() takes only a form read without problems")
    moment = now or utc_now()
    token_id, first_use = (None, False)
    if form.token is not None and not form.honeypot:   # a robot's answer must not use up a citizen's card
        token_id, first_use = _claim_token(engine, place, form.token, moment)
    count = count_address(engine, secret, address, moment, timedelta(hours=rules.rate_keep_h))
    answered = read_cookie(secret, cookie)
    last = answered.get(place.agency.code)
    now_s = int(moment.timestamp())
    checks = {
        "honeypot": form.honeypot,
        "token_reused": token_id is not None and not first_use,
        "rate_limited": count > rules.rate_limit_per_min,
        "repeat_browser": last is not None and 0 <= now_s - last < rules.repeat_window_h * 3600,
    }
    reason = next((name for name, hit in checks.items() if hit), None)
    try:
        stored = store(engine, secret, agency_code=place.agency.code, counter_code=place.counter_code,
                       channel="web", answers=form.answers,
                       meta=Meta(source="web", flag_reason=reason, token_id=token_id), now=moment)
    except Exception:
        if token_id is not None and first_use:   # nothing was stored: the card may be used again
            with writing(engine) as conn:
                conn.execute(update(SURVEY_TOKEN).where(SURVEY_TOKEN.c.id == token_id).values(used_at=None))
        raise
    if token_id is not None and first_use:
        with writing(engine) as conn:
            conn.execute(update(SURVEY_TOKEN).where(SURVEY_TOKEN.c.id == token_id)
                         .values(rating_uuid=stored.rating_uuid))
    answered[place.agency.code] = now_s
    return Submitted(stored, reason, make_cookie(secret, answered), checks)


def form_path(agency_code: str, counter_code: str | None) -> str:
    """The form's path for an agency (and counter)."""
    return f"{FORM_PATH}/{agency_code}" + (f"/{counter_code}" if counter_code else "")


def short_path(agency_code: str, counter_code: str | None) -> str:
    """The short link's path, the one posters and slips print."""
    return f"{SHORT_PATH}/{agency_code}" + (f"/{counter_code}" if counter_code else "")
