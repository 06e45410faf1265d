"""The import graph keeps the rules docs/architecture.md states (tests/architecture.py holds both), and the page's
diagram is the one the code draws."""

from __future__ import annotations

import pytest

from tests import architecture

PAGE = architecture.ROOT / "docs" / "architecture.md"


def test_every_module_belongs_to_a_part() -> None:
    homeless = [name for name, _ in architecture.modules()
                if name not in architecture.PACKAGES and architecture.part_of(name) is None]
    assert homeless == []


def test_no_import_breaks_a_rule() -> None:
    assert architecture.violations(architecture.graph()) == []


@pytest.mark.parametrize(("module", "source", "broken"), [
    ("kiosk.ratings", "import kivy.uix.label\n", "kivy.uix.label"),
    ("kiosk.services", "def later():\n    from sync.agent import run\n", "sync.agent.run"),
    ("kiosk.ui.staff", "import sqlite3\n", "sqlite3"),
    ("kiosk.ui.idle", "from sqlalchemy import select\n", "sqlalchemy"),
    ("kiosk.domain.levels", "from ..ratings import RatingLog\n", "kiosk.ratings"),
    ("kiosk.domain.chain", "from sync import protocol\n", "sync.protocol"),
    ("sync.server.results.dashboard", "from kiosk.ui import theme\n", "kiosk.ui.theme"),
    ("sync.server.app", "import kiosk.services\n", "kiosk.services"),
    ("sync.agent.push", "from kiosk.services import Services\n", "kiosk.services"),
    ("kiosk.doctor", "from sync.agent import status\n", "sync.agent"),
    ("kiosk.ui.enroll", "def go():\n    from sync.agent.enroll import enroll\n", "sync.agent.enroll"),
    ("sync.protocol", "from sync.server import models\n", "sync.server.models"),
])
def test_a_broken_rule_is_caught(module: str, source: str, broken: str) -> None:
    known = frozenset(name for name, _ in architecture.modules()) | {"kiosk.ratings", "sync.protocol",
                                                                     "sync.server.models", "kiosk.ui.theme"}
    found = architecture.violations(architecture.imports_of(module, source, known))
    assert any(f" imports {broken} " in line for line in found), found


def test_the_domain_may_import_itself_and_the_server_the_domain() -> None:
    known = frozenset(name for name, _ in architecture.modules())
    fine = [("kiosk.domain.chain", "from kiosk.domain.keys import verify_signature\n"),
            ("kiosk.domain.catalog_import", "from . import catalog_text\n"),
            ("sync.server.db", "from kiosk import __version__\nfrom kiosk.domain.errors import BilingualError\n"),
            ("sync.agent.push", "from kiosk.domain import chain\nfrom sync import protocol\n")]
    for module, source in fine:
        assert architecture.violations(architecture.imports_of(module, source, known, is_package=False)) == []


def test_the_page_shows_the_graph_the_code_draws() -> None:
    text = PAGE.read_text(encoding="utf-8")
    generated = text[text.index(architecture.START) + len(architecture.START):text.index(architecture.END)]
    assert generated == "\n" + architecture.markdown() + "\n", "run: python -m tests.architecture docs/architecture.md"


def test_no_bench_imports_the_tests() -> None:
    """Benches run on their own (python -m bench.NAME); what tests and benches share lives in bench/ or the code."""
    import ast

    offenders = []
    for path in sorted((architecture.ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.name}: {name}" for name in names if name == "tests" or name.startswith("tests.")]
    assert offenders == []
