"""Citations: parse the `[n]` markers of an answer and check them against the sources given.

What is checked, for every marker (`[2]`, `[1, 3]`, `[1-3]`, `[Source 2]`):

1. The number names a source the model was actually given (1..len(sources)). Any other number
   (a fabricated `[9]` with three sources) is reported in `invalid` and never shown as a source.
2. A light lexical check: the cited source must share content with the sentence that cites it.
   Content terms are lower-cased words of 3+ letters that are not stop words, cut to their first
   6 letters (a crude stem: "sprinklers" and "sprinklered" meet), plus numbers with separators
   removed ("5,000,000" -> "5000000"). A citation is verified when the source contains at least
   30% of the sentence's terms (and at least two of them, or all when the sentence has fewer), or
   at least four of them; and, when the sentence states figures of two or more digits, at least
   one of those figures occurs in the source. A source unrelated to its sentence, or one that
   does not contain the figure claimed, is reported with `verified=False`.

An answer is `supported` when at least one citation the model wrote is verified. When the model
wrote no marker at all, `infer_citations` can attach the sources that overlap the answer; those are
marked `inferred=True` and never make an answer supported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.types import Citation
from index.types import Chunk, ScoredChunk

QUOTE_CHARS = 240
MIN_SUPPORT = 0.3
STRONG_SHARED = 4
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

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no nor
    not of off on once only or other our ours out over own same she should so some such than that the
    their theirs them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yes per via may might must
    shall according answer question source sources document documents page pages information contain
    contains provided given based states stated listed shown following mentioned
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


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
    """Content terms for the lexical check: stemmed words and normalized numbers."""
    found: set[str] = set()
    for token in _WORD.findall(strip_markers(text).lower()):
        if token[0].isdigit():
            found.add(token.replace(",", "").rstrip("."))
        elif len(token) >= 3 and token not in STOPWORDS:
            found.add(token[:6])
    return found


def _figures(found: set[str]) -> set[str]:
    return {term for term in found if term[0].isdigit() and sum(ch.isdigit() for ch in term) >= 2}


def support(claim: set[str], source: set[str]) -> tuple[float, bool]:
    """(share of the claim's terms found in the source, whether that verifies the citation)."""
    if not claim:
        return 0.0, False
    shared = len(claim & source)
    ratio = shared / len(claim)
    figures = _figures(claim)
    if figures and not figures & source:
        return ratio, False
    enough = shared >= STRONG_SHARED or (ratio >= MIN_SUPPORT and shared >= min(2, len(claim)))
    return ratio, enough


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


def check_citations(answer: str, sources: Sequence[Chunk | ScoredChunk]) -> CitationCheck:
    """Check every marker in `answer` against `sources` (source n is `sources[n-1]`)."""
    chunks = [_chunk(item) for item in sources]
    markers = parse_markers(answer)
    claims = _claims(answer, markers)
    whole = terms(answer)
    best: dict[int, tuple[bool, float, set[str]]] = {}  # number -> (verified, ratio, claim terms)
    order: list[int] = []
    invalid: list[int] = []
    for index, marker in enumerate(markers):
        claim = terms(claims.get(index, "")) or whole
        for number in marker.numbers:
            if not 1 <= number <= len(chunks):
                if number not in invalid:
                    invalid.append(number)
                continue
            source_terms = terms(chunks[number - 1].text + " " + chunks[number - 1].title)
            ratio, verified = support(claim, source_terms) if claim else (0.0, True)
            if number not in best:
                order.append(number)
            previous = best.get(number)
            if previous is None or (verified, ratio) > previous[:2]:
                best[number] = (verified, ratio, claim)
    citations = []
    for number in order:
        verified, ratio, claim = best[number]
        chunk = chunks[number - 1]
        citations.append(Citation(number=number, source=chunk.source, page=chunk.page, chunk_id=chunk.id,
                                  quote=shorten_quote(chunk.text, claim), verified=verified, score=ratio))
    return CitationCheck(citations=citations, invalid=sorted(invalid), supported=any(c.verified for c in citations))


def infer_citations(answer: str, sources: Sequence[Chunk | ScoredChunk]) -> list[Citation]:
    """Sources that support the sentences of an answer written without markers (marked `inferred`)."""
    chunks = [_chunk(item) for item in sources]
    source_terms = [terms(chunk.text + " " + chunk.title) for chunk in chunks]
    found: dict[int, tuple[float, set[str]]] = {}
    for a, b in split_sentences(answer):
        claim = terms(answer[a:b])
        if not claim:
            continue
        ranked = sorted(((support(claim, st), i) for i, st in enumerate(source_terms)), key=lambda x: -x[0][0])
        for (ratio, verified), i in ranked[:1]:
            if verified and ratio > found.get(i, (-1.0, set()))[0]:
                found[i] = (ratio, claim)
    return [
        Citation(number=i + 1, source=chunks[i].source, page=chunks[i].page, chunk_id=chunks[i].id,
                 quote=shorten_quote(chunks[i].text, claim), verified=True, score=ratio, inferred=True)
        for i, (ratio, claim) in sorted(found.items())
    ]
