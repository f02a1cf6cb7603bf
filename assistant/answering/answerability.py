"""Answerability: do the ranked evidence units actually answer the question, or are the documents silent?

Owns the decision to decline. Retrieval always returns something, and in-domain questions the documents
cannot answer ("the earthquake deductible", "the number of employees") retrieve passages as similar as
answerable ones, so one similarity threshold cannot tell them apart. The decision is made on the
evidence instead, per unit:

1. **The question's terms are there.** Each content term of the question is weighed by how much it
   carries the question's meaning (salience) and by its rarity in the workspace (IDF), and matched
   softly (stems, then word embeddings: "biggest" finds "largest"). The best passages, together with the
   names of their sources (insured folder, file, title, heading), must hold at least `min_coverage` of
   that weight; the terms other than the named insured's own name words at least
   `MIN_CONTENT_COVERAGE` of theirs (the insured's name is always "there" and says nothing about the
   answer); and no term that no chunk of the workspace holds, with nothing in the passages standing in
   for it, may carry `UNKNOWN_SHARE` of the weight ("earthquake" where no document mentions one).
2. **The kind of value asked for is there** in a unit (`assistant.grounding.kinds`): a number before the
   counted noun for "how many employees", a distance for "how far", an amount (money or a percentage)
   for "what deductible / premium / loss ratio", a date for "when", a figure for other "how much" and
   "what limit" questions.
3. **The insured is the one asked about.** When the question names a submission (its folder or its
   documents' titles), only that submission's units count: "How many employees does Meridian have?"
   is not answered by Harbor Foods' head count.

A question with no unit passing all three is declined with "The documents do not contain this
information." Imports `assistant.grounding.evidence` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePath

from assistant.grounding.evidence import Evidence, EvidenceRanker, Question
from assistant.grounding.sources import submission_of
from assistant.grounding.verification import content_terms, stem
from index.types import Chunk

MIN_COVERAGE = 0.45  # share of the question's weight the best passages must hold
PASSAGES_JUDGED = 3  # best passages (of the named submission) whose words count
MAX_USABLE = 4  # units offered to the model as quotable evidence
MIN_CONTENT_COVERAGE = 0.2  # share of the weight of the terms other than the insured's names they must hold
UNKNOWN_SHARE = 0.5  # weight share of a term no document mentions at which the question is declined


@dataclass
class Assessment:
    """The gate's decision and what it rests on."""

    answerable: bool
    usable: list[Evidence] = field(default_factory=list)  # units that answer, best first
    reason: str = ""  # why not, when declined
    submission: str | None = None  # the submission the question names, if any
    coverage: float = 0.0  # share of the question's weight the best passages hold


def submission_names(paths: Iterable[str], titles: dict[str, str] | None = None) -> dict[str, set[str]]:
    """Per submission (folder), the distinctive name words that identify it: the words of its folder name
    and those in most of its documents' titles (the insured's name), less words other submissions share."""
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        by_folder.setdefault(submission_of(path), []).append((titles or {}).get(path, ""))
    names: dict[str, set[str]] = {}
    for folder, folder_titles in by_folder.items():
        words = content_terms(folder.replace("-", " ").replace("_", " "))
        counts: dict[str, int] = {}
        for title in folder_titles:
            for word in content_terms(title):
                counts[word] = counts.get(word, 0) + 1
        words |= {word for word, count in counts.items() if count * 5 >= len(folder_titles) * 3 and count >= 2}
        names[folder] = words
    if len(names) < 2:
        return names
    shared: dict[str, int] = {}
    for words in names.values():
        for word in words:
            shared[word] = shared.get(word, 0) + 1
    return {folder: {w for w in words if shared[w] == 1} for folder, words in names.items()}


def named_submission(question: str, names: dict[str, set[str]]) -> str | None:
    """The one submission the question names: by two of its name words, or by the first word of its
    folder name ("Meridian"). "Plastics" alone names no insured; neither does a tie."""
    asked = content_terms(question)
    scores = {}
    for folder, words in names.items():
        lead = content_terms(re.split(r"[-_\s]+", folder)[0])
        shared = asked & words
        scores[folder] = len(shared) if len(shared) >= 2 or (shared & lead) else 0
    best = max(scores.values(), default=0)
    winners = [folder for folder, score in scores.items() if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def assess(question: Question, ranked: Sequence[Evidence], passages: Sequence[Chunk], ranker: EvidenceRanker, *,
           submission: str | None = None, min_coverage: float = MIN_COVERAGE,
           name_words: set[str] = frozenset()) -> Assessment:  # type: ignore[assignment]
    """Decide from the evidence whether the question is answered (see the module docstring).

    `passages` are the retrieved chunks best first; `ranked` their units, ranked; `name_words` the
    stemmed name words of the submission the question names."""
    if not question.terms:
        return Assessment(False, reason="the question has no content words", submission=submission)
    if submission:
        passages = [chunk for chunk in passages if submission_of(chunk.source) == submission]
        ranked = [evidence for evidence in ranked if evidence.candidate.submission == submission]
        if not passages:
            return Assessment(False, reason=f"nothing retrieved from {submission}", submission=submission)
    text = " ".join(f"{chunk.text} {chunk.title} {chunk.heading} {submission_of(chunk.source)} "
                    f"{PurePath(chunk.source).stem}" for chunk in passages[:PASSAGES_JUDGED])
    text = text.replace("-", " ").replace("_", " ") + " " + text
    coverage, missing = ranker.coverage(question, text)
    if coverage < min_coverage:
        return Assessment(False, reason=f"the documents do not mention {quoted(missing)}", submission=submission,
                          coverage=coverage)
    content = replace(question, terms=tuple(t for t in question.terms if stem(t) not in name_words))
    content_coverage, content_missing = ranker.coverage(content, text) if content.terms else (0.0, ())
    if content_coverage < MIN_CONTENT_COVERAGE:
        return Assessment(False, reason=f"beyond naming the insured, the documents do not mention "
                          f"{quoted(content_missing)}", submission=submission, coverage=coverage)
    unknown = unknown_weight(question, text, ranker)
    if unknown:
        term, share = unknown
        return Assessment(False, reason=f'no document mentions "{term}" ({share:.0%} of the question\'s weight)',
                          submission=submission, coverage=coverage)
    usable = [evidence for evidence in ranked if evidence.has_value][:MAX_USABLE]
    if not usable:
        kind = question.kind if question.kind not in (None, "figure") else ("date" if question.wants_date else "figure")
        return Assessment(False, reason=f"the passages give no {kind} for it", submission=submission,
                          coverage=coverage)
    return Assessment(True, usable, submission=submission, coverage=coverage)


def quoted(terms: Sequence[str]) -> str:
    return ", ".join(f'"{term}"' for term in terms[:3])


def unknown_weight(question: Question, text: str, ranker: EvidenceRanker) -> tuple[str, float] | None:
    """A question term that no chunk of the workspace holds and nothing in `text` stands in for (soft
    match), when it carries at least `UNKNOWN_SHARE` of the question's weight: (the term, its share)."""
    _, counts = ranker.document_frequency([f'"{term}"' for term in question.terms])
    support = ranker.term_support(question, [text])[0]
    absent = [term for term in question.terms if counts.get(f'"{term}"', 0) == 0 and support[term] < 0.5]
    if not absent:
        return None
    weights = ranker.term_weights(question)
    term = max(absent, key=lambda term: weights[term])
    share = weights[term] / (sum(weights.values()) or 1.0)
    return (term, share) if share >= UNKNOWN_SHARE else None
