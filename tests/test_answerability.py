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
