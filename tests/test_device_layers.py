"""How the device's code depends on itself: the kiosk core knows nothing of its sync agent, the agent knows the
kiosk's services only in its own command, and the app loads the agent only when it first syncs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

# Where the parts are put together: the app and the two device commands.
COMPOSITION_ROOTS = {"kiosk/app.py", "kiosk/cli.py", "sync/agent/cli.py"}


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def sources(folder: str) -> list[Path]:
    """The Python files below `folder`, composition roots left out."""
    return [path for path in sorted((ROOT / folder).rglob("*.py"))
            if path.relative_to(ROOT).as_posix() not in COMPOSITION_ROOTS and "migrations" not in path.parts]


def test_the_kiosk_imports_nothing_of_sync_outside_its_composition_root() -> None:
    offenders = {path.relative_to(ROOT).as_posix(): sorted(name for name in imported(path)
                                                           if name == "sync" or name.startswith("sync."))
                 for path in sources("kiosk")}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_agent_knows_the_kiosk_services_only_in_its_command() -> None:
    offenders = [path.relative_to(ROOT).as_posix() for path in sources("sync/agent")
                 if any(name.startswith("kiosk.services") for name in imported(path))]
    assert offenders == []


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
