"""Evaluation: retrieval metrics (hit@k, recall@k, MRR@10) and answer checks over a questions file.

Questions file: JSON lines, one question per line; blank lines and lines starting with `#` are ignored.

    {"id": "q01", "question": "What ISO construction class is ...?",
     "gold_file": "harbor-foods/fire_inspection_2024.pdf", "gold_page": 1,
     "answer": "ISO Construction Class 4", "answerable": true}

- `id` (string, unique) and `question` (non-empty string) are required.
- `gold_file`: the file that answers the question, relative to the ingested folder, `/`-separated. A result
  matches it when the result's source path ends with `/` + `gold_file` (or equals it).
- `gold_page`: the 1-based page (PDF page, XLSX sheet; 1 for single-page formats) within `gold_file`; null
  means any page of the file counts.
- `gold_section` (optional): a heading the answer sits under (DOCX, Markdown, HTML, text): a result matches
  when its location's heading path names it ("4.2 Sprinklers" matches "§ 4 Protection > 4.2 Sprinklers, ¶ 3").
- `gold_rows` (optional): a row or row range of a sheet or table, `4` or `"3-5"`: a result matches when its
  location's rows overlap it ("sheet SOV, rows 2-9"). A gold page still matches PDF pages; page, section
  and rows, when given together, must all match.
- `gold` (optional): several answering locations, a list of `{"file": ..., "page": ..., "section": ...,
  "rows": ...}`; used instead of `gold_file`/`gold_page` when present. With a single location recall@k
  equals hit@k.
- `answer`: a string the answer should contain (checked with `--answers`), or null.
- `answerable` (default true): false for questions the documents cannot answer; those have no gold and
  count only towards "correctly declined".

Metrics, for each answerable question and each search mode, on two levels (page: the gold file and page,
section or rows; file: the gold file, anywhere in it), over the ranked chunks a search returns:
- hit@k: 1 when any of the first k results matches a gold location, else 0;
- recall@k: the share of the gold locations matched by the first k results;
- MRR@10: 1/rank of the first matching result within the first 10, else 0.
Each is averaged over the answerable questions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.types import ScoredChunk

MODES = ("hybrid", "dense", "bm25")
LEVELS = ("page", "file")
MRR_DEPTH = 10

SearchMany = Callable[[Sequence[str], int, str], list[list[ScoredChunk]]]


class EvalError(ValueError):
    """An evaluation that cannot be run as asked; the message is one line for the user."""


class QuestionFileError(EvalError):
    """A questions file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Gold:
    """A location that answers a question: a file (relative, `/`-separated) and a page (None: any page), and
    optionally a section (a heading of its path) or a row range (first, last) that the result's location names."""

    file: str
    page: int | None = None
    section: str | None = None
    rows: tuple[int, int] | None = None


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    gold: tuple[Gold, ...] = ()
    answer: str | None = None
    answerable: bool = True
    line: int = 0


# ---- the questions file ---------------------------------------------------------------------------


def read_questions(path: Path) -> list[EvalQuestion]:
    """Read and validate a questions file (format in the module docstring)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"{path}: cannot read ({exc})") from exc
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise QuestionFileError(f"{where}: invalid JSON ({exc.msg})") from exc
        question = parse_question(record, where, number)
        if question.id in seen:
            raise QuestionFileError(f"{where}: duplicate id {question.id!r} (first on line {seen[question.id]})")
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise QuestionFileError(f"{path}: no questions")
    return questions


def parse_question(record: Any, where: str, line: int = 0) -> EvalQuestion:
    """One questions-file record, validated; errors name `where`."""
    if not isinstance(record, dict):
        raise QuestionFileError(f"{where}: expected a JSON object")
    qid = record.get("id")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise QuestionFileError(f"{where}: 'id' must be a non-empty string")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise QuestionFileError(f"{where}: 'question' must be a non-empty string")
    answer = record.get("answer")
    if answer is not None and not isinstance(answer, str):
        raise QuestionFileError(f"{where}: 'answer' must be a string or null")
    gold = _parse_gold(record, where)
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise QuestionFileError(f"{where}: 'answerable' must be true or false")
    if answerable and not gold:
        raise QuestionFileError(f"{where}: an answerable question needs 'gold_file' (or 'gold'); "
                                "mark questions the documents cannot answer with \"answerable\": false")
    if not answerable and gold:
        raise QuestionFileError(f"{where}: an unanswerable question cannot have a gold location")
    return EvalQuestion(qid.strip(), question.strip(), gold, answer or None, answerable, line)


def _parse_gold(record: dict[str, Any], where: str) -> tuple[Gold, ...]:
    if "gold" in record and record["gold"] is not None:
        items = record["gold"]
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise QuestionFileError(f"{where}: 'gold' must be a list of {{\"file\": ..., \"page\": ...}} objects")
        return tuple(_gold(item.get("file"), item.get("page"), where, "gold[].", item.get("section"),
                           item.get("rows")) for item in items)
    file, page = record.get("gold_file"), record.get("gold_page")
    if file is None:
        if page is not None:
            raise QuestionFileError(f"{where}: 'gold_page' given without 'gold_file'")
        return ()
    return (_gold(file, page, where, "gold_", record.get("gold_section"), record.get("gold_rows")),)


def _gold(file: Any, page: Any, where: str, prefix: str, section: Any = None, rows: Any = None) -> Gold:
    if not isinstance(file, str) or not file.strip():
        raise QuestionFileError(f"{where}: '{prefix}file' must be a non-empty relative path")
    if page is not None and (isinstance(page, bool) or not isinstance(page, int) or page < 1):
        raise QuestionFileError(f"{where}: '{prefix}page' must be a page number (1 or more) or null")
    if section is not None and (not isinstance(section, str) or not section.strip()):
        raise QuestionFileError(f"{where}: '{prefix}section' must be a heading (a non-empty string) or null")
    span = _row_span(rows)
    if rows is not None and span is None:
        raise QuestionFileError(f"{where}: '{prefix}rows' must be a row number or a range like \"3-5\", or null")
    return Gold(file.strip().replace("\\", "/").removeprefix("./"), page,
                " ".join(section.split()) if isinstance(section, str) else None, span)


def _row_span(rows: Any) -> tuple[int, int] | None:
    if isinstance(rows, int) and not isinstance(rows, bool) and rows >= 1:
        return (rows, rows)
    if isinstance(rows, str):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", rows)
        if match:
            first, last = int(match.group(1)), int(match.group(2) or match.group(1))
            return (first, last) if 1 <= first <= last else None
    return None


_LOCATION_ROWS = re.compile(r"\brows? (\d+)(?:-(\d+))?")


def in_location(location: str, section: str | None, rows: tuple[int, int] | None) -> bool:
    """Whether a chunk's location ("§ 4 Protection > 4.2 Sprinklers, ¶ 3", "sheet SOV, rows 2-9") names the
    gold's section (one heading of its path, case-insensitive) and overlaps its rows."""
    if section is not None:
        path = next((part[2:] for part in location.split(", ") if part.startswith("§ ")), "")
        names = [" ".join(name.split()).lower() for name in path.split(" > ")]
        if section.lower() not in names:
            return False
    if rows is not None:
        match = _LOCATION_ROWS.search(location)
        if match is None:
            return False
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < rows[0] or first > rows[1]:
            return False
    return True


# ---- matching and metrics -------------------------------------------------------------------------


def matches_file(source: str, gold_file: str) -> bool:
    """Whether a result's source path is the gold file: equal, or ending with `/` + gold_file."""
    source = source.replace("\\", "/")
    return source == gold_file or source.endswith("/" + gold_file)


def locate(source: str, page: int, gold: Sequence[Gold], level: str, location: str = "") -> Hashable | None:
    """The gold unit a result (its source, page and location) falls in at `level` ("page": the gold's page,
    section or rows; "file"), or None when it matches none."""
    for item in gold:
        if not matches_file(source, item.file):
            continue
        if level == "file":
            return item.file
        if (item.page is None or item.page == page) and in_location(location, item.section, item.rows):
            return _unit(item)
    return None


def _unit(item: Gold) -> Hashable:
    return (item.file, item.page) if item.section is None and item.rows is None else \
        (item.file, item.page, item.section, item.rows)


def gold_units(gold: Sequence[Gold], level: str) -> set[Hashable]:
    """The distinct units a question's gold locations make at `level`."""
    return {item.file for item in gold} if level == "file" else {_unit(item) for item in gold}


def hit_at_k(ranked: Sequence[Hashable | None], gold: Collection[Hashable], k: int) -> float:
    """1.0 when any of the first k ranked units is a gold unit, else 0.0."""
    return 1.0 if any(unit is not None and unit in gold for unit in ranked[:k]) else 0.0


def recall_at_k(ranked: Sequence[Hashable | None], gold: Collection[Hashable], k: int) -> float:
    """The share of gold units found among the first k ranked units (0.0 without gold)."""
    if not gold:
        return 0.0
    found = {unit for unit in ranked[:k] if unit is not None and unit in gold}
    return len(found) / len(set(gold))


def reciprocal_rank(ranked: Sequence[Hashable | None], gold: Collection[Hashable], depth: int = MRR_DEPTH) -> float:
    """1/rank of the first gold unit within the first `depth` ranked units, else 0.0."""
    rank = first_rank(ranked, gold, depth)
    return 1.0 / rank if rank else 0.0


def first_rank(ranked: Sequence[Hashable | None], gold: Collection[Hashable], depth: int) -> int | None:
    """The 1-based rank of the first gold unit within `depth`, or None."""
    for rank, unit in enumerate(ranked[:depth], start=1):
        if unit is not None and unit in gold:
            return rank
    return None


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# ---- running the retrieval evaluation -------------------------------------------------------------


@dataclass(frozen=True)
class LevelScores:
    hit: float
    recall: float
    mrr: float

    def to_dict(self) -> dict[str, float]:
        return {"hit": round(self.hit, 4), "recall": round(self.recall, 4), "mrr": round(self.mrr, 4)}


@dataclass(frozen=True)
class QuestionResult:
    """One question under one mode: where its gold page and file first appear, and what came first."""

    id: str
    question: str
    mode: str
    gold: tuple[Gold, ...]
    page_rank: int | None  # within MRR_DEPTH
    file_rank: int | None
    top: list[tuple[str, int]]  # (source, page) of the first k results

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "question": self.question, "mode": self.mode,
                "gold": [{"file": g.file, "page": g.page,
                          **({"section": g.section} if g.section else {}),
                          **({"rows": f"{g.rows[0]}-{g.rows[1]}"} if g.rows else {})} for g in self.gold],
                "page_rank": self.page_rank, "file_rank": self.file_rank,
                "top": [{"source": source, "page": page} for source, page in self.top]}


@dataclass
class RetrievalReport:
    k: int
    questions: int  # answerable questions scored
    scores: dict[str, dict[str, LevelScores]] = field(default_factory=dict)  # mode -> level -> scores
    results: dict[str, list[QuestionResult]] = field(default_factory=dict)  # mode -> per question

    def misses(self, level: str = "page") -> list[QuestionResult]:
        """Questions whose gold (page or file) is not in the first k, for every mode."""
        return [r for mode in self.results for r in self.results[mode]
                if (r.page_rank if level == "page" else r.file_rank) is None
                or (r.page_rank if level == "page" else r.file_rank) > self.k]

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "mrr_depth": MRR_DEPTH,
            "questions": self.questions,
            "modes": {mode: {level: scores.to_dict() for level, scores in levels.items()}
                      for mode, levels in self.scores.items()},
            "misses": [r.to_dict() for r in self.misses()],
        }


def score_ranking(sources: Sequence[tuple[Any, ...]], gold: Sequence[Gold], k: int,
                  level: str) -> tuple[LevelScores, int | None]:
    """Scores of one ranking (results as (source, page) or (source, page, location), best first) against one
    question's gold."""
    ranked = [locate(source[0], source[1], gold, level, source[2] if len(source) > 2 else "") for source in sources]
    units = gold_units(gold, level)
    scores = LevelScores(hit_at_k(ranked, units, k), recall_at_k(ranked, units, k),
                         reciprocal_rank(ranked, units, MRR_DEPTH))
    return scores, first_rank(ranked, units, MRR_DEPTH)


def evaluate_retrieval(search_many: SearchMany, questions: Sequence[EvalQuestion], k: int = 5,
                       modes: Sequence[str] = MODES) -> RetrievalReport:
    """Run every answerable question through each mode and score the rankings."""
    from assistant.grounding.sources import location_of

    scored = [q for q in questions if q.answerable]
    depth = max(k, MRR_DEPTH)
    report = RetrievalReport(k=k, questions=len(scored))
    for mode in modes:
        rankings = search_many([q.question for q in scored], depth, mode) if scored else []
        per_level: dict[str, list[LevelScores]] = {level: [] for level in LEVELS}
        results = []
        for question, hits in zip(scored, rankings, strict=True):
            sources = [(hit.chunk.source, hit.chunk.page, location_of(hit.chunk)) for hit in hits]
            ranks = {}
            for level in LEVELS:
                scores, ranks[level] = score_ranking(sources, question.gold, k, level)
                per_level[level].append(scores)
            results.append(QuestionResult(question.id, question.question, mode, question.gold, ranks["page"],
                                          ranks["file"], [(source, page) for source, page, _ in sources[:k]]))
        report.scores[mode] = {
            level: LevelScores(mean([s.hit for s in values]), mean([s.recall for s in values]),
                               mean([s.mrr for s in values]))
            for level, values in per_level.items()
        }
        report.results[mode] = results
    return report


# ---- answers --------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+(?:[.,/\-][a-z0-9]+)*")
_FILLER = frozenset(("a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "is", "for", "with", "by"))


def normalize(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def contains_answer(text: str, expected: str) -> bool:
    """Whether an answer states the expected answer: the whole string, or every one of its words
    (fillers like "the" aside; figures must match as written, "12,000" and "12000" both accepted)."""
    answer, wanted = normalize(text), normalize(expected)
    if wanted in answer:
        return True
    have = set(_WORD.findall(answer)) | {w.replace(",", "") for w in _WORD.findall(answer)}
    words = [w for w in _WORD.findall(wanted) if w not in _FILLER]
    return bool(words) and all(w in have or w.replace(",", "") in have for w in words)


@dataclass(frozen=True)
class AnswerResult:
    id: str
    question: str
    answerable: bool
    text: str
    declined: bool  # the pipeline declined or the model said the documents do not cover it
    cited: int  # citations the model wrote (not inferred)
    verified: int  # of those, verified against the sources
    all_verified: bool
    contains_expected: bool | None  # None when no expected answer is given
    expected: str | None
    kind: str = "answer"  # what the user got: a verified answer, a labelled quote, or the decline

    @property
    def honest(self) -> bool:
        """Shown as what it is: a verified answer, or a quote labelled as one (or declined)."""
        return self.kind in ("quote", "declined") or self.all_verified

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "question": self.question, "answerable": self.answerable, "kind": self.kind,
                "answer": self.text,
                "declined": self.declined, "citations": self.cited, "verified": self.verified,
                "all_verified": self.all_verified, "contains_expected": self.contains_expected,
                "expected": self.expected}


@dataclass
class AnswerReport:
    results: list[AnswerResult]

    @property
    def answered(self) -> list[AnswerResult]:
        """Answerable questions the pipeline answered (did not decline)."""
        return [r for r in self.results if r.answerable and not r.declined]

    @property
    def citations_verified(self) -> float:
        """Of the answered questions, the share with at least one citation and every citation verified."""
        return mean([1.0 if r.all_verified else 0.0 for r in self.answered])

    @property
    def shown_honestly(self) -> float:
        """Of the answered questions, the share shown as a verified answer or as a labelled quote."""
        return mean([1.0 if r.honest else 0.0 for r in self.results if not r.declined])

    @property
    def with_expected(self) -> list[AnswerResult]:
        return [r for r in self.results if r.answerable and r.contains_expected is not None]

    @property
    def contains_expected(self) -> float:
        """Of the answerable questions with an expected answer, the share whose answer contains it."""
        return mean([1.0 if r.contains_expected else 0.0 for r in self.with_expected])

    @property
    def unanswerable(self) -> list[AnswerResult]:
        return [r for r in self.results if not r.answerable]

    @property
    def declined_correctly(self) -> float:
        """Of the unanswerable questions, the share declined."""
        return mean([1.0 if r.declined else 0.0 for r in self.unanswerable])

    @property
    def declined_wrongly(self) -> int:
        return sum(1 for r in self.results if r.answerable and r.declined)

    def misses(self) -> list[AnswerResult]:
        return [r for r in self.results
                if (r.answerable and (r.declined or not r.all_verified or r.contains_expected is False))
                or (not r.answerable and not r.declined)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": len(self.results),
            "answered": len(self.answered),
            "citations_verified": round(self.citations_verified, 4),
            "shown_verified_or_quoted": round(self.shown_honestly, 4),
            "with_expected": len(self.with_expected),
            "contains_expected": round(self.contains_expected, 4),
            "unanswerable": len(self.unanswerable),
            "declined_correctly": round(self.declined_correctly, 4),
            "answerable_declined": self.declined_wrongly,
            "misses": [r.to_dict() for r in self.misses()],
        }


def judge_answer(question: EvalQuestion, answer: Any) -> AnswerResult:
    """Score one `assistant.answering.types.Answer` against its question."""
    from assistant.answering.pipeline import says_no_answer

    written = [c for c in answer.citations if not c.inferred]
    verified = sum(1 for c in written if c.verified)
    declined = bool(answer.declined) or says_no_answer(answer.text)
    all_verified = bool(written) and verified == len(written) and not answer.invalid_citations
    expected = None if question.answer is None else contains_answer(answer.text, question.answer)
    return AnswerResult(question.id, question.question, question.answerable, answer.text, declined, len(written),
                        verified, all_verified, expected, question.answer, getattr(answer, "kind", "answer"))


def evaluate_answers(answer: Callable[[str], Any], questions: Sequence[EvalQuestion],
                     progress: Callable[[int, int], None] | None = None) -> AnswerReport:
    """Answer every question (answerable or not) and judge the answers."""
    results = []
    for done, question in enumerate(questions, start=1):
        results.append(judge_answer(question, answer(question.question)))
        if progress:
            progress(done, len(questions))
    return AnswerReport(results)


@dataclass
class EvalReport:
    questions_file: str
    total: int
    retrieval: RetrievalReport
    answers: AnswerReport | None = None
    seconds: float = 0.0
    missing_files: list[str] = field(default_factory=list)  # gold files not found among the ingested documents

    def to_dict(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"questions_file": self.questions_file, "questions": self.total,
                                   "missing_gold_files": self.missing_files,
                                   "retrieval": self.retrieval.to_dict(), "seconds": round(self.seconds, 2)}
        if self.answers is not None:
            payload["answers"] = self.answers.to_dict()
        return payload


def default_questions() -> Path:
    """`sample_docs/eval/questions.jsonl` under the current folder, else in the source checkout."""
    relative = Path("sample_docs") / "eval" / "questions.jsonl"
    if relative.exists():
        return relative
    checkout = Path(__file__).resolve().parent.parent / relative
    return checkout if checkout.exists() else relative


def missing_gold_files(questions: Sequence[EvalQuestion], sources: Sequence[str]) -> list[str]:
    """Gold files that match no ingested document (the workspace holds other documents, or too few)."""
    wanted = sorted({gold.file for q in questions for gold in q.gold})
    return [file for file in wanted if not any(matches_file(source, file) for source in sources)]


def run_evaluation(search_many: SearchMany, answer: Callable[[str], Any] | None,
                   questions: Sequence[EvalQuestion], k: int = 5, *, label: str = "",
                   sources: Sequence[str] | None = None, modes: Sequence[str] = MODES,
                   progress: Callable[[int, int], None] | None = None) -> EvalReport:
    """Score retrieval for each mode and, when `answer` is given, the answers.

    `sources` are the ingested documents' paths: when none of the gold files is among them, the index
    holds other documents and the scores would mean nothing, so that is an error."""
    import time

    started = time.perf_counter()
    if k < 1:
        raise EvalError(f"k must be 1 or more, not {k}")
    missing = missing_gold_files(questions, sources) if sources is not None else []
    wanted = {gold.file for q in questions for gold in q.gold}
    if wanted and len(missing) == len(wanted):
        raise EvalError(f"none of the {len(wanted)} gold files of {label or 'the questions'} is ingested in this "
                        "workspace: ingest the documents the questions are about first")
    report = EvalReport(label, len(questions), evaluate_retrieval(search_many, questions, k, modes),
                        missing_files=missing)
    if answer is not None:
        report.answers = evaluate_answers(answer, questions, progress)
    report.seconds = time.perf_counter() - started
    return report
