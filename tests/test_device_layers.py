"""The app loads its sync agent only when it first syncs (the import rules themselves, kiosk/ knowing nothing of
sync and the agent knowing the services only in its command, are in tests/test_architecture.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_the_app_loads_the_sync_agent_only_when_it_first_syncs(tmp_path: Path) -> None:
    code = ("import sys\n"
            "from kiosk.app import background_sync\n"
            "from kiosk.services import Services\n"
            "from kiosk.settings import resolve\n"
            f"services = Services.open(resolve(None), __import__('pathlib').Path({str(tmp_path)!r}),"
            " sync=background_sync)\n"
            "services.sync_status()\n"
            "print(sorted(m for m in ('requests', 'pydantic', 'sync.agent.run') if m in sys.modules))\n"
            "services.close()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
