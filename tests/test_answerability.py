"""The answerability gate's rules on the real sample workspace (embedder, SQLite, FAISS), and the ranker's
"largest record" signal on a loss list worded unlike sample_docs. The model is never loaded: a declined
question does not need it."""

import pytest

from assistant.grounding.evidence import EvidenceRanker, Question, candidates
from index.types import Chunk


@pytest.fixture(scope="module")
def answerer(sample_workspace, embedder):
    from assistant.app import Assistant

    return Assistant(sample_workspace, embedder=embedder).make_answerer()


@pytest.mark.parametrize(("question", "because"), [
    ("How many employees work at the Meridian Plastics plant?", "no count"),  # a count of its noun
    ("What is the earthquake deductible on the Meridian Plastics property program?",
     'no document mentions "earthquake"'),
    ("What were Harbor Foods Distribution's annual revenues last year?", "beyond naming the insured"),
])
def test_each_rule_declines_its_question(answerer, question, because):
    answer = answerer.answer(question)
    assert answer.kind == "declined", answer.text
    assert because in answer.reason


def test_the_gate_lets_an_answerable_count_through(answerer):
    from assistant.answering.answerability import assess
    from assistant.answering.pipeline import EVIDENCE_POOL

    question = "How many spare oxygen cylinders did the surveyor find at Oakridge?"
    pool = answerer.retrieve(question, k=EVIDENCE_POOL)
    asked = Question.parse(question)
    ranked = answerer.ranker.rank(asked, candidates(pool), {n: n for n in range(1, len(pool) + 1)})
    named = "oakridge-senior-living"
    assessment = assess(asked, ranked, [hit.chunk for hit in pool], answerer.ranker, submission=named,
                        name_words=answerer.submission_names()[named])
    assert assessment.answerable, assessment.reason
    assert any("38 spare" in evidence.text for evidence in assessment.usable)


def test_the_largest_claim_is_the_largest_record_not_the_total(embedder):
    text = "\n".join([
        "## Claims, five policy years",
        "- 03 Feb 2021, frozen sprinkler branch line, warehouse office: USD 18,250 paid, closed.",
        "- 11 Aug 2022, forklift struck rack upright, collapse of two bays: USD 143,900 paid, closed.",
        "- 29 Jan 2024, roof drain backup, ceiling tiles and stock: USD 9,400 paid, open.",
        "- Four claims, USD 171,550 incurred in all; nothing else reported.",
    ])
    chunk = Chunk(1, "/docs/lindell-foundry/loss_summary.md", 1, 0, text, title="Lindell Foundry losses")
    counts = {'"largest"': 0, '"claim"': 3, '"lindell"': 1, '"foundry"': 1, '"years"': 4, '"paid"': 5}
    ranker = EvidenceRanker(embed=embedder.embed,
                            document_frequency=lambda phrases: (40, {p: counts.get(p, 2) for p in phrases}))
    asked = Question.parse("What was Lindell Foundry's largest claim, in dollars?")
    ranked = ranker.rank(asked, candidates([chunk]), {1: 1})
    assert "143,900" in ranked[0].text
    assert ranked[0].signals["extreme"] == 1.0
    assert all(evidence.signals["extreme"] == 0.0 for evidence in ranked[1:])


def _schedule_ranker(embedder):
    """A schedule with a totals row, and a survey's notes beside it (a pool as retrieval gives one)."""
    text = "\n".join([
        "Site 1 | Premises Mill Lane bakehouse | Bldg Amt 4,200,000 | Cont Amt 1,150,000 | BI Amt 900,000",
        "Site 2 | Premises Quay Road depot | Bldg Amt 1,800,000 | Cont Amt 640,000 | BI Amt 300,000",
        "Site TOTALS | Bldg Amt 6,000,000 | Cont Amt 1,790,000 | BI Amt 1,200,000",
    ])
    chunk = Chunk(1, "/docs/pinewood-bakeries/schedule.xlsx", 1, 0, text, title="Pinewood Bakeries schedule")
    notes = Chunk(2, "/docs/pinewood-bakeries/survey.pdf", 3, 0, "The bakehouse ovens are gas fired and were serviced "
                  "in March. Flour is delivered by bulk tanker twice a week. The depot yard holds six delivery vans "
                  "overnight. Staff smoke only at the shelter by the gate.", title="Pinewood Bakeries survey")
    counts = {'"pinewood"': 1, '"bakeries"': 1, '"contents"': 3, '"value"': 6, '"schedule"': 2}
    return [chunk, notes], EvidenceRanker(embed=embedder.embed,
                                 document_frequency=lambda phrases: (40, {p: counts.get(p, 2) for p in phrases}))


def test_a_totals_row_answers_an_aggregate_and_a_site_row_answers_for_its_site(embedder):
    chunks, ranker = _schedule_ranker(embedder)
    combined = ranker.rank(Question.parse("What are Pinewood Bakeries' combined contents values across all locations?"),
                           candidates(chunks), {1: 1, 2: 2})
    assert combined[0].text.startswith("Site TOTALS"), [e.text[:30] for e in combined]
    assert combined[0].signals["total"] > 0 and combined[0].has_value  # bare amounts in a money column
    one = ranker.rank(Question.parse("What contents value is declared for Pinewood's Quay Road depot?"),
                      candidates(chunks), {1: 1, 2: 2})
    assert one[0].text.startswith("Site 2"), [e.text[:30] for e in one]
    assert next(e for e in one if e.text.startswith("Site TOTALS")).signals["total"] < 0


def test_words_every_candidate_shares_do_not_outweigh_the_answer(embedder):
    text = ("Lindell Foundry operates a 96,000 sq ft iron foundry at 40 Canal Street, Dayton. The pattern shop at "
            "40 Canal Street is a separate building. The warehouse at 40 Canal Street holds castings. The Home "
            "Office referral was approved by Priya Ramanathan on 12 March 2025.")
    chunk = Chunk(1, "/docs/lindell-foundry/file_notes.txt", 1, 0, text, title="Lindell Foundry file notes")
    counts = {'"lindell"': 1, '"foundry"': 1, '"canal"': 1, '"street"': 6, '"approved"': 5, '"referral"': 4}
    ranker = EvidenceRanker(embed=embedder.embed,
                            document_frequency=lambda phrases: (40, {p: counts.get(p, 2) for p in phrases}))
    asked = Question.parse("Who approved the referral for Lindell Foundry on Canal Street?")
    ranked = ranker.rank(asked, candidates([chunk]), {1: 1})
    assert "Priya Ramanathan" in ranked[0].text, [e.text[:40] for e in ranked]
    # the plain coverage (the gate's) still counts the shared words: the first sentence holds most terms
    first = next(e for e in ranked if e.text.startswith("Lindell Foundry operates"))
    assert first.coverage > ranked[0].coverage


def test_the_trades_shorthand_holds_the_words_it_stands_for(embedder):
    """Field notes in shorthand ("Hyd", "FD ... stn", "Sprk", "bldg") answer questions in full words."""
    ranker = EvidenceRanker(embed=embedder.embed, document_frequency=lambda phrases: (40, dict.fromkeys(phrases, 2)))
    plug = Question.parse("How close is the nearest fire plug to the Tannery Row bakery?")
    support = ranker.term_support(plug, ["Hyd: 310 ft, cnr Tannery Row / Mill Lane."])[0]
    assert support["plug"] == 1.0
    station = Question.parse("Which fire department station responds to the bakery?")
    support = ranker.term_support(station, ["FD: Harlow Vol FD, resp stn #2, 3.1 mi."])[0]
    assert support["department"] == support["station"] == support["responds"] == 1.0
    # an ordinary word is not shorthand: "Inc." is not "incurred", "NC" (a state) not non-combustible
    incurred = Question.parse("What was incurred on the claim?")
    assert ranker.term_support(incurred, ["Harlow Bakeries Inc., Raleigh NC"])[0]["incurred"] < 1.0


def test_one_peril_never_stands_in_for_another(embedder):
    """"Wildfire" lies close to "fire" for the embedder, but a fire deductible is not a wildfire deductible."""
    ranker = EvidenceRanker(embed=embedder.embed, document_frequency=lambda phrases: (40, dict.fromkeys(phrases, 2)))
    asked = Question.parse("What wildfire deductible applies to the Dunmore sawmill?")
    assert ranker.term_support(asked, ["Fire deductible $25,000 per occurrence at the sawmill."])[0]["wildfire"] == 0.0
    windy = Question.parse("What windstorm deductible applies to the Dunmore sawmill?")
    assert ranker.term_support(windy, ["Named storm deductible 2% of TIV."])[0]["windstorm"] > 0.6  # the same peril
