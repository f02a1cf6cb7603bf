"""Column headers and cell values of underwriting tables: which field a header names, and what a cell says.

A header is matched against a vocabulary of the names statements of values, loss runs, experience
summaries and recommendation lists use in the trade ("Bldg Limit", "BPP", "Time Element", "O/S Reserve",
"Loss Dt"), after normalising case, punctuation and spacing. Cells are parsed into numbers, dates,
percentages, yes/no and ISO construction classes; a cell that says nothing ("", "-", "n/a") is None.
"""

from __future__ import annotations

import re
from datetime import date

from assistant.grounding.verification import dates, normalize

# ---- headers ------------------------------------------------------------------------------------

# Per table kind: (field, patterns over the normalised header, full match). First match wins, so
# specific names come before general ones ("total incurred" before "total").
_NUMBER = r"(?:no|number|num|#|nbr|id)?"
LOCATION_COLUMNS: list[tuple[str, str]] = [
    ("location", rf"(?:loc|location|site|premises?|prem)\s*{_NUMBER}"),
    ("building", r"(?:bldg|building|bld|structure)\s*(?:no|number|num|#|nbr|id)?"),
    ("name", r"(?:property|premises|building|bldg|location|site|facility|community|plant|hotel|store|branch|complex|"
             r"campus|school|project)(?:\s*name)?|name"),
    ("buildings", r"(?:#|no|number)\s*(?:of\s*)?(?:bldgs|buildings)|(?:bldgs|buildings)\s*(?:#|count)|bldg\s*count"),
    ("address", r"(?:street|property|location|site|physical|risk)?\s*address(?:\s*line\s*1)?|street"),
    ("city", r"(?:city|town)(?:\s*,?\s*(?:st|state))?(?:\s*,?\s*zip(?:\s*code)?)?"),
    ("state", r"state|st|province"),
    ("zip", r"zip(?:\s*code)?|postal\s*code|post\s*code"),
    ("occupancy", r"occupancy(?:\s*(?:description|desc))?|description|occupancy\s*/\s*use|building\s*use|use|"
                  r"operations|"
                  r"occ(?:upancy)?\s*(?:desc|type|class)?"),
    ("building_value", r"(?:building|bldg|buildings|structure|structures)\s*(?:value|limit|values|replacement\s*cost|"
                       r"rc|tiv|amount)?|real\s*property|building\s*/\s*structure"),
    ("contents_value", r"contents?(?:\s*(?:value|limit))?|business\s*personal\s*prop(?:erty)?|bpp|"
                       r"personal\s*prop(?:erty)?|"
                       r"(?:contents\s*/\s*)?bpp\s*(?:value|limit)?|(?:stock|inventory)\s*(?:and|&)\s*(?:equipment|"
                       r"equip)|(?:equipment|equip|machinery)\s*(?:and|&|/)\s*(?:stock|inventory|contents)|m\s*&\s*e|"
                       r"contents?\s*(?:and|&|/)\s*(?:equipment|equip|stock)(?:\s*/\s*\w+)*|stock|inventory|equipment|"
                       r"ff\s*&\s*e(?:\s*/\s*contents)?|furniture\s*(?:&|and)\s*fixtures|contents\s*/\s*m\s*&\s*e.*"),
    ("bi_value", r"business\s*(?:income|interruption)(?:\s*(?:value|limit))?(?:\s*/?\s*(?:&|and)?\s*ee)?|"
                 r"bi(?:\s*/\s*ee|\s*&\s*ee|\s*ee|\s*/\s*rents?|\s*&\s*rents?)?(?:\s*\(.*\))?|time\s*element|"
                 r"rents?(?:\s*value)?|gross\s*earnings|loss\s*of\s*rents|rental\s*income|business\s*income|"
                 r"business\s*income\s*/\s*ee(?:\s*\(.*\))?"),
    ("tiv", r"(?:total\s*)?(?:insured\s*)?values?|tiv|total\s*tiv|total|total\s*insured\s*values?|total\s*values|"
            r"insured\s*values?\s*total|(?:location|combined|grand)\s*(?:total|value|values)|sum\s*insured|"
            r"total\s*(?:sum\s*insured|location\s*value)"),
    ("construction_class", r"(?:iso\s*)?constr(?:uction)?\s*class(?:\s*\(.*\))?|iso\s*class|iso\s*const\w*|iso"),
    ("construction", r"const(?:r|ruction)?\s*(?:type|code|description|desc)?(?:\s*\(.*\))?"),
    ("year_built", r"(?:year|yr)\.?\s*(?:built|blt|constructed|of\s*construction)|built|yoc|year\s*of\s*const\w*|"
                   r"orig(?:inal)?\s*year"),
    ("sprinklered", r"sprinklered\s*(?:\(?y\s*/\s*n\)?)?|(?:sprinklers?|spr|spk|sprk)\s*(?:\(?y\s*/\s*n\)?)?|"
                    r"sprinklered\?|"
                    r"fully\s*sprinklered"),
    ("sprinkler_coverage_pct", r"coverage|(?:%|percent|pct)\s*(?:sprinklered|spk|sprk|spr)|(?:spr|spk|sprk)\s*%|"
                               r"sprinkler(?:ed)?\s*(?:%|percent|pct|coverage)"
                               r"(?:\s*\(%\))?|sprinkler\s*coverage\s*%|%\s*sprinkler\s*coverage"),
    ("sprinkler_type", r"sprinkler\s*(?:type|system|systems|protection)|sprinklers|sprinkler|system(?:\s*type)?"),
    ("storage_height_ft", r"(?:max(?:imum)?\.?\s*)?(?:storage|stack|pile|rack)\s*(?:height|ht\.?|hgt)(?:\s*\(.*\))?"),
    ("area_sqft", r"(?:gross\s*)?(?:square\s*(?:footage|feet)|sq\.?\s*ft\.?|sf|area|floor\s*area|building\s*area|gla|"
                  r"area\s*\(sq\.?\s*ft\.?\)|total\s*area|gross\s*area|bldg\s*sq\s*ft)(?:\s*\(.*\))?"),
    ("stories", r"(?:no\.?\s*of\s*|#\s*)?(?:stories|storeys|floors)|stories\s*\(#\)"),
    ("ppc", r"(?:iso\s*)?(?:ppc|pc|public\s*protection(?:\s*class(?:ification)?)?|"
            r"prot(?:ection)?\s*class(?:ification)?)"),
    ("alarm", r"(?:fire\s*)?alarms?(?:\s*(?:type|system))?|detection|central\s*station"),
    ("sprinkler_design", r"(?:sprinkler\s*)?design(?:\s*(?:basis|density|criteria))?"),
    ("protection", r"(?:fire\s*)?protection"),
    ("exposures", r"exposures?"),
    ("hydrant_distance_ft", r"(?:distance\s*to\s*)?hydrant(?:\s*distance)?(?:\s*\(ft\))?"),
    ("fire_station_distance_mi", r"(?:distance\s*to\s*)?(?:fire\s*)?(?:station|dept|department)(?:\s*distance)?"
                                 r"(?:\s*\(mi(?:les)?\))?"),
]
CLAIM_COLUMNS: list[tuple[str, str]] = [
    ("claim_number", rf"claim\s*{_NUMBER}|claim\s*ref(?:erence)?|claim|file\s*{_NUMBER}"),
    ("policy", rf"policy\s*{_NUMBER}|policy|pol\s*{_NUMBER}"),
    ("date_of_loss", r"(?:date\s*of\s*loss|loss\s*date|loss\s*dt|dol|date|occurrence\s*date|accident\s*date)"),
    ("cause", r"cause(?:\s*of\s*loss)?(?:\s*/\s*description)?|description|loss\s*description|type\s*of\s*loss|"
              r"loss\s*type|peril|nature\s*of\s*loss|claim\s*description"),
    ("status", r"(?:claim\s*)?status(?:\b.*)?|open\s*/\s*closed"),
    ("coverage", r"coverage|line(?:\s*of\s*(?:business|coverage))?|lob|cov(?:erage)?\s*(?:type|line|part)"),
    ("paid", r"(?:total\s*)?paid(?:\s*(?:loss|losses|to\s*date|amount|indemnity))?|indemnity\s*paid|loss\s*paid"),
    ("reserve", r"(?:o\s*/\s*s|outstanding|open|case)?\s*reserves?d?(?:\s*amount)?|outstanding|o\s*/\s*s"),
    ("incurred", r"(?:total\s*)?incurred(?:\s*(?:loss|losses|amount))?|total(?:\s*loss)?|gross\s*incurred"),
    ("closed", r"closed(?:\s*date)?|date\s*closed"),
    ("location", rf"(?:loc|location|site|premises?)\s*{_NUMBER}|loc\s*/\s*bldg|location\s*/\s*building|"
                 r"property|facility|hotel|store"),
]
TERM_COLUMNS: list[tuple[str, str]] = [
    ("term", r"(?:pol(?:icy)?\s*)?(?:term|year)"),
    ("term_dates", r"(?:term|policy|coverage)\s*(?:dates|period)|(?:policy\s*)?period|policy\s*(?:effective\s*)?dates?|"
                   r"effective\s*(?:-|/|to)?\s*expiration"),
    ("carrier", r"carrier|insurer|company"),
    ("policy", rf"policy\s*{_NUMBER}|policy"),
    ("written_premium", r"written\s*prem(?:ium)?|wp"),
    ("earned_premium", r"earned\s*prem(?:ium)?|prem(?:ium)?(?:\s*earned)?|ep"),
    ("claims", r"claims?(?:\s*count)?|no\.?\s*of\s*claims|#\s*claims|number\s*of\s*claims|count"),
    ("incurred", r"(?:total\s*)?incurred(?:\s*losses?)?|losses?\s*incurred"),
    ("loss_ratio_pct", r"loss\s*ratio(?:\s*%)?|lr(?:\s*%)?|l\s*/\s*r"),
    ("coverage", r"coverage|line(?:\s*of\s*(?:business|coverage))?|lob|cov(?:erage)?\s*(?:type|line|part)"),
]
EXPOSURE_COLUMNS: list[tuple[str, str]] = [
    ("side", r"side|direction|orientation|compass|bearing"),
    ("distance", r"distance(?:\s*\(.*\))?|separation|clearance|distance\s*to\s*building"),
    ("exposure", r"exposures?(?:\s*description)?|description|occupancy|what|neighbou?r|adjacent\s*property"),
]
REQUEST_COLUMNS: list[tuple[str, str]] = [
    ("coverage", r"coverage(?:\s*(?:part|line|requested))?|cover|line(?:\s*of\s*coverage)?"),
    ("limit", r"(?:requested\s*)?limits?(?:\s*/\s*sub-?limits?)?|sub-?limits?|amount\s*requested|request(?:ed)?|"
              r"amount"),
    ("deductible", r"deductibles?(?:\s*/\s*\w+)?|ded|retention|deductible\s*/\s*terms"),
]
RECOMMENDATION_COLUMNS: list[tuple[str, str]] = [
    ("number", r"(?:rec(?:ommendation)?\s*)?(?:no|number|num|#|nbr|id)|ref(?:erence)?|item|rec"),
    ("text", r"recommendations?(?:\s*text)?|subject|description|finding|action(?:\s*required)?"),
    ("priority", r"priority|severity|importance|rank"),
    ("status", r"status(?:\b.*)?|response|insured'?s?\s*response|completion"),
    ("location", rf"(?:loc|location|site)\s*{_NUMBER}|where|loc\s*/\s*bldg|property|premises"),
]


def normalize_header(header: str) -> str:
    """'Sprinklered (Y/N)' -> 'sprinklered (y/n)'; 'Loc. #' -> 'loc #': lower case, dots and spacing dropped."""
    text = header.lower().replace("_", " ").replace(".", " ").replace(":", " ").replace("\u00a0", " ")
    text = re.sub(r"\s*(?:\(\s*(?:\$|usd|us\$)\s*\)|\$|\busd\b)\s*", " ", text)  # 'Bldg $', 'TIV (USD)'
    return " ".join(text.split())


def _header_texts(header: str) -> list[str]:
    """The header normalised, then without a trailing note in brackets ('Rental Income (12 mo)')."""
    text = normalize_header(header)
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", text).strip()
    return [t for t in dict.fromkeys((text, bare)) if t]


def match_header(header: str, vocabulary: list[tuple[str, str]]) -> str | None:
    """The field a column header names under one table kind's vocabulary, or None."""
    for text in _header_texts(header):
        for key, pattern in vocabulary:
            if re.fullmatch(pattern, text):
                return key
    return None


def header_scale(header: str) -> float:
    """What a header says its amounts are counted in: '($K)', '$000', 'in thousands' -> 1000; '($M)' -> 1e6."""
    text = header.lower()
    if re.search(r"\(\s*\$?\s*(?:k|000s?|thousands?)\s*\)|\$\s*(?:k|000)\b|in\s+thousands|\bthousands\b", text):
        return 1e3
    if re.search(r"\(\s*\$?\s*(?:m|mm|millions?)\s*\)|\$\s*mm?\b|in\s+millions", text):
        return 1e6
    return 1.0


# When no pattern of the vocabulary names a location table's header, its words do: agency systems abbreviate
# every header differently ("Bldg Amt", "Cont Amt", "Yr Const", "Total SF", "Auto Spr (Y/N)", "Prot Cl"), and
# the words they abbreviate are few. Each field: every group must have one of its words. First match wins.
_SPR = {"spr", "sprk", "spk", "sprinkler", "sprinklers", "sprinklered", "sprink"}
LOCATION_WORDS: list[tuple[str, tuple[frozenset[str], ...]]] = [
    ("sprinkler_coverage_pct", (frozenset({"%", "pct", "percent"}), frozenset(_SPR))),
    ("sprinklered", (frozenset(_SPR), frozenset({"y/n", "yn", "y", "auto", "automatic", "yes/no"}))),
    ("tiv", (frozenset({"total", "tot", "combined", "grand"}), frozenset({"value", "values", "val", "ins", "insured",
                                                                          "tiv", "tv", "amt", "amount", "sum"}))),
    ("tiv", (frozenset({"tiv", "tsi"}),)),
    ("bi_value", (frozenset({"bi", "income", "rent", "rents", "rental", "earnings", "interruption", "element",
                             "ee"}),)),
    ("contents_value", (frozenset({"cont", "contents", "content", "bpp", "personal", "equip", "equipment", "stock",
                                   "inventory", "ff&e", "m&e", "machinery"}),)),
    ("building_value", (frozenset({"bldg", "building", "structure", "real", "bld"}),
                        frozenset({"amt", "amount", "value", "val", "limit", "$", "rc", "property", "replacement"}))),
    ("year_built", (frozenset({"yr", "year"}), frozenset({"const", "constr", "built", "blt", "constructed", "erected",
                                                         "orig"}))),
    ("construction_class", (frozenset({"iso", "const", "constr", "construction"}),
                            frozenset({"cls", "class", "cl", "code"}))),
    ("construction", (frozenset({"const", "constr", "construction"}),)),
    ("ppc", (frozenset({"prot", "protection", "ppc", "pc", "fire"}), frozenset({"cl", "cls", "class", "code", "ppc"}))),
    ("area_sqft", (frozenset({"sf", "sqft", "sq", "area", "footage", "feet", "sft", "gla"}),)),
    ("stories", (frozenset({"stories", "storeys", "floors", "stor", "flrs", "levels"}),)),
    ("occupancy", (frozenset({"occ", "occupancy", "desc", "description", "use", "operations"}),)),
]


CLAIM_WORDS: list[tuple[str, tuple[frozenset[str], ...]]] = [
    ("claim_number", (frozenset({"clm", "claim", "claims"}), frozenset({"no", "#", "ref", "number", "num", "id"}))),
    ("date_of_loss", (frozenset({"dol"}),)),
    ("date_of_loss", (frozenset({"occ", "occurrence", "loss", "accident", "incident", "event"}),
                      frozenset({"date", "dt"}))),
    ("reserve", (frozenset({"o/s", "os", "reserve", "reserves", "outstanding", "res", "reserved"}),)),
    ("incurred", (frozenset({"incurred", "inc", "incd"}),)),
    ("paid", (frozenset({"paid", "pd"}),)),
    ("status", (frozenset({"stat", "status", "sts"}),)),
    ("coverage", (frozenset({"cov", "coverage", "lob", "line"}),)),
    ("cause", (frozenset({"narrative", "description", "desc", "cause", "peril", "remarks"}),)),
    ("location", (frozenset({"loc", "prem", "premises", "location", "site"}),)),
    ("policy", (frozenset({"pol", "policy"}),)),
]


def match_words(header: str, groups_by_field: list[tuple[str, tuple[frozenset[str], ...]]]) -> list[str]:
    """The fields a header's words name, best first (see LOCATION_WORDS)."""
    words = set(re.findall(r"[a-z&/%$#]+", normalize_header(header).replace("$", " $ ")))
    words |= {part for w in words for part in w.split("/") if part}  # "bi/rental" is "bi" and "rental" too
    return [key for key, groups in groups_by_field if all(words & group for group in groups)]


def columns_of(headers: list[str], vocabulary: list[tuple[str, str]],
               cells: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Header -> field for the headers a vocabulary knows; each field taken by its first header whose cells
    fit it (given `cells`: a value column holds amounts, a location or building column small numbers), so
    "Bldg" holding 1, 2, 3 is the building number and "Bldg Limit" beside it the building value."""
    taken: set[str] = set()
    found: dict[str, str] = {}
    for header in headers:
        for text in _header_texts(header):
            key = next((key for key, pattern in vocabulary if key not in taken and re.fullmatch(pattern, text)
                        and (cells is None or _fits(key, cells.get(header, []), vocabulary is LOCATION_COLUMNS))
                        and not (key in ("location", "building", "buildings") and "$" in header)), None)
            if key is not None:
                taken.add(key)
                found[header] = key
                break
    words = {id(LOCATION_COLUMNS): LOCATION_WORDS, id(CLAIM_COLUMNS): CLAIM_WORDS}.get(id(vocabulary))
    if words is not None:  # headers no pattern knew: by their words
        for header in headers:
            if header in found or not normalize_header(header):
                continue
            key = next((key for key in match_words(header, words) if key not in taken
                        and (cells is None or _fits(key, cells.get(header, []), vocabulary is LOCATION_COLUMNS))),
                       None)
            if key is not None:
                taken.add(key)
                found[header] = key
    return found


_AMOUNT_FIELDS = frozenset(("building_value", "contents_value", "bi_value", "tiv", "paid", "reserve", "incurred",
                            "earned_premium", "written_premium"))


def _fits(key: str, values: list[str], location_table: bool = True) -> bool:
    filled = [value for value in values if not is_empty(value) and not is_total(value)
              and not (len(value) > 30 and len(value.split()) > 4)]  # a note under the table, not a cell
    if not filled:
        return True
    if key in _AMOUNT_FIELDS:
        return any("$" in value or (money(value) or 0) >= 1000 or money(value) == 0 for value in filled)
    if key in ("location", "building") and location_table:  # most cells: a footnote row is not a location
        return sum(location_key(value) is not None for value in filled) >= max(1, 0.75 * len(filled))
    if key == "name":  # a name, not a number or an amount
        return sum(bool(re.search(r"[A-Za-z]{3}", value)) and money(value) is None for value in filled) >= \
            0.75 * len(filled)
    return True


# ---- cells --------------------------------------------------------------------------------------

_EMPTY = {"", "-", "--", "—", "–", "n/a", "na", "none stated", "tbd", "unknown", "?", "not stated", "n.a."}
_MONEY = re.compile(r"^\(?-?\s*(?:us)?\$?\s*(-?\d[\d,]*(?:\.\d+)?)\s*(k|m|mm|mil|million|thousand|b|bn)?\)?$",
                    re.IGNORECASE)
_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mil": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9}


def is_empty(cell: str | None) -> bool:
    return cell is None or cell.strip().lower() in _EMPTY


def money(cell: str | None) -> float | None:
    """'$28,400,000' -> 28400000.0; '(1,200)' -> -1200.0; '$1.2M' -> 1200000.0; '' or '-' -> None."""
    if is_empty(cell):
        return None
    text = cell.strip().replace(" ", "") if cell else ""
    text = re.sub(r"^(?:usd|us\$)", "", text, flags=re.IGNORECASE)
    match = _MONEY.match(text)
    if not match:
        return None
    value = float(match.group(1).replace(",", "")) * _SCALES.get((match.group(2) or "").lower(), 1.0)
    return -value if text.startswith("(") or (text.startswith("-") and value > 0) else value


def number(cell: str | None) -> float | None:
    """The first number of a cell: '182,000' -> 182000.0; '1.8 miles' -> 1.8; 'about 85%' -> 85.0."""
    if is_empty(cell):
        return None
    match = re.search(r"-?\d[\d,]*(?:\.\d+)?", cell or "")
    return float(match.group(0).replace(",", "")) if match else None


def integer(cell: str | None) -> int | None:
    value = number(cell)
    return int(value) if value is not None and value == int(value) else None


def year(cell: str | None) -> int | None:
    """A four-digit year from 1800 to 2100 ('1979', 'built 1998', '1998.0' from a spreadsheet)."""
    if is_empty(cell):
        return None
    match = re.search(r"\b(1[89]\d\d|20\d\d)(?:\.0)?\b", cell or "")
    return int(match.group(1)) if match else None


def percent(cell: str | None) -> float | None:
    """'85%' -> 85.0; 'about 85% of floor area' -> 85.0; '0.85' (a spreadsheet's fraction) -> 85.0;
    'fully', 'full' -> 100.0; 'none', 'not sprinklered' -> 0.0."""
    if cell is None:
        return None
    text = cell.strip().lower()
    if re.search(r"\b(?:fully|full|complete|throughout|entire)\b", text):
        return 100.0
    if re.search(r"\bnone\b|\bnot\s+sprinklered\b|\bunsprinklered\b|^no$", text):
        return 0.0
    if is_empty(text):
        return None
    value = number(text)
    if value is None:
        return None
    if "%" not in text and 0 < value <= 1 and "." in text:
        return round(value * 100, 4)
    return value if 0 <= value <= 100 else None


def yes_no(cell: str | None) -> bool | None:
    """'Y', 'Yes', 'Yes - wet/ESFR', 'sprinklered', '100%' -> True; 'N', 'No', 'None', 'not sprinklered', '0%' ->
    False."""
    if cell is None:
        return None
    text = cell.strip().lower()
    lead = re.match(r"^(yes|no|y|n)\b\s*[-–,:;(/]", text)
    if lead:
        return lead.group(1).startswith("y")
    if re.fullmatch(r"y|yes|true|1|x|sprinklered|full(?:y)?(?:\s+sprinklered)?|partial(?:ly)?(?:\s+sprinklered)?",
                    text):
        return True
    if re.fullmatch(r"n|no|false|0|none|not\s+sprinklered|unsprinklered|nil", text):
        return False
    value = percent(text)
    if value is not None and "%" in text:
        return value > 0
    return None


def day(cell: str | None) -> date | None:
    """A date in any form the loaders meet ('02/11/2023', '2023-02-11', 'February 11, 2023', '11 Feb 2023');
    a date stored by a spreadsheet as '2023-02-11 00:00:00' too."""
    if is_empty(cell):
        return None
    text = cell or ""
    iso = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", text)
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            return None
    found, _ = dates(normalize(text))
    for y, m, d in found:
        if y and m and d:
            try:
                return date(y, m, d)
            except ValueError:
                continue
    return None


def date_range(cell: str | None) -> tuple[date | None, date | None]:
    """'01/01/2019-01/01/2020' or '1/1/2019 to 1/1/2020' -> both dates."""
    if is_empty(cell):
        return None, None
    parts = re.split(r"\s*(?:-|–|—|\bto\b|\bthrough\b|/\s*(?=\d{1,2}/\d{1,2}/\d{2,4}$))\s*(?=\d|[A-Z][a-z]{2})",
                     (cell or "").strip(), maxsplit=1)
    if len(parts) == 2:
        return day(parts[0]), day(parts[1])
    return day(cell), None


# ISO construction classes, by the names and abbreviations the trade uses; a name that holds another comes first.
CONSTRUCTION_CLASSES: list[tuple[int, str, str]] = [
    (5, "Modified Fire Resistive", r"\bmodified\s+fire[\s-]*resistive\b|\bmfr\b"),  # before 6: it holds its words
    (6, "Fire Resistive", r"\bfire[\s-]*resistive\b|\bfr\b"),
    (4, "Masonry Non-Combustible", r"\bmasonry\s+non[\s-]*combustible\b|\bmnc\b"),
    (3, "Non-Combustible", r"\bnon[\s-]*combustible\b|\bnc\b|\bsteel\s+frame\b"),
    (2, "Joisted Masonry", r"\bjoisted\s+masonry\b|\bjm\b|\bordinary\b"),
    (1, "Frame", r"\bframe\b|\bwood\s+frame\b"),
]


def construction(cell: str | None) -> tuple[int | None, str | None]:
    """'ISO 4 - Masonry Non-Combustible' -> (4, 'Masonry Non-Combustible'); 'JM' -> (2, 'Joisted Masonry');
    'Class 3' -> (3, 'Non-Combustible'). The class number a cell states wins over its words."""
    if is_empty(cell):
        return None, None
    text = cell or ""
    stated = re.search(r"\b(?:iso|class|cc|iso\s+class|construction\s+class)\s*-?\s*([1-6])\b", text, re.IGNORECASE)
    if stated is None:
        stated = re.fullmatch(r"\s*([1-6])\s*", text)
    for number_, name, pattern in CONSTRUCTION_CLASSES:
        if re.search(pattern, text, re.IGNORECASE):
            if stated is not None and int(stated.group(1)) != number_:
                return int(stated.group(1)), _name_of(int(stated.group(1)))
            return number_, name
    if stated is not None:
        return int(stated.group(1)), _name_of(int(stated.group(1)))
    return None, None


def _name_of(number_: int) -> str:
    return next(name for n, name, _ in CONSTRUCTION_CLASSES if n == number_)


def protection_class(cell: str | None) -> int | None:
    """'3', 'Class 3', 'PPC 3', '3/9' (a split class: the first) -> 3; 1 to 10."""
    if is_empty(cell):
        return None
    match = re.search(r"\b(10|[1-9])[xX]?\b", cell or "")
    return int(match.group(1)) if match else None


def location_key(cell: str | None) -> str | None:
    """'1', '1.0' (a spreadsheet's number), 'Loc 1', '001', 'Location 1 - Molding plant' -> '1'."""
    if is_empty(cell):
        return None
    match = re.match(r"^\s*(?:(?:loc(?:ation)?|site|premises?|bldg|building)\.?\s*#?\s*)?0*(\d{1,4})(?:\.0+)?"
                     r"\b(?![,.]\d)", cell or "", re.IGNORECASE)
    return match.group(1) if match and match.group(1) != "0" else None


def location_building_key(cell: str | None) -> str | None:
    """'Loc 1 Bldg 2', 'Loc 1, Bldg 2', '1-2', '1/2' -> '1-2'; 'Loc 3' -> '3'."""
    if is_empty(cell):
        return None
    both = re.match(r"^\s*(?:loc(?:ation)?\.?\s*#?\s*)?0*(\d{1,4})\s*(?:,\s*|\s+|-|/)\s*(?:bldg\.?|building)\s*#?\s*"
                    r"0*(\d{1,3})\b", cell or "", re.IGNORECASE)
    if both:
        return f"{both.group(1)}-{both.group(2)}"
    return location_key(cell)


def is_total(cell: str | None) -> bool:
    """A totals row's label: 'TOTAL', 'Totals', 'Total - 4 claim(s)', 'Grand total', 'Sum'."""
    return bool(cell) and bool(re.match(r"^\s*(?:grand\s+)?(?:totals?|sum|subtotal)\b|^[\w \-/]{0,30}\btotals?\s*$",
                                        cell or "", re.IGNORECASE))


def claim_status(cell: str | None) -> str:
    """'Closed', 'C', 'CLSD' -> 'closed'; 'Open', 'O', 'Reopened' -> 'open' / 'reopened'."""
    text = (cell or "").strip().lower()
    if re.fullmatch(r"c|cl|clsd|closed?(?:\s+.*)?|final|settled", text):
        return "closed"
    if re.fullmatch(r"re-?opened?(?:\s+.*)?|ro", text):
        return "reopened"
    if re.fullmatch(r"o|op|open(?:\s+.*)?|pending|active|in\s+suit|litigated", text):
        return "open"
    return text


def line_of_business(text: str) -> str | None:
    """'Section 2 - Commercial General Liability' -> 'liability'; 'Commercial Property' -> 'property'."""
    lowered = text.lower()
    if re.search(r"general\s+liability|\bliability\b|\bgl\b|\bcgl\b|products|premises\s+liab|\bgen\.?\s*liab", lowered):
        return "liability"
    if re.search(r"\bauto\b|automobile|workers'?\s*comp|\bwc\b|umbrella|excess|crime|inland\s+marine", lowered):
        return "other"
    if re.search(r"propert|\bfire\b|building|\bbi\b|spoilage|boiler|equipment\s+breakdown", lowered):
        return "property"
    return None
