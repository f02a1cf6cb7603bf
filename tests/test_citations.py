"""Citation parsing and checking: pure functions, no models."""

from __future__ import annotations

import pytest

from assistant.answering.citations import (
    check_citations,
    cited_numbers,
    infer_citations,
    parse_markers,
    shorten_quote,
    strip_markers,
    terms,
)
from index.types import Chunk, ScoredChunk

FIRE = Chunk(11, "/docs/harbor-foods/fire_inspection_2024.pdf", 2, 0,
             "Harbor Foods distribution warehouse. The building is protected throughout by a wet-pipe sprinkler "
             "system supplied by a 10-inch city main. The fire alarm is monitored by a central station. "
             "The roof is a metal deck built in 1987.")
LOSS = Chunk(12, "/docs/harbor-foods/loss_runs_2019-2024.pdf", 1, 0,
             "Loss runs 2019-2024. One water damage claim in 2021, paid $45,000. No fire losses reported.")
SOV = Chunk(13, "/docs/meridian-plastics/statement_of_values.xlsx", 1, 0,
            "Meridian Plastics, Akron plant: building value $12,500,000, contents $4,000,000.")
SOURCES = [FIRE, LOSS, SOV]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("The roof is metal [1].", [(1,)]),
        ("Both apply [1, 3].", [(1, 3)]),
        ("See [1-3] and [2–3].", [(1, 2, 3), (2, 3)]),
        ("Per [Source 2] and [source 1; 3].", [(2,), (1, 3)]),
        ("[1][2]", [(1,), (2,)]),
        ("Year [2024] is no citation, [12] is one.", [(12,)]),
        ("No markers at all.", []),
        ("A silly range [1-900].", [(1, 900)]),
    ],
)
def test_parse_markers(text: str, numbers: list[tuple[int, ...]]) -> None:
    assert [m.numbers for m in parse_markers(text)] == numbers


def test_cited_numbers_and_strip() -> None:
    text = "Sprinklered [2]. Metal roof [1, 2]. Claim paid [3-4]."
    assert cited_numbers(text) == [2, 1, 3, 4]
    assert strip_markers(text) == "Sprinklered. Metal roof. Claim paid."


def test_terms_stem_and_numbers() -> None:
    found = terms("The sprinklers cover $12,500,000 of the building [1].")
    assert {"sprink", "cover", "12500000", "buildi"} <= found
    assert "the" not in found and "1" not in found  # stop words and the marker itself are not content


def test_valid_citations_verified() -> None:
    answer = ("The warehouse has a wet-pipe sprinkler system [1]. "
              "One water damage claim of $45,000 was paid in 2021 [2].")
    check = check_citations(answer, SOURCES)
    assert [c.number for c in check.citations] == [1, 2]
    assert all(c.verified and not c.inferred for c in check.citations)
    assert check.invalid == []
    assert check.supported
    first = check.citations[0]
    assert (first.source, first.page, first.chunk_id) == (FIRE.source, 2, 11)
    assert "sprinkler" in first.quote


def test_fabricated_citation_rejected() -> None:
    """A [9] with three sources is reported invalid and never shown as a source."""
    check = check_citations("The building is sprinklered [9].", SOURCES)
    assert check.invalid == [9]
    assert check.citations == []
    assert not check.supported


def test_fabricated_next_to_valid() -> None:
    check = check_citations("The warehouse roof is a metal deck [1][9]. Claims: one water claim [0].", SOURCES)
    assert [c.number for c in check.citations] == [1]
    assert check.invalid == [0, 9]
    assert not check.supported  # a fabricated number makes the answer unsupported, whatever else it cites


def test_unrelated_source_not_verified() -> None:
    """A number in range that points to a source unrelated to its sentence is not verified."""
    check = check_citations("The warehouse has a wet-pipe sprinkler system and a central station alarm [3].",
                            SOURCES)
    assert [c.number for c in check.citations] == [3]
    assert not check.citations[0].verified
    assert not check.supported


def test_wrong_figure_not_verified() -> None:
    """Words overlap but the figure claimed is not in the source."""
    check = check_citations("The Akron plant building value is $99,000,000 [3].", SOURCES)
    assert not check.citations[0].verified
    check = check_citations("The Akron plant building value is $12,500,000 [3].", SOURCES)
    assert check.citations[0].verified


def test_marker_after_full_stop_belongs_to_previous_sentence() -> None:
    check = check_citations("The roof is a metal deck built in 1987. [1] A water claim was paid in 2021. [2]",
                            SOURCES)
    assert [(c.number, c.verified) for c in check.citations] == [(1, True), (2, True)]


def test_scored_chunks_accepted() -> None:
    sources = [ScoredChunk(chunk, score=0.5) for chunk in SOURCES]
    check = check_citations("Akron plant contents are valued at $4,000,000 [3].", sources)
    assert check.citations[0].chunk_id == 13 and check.citations[0].verified


def test_infer_citations_marks_inferred() -> None:
    answer = "The building has a wet-pipe sprinkler system. The Akron plant building value is $12,500,000."
    inferred = infer_citations(answer, SOURCES)
    assert [c.number for c in inferred] == [1, 3]
    assert all(c.inferred for c in inferred)
    assert infer_citations("Nothing here relates to anything.", SOURCES) == []


def test_shorten_quote_centres_on_best_sentence() -> None:
    long_text = " ".join(f"Filler sentence number {i} about nothing in particular." for i in range(20))
    long_text += " The roof is a metal deck built in 1987. " + long_text
    quote = shorten_quote(long_text, "metal deck roof 1987", max_chars=120)
    assert "metal deck built in 1987" in quote
    assert quote.startswith("…") and quote.endswith("…")
    assert len(quote) <= 122
    assert shorten_quote("Short text.", "anything") == "Short text."
