"""Catalog search as the citizen types: no diacritics needed, word starts, codes, fields, and the ranking."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from kiosk import catalog_query
from kiosk.catalog import Catalog, Hit
from kiosk.db import Database
from kiosk.domain.procedures import Document, LegalBasis, Procedure

BIRTH = Procedure("1.001193", "Đăng ký khai sinh", "HT", "Hộ tịch",
                  documents=(Document("Tờ khai đăng ký khai sinh", 1), Document("Giấy chứng sinh", 1)),
                  legal_basis=(LegalBasis("60/2014/QH13", "Luật Hộ tịch"),))
BIRTH_LOCAL = Procedure("1.001193.H19", "Đăng ký khai sinh cho trẻ em bị bỏ rơi", "HT", "Hộ tịch",
                        documents=(Document("Biên bản xác nhận việc trẻ bị bỏ rơi", 1),))
BIRTH_ABROAD = Procedure("1.001695", "Đăng ký khai sinh có yếu tố nước ngoài tại cơ quan đại diện", "HT", "Hộ tịch",
                         documents=(Document("Giấy chứng sinh", 1),))
DEATH = Procedure("1.000656", "Đăng ký khai tử", "HT", "Hộ tịch", documents=(Document("Giấy báo tử", 1),))
BIRTH_PAPER = Procedure("1.002001", "Cấp giấy chứng sinh", "YT", "Y tế")
COPY = Procedure("2.000908", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "CT", "Chứng thực")
INCOME = Procedure("2.000111", "Xác nhận thu nhập cho người lao động đi làm việc ở nước ngoài", "LD", "Lao động")
BOAT = Procedure("3.000222", "Cho thuê thuyền", "NN", "Nông nghiệp")
# Same length, same field, no other text: bm25 cannot tell them apart, so the name decides.
EXTRACT_DEATH = Procedure("1.000002", "Cấp bản sao trích lục khai tử", "HT", "Hộ tịch")
EXTRACT_CIVIL = Procedure("1.000003", "Cấp bản sao trích lục hộ tịch", "HT", "Hộ tịch")
# Unrelated procedures, as a real catalog has thousands: bm25 gives a word found in more than half of all
# procedures no weight at all, so a catalog of only the ones above could not show any ranking.
FILLER = tuple(
    Procedure(f"4.{100 + i:06d}", f"{verb} {thing}", "KT", "Kinh tế")
    for i, (verb, thing) in enumerate(
        (verb, thing) for verb in ("Phê duyệt", "Công nhận", "Xếp hạng", "Phân loại", "Kiểm tra")
        for thing in ("phương án vận tải", "làng nghề", "nhà hàng ăn uống", "chợ nông sản", "mỏ khoáng sản",
                      "hạn mức vay vốn")))
CATALOG = (EXTRACT_DEATH, EXTRACT_CIVIL, BIRTH, BIRTH_LOCAL, BIRTH_ABROAD, DEATH, BIRTH_PAPER, COPY, INCOME, BOAT,
           *FILLER)



@pytest.fixture
def catalog(database: Database) -> Iterator[Catalog]:
    cat = Catalog(database)
    cat.import_procedures(list(CATALOG), "test")
    yield cat
    cat.close()


def codes(hits: list[Hit]) -> list[str]:
    return [hit.code for hit in hits]


# --- matching -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["dang ky khai sinh", "DANG KY KHAI SINH", "Đăng ký khai sinh", "đăng ký khai sinh",
                                   "Dang Ky Khai Sinh", "  đăng   ký, khai-sinh!  ", "Đa\u0306ng ky\u0301 khai sinh"])
def test_diacritics_case_and_d_do_not_matter(catalog: Catalog, typed: str) -> None:
    assert codes(catalog.search(typed)) == codes(catalog.search("dang ky khai sinh"))
    assert codes(catalog.search(typed))[:3] == ["1.001193", "1.001193.H19", "1.001695"]


def test_d_stroke_matches_d(catalog: Catalog) -> None:
    assert "1.001193" in codes(catalog.search("đăng"))
    assert codes(catalog.search("đăng")) == codes(catalog.search("dang"))
    assert "1.001695" in codes(catalog.search("dai dien"))  # "đại diện"


def test_a_word_typed_halfway_matches(catalog: Catalog) -> None:
    found = codes(catalog.search("khai si"))
    assert found[:3] == ["1.001193", "1.001193.H19", "1.001695"]
    assert "1.000656" not in found  # khai tử
    assert "2.000908" not in found
    assert codes(catalog.search("k")) and set(codes(catalog.search("kh"))) >= {"1.001193", "1.000656"}
    assert codes(catalog.search("dang ky kh")) == codes(catalog.search("dang ky khai"))


def test_every_word_must_match(catalog: Catalog) -> None:
    assert codes(catalog.search("khai tu")) == ["1.000656", "1.000002"]
    assert catalog.search("khai sinh thuyen") == []


def test_documents_results_laws_and_fields_are_searched_too(catalog: Catalog) -> None:
    assert codes(catalog.search("giay bao tu")) == ["1.000656"]
    assert codes(catalog.search("bo roi")) == ["1.001193.H19"]
    assert "1.001193" in codes(catalog.search("luat ho tich"))
    assert "1.001193" in codes(catalog.search("60/2014"))
    assert set(codes(catalog.search("y te"))) == {"1.002001"}  # the field's name


def test_code_and_code_prefix(catalog: Catalog) -> None:
    assert codes(catalog.search("1.001193")) == ["1.001193", "1.001193.H19"]  # the exact code first
    assert codes(catalog.search("1.0011")) == ["1.001193", "1.001193.H19"]
    assert codes(catalog.search("1.001")) == ["1.001193", "1.001193.H19", "1.001695"]
    assert codes(catalog.search(" 1.001193.h19 ")) == ["1.001193.H19"]
    assert codes(catalog.search("1.")) == ["1.000002", "1.000003", "1.000656", "1.001193", "1.001193.H19",
                                           "1.001695", "1.002001"]
    assert codes(catalog.search("3")) == ["3.000222"]
    assert catalog.search("1.009") == []
    assert all(hit.score == 0 and hit.name for hit in catalog.search("1.00"))


def test_code_search_with_a_field(catalog: Catalog) -> None:
    assert codes(catalog.search("1.00", field_code="YT")) == ["1.002001"]
    assert catalog.search("2.", field_code="HT") == []


def test_field_narrows_the_results(catalog: Catalog) -> None:
    assert set(codes(catalog.search("cap"))) >= {"1.002001", "1.000002", "1.000003"}
    assert codes(catalog.search("cap", field_code="YT")) == ["1.002001"]
    assert codes(catalog.search("cap ban sao", field_code="HT")) == ["1.000003", "1.000002"]
    assert catalog.search("khai sinh", field_code="CT") == []
    assert catalog.search("khai sinh", field_code="no-such-field") == []


def test_empty_query(catalog: Catalog) -> None:
    assert catalog.search("") == []
    assert catalog.search("   ") == []
    assert catalog.search("", field_code="HT") == catalog.list_all("HT")
    assert catalog.search("", field_code="HT", limit=2) == catalog.list_all("HT")[:2]
    assert [h.name for h in catalog.list_all("HT")] == [
        "Cấp bản sao trích lục hộ tịch", "Cấp bản sao trích lục khai tử", "Đăng ký khai sinh",
        "Đăng ký khai sinh cho trẻ em bị bỏ rơi", "Đăng ký khai sinh có yếu tố nước ngoài tại cơ quan đại diện",
        "Đăng ký khai tử"]
    assert len(catalog.list_all()) == len(CATALOG)
    assert catalog.list_all(limit=3) == catalog.list_all()[:3]


def test_limit(catalog: Catalog) -> None:
    assert len(catalog.search("d", limit=2)) == 2
    assert catalog.search("d", limit=0) == []
    assert codes(catalog.search("dang ky", limit=3)) == codes(catalog.search("dang ky"))[:3]


def test_hits_carry_what_a_list_shows(catalog: Catalog) -> None:
    (hit, *_) = catalog.search("khai tu")
    assert hit == Hit("1.000656", "Đăng ký khai tử", "Hộ tịch", hit.score)
    assert hit.score > 0


# --- ranking ------------------------------------------------------------------------------------------------


def test_name_matches_come_before_matches_only_in_other_text(catalog: Catalog) -> None:
    # "Giấy chứng sinh" is a document of two birth registrations, and the name of one procedure.
    found = codes(catalog.search("giay chung sinh"))
    assert found[0] == "1.002001"
    assert sorted(found[1:]) == ["1.001193", "1.001695"]


def test_whole_words_come_before_word_starts(catalog: Catalog, database: Database) -> None:
    # bm25 alone prefers the short name with two words starting "thu"; the whole word "thu" ranks first.
    con = sqlite3.connect(database.path)
    try:
        bare = [r[0] for r in con.execute(
            "SELECT p.code FROM procedure_fts JOIN procedure p ON p.id = procedure_fts.rowid "
            "WHERE procedure_fts MATCH '\"thu\"*' ORDER BY rank")]
    finally:
        con.close()
    assert bare.index("3.000222") < bare.index("2.000111")
    found = codes(catalog.search("thu"))
    assert found[0] == "2.000111"
    assert found.index("2.000111") < found.index("3.000222")


def test_bm25_orders_within_a_tier(catalog: Catalog) -> None:
    hits = catalog.search("khai sinh")
    assert codes(hits)[:3] == ["1.001193", "1.001193.H19", "1.001695"]  # the shorter name fits better
    assert hits[0].score > hits[1].score > hits[2].score


def test_equal_scores_are_ordered_by_name(catalog: Catalog) -> None:
    hits = catalog.search("trich luc")
    assert codes(hits) == ["1.000003", "1.000002"]  # "...hộ tịch" before "...khai tử", whatever the import order
    assert hits[0].score == pytest.approx(hits[1].score)


# --- nothing typed can break it ----------------------------------------------------------------------------


NASTY = ['"', "*", "AND", "OR", "NOT", "NEAR", "(", ")", "-", "+", "^", ":", "{", "}", "'", "''", '""', '"khai',
         "khai*", "khai AND", "AND khai", "NOT khai", "khai OR sinh", "NEAR(khai sinh)", "name_folded:khai",
         "{name_folded}:khai", "- khai", "khai -sinh", "'; DROP TABLE procedure; --", "\x00", "\\", "%", "_", "%_",
         "1.%", "1._", "1.0011%", "🙂", "\u0301", "ờ" * 500, "khai " * 300, "a" * 10_000, "\n\t", "٣", "١.٠٠١",
         "1..2", "1.001193.h19.x", "99.999999", "1 . 001193"]


@pytest.mark.parametrize("typed", NASTY)
def test_nasty_input_never_raises(catalog: Catalog, typed: str) -> None:
    hits = catalog.search(typed)
    assert isinstance(hits, list)
    catalog.search(typed, field_code="HT")
    catalog.search(typed, field_code='"; --')


def test_fts_syntax_is_taken_as_words(catalog: Catalog) -> None:
    assert codes(catalog.search('khai"')) == codes(catalog.search("khai"))
    assert codes(catalog.search("khai*")) == codes(catalog.search("khai"))
    assert codes(catalog.search("khai -sinh")) == codes(catalog.search("khai sinh"))
    assert catalog.search("NEAR(khai sinh)") == []  # "near" is a word no procedure has
    assert catalog.search("khai AND") == []
    for typed in ("1.%", "1._", "%", "_"):  # LIKE wildcards are not wildcards
        assert all(code.startswith("1.") for code in codes(catalog.search(typed)))
    assert catalog.search("%") == [] and catalog.search("_") == []


# --- versions -----------------------------------------------------------------------------------------------


def test_no_catalog_finds_nothing(database: Database) -> None:
    empty = Catalog(database)
    try:
        assert empty.search("khai sinh") == [] and empty.search("1.00") == []
        assert empty.search("", field_code="HT") == [] and empty.list_all() == []
    finally:
        empty.close()


def test_search_follows_a_new_import(catalog: Catalog, database: Database) -> None:
    assert "1.000656" in codes(catalog.search("khai"))
    other = Catalog(database)  # another process or thread importing
    try:
        other.import_procedures([COPY, Procedure("1.009999", "Đăng ký khai thác", "MT", "Môi trường")], "new")
    finally:
        other.close()
    assert codes(catalog.search("khai")) == ["1.009999"]
    assert codes(catalog.search("1.00")) == ["1.009999"]
    assert catalog.search("", field_code="HT") == []
    assert [f.code for f in catalog.fields()] == ["CT", "MT"]


# --- the query builder --------------------------------------------------------------------------------------


def test_terms_fold_split_and_dedupe() -> None:
    assert catalog_query.terms("Đăng ký, khai-sinh!! đăng") == ["dang", "ky", "khai", "sinh"]
    assert catalog_query.terms('" * ( ) - ^ :') == []
    assert catalog_query.terms("snake_case") == ["snake", "case"]
    assert len(catalog_query.terms(" ".join(f"w{i}" for i in range(50)))) == catalog_query.MAX_TERMS


@pytest.mark.parametrize(("typed", "prefix"), [
    ("1", "1"), ("1.", "1."), ("1.0011", "1.0011"), (" 1.001193 ", "1.001193"), ("1.012753.h19", "1.012753.H19"),
    ("12.3", "12.3"), ("123", None), ("1.001193.H19.X", None), ("khai", None), ("1.00 khai", None), ("", None),
    ("1 . 001193", None), ("1.00a", None), ("١.٠٠١", None), ("1.0011931", None),
])
def test_code_prefix(typed: str, prefix: str | None) -> None:
    assert catalog_query.code_prefix(typed) == prefix


def test_expressions_quote_every_term() -> None:
    assert catalog_query.expression(["dang", "k"], prefix=True) == '"dang"* AND "k"*'
    assert catalog_query.expression(["dang"], prefix=False) == '"dang"'
    assert [index for index, _ in catalog_query.tiers(["a"])] == [catalog_query.NAME_INDEX] * 2 + [
        catalog_query.FULL_INDEX] * 2
