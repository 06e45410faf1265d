"""Schemathesis 4 fuzzes the live server from its own OpenAPI document, on SQLite and PostgreSQL: no 5xx.

Twice: as any stranger would (its own CLI, every operation, unsigned, all its checks but the one that needs a
valid signature), and as an enrolled device whose every fuzzed request is properly signed, so the odd bodies
get past the signature check into parsing, the chain walk and the database. Bounded in examples, not time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from sync import protocol
from tests.sync_harness import ServerHandle, sign_headers

EXAMPLES_PER_OPERATION = 40


def test_fuzzing_the_openapi_document_as_a_stranger_finds_no_server_error(module_server: ServerHandle,
                                                                          tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [str(st), "run", module_server.url + "/openapi.json", "--checks", "all",
         "--exclude-checks", "positive_data_acceptance", "--max-examples", "25", "--seed", "5",
         "--generation-database", "none", "--no-color", "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path)  # it keeps a cache in its cwd
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Tested: 7" in result.stdout  # every operation in the document was exercised
    junit = next(tmp_path.glob("*.xml")).read_text(encoding="utf-8")
    assert "<failure" not in junit and "<error" not in junit


def test_fuzzing_signed_device_requests_finds_no_server_error(module_server: ServerHandle, tmp_path: Path) -> None:
    device, device_id = module_server.enrolled_device(tmp_path / "kiosk")
    module_server.cli_ok("catalog", "import", str(Path(__file__).resolve().parent / "data" / "national_good.json"))
    schema = schemathesis.openapi.from_url(module_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {(op.method.upper(), op.path) for op in operations} >= {
        ("POST", protocol.ENROLL_PATH), ("POST", protocol.PUSH_PATH), ("GET", protocol.PUSH_PATH),
        ("GET", protocol.SETTINGS_PATH),
        ("GET", protocol.CATALOG_PATH), ("POST", protocol.HEALTH_PATH), ("GET", protocol.TIME_PATH)}
    seen: dict[int, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url=module_server.url)
            body = b""
            if "json" in kwargs:
                body = json.dumps(kwargs.pop("json")).encode("utf-8")
            elif kwargs.get("data") is not None:
                data = kwargs.pop("data")
                body = data if isinstance(data, bytes) else str(data).encode("utf-8")
            signer = device_id
            if case.path == protocol.ENROLL_PATH and isinstance(case.body, dict):
                signer = str(case.body.get("device_uuid", device_id))
            kwargs["headers"].update(sign_headers(device.key, signer, case.method, case.path, body))
            response = requests.request(data=body or None, timeout=30, **kwargs)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, response.text
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                     content_type_conformance, response_schema_conformance])

        fuzz()
    # The signed requests got through: some were accepted, and refusals came from reading the bodies.
    assert seen.get(200, 0) > 0 and (seen.get(422, 0) + seen.get(409, 0)) > 0, seen
    device.close()
