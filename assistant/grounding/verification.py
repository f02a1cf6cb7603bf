"""Verification: does a quote stand in its source, and does a claim say what the quote says?

This module owns the answer contract's test. A claim is **verified** against a quote from a cited
source only when all of these hold:

1. The quote is found in the source's text, after normalising both (Unicode compatibility forms, so
   ligatures such as "ﬁ" read "fi"; case; curly quotes and dashes; words hyphenated across a line
   break joined; whitespace collapsed). A quote elided with "…" or "..." is found when each part is,
   in order.
2. Every fact the claim states agrees with the quote: each figure (amounts with their "$1.2M" / "450k"
   / "USD 450,000" forms, percentages, counts, number words up to twenty), each date (any of "February
   11, 2023", "11 Feb 2023", "2023-02-11", "02/11/2023", "Feb 2023"; a partial date agrees with a full
   one that has the same year and month), and each identifier (letters and digits: "HF-24-02",
   "NRE-24-0818") occurs in the quote.
3. Negation agrees: a content term the claim negates ("no sprinklers", "not sprinklered") must be
   negated where the quote has it, and a term the claim affirms must be affirmed there.
4. The claim has content, and its content is the quote's: content terms (stemmed, stop words left out)
   that neither the quote nor the source's own name (insured, file, heading) holds may only be words
   of the question, and only when the claim also states something the quote supports beyond the
   question; a claim longer than five terms may carry one stray word ("approximately").

`verify_claim` returns a `Verdict` with the reason when it fails, so the UI and the JSON can say why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# ---- normalisation ------------------------------------------------------------------------------

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−"), "-")
_QUOTES = {ord("‘"): "'", ord("’"): "'", ord("‚"): "'", ord("“"): '"', ord("”"): '"', ord("„"): '"'}
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")


def normalize(text: str) -> str:
    """Text as compared: NFKC (ligatures unfolded), lower case, plain quotes and dashes, words
    hyphenated across a line break joined, whitespace collapsed, zero-width characters removed."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    text = text.replace("\u200b", "").replace("\u00ad", "")
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    return " ".join(text.lower().split())


def quote_in_source(quote: str, source: str) -> bool:
    """Whether `quote` (possibly elided with "…") occurs in `source`, both normalised."""
    haystack = normalize(source)
    position = 0
    parts = [part for part in (normalize(p) for p in _ELLIPSIS.split(quote)) if part]
    if not parts:
        return False
    for part in parts:
        found = haystack.find(part.strip(" .,;:"), position)
        if found < 0:
            return False
        position = found + len(part.strip(" .,;:"))
    return True


# ---- facts: figures, dates, identifiers ---------------------------------------------------------

_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
     ("nov", "november"), ("dec", "december")], start=1) for name in names}
_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DATE_PATTERNS = (
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"), ("m", "d", "y")),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(\d{{4}})\b"), ("d", "m", "y")),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"), ("m", "d", "y")),
    (re.compile(rf"\b{_MONTH},?\s+(\d{{4}})\b"), ("m", "y")),
)
_NUMBER_WORDS = {word: value for value, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
          "billion": 1e9}
_FIGURE = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s*(k|mm|mn|m|bn|b|thousand|million|billion)\b)?"
)
_IDENTIFIER = re.compile(
    r"\b(?=[a-z0-9./-]*[a-z])(?=[a-z0-9./-]*\d)[a-z0-9]+(?:[-/.][a-z0-9]+)+\b|\b[a-z]+\d+[a-z0-9]*\b"
)

Date = tuple[int | None, int | None, int | None]  # (year, month, day)


def _year(text: str) -> int:
    value = int(text)
    return value + (2000 if value < 50 else 1900) if value < 100 else value


def dates(text: str) -> tuple[list[Date], str]:
    """The dates in normalised `text`, and the text with them blanked out (so their digits are not figures)."""
    found: list[Date] = []
    for pattern, order in _DATE_PATTERNS:
        def take(match: re.Match[str], order: tuple[str, ...] = order) -> str:
            parts = dict(zip(order, match.groups(), strict=True))
            month = parts["m"]
            month_number = _MONTHS.get(month.rstrip(".")[:4] if month[:4] == "sept" else month.rstrip(".")[:3]) \
                if not month.isdigit() else int(month)
            if month_number is None or not 1 <= month_number <= 12:
                return match.group(0)
            day = int(parts["d"]) if "d" in parts else None
            if day is not None and not 1 <= day <= 31:
                return match.group(0)
            found.append((_year(parts["y"]), month_number, day))
            return " " * len(match.group(0))
        text = pattern.sub(take, text)
    return found, text


def identifiers(text: str) -> set[str]:
    """Identifier-like tokens of normalised `text`: letters and digits together ("hf-24-02", "r-717")."""
    return {token for token in _IDENTIFIER.findall(text) if not re.fullmatch(r"\d+(?:\.\d+)?[a-z]{1,2}", token)}


def figures(text: str) -> set[float]:
    """The numbers stated in normalised `text` (dates and identifiers already removed), as values:
    "12,000" and "12000" are 12000.0, "$1.2m" and "1.2 million" 1200000.0, "three" 3.0."""
    found: set[float] = set()
    for number, scale in _FIGURE.findall(text):
        value = float(number.replace(",", ""))
        found.add(round(value * _SCALE[scale], 6) if scale else value)
    for word in re.findall(r"[a-z]+", text):
        if word in _NUMBER_WORDS:
            found.add(float(_NUMBER_WORDS[word]))
    return found


@dataclass(frozen=True)
class Facts:
    """What a text states that must agree exactly: dates, identifiers, figures."""

    dates: tuple[Date, ...] = ()
    identifiers: frozenset[str] = frozenset()
    figures: frozenset[float] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.dates or self.identifiers or self.figures)


def facts(text: str) -> Facts:
    """Dates first (their digits are not figures), then identifiers, then figures."""
    flat = normalize(text)
    found_dates, rest = dates(flat)
    ids = identifiers(rest)
    for token in sorted(ids, key=len, reverse=True):
        rest = rest.replace(token, " ")
    return Facts(tuple(found_dates), frozenset(ids), frozenset(figures(rest)))


def _date_agrees(claim: Date, quoted: Iterable[Date], years: Iterable[float]) -> bool:
    year, month, day = claim
    if month is None and day is None:
        return year in {d[0] for d in quoted} or float(year or 0) in set(years)
    return any(year == y and month == m and (day is None or day == d) for y, m, d in quoted)


def fact_disagreements(claim: Facts, quote: Facts) -> list[str]:
    """The claim's facts that the quote does not state, one readable item each."""
    problems: list[str] = []
    quote_years = {float(y) for y, _, _ in quote.dates if y}
    for date in claim.dates:
        if not _date_agrees(date, quote.dates, quote.figures):
            problems.append("date " + "-".join(str(part) for part in date if part is not None))
    for token in sorted(claim.identifiers - quote.identifiers):
        problems.append(f"identifier {token.upper()}")
    for value in sorted(claim.figures):
        if value in quote.figures or value in quote_years:
            continue
        if value.is_integer() and 1900 <= value <= 2100 and int(value) in {d[0] for d in quote.dates}:
            continue
        problems.append(f"figure {value:g}")
    return problems


# ---- content terms and negation -----------------------------------------------------------------

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my nor
    of off on once only or other our ours out over own same she should so some such than that the
    their theirs them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yes per via may might must
    shall according answer question source sources document documents page pages information contain
    contains provided given based states stated listed shown following mentioned approximately about
    around roughly total currently located
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
NEGATIONS = frozenset("no not never none without cannot neither nor nothing nobody absent lacks lacking "
                      "lack isn't aren't wasn't weren't doesn't don't didn't hasn't haven't hadn't won't".split())
NOT_CONTENT = frozenset(_MONTHS) | frozenset(_NUMBER_WORDS) | frozenset(_SCALE)  # facts, checked as facts
_CLAUSE_BREAK = re.compile(r"[,;:.()]|\bbut\b|\bhowever\b|\bwhile\b|\bwhereas\b")
NEGATION_REACH = 4  # content words after a negation cue that it negates, within its clause
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|\d[\d,.]*\d|\d")
_COMPOUND = re.compile(r"[a-z]+(?:'[a-z]+)?(?:-[a-z]+(?:'[a-z]+)?)*|\d[\d,.]*\d|\d")


def stem(word: str) -> str:
    """A crude stem: the first six letters ("sprinklers" and "sprinklered" meet)."""
    return word[:6]


def content_terms(text: str) -> set[str]:
    """Stemmed content words (3+ letters, not stop words, not negation cues) of `text`."""
    return {stem(word) for word in re.findall(r"[a-z]+", normalize(text))
            if len(word) >= 3 and word not in STOPWORDS and word not in NEGATIONS and word not in NOT_CONTENT}


def polarities(text: str) -> dict[str, set[bool]]:
    """For each content term of `text`: whether it occurs negated (True), affirmed (False), or both."""
    found: dict[str, set[bool]] = {}
    for clause in _CLAUSE_BREAK.split(normalize(text)):
        reach = 0
        for token in _COMPOUND.findall(clause):  # a hyphenated compound counts once toward the reach
            if token in NEGATIONS or token.endswith("n't"):
                reach = NEGATION_REACH
                continue
            words = [w for w in _WORD.findall(token) if len(w) >= 3 and w not in STOPWORDS and not w[0].isdigit()]
            for word in words:
                found.setdefault(stem(word), set()).add(reach > 0)
            if words:
                reach = max(0, reach - 1)
    return found


def _negation_reaches(before: str) -> bool:
    """Whether a negation cue in `before` (the start of a clause) still reaches the word that follows it."""
    reach = 0
    for token in _COMPOUND.findall(before):  # counted as `polarities` counts them
        if token in NEGATIONS or token.endswith("n't"):
            reach = NEGATION_REACH
        elif any(len(w) >= 3 and w not in STOPWORDS and not w[0].isdigit() for w in _WORD.findall(token)):
            reach = max(0, reach - 1)
    return reach > 0


def affirms(text: str, phrase: str) -> bool | None:
    """Whether `text` states `phrase` (its words in order, a plural allowed): True where an occurrence is
    affirmed, False where every occurrence is negated (by a cue up to NEGATION_REACH content words before it in
    its clause, as `polarities` reads it: "no visible listing", "none uses an FM Approved fluid"; or by a "non-"
    or "un" prefix: "non-approved", "unlisted"), None where it does not occur."""
    words = [re.escape(word) for word in re.split(r"[\s-]+", normalize(phrase)) if word]
    if not words:
        return None
    pattern = re.compile(r"(?<![a-z0-9])(non-?|un)?" + r"[\s-]+".join(words) + r"(?:s|es)?(?![a-z0-9])")
    found: bool | None = None
    for clause in _CLAUSE_BREAK.split(normalize(text)):
        for match in pattern.finditer(clause):
            if not match.group(1) and not _negation_reaches(clause[:match.start()]):
                return True
            found = False
    return found


def polarity_conflicts(claim: str, quote: str) -> list[str]:
    """Terms the claim negates where the quote affirms them, or affirms where the quote negates them."""
    quoted = polarities(quote)
    conflicts = []
    for term, ways in polarities(claim).items():
        if term in quoted and not ways & quoted[term]:
            conflicts.append(("not " if True in ways else "") + term)
    return sorted(conflicts)


# ---- the verdict ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    """The outcome of checking one claim against one quote from one source."""

    verified: bool
    reasons: list[str] = field(default_factory=list)  # why not, when not: readable, one item each
    support: float = 0.0  # share of the claim's content terms the quote (or the source's name) holds

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def verify_claim(claim: str, quote: str, source_text: str, *, source_name: str = "",
                 question: str = "") -> Verdict:
    """Check `claim` against `quote`, cited from a source whose text is `source_text`.

    `source_name` (insured, file, title, heading) may supply the claim's subject; `question` words may
    be echoed only by a claim that also says something the quote supports beyond them."""
    reasons: list[str] = []
    if not quote.strip():
        return Verdict(False, ["no quote"])
    if not quote_in_source(quote, source_text):
        reasons.append("the quote is not in the cited source")
    claim_terms = content_terms(claim)
    claim_facts = facts(claim)
    if not claim_terms and claim_facts.empty:
        return Verdict(False, [*reasons, "the claim has no content"])
    reasons += [f"{item} is not in the quote" for item in fact_disagreements(claim_facts, facts(quote))]
    reasons += [f"negation disagrees ({item})" for item in polarity_conflicts(claim, quote)]
    quote_terms = content_terms(quote)
    named = content_terms(source_name)
    asked = content_terms(question)
    unsupported = claim_terms - quote_terms - named
    echoed = unsupported & asked
    new = unsupported - asked
    supported = len(claim_terms) - len(unsupported)
    allowance = 2 if len(claim_terms) >= 10 else 1 if len(claim_terms) >= 4 else 0
    beyond_question = (claim_terms & quote_terms) - asked
    if len(new) > allowance:
        reasons.append("not in the quote: " + ", ".join(sorted(new)))
    elif echoed and not (beyond_question or (not claim_facts.empty and not reasons)):
        reasons.append("only repeats the question: " + ", ".join(sorted(echoed)))
    share = supported / len(claim_terms) if claim_terms else 1.0
    return Verdict(not reasons, reasons, share)
