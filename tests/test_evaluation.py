"""The eval harness's metric code against hand-computed cases, and the questions file reader."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.evaluation import (
    Gold,
    QuestionFileError,
    contains_answer,
    evaluate_answers,
    evaluate_retrieval,
    first_rank,
    hit_at_k,
    judge_answer,
    locate,
    matches_file,
    missing_gold_files,
    read_questions,
    recall_at_k,
    reciprocal_rank,
    score_ranking,
)
from index.types import Chunk, ScoredChunk

G = "g"  # a gold unit
X = None  # a result matching no gold unit

# ---- the metric functions ---------------------------------------------------------------------------


def test_perfect_ranking() -> None:
    ranked = [G, X, X, X, X]
    assert hit_at_k(ranked, {G}, 5) == 1.0
    assert hit_at_k(ranked, {G}, 1) == 1.0
    assert recall_at_k(ranked, {G}, 5) == 1.0
    assert reciprocal_rank(ranked, {G}) == 1.0


def test_shifted_ranking() -> None:
    ranked = [X, X, G, X, X]
    assert hit_at_k(ranked, {G}, 2) == 0.0
    assert hit_at_k(ranked, {G}, 3) == 1.0
    assert recall_at_k(ranked, {G}, 2) == 0.0
    assert recall_at_k(ranked, {G}, 3) == 1.0
    assert reciprocal_rank(ranked, {G}) == pytest.approx(1 / 3)
    assert first_rank(ranked, {G}, 10) == 3


def test_gold_beyond_the_mrr_depth_scores_zero() -> None:
    ranked = [X] * 10 + [G]
    assert reciprocal_rank(ranked, {G}, depth=10) == 0.0
    assert reciprocal_rank(ranked, {G}, depth=11) == pytest.approx(1 / 11)
    assert first_rank(ranked, {G}, 10) is None


def test_empty_ranking() -> None:
    assert hit_at_k([], {G}, 5) == 0.0
    assert recall_at_k([], {G}, 5) == 0.0
    assert reciprocal_rank([], {G}) == 0.0
    assert first_rank([], {G}, 10) is None


def test_no_gold_scores_zero() -> None:
    assert hit_at_k([G, X], set(), 5) == 0.0
    assert recall_at_k([G, X], set(), 5) == 0.0


def test_recall_counts_distinct_gold_units() -> None:
    a, b, c = "a", "b", "c"
    # Three gold units; a repeated hit counts once; c lies beyond k.
    ranked = [a, a, X, b, X, c]
    assert recall_at_k(ranked, {a, b, c}, 5) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, {a, b, c}, 6) == 1.0
    assert hit_at_k(ranked, {a, b, c}, 1) == 1.0
    assert reciprocal_rank(ranked, {b, c}) == pytest.approx(1 / 4)


# ---- gold matching ----------------------------------------------------------------------------------


def test_file_match_is_by_path_suffix_at_a_separator() -> None:
    assert matches_file("/data/sample_docs/harbor-foods/notes.txt", "harbor-foods/notes.txt")
    assert matches_file("harbor-foods/notes.txt", "harbor-foods/notes.txt")
    assert matches_file("C:\\docs\\harbor-foods\\notes.txt", "harbor-foods/notes.txt")
    assert not matches_file("/data/other-harbor-foods/notes.txt", "harbor-foods/notes.txt")
    assert not matches_file("/data/harbor-foods/notes.txt.bak", "harbor-foods/notes.txt")


def test_locate_by_level() -> None:
    gold = (Gold("a/report.pdf", 2),)
    assert locate("/x/a/report.pdf", 2, gold, "page") == ("a/report.pdf", 2)
    assert locate("/x/a/report.pdf", 3, gold, "page") is None
    assert locate("/x/a/report.pdf", 3, gold, "file") == "a/report.pdf"
    assert locate("/x/b/report.pdf", 2, gold, "file") is None
    any_page = (Gold("a/notes.txt", None),)
    assert locate("/x/a/notes.txt", 7, any_page, "page") == ("a/notes.txt", None)


def test_score_ranking_page_and_file() -> None:
    gold = (Gold("a/report.pdf", 2),)
    sources = [("/x/a/report.pdf", 1), ("/x/b/other.pdf", 2), ("/x/a/report.pdf", 2)]
    page, page_rank = score_ranking(sources, gold, 2, "page")
    assert (page.hit, page.recall, page.mrr, page_rank) == (0.0, 0.0, pytest.approx(1 / 3), 3)
    file, file_rank = score_ranking(sources, gold, 2, "file")
    assert (file.hit, file.recall, file.mrr, file_rank) == (1.0, 1.0, 1.0, 1)


# ---- the evaluation over a search function ------------------------------------------------------------


def _hit(source: str, page: int, position: int = 0) -> ScoredChunk:
    return ScoredChunk(Chunk(id=position, source=source, page=page, position=position, text="t"), score=1.0)


def test_evaluate_retrieval_averages_over_answerable_questions(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    records = [
        {"id": "1", "question": "perfect", "gold_file": "a.pdf", "gold_page": 1, "answer": "x", "answerable": True},
        {"id": "2", "question": "shifted", "gold_file": "a.pdf", "gold_page": 2, "answer": "x", "answerable": True},
        {"id": "3", "question": "empty", "gold_file": "b.pdf", "gold_page": 1, "answer": "x", "answerable": True},
        {"id": "4", "question": "no answer", "gold_file": None, "gold_page": None, "answer": None,
         "answerable": False},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    rankings = {
        "perfect": [_hit("/d/a.pdf", 1), _hit("/d/c.pdf", 1)],
        "shifted": [_hit("/d/c.pdf", 1), _hit("/d/a.pdf", 1), _hit("/d/a.pdf", 2)],
        "empty": [],
    }
    asked: list[tuple[int, str]] = []

    def search_many(queries, depth, mode):
        asked.append((depth, mode))
        return [rankings[q] for q in queries]

    report = evaluate_retrieval(search_many, read_questions(path), k=2, modes=("hybrid", "bm25"))
    assert asked == [(10, "hybrid"), (10, "bm25")]  # MRR@10 needs ten results even for k=2
    assert report.questions == 3
    page = report.scores["hybrid"]["page"]
    assert page.hit == pytest.approx(1 / 3)  # only "perfect" has its page in the top 2
    assert page.recall == pytest.approx(1 / 3)
    assert page.mrr == pytest.approx((1 + 1 / 3 + 0) / 3)
    file = report.scores["hybrid"]["file"]
    assert file.hit == pytest.approx(2 / 3)  # "shifted" has a.pdf at rank 2
    assert file.mrr == pytest.approx((1 + 1 / 2 + 0) / 3)
    misses = report.misses()
    assert {(m.id, m.mode) for m in misses} == {("2", "hybrid"), ("3", "hybrid"), ("2", "bm25"), ("3", "bm25")}
    shifted = next(m for m in misses if m.id == "2")
    assert (shifted.page_rank, shifted.file_rank) == (3, 2)
    payload = report.to_dict()
    assert payload["modes"]["hybrid"]["page"] == {"hit": 0.3333, "recall": 0.3333, "mrr": 0.4444}


def test_missing_gold_files() -> None:
    questions = [SimpleNamespace(gold=(Gold("a/x.pdf", 1),)), SimpleNamespace(gold=(Gold("b/y.txt", None),))]
    assert missing_gold_files(questions, ["/d/a/x.pdf"]) == ["b/y.txt"]


# ---- the questions file -----------------------------------------------------------------------------


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_the_sample_questions() -> None:
    questions = read_questions(Path(__file__).resolve().parent.parent / "sample_docs" / "eval" / "questions.jsonl")
    assert len(questions) == 84
    assert sum(1 for q in questions if not q.answerable) == 7
    assert questions[0].gold == (Gold("harbor-foods/fire_inspection_2024.pdf", 1),)


def test_reads_comments_blank_lines_and_a_gold_list(tmp_path: Path) -> None:
    path = _write(tmp_path, "# a comment", "", '{"id": 7, "question": " Where? ", "gold": '
                  '[{"file": "./a.pdf", "page": 2}, {"file": "b.txt", "page": null}]}')
    [question] = read_questions(path)
    assert (question.id, question.question, question.answerable, question.line) == ("7", "Where?", True, 3)
    assert question.gold == (Gold("a.pdf", 2), Gold("b.txt", None))


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"question": "q?", "gold_file": "a.pdf"}', "'id'"),
    ('{"id": "1", "question": "  ", "gold_file": "a.pdf"}', "'question'"),
    ('{"id": "1", "question": "q?"}', "needs 'gold_file'"),
    ('{"id": "1", "question": "q?", "gold_file": "a.pdf", "gold_page": 0}', "'gold_page'"),
    ('{"id": "1", "question": "q?", "gold_file": "a.pdf", "gold_page": "2"}', "'gold_page'"),
    ('{"id": "1", "question": "q?", "gold_page": 2}', "without 'gold_file'"),
    ('{"id": "1", "question": "q?", "gold_file": "a.pdf", "answerable": "yes"}', "'answerable'"),
    ('{"id": "1", "question": "q?", "gold_file": "a.pdf", "answerable": false}', "cannot have a gold"),
    ('{"id": "1", "question": "q?", "gold_file": "a.pdf", "answer": 4}', "'answer'"),
    ('{"id": "1", "question": "q?", "gold": "a.pdf"}', "'gold' must be a list"),
])
def test_bad_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path, '{"id": "0", "question": "fine?", "gold_file": "a.pdf", "gold_page": 1}', line)
    with pytest.raises(QuestionFileError) as caught:
        read_questions(path)
    assert f"{path}:2:" in str(caught.value)
    assert message in str(caught.value)


def test_duplicate_ids_and_empty_and_missing_files(tmp_path: Path) -> None:
    line = '{"id": "1", "question": "q?", "gold_file": "a.pdf"}'
    with pytest.raises(QuestionFileError, match=r":2: duplicate id '1' \(first on line 1\)"):
        read_questions(_write(tmp_path, line, line))
    with pytest.raises(QuestionFileError, match="no questions"):
        read_questions(_write(tmp_path, "# nothing"))
    with pytest.raises(QuestionFileError, match="cannot read"):
        read_questions(tmp_path / "missing.jsonl")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(QuestionFileError, match="cannot read"):
        read_questions(binary)


# ---- answers ----------------------------------------------------------------------------------------


def test_contains_answer() -> None:
    assert contains_answer("It holds 12,000 pounds of ammonia [1].", "12,000 pounds")
    assert contains_answer("The system holds 12000 pounds.", "12,000 pounds")
    assert contains_answer("Class: ISO  construction class 4.", "ISO Construction Class 4")
    assert contains_answer("Partially sprinklered plastics molding has a minimum rate of 0.500.",
                           "Plastics molding, partially sprinklered | 0.500")
    assert not contains_answer("The system holds 1,200 pounds.", "12,000 pounds")
    assert not contains_answer("", "12,000 pounds")


def _answer(text: str, citations: list[tuple[bool, bool]], declined: bool = False, invalid: tuple = ()):
    cites = [SimpleNamespace(verified=verified, inferred=inferred) for verified, inferred in citations]
    return SimpleNamespace(text=text, citations=cites, declined=declined, invalid_citations=list(invalid))


def test_judge_answers_and_shares() -> None:
    questions = [
        SimpleNamespace(id="1", question="q1", answerable=True, answer="180 feet"),
        SimpleNamespace(id="2", question="q2", answerable=True, answer="Class 4"),
        SimpleNamespace(id="3", question="q3", answerable=True, answer=None),
        SimpleNamespace(id="4", question="q4", answerable=False, answer=None),
        SimpleNamespace(id="5", question="q5", answerable=False, answer=None),
    ]
    answers = {
        "q1": _answer("The hydrant is 180 feet away [1].", [(True, False)]),
        "q2": _answer("It is class 3 [2].", [(True, False), (False, False)]),
        "q3": _answer("Something [1].", [(True, False), (False, True)]),  # the inferred one does not count
        "q4": _answer("The documents do not contain this.", [], declined=True),
        "q5": _answer("It is 5% [1].", [(True, False)]),
    }
    report = evaluate_answers(lambda q: answers[q], questions)
    assert [r.all_verified for r in report.results] == [True, False, True, False, True]
    assert len(report.answered) == 3
    assert report.citations_verified == pytest.approx(2 / 3)
    assert report.contains_expected == pytest.approx(1 / 2)  # q1 yes, q2 no; q3 has no expected answer
    assert report.declined_correctly == pytest.approx(1 / 2)
    assert {r.id for r in report.misses()} == {"2", "5"}
    no_citation = judge_answer(questions[0], _answer("180 feet.", []))
    assert not no_citation.all_verified and no_citation.contains_expected
    bad_number = judge_answer(questions[0], _answer("180 feet [9].", [(True, False)], invalid=(9,)))
    assert not bad_number.all_verified
