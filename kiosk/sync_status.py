"""Where this device stands with its server, read from device_state alone (no network, no Kivy).

The sync agent writes these facts; staff mode, `kiosk doctor` and `kiosk-sync status` read them here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from kiosk import i18n, state


@dataclass(frozen=True)
class LastError:
    """The first error of the last pass that had one."""

    at: str
    vi: str
    en: str


@dataclass(frozen=True)
class SyncStatus:
    """What `kiosk-sync status` and staff mode show."""

    enrolled: bool
    server_url: str
    device_id: str
    device_uuid: str
    head_seq: int
    acked_seq: int
    last_attempt: str
    last_success: str
    last_error: LastError | None
    clock_drift_s: float | None
    clock_flagged: bool
    settings_version: str
    catalog_version: str

    @property
    def queue_depth(self) -> int:
        """Records on the device the server has not acknowledged."""
        return max(self.head_seq - self.acked_seq, 0)

    def as_json(self) -> dict[str, Any]:
        """A plain dict for `status --json`."""
        data = asdict(self)
        data["queue_depth"] = self.queue_depth
        return data


def last_error_value(at: str, vi: str, en: str) -> str:
    """How the first error of a pass is stored: a JSON object, each sentence on one line as status shows it."""
    return json.dumps({"at": at, "vi": vi.replace("\n", " "), "en": en.replace("\n", " ")}, ensure_ascii=False)


def parse_last_error(raw: str | None) -> LastError | None:
    """The stored last error, or None when the last pass succeeded.

    Kiosks upgraded in place may still hold the older form, "when|vi|en", which is read too.
    """
    if not raw:
        return None
    if raw.startswith("{"):
        try:
            stored = json.loads(raw)
        except ValueError:
            stored = None
        if isinstance(stored, dict):
            return LastError(*(str(stored.get(name, "")) for name in ("at", "vi", "en")))
    at, vi, en = [*raw.split("|", 2), "", ""][:3]
    return LastError(at, vi, en)


_STATUS_KEYS = (state.SERVER_URL, state.SERVER_DEVICE_ID, state.HEAD_SEQ, state.ACKED_SEQ, state.LAST_ATTEMPT,
                state.LAST_SUCCESS, state.LAST_ERROR, state.CLOCK_DRIFT, state.CLOCK_FLAGGED, state.SETTINGS_VERSION,
                state.CATALOG_VERSION)


def read_status(device_state: state.DeviceState, device_uuid: str) -> SyncStatus:
    """The sync status of the device `device_uuid` as stored in its device_state."""
    stored = device_state.get_many(*_STATUS_KEYS)

    def get(key: str) -> str:
        return stored[key] or ""

    drift = get(state.CLOCK_DRIFT)
    return SyncStatus(
        enrolled=bool(get(state.SERVER_URL) and get(state.SERVER_DEVICE_ID)),
        server_url=get(state.SERVER_URL), device_id=get(state.SERVER_DEVICE_ID), device_uuid=device_uuid,
        head_seq=int(get(state.HEAD_SEQ) or 0), acked_seq=int(get(state.ACKED_SEQ) or 0),
        last_attempt=get(state.LAST_ATTEMPT), last_success=get(state.LAST_SUCCESS),
        last_error=parse_last_error(get(state.LAST_ERROR)),
        clock_drift_s=float(drift) if drift else None, clock_flagged=get(state.CLOCK_FLAGGED) == "1",
        settings_version=get(state.SETTINGS_VERSION), catalog_version=get(state.CATALOG_VERSION))


def local_time(iso_utc: str) -> str:
    """A stored UTC time as the device's local day and minute, e.g. 23/11/2026 01:12."""
    try:
        moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except ValueError:
        return iso_utc
    return moment.astimezone().strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class StaffLines:
    """The sync lines of staff mode, in one language."""

    state: str        # enrolled or not, and with which server (host and port)
    last: str         # last success and the clock
    error: str        # the last error, "" when the last pass succeeded
    ok: bool          # False when there is an error or the clock is flagged


def staff_lines(status: SyncStatus, lang: str, max_error_chars: int = 110) -> StaffLines:
    """What staff mode shows about sync, from the stored status."""
    if status.enrolled:
        host = urlsplit(status.server_url).netloc or status.server_url
        where = i18n.t("staff.sync_enrolled", lang, server=host)
    else:
        where = i18n.t("staff.sync_not_enrolled", lang)
    when = local_time(status.last_success) if status.last_success else i18n.t("staff.sync_never", lang)
    last = i18n.t("staff.sync_last_success", lang, when=when)
    if status.clock_drift_s is not None:
        key = "staff.sync_clock_wrong" if status.clock_flagged else "staff.sync_drift"
        last += "; " + i18n.t(key, lang, s=f"{status.clock_drift_s:+.0f}")
    error = ""
    if status.last_error is not None:
        words = status.last_error.en if lang == "en" else status.last_error.vi
        if len(words) > max_error_chars:
            words = words[:max_error_chars - 1] + "…"
        error = i18n.t("staff.sync_last_error", lang, when=local_time(status.last_error.at), error=words)
    return StaffLines(where, last, error, ok=not error and not status.clock_flagged)
