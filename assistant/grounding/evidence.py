"""Evidence: the sentences, list items and table rows of the retrieved passages that answer a question.

Owns splitting passages into candidate units (`split_units`), the question's analysis (`Question`:
its content terms, the kind of value it asks for, the submission it names) and ranking the candidates
against it (`EvidenceRanker`). Imports `index.types` and `assistant.grounding.verification` (for terms and
facts); never an engine.

Candidates keep their text verbatim (whitespace collapsed), so a quote taken from one is found in its
source. Units:
- a Markdown table row (`| a | b |`), whole, with the table's header row as its context;
- a table row as ingest writes it, one line of "header value" cells ("Claim 24-1 | Paid $48,200"), whole:
  consecutive rows never run together as one wrapped paragraph;
- a list item (`- `, `* `, `•`, `1.`, `a)`), with its wrapped lines;
- a sentence of a paragraph, where a paragraph joins lines wrapped at the page's width;
- a line of figures ("Closed $184,500 $0 $184,500") continues the record before it, so a claim row of a
  loss run stays whole.

Ranking (`EvidenceRanker.rank`) sums, per candidate: the embedder's cosine to the question (scaled within the
candidate set), the question's content terms found in it weighted by their rarity in the workspace (IDF, and
for ranking by how few of the candidates hold them; soft matched: stems, the trade's shorthand such as "Hyd",
"FD", "bldg" for the words they stand for (`assistant.grounding.trade_words`), then word embeddings for
synonyms such as "biggest"/"largest", never one peril for another), whether it holds the kind of value asked
for (a figure, a date), whether it is a totals row where the question asks for an aggregate (or for one
record: then the totals row is pushed down), and its passage's retrieval rank. Query likelihood with the
bundled generator (UPR, Sachan et al. 2022) was measured and left out: with the 135M model it moved the right
unit out of first place (held-out set: 0.32 -> 0.23 at the top 6).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from assistant.grounding.kinds import (
    DATE,
    FIGURE,
    amounts,
    answers_kind,
    asked_kind,
    asks_aggregate,
    focus_terms,
    holds_kind,
    is_total_row,
    row_cells,
    superlative,
)
from assistant.grounding.sources import submission_of
from assistant.grounding.trade_words import expansions, other_peril
from assistant.grounding.verification import (
    NEGATIONS,
    NOT_CONTENT,
    STOPWORDS,
    Facts,
    content_terms,
    dates,
    fact_disagreements,
    facts,
    normalize,
    stem,
)
from index.types import Chunk, ScoredChunk

WordVectors = Callable[[Sequence[str]], dict[str, object]]  # words -> unit vectors (numpy)

_BULLET = re.compile(r"^\s*(?:[-*•▪◦‣]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_ABBREVIATIONS = ("approx", "no", "nos", "st", "inc", "ltd", "co", "corp", "dr", "mr", "ms", "mrs", "vs", "etc",
                  "e.g", "i.e", "u.s", "fig", "sec", "para", "ave", "rd", "ft", "sq", "lbs", "lb", "max", "min",
                  "incl", "dept", "est", "ref", "yr", "yrs", "mo", "mos", "jan", "feb", "mar", "apr", "jun", "jul",
                  "aug", "sep", "sept", "oct", "nov", "dec")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])")
_RUNNING_LINE = re.compile(r"\bpage\s+\d+\s+of\s+\d+\b", re.IGNORECASE)  # a running header or footer
WRAP_SHARE = 0.7  # a line at least this share of the passage's longest line, not ending a sentence, wraps on
MAX_UNIT_WORDS = 90
FACT_WEIGHT = 3.0  # weight of a date, identifier or figure the question states, as a rare word


@dataclass(frozen=True)
class Unit:
    """One candidate piece of evidence within a passage."""

    text: str  # verbatim, whitespace collapsed
    kind: str  # sentence | item | row
    context: str = ""  # the table header of a row, the heading a unit stands under

    @property
    def words(self) -> int:
        return len(self.text.split())


def _is_figure_line(line: str) -> bool:
    tokens = line.split()
    if not tokens or len(tokens) > 10:
        return False
    figures = sum(1 for token in tokens if re.search(r"\d", token))
    return figures * 2 >= len(tokens) and figures >= 1


def _record_kind(figure_line: str, before: Unit) -> str:
    """A unit that a line of two or more figures continues is a record (a row); one figure is just wrapped text."""
    return "row" if len(re.findall(r"\d[\d,.]*", figure_line)) >= 2 else before.kind


def _is_numbered_heading(line: str) -> bool:
    """"2. Occupancy", "4.2 Sprinklers": a short numbered title, not a list item."""
    rest = _BULLET.sub("", line)
    return bool(re.match(r"^\s*\(?\d", line)) and len(rest.split()) <= 6 and not rest.endswith((".", ";", ",", ":"))


def _split_sentences(paragraph: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start:match.start()].rstrip()
        last_word = re.findall(r"[\w.]+$", before)
        if last_word and last_word[0].rstrip(".").lower() in _ABBREVIATIONS:
            continue
        if re.search(r"\b[A-Z]\.$", before):  # an initial: "J. Smith"
            continue
        pieces.append(paragraph[start:match.start()].strip())
        start = match.end()
    pieces.append(paragraph[start:].strip())
    return [piece for piece in pieces if piece]


def _table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def overlap_start(previous: str, following: str, min_tokens: int = 3, max_tokens: int = 400) -> int | None:
    """Where in `previous` the text that `following` starts with begins (whitespace-insensitive), if it does.

    The last token of `previous` may be cut short ("$127," against "$127,800")."""
    prev = [(m.start(), m.group()) for m in re.finditer(r"\S+", previous)][-max_tokens:]
    nxt = [m.group() for m in re.finditer(r"\S+", following)][:max_tokens]
    if not prev or not nxt:
        return None
    words = [w for _, w in prev]
    for start in range(len(words)):
        if words[start] != nxt[0] and not (start == len(words) - 1 and nxt[0].startswith(words[start])):
            continue
        length = len(words) - start
        if length < min_tokens or length > len(nxt):
            continue
        if words[start:-1] == nxt[: length - 1] and nxt[length - 1].startswith(words[-1]):
            return prev[start][0]
    return None


def split_units(text: str, heading: str = "") -> list[Unit]:
    """The candidate units of a passage, in reading order (see the module docstring)."""
    lines = [line.rstrip() for line in text.splitlines()]
    widest = max((len(line) for line in lines if line.strip()), default=0)
    units: list[Unit] = []
    paragraph: list[str] = []
    item: list[str] = []
    header = ""
    current_heading = heading

    def flush_paragraph() -> None:
        if paragraph:
            joined = " ".join(" ".join(paragraph).split())
            units.extend(Unit(sentence, "sentence", current_heading) for sentence in _split_sentences(joined))
            paragraph.clear()

    def flush_item() -> None:
        if item:
            units.append(Unit(" ".join(" ".join(item).split()), "item", current_heading))
            item.clear()

    for line in lines:
        stripped = line.strip()
        if not stripped:
            flush_item()
            flush_paragraph()
            header = ""
            continue
        if stripped.startswith("|") and stripped.count("|") >= 2:
            flush_item()
            flush_paragraph()
            if _TABLE_SEPARATOR.match(stripped):
                continue
            if not header:
                header = " | ".join(_table_cells(stripped))
                continue
            units.append(Unit(" ".join(stripped.split()), "row", header))
            continue
        header = ""
        if row_cells(stripped):  # a table row as ingest writes it: "Claim 24-1 | Paid $48,200"
            flush_item()
            flush_paragraph()
            units.append(Unit(" ".join(stripped.split()), "row", current_heading))
            continue
        if _HEADING.match(stripped):
            flush_item()
            flush_paragraph()
            current_heading = _HEADING.sub("", stripped)
            continue
        if _BULLET.match(line) and _is_numbered_heading(stripped):
            flush_item()
            flush_paragraph()
            current_heading = stripped
            continue
        if stripped[0].islower() and not item and not paragraph and units:
            last = units.pop()  # a wrapped line the width test missed: "... evacuation" / "and contaminated"
            units.append(Unit(f"{last.text} {stripped}", last.kind, last.context))
            continue
        if _BULLET.match(line):
            flush_item()
            flush_paragraph()
            item.append(stripped)
            continue
        if _is_figure_line(stripped) and (item or paragraph or units):
            if item:
                item.append(stripped)
            elif paragraph:
                paragraph.append(stripped)
                flush_paragraph()
                last = units.pop()
                units.append(Unit(last.text, _record_kind(stripped, last), last.context))
            else:
                last = units.pop()
                units.append(Unit(f"{last.text} {stripped}", _record_kind(stripped, last), last.context))
            continue
        if item:
            if line[:1].isspace() or not item[-1].rstrip().endswith((".", ":", ";")):
                item.append(stripped)
                continue
            flush_item()
        paragraph.append(stripped)
        wraps = len(stripped) >= WRAP_SHARE * widest and not stripped.endswith((".", "!", "?", ":"))
        if not wraps and not stripped.endswith((",", "-", "—", "and", "or", "of", "the")):
            flush_paragraph()
    flush_item()
    flush_paragraph()
    return [unit for unit in units if len(re.findall(r"\w+", unit.text)) >= 2 and not _RUNNING_LINE.search(unit.text)]


# ---- the question ---------------------------------------------------------------------------------

_FIGURE_QUESTION = re.compile(
    r"\bhow\s+(?:much|many|far|big|large|tall|high|long|wide|deep|old|heavy|often)\b|"
    r"\b(?:what|which)\s+(?:is|was|are|were)\s+(?:the\s+)?(?:\w+\s+){0,3}?"
    r"(?:amount|limit|value|values|tiv|deductible|premium|reserve|reserves|incurred|paid|total|rate|charge|"
    r"count|number|size|area|capacity|distance|percentage|percent|ratio|height|year|age|cost|sum|retention)\b|"
    r"\b(?:what|which)\s+(?:amount|limit|percentage|percent|number|size|capacity|year|deductible|rate)\b",
    re.IGNORECASE,
)
_DATE_QUESTION = re.compile(r"\bwhen\b|\bwhat\s+(?:date|day|month|year)\b|\bwhich\s+(?:date|day|month|year)\b|"
                            r"\bhow\s+long\s+ago\b|\bwhat\s+(?:is|was)\s+the\s+(?:\w+\s+){0,3}date\b", re.IGNORECASE)
_QUESTION_WORDS = frozenset("how much many far big large what which when where who whom whose why tell give "
                            "describe list does did there kind type sort".split())


@dataclass(frozen=True)
class Question:
    """What the ranker and the answerability gate need to know about a question."""

    text: str
    terms: tuple[str, ...]  # content words (unstemmed, lower case), in order
    wants_figure: bool
    wants_date: bool
    facts: Facts = field(default_factory=Facts)  # what the question states ("the 01/16/2024 loss")
    focus: tuple[str, ...] = ()  # the wh-phrase's words: what is asked about (`assistant.grounding.kinds`)
    kind: str | None = None  # the kind of value asked for: distance, count, money, percent, name, date, figure
    extreme: int = 0  # +1 the greatest amount asked for ("largest claim"), -1 the least

    @classmethod
    def parse(cls, text: str) -> Question:
        flat = normalize(text).replace("’", "'")
        stated = facts(flat)
        words = re.findall(r"[a-z][a-z'-]*[a-z]", dates(flat)[1])
        seen: dict[str, None] = {}
        for word in words:
            word = word.removesuffix("'s").strip("'-")
            if (len(word) >= 3 and word not in STOPWORDS and word not in _QUESTION_WORDS
                    and word not in NOT_CONTENT and word not in NEGATIONS):
                seen.setdefault(word, None)
        wants_date = bool(_DATE_QUESTION.search(text))
        wants_figure = bool(_FIGURE_QUESTION.search(text)) and not wants_date
        focus = tuple(word for word in focus_terms(text) if word in seen)
        extreme = superlative(text)
        return cls(text, tuple(seen), wants_figure, wants_date, stated, focus,
                   asked_kind(text, focus, wants_figure, wants_date, extreme), extreme)

    def holds_asked(self, text: str) -> bool:
        """Whether `text` states the kind of value asked for (`assistant.grounding.kinds.holds_kind`)."""
        return holds_kind(self.kind, text, self.text, self.focus)

    @property
    def stems(self) -> set[str]:
        return {stem(word) for word in self.terms}


def unit_has_value(question: Question, unit_text: str, plain: bool | None = None) -> bool:
    """Whether a unit holds the kind of value the question asks for (a count of what it counts, a distance,
    an amount, a figure, a date), or none is asked; `plain` is `states_plain_value`, when known."""
    typed = answers_kind(question.kind, unit_text, question.text, question.focus)
    if typed is not None:
        return typed
    return states_plain_value(question, unit_text) if plain is None else plain


def states_plain_value(question: Question, unit_text: str) -> bool:
    """A figure or a date where the question asks for a figure, a date (or a year) for a date; true when
    it asks for neither."""
    if not (question.wants_figure or question.wants_date):
        return True
    return holds_kind(DATE if question.wants_date else FIGURE, unit_text)


# ---- ranking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A unit of one source, numbered as the source is in the prompt (1..n)."""

    number: int
    chunk: Chunk
    unit: Unit
    index: int  # position of the unit in its passage

    @property
    def text(self) -> str:
        return self.unit.text

    @property
    def submission(self) -> str:
        return submission_of(self.chunk.source)

    @property
    def names(self) -> str:
        """What the candidate's source is called: insured folder, file, title, heading, table header."""
        return " ".join([self.submission.replace("-", " ").replace("_", " "), PurePath(self.chunk.source).stem
                         .replace("_", " "), self.chunk.title, self.chunk.heading, self.unit.context])


@dataclass
class Evidence:
    """A ranked candidate with the signals that ranked it."""

    candidate: Candidate
    score: float
    signals: dict[str, float] = field(default_factory=dict)
    coverage: float = 0.0  # weighted share of the question's terms this evidence (with its names) holds
    missing: tuple[str, ...] = ()  # question terms it does not hold, rarest first
    has_value: bool = True  # holds the kind of value the question asks for

    @property
    def number(self) -> int:
        return self.candidate.number

    @property
    def text(self) -> str:
        return self.candidate.text


def candidates(sources: Sequence[ScoredChunk | Chunk]) -> list[Candidate]:
    """Every unit of every source; source n is `sources[n-1]`."""
    found = []
    for number, item in enumerate(sources, start=1):
        chunk = item.chunk if isinstance(item, ScoredChunk) else item
        for index, unit in enumerate(split_units(chunk.text, chunk.heading)):
            found.append(Candidate(number, chunk, unit, index))
    return found


SIGNALS = ("dense", "lexical", "value", "kind", "extreme", "total", "retrieval")


@dataclass
class Weights:
    """How the signals add up to a unit's score (see `EvidenceRanker.rank` and BENCHMARKS.md). Set by
    hand on sample_docs and checked on two held-out sets; a learned combination of these and six more
    signals (the unit's own words, the wh-phrase's words, the neighbouring units, adjacent term pairs, row,
    length) did better on the set it was fitted to and no better on the others."""

    dense: float = 1.0  # the embedder's cosine to the question, scaled within the candidates
    lexical: float = 1.5  # share of the question's terms in the unit and its names (distinctive terms weigh more)
    value: float = 0.5  # a figure or date, where the question asks for one
    kind: float = 0.5  # the kind of value asked for (a distance, a count next to its noun, ...)
    extreme: float = 1.0  # the greatest (least) amount among one table's records, for "the largest claim"
    total: float = 0.5  # a totals row: +1 where the question asks for an aggregate, -1 where it asks for a record
    retrieval: float = 0.3  # 1 / the rank of the unit's passage in retrieval

    def score(self, signals: dict[str, float]) -> float:
        return sum(getattr(self, name) * signals[name] for name in SIGNALS)


@dataclass
class EvidenceRanker:
    """Ranks candidate units against a question (see the module docstring)."""

    embed: Callable[[Sequence[str]], object]  # texts -> unit vectors, a numpy array (n, d)
    document_frequency: Callable[[Sequence[str]], tuple[int, dict[str, int]]]  # words -> (chunks, chunks with)
    weights: Weights = field(default_factory=Weights)
    soft_match: float = 0.62  # word-embedding cosine at which a word stands in for a question term
    _word_vectors: dict[str, object] = field(default_factory=dict)
    _salience: dict[str, dict[str, float]] = field(default_factory=dict)  # per question text, per term

    def idf(self, words: Sequence[str]) -> dict[str, float]:
        """Rarity of each word in the workspace: log((N + 1) / (df + 0.5)), at least 0.1."""
        total, counts = self.document_frequency([f'"{word}"' for word in words])
        return {word: max(0.1, math.log((total + 1) / (counts[f'"{word}"'] + 0.5))) for word in words}

    def vectors(self, words: Sequence[str]) -> dict[str, object]:
        missing = [word for word in dict.fromkeys(words) if word not in self._word_vectors]
        if missing:
            if len(self._word_vectors) > 50_000:
                self._word_vectors.clear()
            for word, vector in zip(missing, self.embed(missing), strict=True):  # type: ignore[call-overload]
                self._word_vectors[word] = vector
        return {word: self._word_vectors[word] for word in words}

    def salience(self, question: Question) -> dict[str, float]:
        """How much each term carries the question's meaning: 1 - cosine(question, question without it).
        "earthquake" in "what is the earthquake deductible?" weighs far more than "want" in "by when does
        the broker want the quotes back?"."""
        if not question.terms:
            return {}
        known = self._salience.get(question.text, {})
        if not all(term in known for term in question.terms):  # the gate asks again, for some of the terms
            variants = [re.sub(r"\b" + re.escape(term) + r"\w*", " ", question.text, flags=re.IGNORECASE)
                        for term in question.terms]
            vectors = self.embed([question.text, *variants])
            if len(self._salience) > 1_000:
                self._salience.clear()
            known = {**known, **{term: max(0.0, 1.0 - float(vectors[i + 1] @ vectors[0]))
                                 for i, term in enumerate(question.terms)}}
            self._salience[question.text] = known
        return {term: known[term] for term in question.terms}

    def coverage(self, question: Question, text: str) -> tuple[float, tuple[str, ...]]:
        """(share of the question's weight `text` holds, the terms it misses, weightiest first); a term
        weighs its salience times its rarity in the workspace (IDF)."""
        if not question.terms:
            return 0.0, ()
        weights = self.term_weights(question)
        total = sum(weights.values()) or 1.0
        support = self.term_support(question, [text])[0]
        held = sum(weights[t] * support[t] for t in question.terms) / total
        missing = tuple(sorted((t for t in question.terms if support[t] < 0.5), key=lambda t: -weights[t]))
        return held, missing

    def term_weights(self, question: Question) -> dict[str, float]:
        idf = self.idf(list(question.terms))
        salience = self.salience(question)
        return {t: salience[t] * idf[t] + 1e-6 for t in question.terms}

    def term_support(self, question: Question, texts: Sequence[str]) -> list[dict[str, float]]:
        """For each text: how well it holds each question term (1 exact stem, else the best soft match)."""
        import numpy as np

        word_sets = [set(re.findall(r"[a-z][a-z'-]*[a-z]|\d[\d,.]*", normalize(text))) for text in texts]
        stems_of = [{stem(word) for word in words} | content_terms(" ".join(words))
                    | {stem(full) for word in words for full in expansions(word)} for words in word_sets]
        all_words = sorted({word for words in word_sets for word in words
                            if len(word) >= 3 and word not in STOPWORDS and not word[0].isdigit()})
        need_soft = [term for term in question.terms if not term[0].isdigit()]
        vectors = self.vectors([*need_soft, *all_words]) if need_soft and all_words else {}
        results = []
        for words, stems in zip(word_sets, stems_of, strict=True):
            support: dict[str, float] = {}
            candidates_ = [word for word in words if word in vectors]
            matrix = np.stack([vectors[word] for word in candidates_]) if candidates_ else None
            for term in question.terms:
                if stem(term) in stems or term in words:
                    support[term] = 1.0
                elif matrix is not None and term in vectors:
                    scores = matrix @ vectors[term]
                    best = max((float(score) for word, score in zip(candidates_, scores, strict=True)
                                if not other_peril(term, word)), default=0.0)
                    support[term] = best if best >= self.soft_match else 0.0
                else:
                    support[term] = 0.0
            results.append(support)
        return results

    def rank(self, question: Question, found: Sequence[Candidate],
             retrieval_rank: dict[int, int] | None = None) -> list[Evidence]:
        """The candidates best first, each with its signals, coverage and missing terms."""
        import numpy as np

        if not found:
            return []
        texts = [c.text if not c.unit.context else f"{c.unit.context}: {c.text}" for c in found]
        vectors = np.asarray(self.embed([question.text, *texts]))
        cosines = vectors[1:] @ vectors[0]
        idf = self.term_weights(question) if question.terms else {}
        supports = self.term_support(question, [f"{text} {c.names}" for text, c in zip(texts, found, strict=True)])
        low, high = float(cosines.min()), float(cosines.max())
        asked_facts = len(question.facts.dates) + len(question.facts.identifiers) + len(question.facts.figures)
        met_facts = [asked_facts - len(fact_disagreements(question.facts, facts(f"{c.text} {c.names}")))
                     if asked_facts else 0 for c in found]
        coverages = weighted_coverage(question, supports, idf, asked_facts, met_facts)
        lexical = weighted_coverage(question, supports, distinctive_weights(question, supports, idf), asked_facts,
                                    met_facts)
        extreme = extreme_units(question, found, coverages)
        aggregate = asks_aggregate(question.text)
        evidence = []
        for i, candidate in enumerate(found):
            plain_value = states_plain_value(question, candidate.text)
            has_value = unit_has_value(question, candidate.text, plain_value)
            signals = {
                "dense": (float(cosines[i]) - low) / (high - low) if high > low else 0.0,
                "lexical": lexical[i],
                "value": 1.0 if (question.wants_figure or question.wants_date) and plain_value else 0.0,
                "kind": 1.0 if question.kind not in (None, FIGURE) and question.holds_asked(candidate.text) else 0.0,
                "extreme": 1.0 if i in extreme else 0.0,
                "total": (1.0 if aggregate else -1.0) if is_total_row(candidate.text) else 0.0,
                "retrieval": 1.0 / (retrieval_rank or {}).get(candidate.number, 1),
            }
            missing = tuple(sorted((t for t in question.terms if supports[i][t] < 0.5), key=lambda t: -idf[t]))
            evidence.append(Evidence(candidate, self.weights.score(signals), signals, coverages[i], missing, has_value))
        evidence.sort(key=lambda e: -e.score)
        return evidence


def weighted_coverage(question: Question, supports: Sequence[dict[str, float]], weights: dict[str, float],
                      asked_facts: int, met_facts: Sequence[int]) -> list[float]:
    """Per candidate, the weighted share of the question's terms it holds (soft support), with the facts the
    question states (dates, identifiers, figures) that it does not contradict."""
    total = (sum(weights.values()) or 1.0) + FACT_WEIGHT * asked_facts
    return [(sum(weights[t] * support[t] for t in question.terms) + FACT_WEIGHT * met) / total
            for support, met in zip(supports, met_facts, strict=True)]


def distinctive_weights(question: Question, supports: Sequence[dict[str, float]],
                        idf: dict[str, float]) -> dict[str, float]:
    """The ranking's term weights: rarity in the workspace times how few of these candidates hold the term, so
    words every candidate shares (the insured's name, the address the question scopes itself to) do not
    outweigh the words that tell the answer apart. The gate keeps the plain weights (`Evidence.coverage`):
    whether the documents speak to every term at all."""
    share = {t: sum(1 for support in supports if support[t] >= 0.5) / len(supports) for t in question.terms}
    return {t: idf[t] * (1.0 - share[t]) for t in question.terms}


EXTREME_COVERAGE_SHARE = 0.6  # records compared for "the largest": a group holding this share of the best coverage
_TOTAL = re.compile(r"\b(?:totals?|subtotals?|sum|aggregate|combined|overall)\b|"
                    r"\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten)\s+(?:claims|losses)\b", re.IGNORECASE)


def extreme_units(question: Question, found: Sequence[Candidate], coverages: Sequence[float]) -> set[int]:
    """For "the largest / smallest ...": among records of one kind (the rows or items of one table or
    list: same file, same header or heading), totals left out, the one whose amount (its largest, as
    the incurred of a claim row) is the greatest (least). The group compared is the one most about the
    question (mean coverage, at least `EXTREME_COVERAGE_SHARE` of the best unit's). Empty otherwise."""
    if not question.extreme or not found:
        return set()
    groups: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for i, candidate in enumerate(found):
        held = amounts(candidate.text)
        record = candidate.unit.kind in ("row", "item") or candidate.text.count(" | ") >= 2  # a key-value row
        if held and record and not _TOTAL.search(candidate.text):
            key = (candidate.chunk.source, candidate.unit.context, candidate.unit.kind)
            groups.setdefault(key, []).append((i, max(held)))
    groups = {key: members for key, members in groups.items() if len(members) >= 2}
    if not groups:
        return set()
    def about(members: list[tuple[int, float]]) -> float:
        return sum(coverages[i] for i, _ in members) / len(members)
    members = max(groups.values(), key=about)
    if about(members) < EXTREME_COVERAGE_SHARE * max(coverages):
        return set()
    pick = max if question.extreme > 0 else min
    best = pick(value for _, value in members)
    return {i for i, value in members if value == best}
