"""The bundled sample catalog and its provenance file agree, and the sample reads as a commune's catalog.

assets/catalog/SOURCES.md promises a count, one section per procedure with its source page and crawl file,
and the list of publishing decisions; these tests hold the JSON and that file to each other, then import
the sample into a real device database and read it back the way the kiosk does.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.catalog import SAMPLE_CATALOG, Catalog
from kiosk.db import Database
from kiosk.domain.procedures import fold

SOURCES = SAMPLE_CATALOG.with_name("SOURCES.md")
CODE = r"\d{1,2}\.\d{6}(?:\.[A-Z0-9]{1,12})?"


def _records() -> list[dict[str, Any]]:
    records = json.loads(SAMPLE_CATALOG.read_text(encoding="utf-8"))
    assert isinstance(records, list)
    return records


def _sections(text: str) -> dict[str, str]:
    """Each "### CODE — name" section of SOURCES.md, by code."""
    parts = re.split(rf"^### ({CODE}) — .*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _source_line(section: str) -> str:
    """The "- Nguồn:" line of a section."""
    return next(line for line in section.splitlines() if line.startswith("- Nguồn:"))


def _field_name(record: dict[str, Any]) -> str:
    return str(record["LINHVUCTHUCHIEN"][0]["TENLINHVUC"])


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _records()


@pytest.fixture(scope="module")
def sources() -> str:
    return SOURCES.read_text(encoding="utf-8")


@pytest.fixture
def catalog(database: Database) -> Iterator[Catalog]:
    cat = Catalog(database)
    assert cat.ensure_sample() is True
    yield cat
    cat.close()


# --- the provenance file -------------------------------------------------------------------------------------


def test_sources_states_how_many_procedures_the_sample_holds(records: list[dict[str, Any]], sources: str) -> None:
    stated = re.search(r"Tệp mẫu gồm (\d+) thủ tục", sources)
    assert stated is not None
    assert int(stated[1]) == len(records)


def test_every_procedure_has_exactly_one_section_in_sources(records: list[dict[str, Any]], sources: str) -> None:
    headings = re.findall(rf"^### ({CODE}) — ", sources, flags=re.MULTILINE)
    assert sorted(headings) == sorted(record["MATTHC"] for record in records)
    assert len(headings) == len(set(headings))


def test_each_section_names_the_procedure_by_its_name_in_the_sample(records: list[dict[str, Any]],
                                                                   sources: str) -> None:
    names = dict(re.findall(rf"^### ({CODE}) — (.*)$", sources, flags=re.MULTILINE))
    assert {record["MATTHC"]: record["TENTTHC"] for record in records} == names


def test_a_portal_page_named_as_source_is_the_procedures_online_link(records: list[dict[str, Any]],
                                                                     sources: str) -> None:
    links = {record["MATTHC"]: record.get("URL_DVC") for record in records}
    checked = 0
    for code, body in _sections(sources).items():
        source_line = _source_line(body)
        page = re.search(r"https://dichvucong\.gov\.vn/\S+", source_line)
        crawl_file = re.search(r"scripts/crawler/data/raw/[a-z-]+/(\S+)\.json", source_line)
        if page:
            assert links[code] == page[0], code
            checked += 1
        if crawl_file:
            assert crawl_file[1] == code
    assert checked > 0


def test_publishing_decisions_list_each_sample_procedure_at_most_once(records: list[dict[str, Any]],
                                                                      sources: str) -> None:
    line = next(line for line in sources.splitlines() if line.startswith("- Quyết định công bố"))
    listed = re.findall(CODE, line)
    assert listed
    assert len(listed) == len(set(listed))
    assert set(listed) <= {record["MATTHC"] for record in records}


def test_every_procedure_with_a_crawl_file_has_its_publishing_decision(sources: str) -> None:
    line = next(line for line in sources.splitlines() if line.startswith("- Quyết định công bố"))
    listed = set(re.findall(CODE, line))
    from_crawl = {code for code, body in _sections(sources).items() if "chatbot_tthc@" in _source_line(body)}
    assert from_crawl
    assert from_crawl <= listed


# --- the sample itself ---------------------------------------------------------------------------------------


def test_every_sample_procedure_is_handled_at_commune_level(records: list[dict[str, Any]]) -> None:
    levels = {record["MATTHC"]: {fold(level["TENCAP"]) for level in record["CAPTHUCHIEN"]} for record in records}
    assert {code: found for code, found in levels.items() if found != {"cap xa"}} == {}


def test_the_imported_sample_has_the_fields_and_counts_of_the_file(catalog: Catalog,
                                                                  records: list[dict[str, Any]]) -> None:
    expected = Counter(_field_name(record) for record in records)
    assert catalog.count() == len(records)
    assert {field.name: field.count for field in catalog.fields()} == dict(expected)
    for field in catalog.fields():
        listed = {hit.code for hit in catalog.list_all(field.code)}
        assert listed == {r["MATTHC"] for r in records if _field_name(r) == field.name}


def test_every_sample_procedure_is_found_by_its_code_and_by_its_name(catalog: Catalog,
                                                                     records: list[dict[str, Any]]) -> None:
    for record in records:
        code, name = record["MATTHC"], record["TENTTHC"]
        assert catalog.search(code)[0].code == code
        assert code in {hit.code for hit in catalog.search(fold(name), limit=len(records))}, code
        procedure = catalog.get(code)
        assert procedure is not None and procedure.name == name


def test_typing_dat_dai_finds_every_land_procedure_of_the_sample(catalog: Catalog,
                                                                  records: list[dict[str, Any]]) -> None:
    land = {record["MATTHC"] for record in records if fold(_field_name(record)) == "dat dai"}
    assert land
    found = {hit.code for hit in catalog.search("dat dai", limit=len(records))}
    assert land <= found


def test_every_sample_procedure_tells_a_citizen_where_and_how(catalog: Catalog,
                                                              records: list[dict[str, Any]]) -> None:
    """A procedure with its portal page carries the channels, steps and documents a guide slip prints."""
    for record in records:
        if not record.get("URL_DVC"):
            continue  # documented in SOURCES.md as known only by code and name
        procedure = catalog.get(record["MATTHC"])
        assert procedure is not None
        assert procedure.channels and procedure.steps and procedure.documents, record["MATTHC"]
        assert all(channel.fees for channel in procedure.channels), record["MATTHC"]


def test_the_sample_file_is_written_as_the_repository_keeps_it() -> None:
    """Two-space indented UTF-8 with one newline at the end, so a diff shows only what changed."""
    raw = Path(SAMPLE_CATALOG).read_text(encoding="utf-8")
    assert raw == json.dumps(_records(), ensure_ascii=False, indent=2) + "\n"
