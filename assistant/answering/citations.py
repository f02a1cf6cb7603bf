"""Citations: parse the `[n]` markers of a free-text answer and check each against the source it names.

Answers under the answer schema carry their quotes (`assistant.answering.schema`); this module handles the
prose an engine writes when it did not follow the schema, and the same rules apply (see
`assistant.grounding.verification`). For every marker (`[2]`, `[1, 3]`, `[1-3]`, `[Source 2]`):

1. The number must name a source the model was given (1..len(sources)); any other (a fabricated `[9]`
   with three sources) is reported in `invalid` and never shown as a source.
2. The sentence the marker belongs to is the claim. Its quote is the unit of the cited source (sentence,
   list item or table row) that shares the most of its content terms and facts; the citation is
   verified only when the claim agrees with that quote in every figure, date, identifier and negation
   and adds no content the quote lacks. A content-free claim ("Yes [1].") is never verified.

An answer is `supported` when every citation the model wrote is verified (and it wrote at least one,
and none was invalid). When the model wrote no marker at all, `infer_citations` attaches the sources
whose units back the answer best; those are marked `inferred=True` and never make an answer supported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from assistant.answering.types import Citation
from assistant.grounding.evidence import split_units
from assistant.grounding.verification import Verdict, content_terms, verify_claim
from index.planted import describe, is_flagged
from index.types import Chunk, ScoredChunk

QUOTE_CHARS = 240
MAX_RANGE = 20  # [1-500] is not a citation range anyone means

_NUM = r"\d{1,3}"
_PREFIX = r"(?:(?:sources?|src|doc(?:ument)?)\s*#?\s*)?"
MARKER = re.compile(
    rf"\[\s*{_PREFIX}({_NUM}(?:\s*(?:,|;|-|–|and)\s*{_PREFIX}{_NUM})*)\s*\]",
    re.IGNORECASE,
)
_RANGE = re.compile(rf"({_NUM})\s*[-–]\s*{_PREFIX}({_NUM})", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+|\d[\d,.]*\d|\d")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")

@dataclass(frozen=True)
class Marker:
    """One citation marker in an answer: its span and the source numbers it names."""

    start: int
    end: int
    numbers: tuple[int, ...]


@dataclass
class CitationCheck:
    """The outcome of checking an answer's markers against its sources."""

    citations: list[Citation] = field(default_factory=list)  # one per valid source number, in order of first use
    invalid: list[int] = field(default_factory=list)  # numbers that name no given source
    supported: bool = False


def _numbers(inner: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", inner, flags=re.IGNORECASE):
        found = _RANGE.fullmatch(part.strip())
        if found:
            low, high = int(found.group(1)), int(found.group(2))
            numbers += list(range(low, high + 1)) if 0 <= high - low <= MAX_RANGE else [low, high]
        else:
            numbers += [int(n) for n in re.findall(r"\d+", part)]
    return list(dict.fromkeys(numbers))


def parse_markers(text: str) -> list[Marker]:
    """Every citation marker in `text`, in order."""
    return [Marker(m.start(), m.end(), tuple(_numbers(m.group(1)))) for m in MARKER.finditer(text)]


def cited_numbers(text: str) -> list[int]:
    """The source numbers `text` cites, unique, in order of first appearance."""
    return list(dict.fromkeys(n for marker in parse_markers(text) for n in marker.numbers))


def strip_markers(text: str) -> str:
    """`text` without its citation markers (and the space before each)."""
    return re.sub(r"[ \t]*" + MARKER.pattern, "", text, flags=re.IGNORECASE)


def terms(text: str) -> set[str]:
    """Content terms for a lexical comparison: stemmed words and normalized numbers (markers left out)."""
    found = content_terms(strip_markers(text))
    for token in _WORD.findall(strip_markers(text).lower()):
        if token[0].isdigit():
            found.add(token.replace(",", "").rstrip("."))
    return found


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences (and lines) of `text`, blanks dropped."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _claims(text: str, markers: Sequence[Marker]) -> dict[int, str]:
    """The sentence each marker belongs to, by marker index.

    A marker at the very start of a sentence ("... sprinklered. [1] The roof ...") belongs to the
    sentence before it; so does a marker standing alone.
    """
    spans = split_sentences(text)
    claims: dict[int, str] = {}
    for index, marker in enumerate(markers):
        position = next((i for i, (a, b) in enumerate(spans) if a <= marker.start < b), len(spans) - 1)
        if position < 0:
            continue
        a, _ = spans[position]
        if position > 0 and not terms(text[a:marker.start]):
            position -= 1
        claims[index] = text[spans[position][0]:spans[position][1]]
    return claims


def _chunk(item: Chunk | ScoredChunk) -> Chunk:
    return item.chunk if isinstance(item, ScoredChunk) else item


def shorten_quote(text: str, about: str | set[str], max_chars: int = QUOTE_CHARS) -> str:
    """`text` shortened to about `max_chars` around its sentence that best overlaps `about`."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    wanted = about if isinstance(about, set) else terms(about)
    spans = split_sentences(flat)
    if not spans:
        return flat[:max_chars]
    scores = [len(terms(flat[a:b]) & wanted) for a, b in spans]
    best = max(range(len(spans)), key=lambda i: (scores[i], -i))
    first = last = best
    # Grow the window with neighbouring sentences, following ones first, while it fits.
    while True:
        grown = False
        for candidate in (last + 1, first - 1):
            if 0 <= candidate < len(spans):
                lo, hi = min(first, candidate), max(last, candidate)
                if spans[hi][1] - spans[lo][0] <= max_chars:
                    first, last, grown = lo, hi, True
                    break
        if not grown:
            break
    start, end = spans[first][0], spans[last][1]
    quote = flat[start:end]
    if len(quote) > max_chars:
        cut = quote[:max_chars].rsplit(" ", 1)[0]
        quote, end = cut, start + len(cut)
    return ("…" if start > 0 else "") + quote.strip() + ("…" if end < len(flat) else "")


def best_quote(claim: str, chunk: Chunk) -> str:
    """The unit of `chunk` (sentence, list item, table row) that best backs `claim`: most shared content
    terms and facts, the earlier unit on a tie. The whole text when it has no units."""
    units = split_units(chunk.text, chunk.heading) or []
    if not units:
        return " ".join(chunk.text.split())
    wanted = terms(claim)
    return max(units, key=lambda unit: len(terms(unit.text) & wanted)).text


def check_claim(claim: str, chunk: Chunk, question: str = "") -> tuple[str, Verdict]:
    """(the quote chosen for `claim` in `chunk`, the verdict on the claim against it)."""
    quote = best_quote(claim, chunk)
    names = f"{PurePath(chunk.source).parent.name} {PurePath(chunk.source).stem} {chunk.title} {chunk.heading}"
    verdict = verify_claim(strip_markers(claim), quote, chunk.text, source_name=names, question=question)
    return quote, distrust_flagged(verdict, [chunk])


def distrust_flagged(verdict: Verdict, chunks: Sequence[Chunk]) -> Verdict:
    """A claim supported by a flagged passage (planted instructions, hidden text) is never verified: the
    document says it, but the document is not to be believed on it."""
    flagged = [chunk for chunk in chunks if is_flagged(chunk.flags)]
    if flagged:
        verdict.verified = False
        reasons = dict.fromkeys(f"the source is flagged ({describe(chunk.flags)})" for chunk in flagged)
        verdict.reasons[:0] = list(reasons)
    return verdict


def check_citations(answer: str, sources: Sequence[Chunk | ScoredChunk], question: str = "") -> CitationCheck:
    """Check every marker in `answer` against `sources` (source n is `sources[n-1]`)."""
    chunks = [_chunk(item) for item in sources]
    markers = parse_markers(answer)
    claims = _claims(answer, markers)
    best: dict[int, tuple[bool, float, str, str]] = {}  # number -> (verified, support, quote, reason)
    order: list[int] = []
    invalid: list[int] = []
    all_verified = bool(markers)
    for index, marker in enumerate(markers):
        claim = claims.get(index, "")
        for number in marker.numbers:
            if not 1 <= number <= len(chunks):
                if number not in invalid:
                    invalid.append(number)
                continue
            quote, verdict = check_claim(claim, chunks[number - 1], question)
            all_verified = all_verified and verdict.verified
            if number not in best:
                order.append(number)
            previous = best.get(number)
            if previous is None or (verdict.verified, verdict.support) > previous[:2]:
                best[number] = (verdict.verified, verdict.support, quote, verdict.reason)
    citations = [citation_for(number, chunks[number - 1], quote, verified, score, reason=reason)
                 for number in order for verified, score, quote, reason in [best[number]]]
    supported = all_verified and bool(citations) and not invalid
    return CitationCheck(citations=citations, invalid=sorted(invalid), supported=supported)


def citation_for(number: int, chunk: Chunk, quote: str, verified: bool, score: float = 0.0, *,
                 reason: str = "", inferred: bool = False) -> Citation:
    """A `Citation` of source `number` (`chunk`) with its quote and verdict."""
    from assistant.grounding.sources import location_of, submission_of

    return Citation(number=number, source=chunk.source, page=chunk.page, chunk_id=chunk.id, quote=quote,
                    verified=verified, score=score, inferred=inferred, submission=submission_of(chunk.source),
                    location=location_of(chunk), reason=reason)


def infer_citations(answer: str, sources: Sequence[Chunk | ScoredChunk], question: str = "") -> list[Citation]:
    """Sources that back the sentences of an answer written without markers (marked `inferred`)."""
    chunks = [_chunk(item) for item in sources]
    found: dict[int, tuple[float, str]] = {}
    for a, b in split_sentences(answer):
        claim = answer[a:b]
        if not terms(claim):
            continue
        checked = [(check_claim(claim, chunk, question), i) for i, chunk in enumerate(chunks)]
        passing = [((verdict.support, quote), i) for (quote, verdict), i in checked if verdict.verified]
        if passing:
            (support, quote), i = max(passing)
            if support > found.get(i, (-1.0, ""))[0]:
                found[i] = (support, quote)
    return [citation_for(i + 1, chunks[i], quote, True, support, inferred=True)
            for i, (support, quote) in sorted(found.items())]
