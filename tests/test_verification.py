"""The answer contract's test: quotes must stand in their source, and claims must agree with them.

Pure functions, no models. Every adversarial case from the trusted-answers issue comes out unverified,
and the faithful claims next to them verify."""

from __future__ import annotations

import pytest

from assistant.answering.citations import check_citations
from assistant.answering.pipeline import verify_answer
from assistant.grounding.verification import affirms, facts, normalize, quote_in_source, verify_claim
from index.types import Chunk

FIRE = Chunk(11, "/docs/harbor-foods/fire_inspection_2024.pdf", 2, 0,
             "Harbor Foods distribution warehouse. The building is protected throughout by a wet-pipe sprinkler "
             "system supplied by a 10-inch city main. The fire alarm is monitored by a central station. "
             "The roof is a metal deck built in 1987.")
LOSS = Chunk(12, "/docs/harbor-foods/loss_runs_2019-2024.pdf", 1, 0,
             "Loss runs 2019-2024. One water damage claim on 03/14/2021, paid $45,000. No fire losses reported.")
SOV = Chunk(13, "/docs/meridian-plastics/statement_of_values.xlsx", 1, 0,
            "Meridian Plastics, Akron plant: building value $12,500,000, contents $4,000,000.")
SOURCES = [FIRE, LOSS, SOV]


def verdict_of(answer: str):
    check = check_citations(answer, SOURCES)
    return check.supported, check


@pytest.mark.parametrize("answer", [
    "The building has no sprinkler system [1].",  # contradicted by a wet-pipe system
    "Yes [1].",  # no content
    "3 fire losses of $45,000 and $900,000 [2].",  # "No fire losses"
    "The building value is $13,500,000 [3].",  # a changed number
    "The Akron plant building value is $45,000 [3].",  # a number taken from another source
    "The building is sprinklered [9].",  # out of range
    "One water damage claim was paid, $45,000 [1].",  # source 2's fact cited as [1]
    "The building has a wet-pipe sprinkler system and the roof was replaced with a steel deck in 2019 [1].",
    "The water damage claim was paid on 04/14/2021 [2].",  # a changed date
])
def test_adversarial_claims_are_not_verified(answer: str) -> None:
    supported, check = verdict_of(answer)
    assert not supported
    assert not any(c.verified for c in check.citations)


@pytest.mark.parametrize("answer", [
    "The building has a wet-pipe sprinkler system [1].",
    "One water damage claim was paid, $45,000 [2].",
    "No fire losses were reported [2].",
    "The Akron plant building value is $12,500,000 [3].",
    "The roof is a metal deck built in 1987 [1].",
    "The water damage claim was paid in March 2021 [2].",
])
def test_faithful_claims_verify(answer: str) -> None:
    supported, check = verdict_of(answer)
    assert supported, [c.reason for c in check.citations]


def test_quote_is_found_after_normalising() -> None:
    source = "The ﬁre pump deliv-\nered 3,000 gpm at 88 psi on its “annual” test."
    assert quote_in_source("The fire pump delivered 3,000 GPM at 88 psi on its \"annual\" test.", source)
    assert quote_in_source("The fire pump … 3,000 gpm at 88 psi", source)
    assert not quote_in_source("The fire pump delivered 2,000 gpm", source)
    assert not quote_in_source("88 psi … The fire pump", source)  # parts out of order
    assert normalize("A  B\u200bC") == "a bc"


def test_structured_quote_from_the_wrong_source_is_not_verified() -> None:
    quote = "The roof is a metal deck built in 1987."
    assert verify_answer("The roof is a metal deck built in 1987.", [(quote, FIRE)]).verified
    wrong = verify_answer("The roof is a metal deck built in 1987.", [(quote, LOSS)])
    assert not wrong.verified and "not in its cited source" in wrong.reason


def test_facts_read_amounts_dates_and_identifiers() -> None:
    found = facts("Claim HF-PR-2023-00417 of February 11, 2023 incurred $1.2M; 450k; USD 450,000; 3/14/23; 85%")
    assert {(2023, 2, 11), (2023, 3, 14)} <= set(found.dates)
    assert "hf-pr-2023-00417" in found.identifiers
    assert {1_200_000.0, 450_000.0, 85.0} <= found.figures
    assert facts("three stories").figures == {3.0}


def test_reason_names_what_disagrees() -> None:
    verdict = verify_claim("The hydrant is 190 feet away.", "A public hydrant is 180 feet from the corner.",
                           "A public hydrant is 180 feet from the corner.")
    assert not verdict.verified and "figure 190" in verdict.reason
    negated = verify_claim("The building is not sprinklered.", "The building is sprinklered throughout.",
                           "The building is sprinklered throughout.")
    assert not negated.verified and "negation" in negated.reason


def test_echoing_the_question_alone_does_not_verify() -> None:
    quote = "The warehouse is protected by a wet-pipe sprinkler system."
    verdict = verify_claim("Yes, there is an ESFR system.", quote, quote, question="Is there an ESFR system?")
    assert not verdict.verified


@pytest.mark.parametrize(("text", "phrase", "expected"), [
    ("Each panel carries an FM 4880 approval label.", "FM 4880", True),
    ("The panels carry no visible listing.", "listing", False),
    ("They are presumed unlisted.", "listed", False),  # a prefix negates
    ("The walls are non-approved foam panels.", "approved", False),
    ("None of the presses has a fluid-release interlock, but all use FM Approved fluid.", "FM Approved", True),
    ("None of the presses has a fluid-release interlock, but all use FM Approved fluid.",
     "fluid-release interlock", False),  # the negation ends at the clause
    ("No sprinklers in the north bay; the south bay is sprinklered.", "sprinklered", True),
    ("The warehouse has no automatic fire detection or smoke control systems listed.", "listed", True),  # too far
    ("A wet-pipe system.", "oxygen", None),
])
def test_affirms_reads_whether_a_phrase_is_stated_or_denied(text: str, phrase: str, expected: bool | None) -> None:
    assert affirms(text, phrase) is expected
