"""What a question asks for, read from its words, and whether a piece of text holds it.

Owns three readings of a question that the evidence ranker weighs (`assistant.grounding.evidence`):

- **The kind of value asked for** (`asked_kind`): a distance ("how far / how close / how near", "the
  distance to"), a count ("how many X"), an amount of money ("how much did ... pay", "how much flood
  cover", "what premium / deductible / limit / reserve"; "how much anhydrous ammonia" asks for a quantity,
  any figure), a percentage ("loss ratio", "what percent"), a name ("who", "which contractor / company /
  business"), a date ("when"), or any figure. `holds_kind` says whether a text states such a value: a
  number with a unit of length, a number just before the counted noun, a currency amount, a percent sign,
  a proper name the question does not already hold.
- **The focus** (`focus_terms`): the words of the question's wh-phrase, the thing asked about ("What
  *ISO construction class* is the warehouse?", "How many *spare oxygen cylinders* did the surveyor
  find?", "Who *signed* off ..."), as opposed to the words that only name the subject.
- **A superlative** (`superlative`): "largest / biggest / highest / worst" asks for the greatest amount
  among the candidates, "smallest / lowest / least" for the least.
- **An aggregate** (`asks_aggregate`): "the total / overall / combined ...", "across the terms", "the
  five-year loss ratio" asks for what a totals row states (`is_total_row`); any other question asks for a
  record of its own, not the total.

These are properties of English questions, not of any document set. Imports `assistant.grounding.verification`
(normalisation, facts) and `assistant.grounding.trade_words` (the trade's shorthand) only.
"""

from __future__ import annotations

import re

from assistant.grounding.trade_words import expansions
from assistant.grounding.verification import STOPWORDS, dates, facts, figures, normalize, stem

DISTANCE, COUNT, MONEY, PERCENT, NAME, DATE, FIGURE = "distance", "count", "money", "percent", "name", "date", "figure"

_WH = re.compile(r"\b(what|which|who|whom|whose|how|when|where|why|is there|are there|was there|were there|"
                 r"does|do|did|is|are|has|have)\b", re.IGNORECASE)
_AUXILIARIES = frozenset("is was are were be been being do does did has have had can could will would shall "
                         "should may might must".split())
_FOCUS_STOPS = _AUXILIARIES | frozenset(
    "the a an this that these those its their his her our at on in of for from to by with about under over "
    "into onto near next off up out per as than and or if whether".split())
# "How far along / behind / into" asks about progress, not a distance.
_DISTANCE_QUESTION = re.compile(r"\bhow\s+(?:far|close|near|distant)\b(?!\s+(?:along|behind|ahead|into|through)\b)|"
                                r"\b(?:distance|setback|separation)\b", re.IGNORECASE)
_COUNT_QUESTION = re.compile(r"\bhow\s+many\b|\bthe\s+number\s+of\b|\bwhat\s+number\s+of\b", re.IGNORECASE)
_MONEY_WORDS = frozenset("premium premiums deductible deductibles limit limits sublimit sublimits value values tiv "
                         "cost costs price paid pay reserve reserves incurred revenue revenues sales payroll "
                         "amount retention money dollars spend spent budget committed".split())
# What a policy insures, counted in money when a question asks "how much" of it ("how much business personal
# property is reported", "how much flood cover").
_INSURED_VALUES = frozenset("cover coverage insurance property contents stock inventory income building buildings "
                            "equipment machinery damage damages loss losses claim claims bi bpp".split())
_PERCENT_WORDS = frozenset("ratio percent percentage share proportion".split())
_NAME_QUESTION = re.compile(
    r"\bwho(?:m|se)?\b|\b(?:which|what)\s+(?:\w+\s+)?(?:company|companies|firm|contractor|carrier|insurer|broker|"
    r"brokerage|business|agency|engineer|surveyor|consultant|neighbou?r|tenant|vendor|manufacturer|bank|lender|"
    r"mortgagee|inspector|adjuster|agent)\b", re.IGNORECASE)
_SUPERLATIVE_MAX = frozenset("largest biggest highest greatest costliest worst heaviest".split())
_SUPERLATIVE_MIN = frozenset("smallest lowest least cheapest".split())
_MOST = re.compile(r"\bmost\s+(?:expensive|costly|severe|serious|damaging)\b", re.IGNORECASE)
_LENGTH_UNITS = (r"(?:ft|feet|foot|mi|miles?|m|meters?|metres?|km|kilomet(?:er|re)s?|yards?|yds?|blocks?|"
                 r"minutes?|mins?)")
# "3.4 road miles", "1.2 driving miles", "600 linear feet": a qualifier may stand between the number and its unit.
_DISTANCE_VALUE = re.compile(rf"\d[\d,.]*\s*-?\s*(?:(?:road|driving|drive|travel|straight-line|linear|lineal)\s+)?"
                             rf"{_LENGTH_UNITS}\b|\d\s*['’](?![\w])", re.IGNORECASE)
_MONEY_VALUE = re.compile(r"[$£€]\s*\d|\b(?:usd|us\$|eur|gbp|cad|aud)\s*\d|\d[\d,.]*\s*(?:usd|dollars|eur|gbp)\b",
                          re.IGNORECASE)
# A table column that holds money: its header names a value, a limit, a premium, a paid or reserved sum
# ("Bldg Value (RC)", "TIV_Total", "BPP", "O/S Reserve"); its cells may be bare numbers ("14,900,000").
_MONEY_HEADER_WORDS = frozenset("value values tiv limit limits premium premiums paid reserve reserves reserved "
                                "incurred amount amt deductible bpp contents building bldg income bi rc acv cost costs "
                                "outstanding os sales payroll revenue revenues".split())
_BARE_AMOUNT = re.compile(r"^(.*?)\s+(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{4,}(?:\.\d+)?)$")
_PERCENT_VALUE = re.compile(r"\d\s*%|\d\s*(?:percent|per\s+cent)\b", re.IGNORECASE)
_COUNT_NUMBER = re.compile(r"^(?:\d[\d,]*|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                           r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
                           r"fifty|sixty|seventy|eighty|ninety|hundred|dozen)(?:-\w+)?$")
_PROPER_NAME = re.compile(r"\b[A-Z][\w'’&.-]*(?:\s+(?:&\s+|of\s+|and\s+)?[A-Z][\w'’&.-]*)+")
_AMOUNT = re.compile(r"(?:[$£€]|\b(?:usd|us\$|eur|gbp|cad|aud)\b)\s*"
                     r"(\d[\d,]*(?:\.\d+)?(?:\s*(?:k|mm|mn|m|bn|b|thousand|million|billion)\b)?)")
_HOW_ADJECTIVES = frozenset("many much far close near long big large old high tall often deep wide heavy".split())
COUNT_REACH = 4  # words between a number and the counted noun it counts


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*[a-z]|[a-z]", normalize(text).replace("’", "'"))


def focus_terms(question: str) -> tuple[str, ...]:
    """The content words of the question's wh-phrase: what is asked about (see the module docstring)."""
    match = _WH.search(question)
    if not match:
        return ()
    rest = [word.strip(".-") for word in re.findall(r"[a-z0-9][a-z0-9.'-]*", normalize(question[match.end():])
                                                    .replace("’", "'"))]
    wh = match.group(1).lower()
    if wh == "how" and rest and rest[0] in _HOW_ADJECTIVES:
        rest = rest[1:]
    focus: list[str] = []
    skipping = wh in ("what", "which", "how", "whose") or wh.endswith("there")  # "what is the PML": skip "is the"
    for word in rest:
        if word.endswith(("'s", "s'")):  # "Oakridge's five-year loss ratio": the possessor names the subject
            focus, skipping = [], True
            continue
        if skipping and (word in _FOCUS_STOPS or word in ("any", "some")):
            continue
        skipping = False
        if word in ("and", "or") and focus:
            continue
        if word in _FOCUS_STOPS or len(focus) >= 4:
            break
        focus.append(word)
    return tuple(word for word in focus if len(word) >= 3 and word not in STOPWORDS and not word[0].isdigit())


def superlative(question: str) -> int:
    """+1 when the question asks for the greatest of its kind, -1 for the least, 0 otherwise."""
    words = set(_words(question))
    if words & _SUPERLATIVE_MAX or _MOST.search(question):
        return 1
    return -1 if words & _SUPERLATIVE_MIN else 0


def _how_much_asks_money(question: str) -> bool:
    """Whether a "how much" question asks for money. "How much is still reserved", "how much will it cost",
    "how much flood cover": money. "How much anhydrous ammonia is in the system", "how much of the claim",
    "how much cleared space": a quantity or a share, whatever the unit. What follows "how much" decides: a
    verb asks about money; a noun phrase (up to its verb) asks for money only when it names money or an
    insured value."""
    found = re.search(r"\bhow\s+much\b(.*)", question, re.IGNORECASE)
    if not found:
        return False
    if re.search(r"\bby\s+how\s+much\b", question, re.IGNORECASE):  # a difference: money only of money
        return bool(set(_words(question)) & _MONEY_WORDS)
    following = _words(found.group(1))
    if not following or following[0] in _AUXILIARIES:
        return True
    if following[0] in {"of", "time", "longer", "more", "less", "space", "area", "room"}:
        return False
    phrase = []
    for word in following:
        if word in _AUXILIARIES:
            break
        phrase.append(word)
    return bool(set(phrase) & (_MONEY_WORDS | _INSURED_VALUES))


def asked_kind(question: str, focus: tuple[str, ...], wants_figure: bool, wants_date: bool,
               extreme: int | None = None) -> str | None:
    """The kind of value the question asks for (module docstring), or None when it asks for none;
    `extreme` is `superlative(question)`, when known."""
    extreme = superlative(question) if extreme is None else extreme
    if wants_date:
        return DATE
    if _DISTANCE_QUESTION.search(question):
        return DISTANCE
    if _COUNT_QUESTION.search(question):
        return COUNT
    if _NAME_QUESTION.search(question):
        return NAME
    asked = set(focus) | (set(_words(question)) if extreme else set())
    if asked & _PERCENT_WORDS:
        return PERCENT
    if asked & _MONEY_WORDS or _how_much_asks_money(question):
        return MONEY
    if extreme and asked & {"claim", "claims", "loss", "losses"}:
        return MONEY
    return FIGURE if wants_figure else None


_AGGREGATE_QUESTION = re.compile(
    r"\b(?:overall|combined|aggregate|cumulative|all\s+(?:locations|buildings|terms|years|policy\s+terms)|"
    r"across\s+(?:the\s+|all\s+)?(?:[\w-]+\s+){0,2}(?:terms|years|periods|policies|locations|buildings)|"
    r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten)[- ]year)\b", re.IGNORECASE)
# "Total" asks for the totals row unless the question names the record it wants: "the total incurred on
# the slip-and-fall claim", "the total insured value of the tower building" ask for a column of one row.
_TOTAL_WORD = re.compile(r"\btotals?\b", re.IGNORECASE)
_RECORD_NOUN = re.compile(r"\b(?:claims?|loss|building|bldg|location|loc|site|premises|structure|term|occurrence|"
                          r"unit|wing|tower|warehouse|plant)\b", re.IGNORECASE)
_TOTAL_CELL = re.compile(r"\b(?:grand\s+)?(?:total|totals|subtotal|all\s+locations)\s*(?:$|[-–(:])", re.IGNORECASE)


def asks_aggregate(question: str) -> bool:
    """Whether the question asks for a figure over a whole schedule or history ("the total insured value",
    "the overall loss ratio across the terms", "the five-year loss ratio"), as a totals row states it."""
    if _AGGREGATE_QUESTION.search(question):
        return True
    return bool(_TOTAL_WORD.search(question)) and not _RECORD_NOUN.search(question)


def row_cells(text: str) -> list[str]:
    """The cells of a table row as ingest writes it (`TableRow.text`: "Claim 24-1 | Paid $48,200", or a
    Markdown row); empty for any other text."""
    return [cell.strip() for cell in text.strip().strip("|").split(" | ")] if " | " in text else []


def is_total_row(text: str) -> bool:
    """A table row that totals the others: one of its cells ends in "Total" ("Location No TOTAL",
    "Cause of Loss TOTAL - 4 claim(s)", "Loc # Totals"); a column named "Total Insured Value" does not count."""
    return any(_TOTAL_CELL.search(cell) for cell in row_cells(text))


def holds_kind(kind: str | None, text: str, question: str = "", counted: tuple[str, ...] = ()) -> bool:
    """Whether `text` states a value of `kind`; `counted` are the nouns a count must stand before."""
    if kind is None:
        return True
    if kind == DISTANCE:
        return bool(_DISTANCE_VALUE.search(text))
    if kind == MONEY:
        return bool(_MONEY_VALUE.search(text)) or _money_cell(text, question)
    if kind == PERCENT:
        return bool(_PERCENT_VALUE.search(text))
    if kind == DATE:
        found = facts(text)
        return bool(found.dates) or any(1900 <= value <= 2100 for value in found.figures)
    if kind == COUNT:
        return counts_noun(text, counted)
    if kind == NAME:
        asked = {stem(word) for word in _words(question)}
        for name in _PROPER_NAME.findall(text):
            words = _words(name)
            if any(stem(word) not in asked for word in words if word not in STOPWORDS):
                return True
        return False
    found = facts(text)
    return bool(found.figures or found.dates)


def _money_cell(text: str, question: str = "") -> bool:
    """A table row's cell (`TableRow.text`: "header value | ...") whose header is a money column and whose
    value a bare amount of 1,000 or more: "Total Insured Value 14,900,000", "Building_RC 15050000". With a
    question, the column must be one it asks about (its header shares a word with the question, the
    trade's shorthand read in full): a premium question is not answered by a building limit column."""
    asked = {stem(word) for word in _words(question)}
    for cell in row_cells(text):
        found = _BARE_AMOUNT.match(cell)
        if found and float(found.group(2).replace(",", "")) >= 1000:
            header = {word.lower() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", found.group(1))}
            if not header & _MONEY_HEADER_WORDS:
                continue
            named = {stem(word) for word in header} | {stem(full) for word in header for full in expansions(word)}
            if not question or named & asked:
                return True
    return False


def answers_kind(kind: str | None, text: str, question: str = "", counted: tuple[str, ...] = ()) -> bool | None:
    """What the answerability gate asks of a unit for a question of `kind`: a count of the counted noun, a
    distance, an amount (money or a percentage: "a deductible of 5% of value" answers "what deductible");
    None for the kinds it leaves to the plain figure and date test."""
    if kind in (MONEY, PERCENT):
        return holds_kind(MONEY, text) or holds_kind(PERCENT, text)
    if kind in (DISTANCE, COUNT):
        return holds_kind(kind, text, question, counted)
    return None


def counts_noun(text: str, nouns: tuple[str, ...]) -> bool:
    """A number within `COUNT_REACH` words before one of `nouns` ("38 spare E-size oxygen cylinders",
    "Fifty-two presses"); with no nouns, any number."""
    if not nouns:
        return bool(facts(text).figures)
    wanted = {stem(noun) for noun in nouns}
    for clause in re.split(r"[;:.()|](?:\s|$)", dates(normalize(text))[1]):  # a count does not cross a clause
        tokens = [token.strip(",") for token in re.findall(r"[a-z0-9][a-z0-9,'-]*", clause)]
        if any(stem(token) in wanted
               and any(_COUNT_NUMBER.match(before) for before in tokens[max(0, i - COUNT_REACH):i])
               for i, token in enumerate(tokens)):
            return True
    return False


def amounts(text: str) -> list[float]:
    """The currency amounts a text states, as values ("$1.2M" is 1,200,000)."""
    return [value for match in _AMOUNT.finditer(normalize(text)) for value in figures(match.group(1))]
