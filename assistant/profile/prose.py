"""Values that live in prose: COPE facts stated in sentences of inspection reports, surveys, letters and e-mails.

A document's visible text is read unit by unit (sentences, list items: `assistant.grounding.evidence.split_units`),
chunk overlaps counted once, each unit kept with the chunk it comes from so its source is exact. Each
unit is split into clauses at semicolons; a clause is tied to a location by what it names (an alias:
"Location 2", "Loc. 2", the street address, the name a document gives the location, "the warehouse"),
else by the location header it stands under ("Location 2 - Warehouse, 4820 Industrial Parkway"), else
by the document's own location (a report on one location), else by the submission's only location. A
clause that no rule ties to one location gives nothing per location.

The extractors are patterns over the trade's wording (construction classes, "built in", square feet,
"% sprinklered", hydrant and fire-station distances, public protection class, central-station alarms),
each value returned with the verbatim unit it came from. Sub-areas are not the building: "an 8,500 sq ft
mezzanine", "0.30 gpm/sq ft over 2,500 sq ft", "a building under 15,000 sq ft" give no area.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from assistant.grounding.evidence import overlap_start, split_units
from assistant.profile import columns
from index.types import Chunk


@dataclass(frozen=True)
class Finding:
    """One value found in text: the field, the value, the unit (verbatim) and its chunk, and its location."""

    key: str
    value: object
    quote: str
    chunk: Chunk
    location: str | None  # the location number it is tied to, None when none
    site_wide: bool = False  # stated for the whole site, not for this location by name


@dataclass
class Aliases:
    """How the documents of a submission name each location: number -> patterns."""

    names: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)  # a location of several buildings -> its buildings

    def add(self, number: str, text: str, *, whole_words: bool = True) -> None:
        text = " ".join(text.split()).strip(" ,.;:-")
        if len(text) < 3:
            return
        pattern = r"\s+".join("(?:&|and)" if word.lower() in ("&", "and") else re.escape(word) for word in text.split())
        compiled = re.compile(rf"\b{pattern}\b" if whole_words else pattern, re.IGNORECASE)
        known = self.names.setdefault(number, [])
        if all(existing.pattern != compiled.pattern for existing in known):
            known.append(compiled)

    def add_number(self, number: str) -> None:
        self.names.setdefault(number, []).append(
            re.compile(rf"\b(?:location|loc\.?|site|premises)\s*#?\s*0*{re.escape(number)}\b", re.IGNORECASE))

    def add_address(self, number: str, address: str) -> None:
        """'2150 Wharf Road' -> matches '2150 Wharf'; an address without a house number is not an alias."""
        match = re.match(r"\s*(\d+[A-Za-z]?)\s+([A-Za-z][\w.'-]*)", address)
        if match:
            self.add(number, f"{match.group(1)} {match.group(2)}")

    def named(self, text: str) -> set[str]:
        """The locations a text names. A location of several buildings named as a whole ('Location 1', its
        address) is its group's key, unless one of its buildings is named too ('Building 2 at Location 1')."""
        found = {number for number, patterns in self.names.items() if any(p.search(text) for p in patterns)}
        for group, members in self.groups.items():
            if group in found:
                inside = found & set(members)
                found = (found - {group}) if len(inside) == 1 else (found - set(members))
        return found


# ---- headers in running text ----------------------------------------------------------------------

_LOCATION_HEADER = re.compile(
    r"^\s*(?:location|loc\.?|site|premises)\s*#?\s*0*(\d{1,3})\s*(?:[-–—:,]|\(|$)(.*)$", re.IGNORECASE)
_TRAILING_LOCATION = re.compile(r"\((?:location|loc\.?)\s*#?\s*0*(\d{1,3})\)\s*$", re.IGNORECASE)
_SECTION_HEADING = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+[A-Z][\w ,&/()'-]{0,70}$")


def location_header(text: str) -> tuple[str, str] | None:
    """'Location 2 - Warehouse, 4820 Industrial Parkway' -> ('2', 'Warehouse, 4820 Industrial Parkway'); a
    short heading ending '(Location 2)' -> ('2', its words). Long sentences are not headers."""
    if len(text.split()) > 12 or text.rstrip().endswith(".") or re.search(r"\b(?:is|are|was|were|has|have)\b", text):
        return None
    match = _LOCATION_HEADER.match(text)
    if match:
        return match.group(1), match.group(2).strip(" -–—:,()")
    trailing = _TRAILING_LOCATION.search(text)
    if trailing and len(text.split()) <= 8:
        return trailing.group(1), text[:trailing.start()].strip()
    return None


def location_name(rest: str) -> str:
    """The name part of a header's rest: 'Warehouse, 4820 Industrial Parkway' -> 'Warehouse'."""
    name = re.split(r"[,(;]|\s[-–—]\s", rest, maxsplit=1)[0].strip()
    return "" if re.match(r"^\d", name) else name


def is_section_heading(text: str) -> bool:
    """'3.4 Hydrants and public fire protection', 'Detection and alarm': a short title line, no full stop."""
    if text.rstrip().endswith((".", ":", ";", ",")) or re.search(r"\d[\d,]*\s*(?:sq|ft|feet|%|miles?)\b", text):
        return False
    words = text.split()
    return (len(words) <= 8 and bool(_SECTION_HEADING.match(text))) or (
        1 <= len(words) <= 6 and text[:1].isupper() and not re.search(r"\b(?:is|are|was|were|has|have)\b", text))


# ---- extractors -----------------------------------------------------------------------------------

_AREA = re.compile(r"(?<![\d.,/])(\d{1,3}(?:,\d{3})+|\d{3,7})\s*(?:-|\s)?(?:square[\s-]*(?:feet|foot|ft)|sq\.?\s*ft\.?|"
                   r"sf|ft2|ft²)(?![\w/])", re.IGNORECASE)
_SUB_AREA_AFTER = re.compile(r"^\s*(?:total\s+)?(?:[\w-]+\s+){0,2}?(?:room|mezzanine|office|area|shop|bay|"
                             r"dock|canopy|addition|wing|section|portion|space|suite|cage|yard|lot|closet|per\s+floor)"
                             r"\b", re.IGNORECASE)
_SUB_AREA_BEFORE = re.compile(r"(?:room|mezzanine|office|freezer|cooler|shop|bay|dock|canopy|addition|wing|annex|"
                              r"over|under|below|above|exceeding|than|least|gpm/|per|each|approximately\s+\d|up\s+to|"
                              r"\(|of\s+[\d,]+\s+sq)\W*$", re.IGNORECASE)
_AREA_OR_MORE = re.compile(r"^\s*(?:or\s+(?:more|larger|greater|less)|and\s+(?:over|above|larger))", re.IGNORECASE)
_YEAR_BUILT = re.compile(r"\b(?:built|constructed|erected|completed|put\s+up|dates\s+from|year\s+built\s*:?|"
                         r"yr\.?\s+built\s*:?|finished|opened|dates?\s+(?:it\s+|back\s+)?(?:from|to))\s+(?:in\s+)?(?:about\s+|circa\s+|"
                         r"c\.\s*|around\s+)?(1[89]\d\d|20\d\d)\b|"
                         r"^(?:an?|the)\s+(1[89]\d\d|20\d\d)\s+(?:[\w-]+\s+){0,2}(?:building|structure|warehouse|plant|"
                         r"facility|shop)\b", re.IGNORECASE)
_STORIES = re.compile(r"\b(one|single|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})[\s-]+"
                      r"(?:story|storey|stories|"
                      r"storeys|floor)\b(?!\s+(?:office|mezzanine|section|portion|wing|addition|annex|part))",
                      re.IGNORECASE)
_STORY_WORDS = {"one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10}
_ISO_CLASS = re.compile(r"\b(?:ISO\s+(?:construction\s+)?class(?:ification)?|construction\s+class|ISO)\s*:?\s*"
                        r"(?:is\s+)?"
                        r"(?:class\s+)?([1-6])\b", re.IGNORECASE)
_CONSTRUCTION_CONTEXT = re.compile(r"\b(?:construction|qualifies\s+as|classed\s+as|rated\s+as)\b", re.IGNORECASE)
_PERCENT_SPRINKLERED = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*%\s*(?:\w+\s+){0,1}sprinklered", re.IGNORECASE)
_COVERAGE_AT = re.compile(r"\bsprinkler\s+coverage\b[^.;%\d]{0,40}?(\d{1,3}(?:\.\d+)?)\s*%", re.IGNORECASE)
_PERCENT_OF_AREA = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*%\s*of\s+(?:the\s+)?[\w\s-]{0,40}?(?:floor\s+)?"
                              r"area\s+(?:is|are)\s+(?:protected\s+by\s+sprinklers|sprinklered)", re.IGNORECASE)
_FULLY = re.compile(r"\bsprinkler\s+(?:protection|coverage)\s+(?:in\s+[\w\s]{1,40}?\s+)?is\s+(?:complete|full|100\s*%)|"
                    r"\bsprinklers?\s+(?:\w+\s+){0,2}(?:protect|cover)s?\s+the\s+(?:entire|whole)\s+(?:building|plant|"
                    r"structure|premises)|\bsprinkler\s+system\s+(?:runs|extends)\s+throughout\b|"
                    r"\b(?:fully|completely|100\s*%|totally)\s+(?:covered\s+by\s+(?:an?\s+)?(?:[\w/-]+\s+){0,3}system|"
                    r"sprinklered|protected\s+by\s+(?:automatic\s+)?"
                    r"(?:\w+\s+){0,2}sprinklers)|\bprotected\s+throughout\s+by\s+(?:automatic\s+)?sprinklers|"
                    r"\bsprinklered\s+throughout\b|\bfull\s+(?:NFPA\s+13\w?\s+)?(?:sprinkler\s+)?protection\b",
                    re.IGNORECASE)
_PARTIAL = re.compile(r"\b(?:partially|partly|partial)\s+sprinklered\b", re.IGNORECASE)
_NOT_SPRINKLERED = re.compile(r"(?:\b(?:is|are|remains?)\s+|:\s*)(?:not|un|no\s+longer)[\s-]*sprinklered\b|"
                              r"\bsprinkler\s+coverage\s+(?:there\s+)?is\s+(?:zero|nil|none)\b|"
                              r"\b(?:there\s+are\s+)?no\s+automatic\s+sprinklers\b|\bno\s+sprinklers\s+(?:are\s+)?"
                              r"(?:present|installed|provided)\b|\bunsprinklered\s+building\b|"
                              r"\bhas\s+no\s+(?:automatic\s+)?sprinkler|\bno\s+sprinkler\s+protection\b|"
                              r"\bwithout\s+(?:any\s+)?(?:automatic\s+)?sprinkler", re.IGNORECASE)
_SUB_AREA_SUBJECT = re.compile(r"\b(?:attics?|mezzanines?|rooms?|spaces?|offices?|canop(?:y|ies)|areas?|shafts?|"
                               r"closets?|bays?|docks?|concealed)\b[^.;:]{0,60}?\b(?:is|are)\s+(?:not|un)",
                               re.IGNORECASE)
_DESIGN = re.compile(r"\bNFPA\s+(13[RD]?)\b(?!\s*-)", re.IGNORECASE)
_SPRINKLER_WORDS = re.compile(r"\bsprinkler|\bwet[\s-]pipe|\bdry[\s-]pipe|\bsystems?\b|\bprotection\b", re.IGNORECASE)
_HYDRANT = re.compile(r"\b(?:hydrants?|fire\s+plugs?|(?:nearest|closest)\s+plug)\b"
                      r"[^.;]{0,90}?(?<![\d.,])(\d{1,3}(?:,\d{3})*|\d+)\s*(?:feet|foot|ft\.?|')(?!\w)|"
                      r"(?<![\d.,])(\d{1,3}(?:,\d{3})*|\d+)\s*(?:feet|foot|ft\.?)\s+(?:from|to)\s+(?:the\s+)?"
                      r"(?:nearest\s+)?(?:public\s+|private\s+)?hydrant", re.IGNORECASE)
_STATION = re.compile(r"\b(?:fire\s+(?:department|station|district|hall|company)|fire\s+&\s+rescue|fire\s+rescue|"
                      r"station\s+\d+|engine\s+company|ladder\s+company|firehouse|responding\s+"
                      r"(?:department|station)|fire\s+dept)\b", re.IGNORECASE)
_MILES = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d+)?)[\s-]*(?:road\s+|driving\s+|response\s+)?(?:miles?|mi\.?)(?!\w)",
                    re.IGNORECASE)
_PPC = re.compile(r"\b(?:public\s+protection\s+class(?:ification)?|\bPPC\b|protection\s+class(?:ification)?)"
                  r"(?:\s*\(PPC\))?[^.;\d]{0,40}?(?:class\s+)?(10|[1-9])(?:/\d{1,2}[xX]?)?\b", re.IGNORECASE)
_CENTRAL = re.compile(r"\bcentral[\s-]+station\b", re.IGNORECASE)
_ALARM_WORDS = re.compile(r"\b(?:alarm|monitor|supervis|signal|waterflow|detect)", re.IGNORECASE)
_LOCAL_ALARM = re.compile(r"\blocal\s+(?:fire\s+)?alarm\b|\balarm\s+(?:is\s+)?local\b", re.IGNORECASE)
_NOT_CENTRAL = re.compile(r"\bnot\s+(?:tied|connected|monitored|linked|reporting)\s+(?:in)?to\s+(?:a|the|any)\s+"
                          r"central\s+station|\bno\s+central[\s-]+station\b|\blocal\s+(?:bell|alarm|gong|horn)\b|"
                          r"\bsounds?\s+locally\b|\bnot\s+monitored\s+off[\s-]?(?:site|premises)\b|\bnothing\s+is\s+"
                          r"transmitted\s+off\b|\blocal\s+only\b", re.IGNORECASE)
_NO_ALARM = re.compile(r"\bno\s+(?:building\s+)?(?:fire\s+)?alarm(?:\s+system)?\b|\bunalarmed\b", re.IGNORECASE)


def area_of(text: str) -> int | None:
    for match in _AREA.finditer(text):
        before = text[max(0, match.start() - 30):match.start()]
        after = text[match.end():match.end() + 45]
        if _SUB_AREA_BEFORE.search(before) and not re.search(r"(?:total|gross|floor|building)\s+area\s+(?:is|of)\s*$",
                                                              before, re.IGNORECASE):
            continue
        if _SUB_AREA_AFTER.search(after) or _AREA_OR_MORE.search(after):
            continue
        value = int(match.group(1).replace(",", ""))
        if value >= 100:
            return value
    return None


def says_unsprinklered(text: str) -> bool:
    """Whether a text says the building has no sprinklers ("There are no automatic sprinklers", "not
    sprinklered"), not just a room or attic of it."""
    if dict(_sprinklers(text)).get("sprinklered") is False:
        return True
    return bool(_NO_SPRINKLERS.search(text)) and not _SUB_AREA_SUBJECT.search(text)


# "no sprinklers anywhere", "No sprinklers and no fire alarm", "no automatic sprinkler protection"; not "no sprinklers
# in the attic" (a part of the building).
_NO_SPRINKLERS = re.compile(r"\bno\s+(?:automatic\s+)?sprinklers?\b(?:\s+(?:protection|system|coverage))?"
                            r"(?!\s+(?:in|on|over|above|below|for|at|under)\b)", re.IGNORECASE)


def _sprinklers(text: str) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    percent = _COVERAGE_AT.search(text) or _PERCENT_OF_AREA.search(text) or _PERCENT_SPRINKLERED.search(text)
    if percent:
        value = float(percent.group(1))
        if 0 <= value <= 100:
            found += [("sprinkler_coverage_pct", value), ("sprinklered", value > 0)]
    elif _FULLY.search(text):
        found += [("sprinkler_coverage_pct", 100.0), ("sprinklered", True)]
    elif _PARTIAL.search(text):
        found.append(("sprinklered", True))
    elif _NOT_SPRINKLERED.search(text) and not _SUB_AREA_SUBJECT.search(text):
        found += [("sprinklered", False), ("sprinkler_coverage_pct", 0.0)]
    return found


def alarm_kind(text: str) -> str | None:
    """The kind of alarm a text describes: 'central station', 'local' or 'none' (None when it says nothing)."""
    return _alarm(text)


def _alarm(text: str) -> str | None:
    if _NOT_CENTRAL.search(text):  # before "none": "sounds locally and is not monitored off site" is a local alarm
        return "local"
    if _NO_ALARM.search(text):
        return "none"
    if _CENTRAL.search(text) and _ALARM_WORDS.search(text):
        return "central station"
    if _LOCAL_ALARM.search(text):
        return "local"
    return None


def construction_named(text: str) -> tuple[int | None, str | None]:
    """A construction class named in words ('masonry non-combustible construction'); a bare 'Class 1' in prose
    is too often something else (an FM approval class, a flammable-liquid class) to be read as one."""
    for number, name, pattern in columns.CONSTRUCTION_CLASSES:
        match = re.search(pattern, text, re.IGNORECASE)
        if match and len(match.group(0)) > 4:  # words, not an abbreviation ("FR", "NC" are too often other things)
            return number, name
    return None, None


# Storage heights: "stacked about 14 ft high", "racked to about 10 ft", "paper rolls on end up to 18'", "storage height
# of 20 ft", "25-ft racks". Not a distance ("stored about 30 ft from the building", "10 ft aisles") and not a limit
# or a threshold ("keep storage below 12 ft", "storage above 12 feet requires ESFR").
_FEET = r"(\d{1,2}(?:\.\d)?)\s*(?:-\s*|\s)?(?:ft\b\.?|feet\b|foot\b|')"
_NOT_HEIGHT_AFTER = (r"(?!\s*(?:from|away|off|apart|wide|long|deep|aisles?|clear|of\s+the|to\s+the|east|west|north|"
                     r"south|beyond|behind|in\s+front)\b)")
_STORAGE_WORD = (r"\b(?:stack(?:ed|s|ing)?|block[\s-]stacked|pil(?:ed|es|ing)|stor(?:ed|age)|rack(?:s|ed|ing)?|"
                 r"shelv(?:ing|es)|palleti[sz]ed|rolls?\s+on\s+end)\b")
_STORAGE_HEIGHT = re.compile(
    _STORAGE_WORD + r"[^.;\d]{0,40}?\b(?:to|of|at|about|approximately|around|roughly|some|up\s+to|as\s+high\s+as|"
    r"reaching|reach(?:es)?|is|are)\s+(?:about\s+|approximately\s+|roughly\s+|around\s+|nearly\s+)?" + _FEET
    + _NOT_HEIGHT_AFTER + "|"
    + _STORAGE_WORD + r"[^.;\d]{0,30}?" + _FEET + r"\s+(?:high|tall|in\s+height)\b|"
    r"(?<![\d.,])" + _FEET + r"[\s-]*(?:high\s+|tall\s+)?(?:(?!aisles?\b|wide\b|apart\b|between\b)[\w-]+\s+){0,2}?"
    r"(?:racks?|racking|stacks?|piles?|shelving)\b",
    re.IGNORECASE)
_HEIGHT_BOUND = re.compile(r"\b(?:below|under|above|over|beyond|within|exceed\w*|(?:no\s+)?more\s+than|less\s+than|"
                           r"higher\s+than|lower\s+than|not\s+(?:to\s+)?exceed|maximum\s+of|max\.?\s+of)\b",
                           re.IGNORECASE)
_HEIGHT_ADVICE = re.compile(r"^\W*(?:limit|keep|reduce|lower|provide|maintain|do\s+not|ensure|restrict)\b|"
                            r"\b(?:should|must|shall|recommend\w*|requires?|permitted|allowed)\b", re.IGNORECASE)


# Storage that is not the building's: a neighbour's, or outdoors ("South - a truck court, then a pallet yard with
# stacks about 15 feet high", "pallets stacked outdoors to 10 ft").
_ELSEWHERE = re.compile(r"^\W*(?:north|south|east|west)(?:east|west)?\b\s*(?:[-–—:,(]|side\b)|\b(?:exposures?|"
                        r"neighbou?r\w*|adjacent|adjoining|across\s+the|next\s+door|outdoors?|outside|open\s+yard|"
                        r"yard)\b", re.IGNORECASE)


def storage_height(text: str) -> float | None:
    """The highest storage height a clause states, in feet; None when it states none (or only a limit)."""
    if _HEIGHT_ADVICE.search(text) or _ELSEWHERE.search(text):
        return None
    heights = [float(next(group for group in match.groups() if group)) for match in _STORAGE_HEIGHT.finditer(text)
               if not _HEIGHT_BOUND.search(match.group(0))]
    heights = [height for height in heights if 3 <= height <= 60]
    if not heights:
        return None
    top = max(heights)
    return int(top) if top == int(top) else top


_SURROUNDINGS = re.compile(r"\b(?:north|south|east|west)(?:east|west)?\b[^.;]{0,40}?\b\d[\d,]*\s*(?:feet|ft|foot)\b|"
                           r"\b\d[\d,]*[\s-]*(?:feet|ft|foot)\s+(?:to\s+the\s+)?(?:north|south|east|west)\b",
                           re.IGNORECASE)


def extract(text: str) -> list[tuple[str, object]]:
    """The per-location values one clause states, as (field, value). A clause about the surroundings ("West - 45
    feet to a one-story block warehouse") describes a neighbour, not the building: it gives no COPE values."""
    if _SURROUNDINGS.search(text) and not re.search(r"\bhydrant|\bplug\b|\bstation\b", text, re.IGNORECASE):
        return []
    found: list[tuple[str, object]] = []
    iso = _ISO_CLASS.search(text)
    if iso:
        number, name = columns.construction(f"ISO {iso.group(1)}")
        found += [("construction_class", number), ("construction", name)]
    elif _CONSTRUCTION_CONTEXT.search(text):
        number, name = construction_named(text)
        if number is not None:
            found += [("construction_class", number), ("construction", name)]
    built = _YEAR_BUILT.search(text)
    year = (built.group(1) or built.group(2)) if built else None
    if year and not re.search(r"\b(?:installed|added|converted|replaced|reroof|renovat)\w*\s+(?:in\s+)?" + year, text,
                              re.IGNORECASE):
        found.append(("year_built", int(year)))
    area = area_of(text)
    if area is not None:
        found.append(("area_sqft", area))
    stories = _STORIES.search(text)
    if stories:
        word = stories.group(1).lower()
        found.append(("stories", _STORY_WORDS.get(word) or int(word)))
    found += _sprinklers(text)
    height = storage_height(text)
    if height is not None:
        found.append(("storage_height_ft", height))
    design = _DESIGN.search(text)
    if design and _SPRINKLER_WORDS.search(text) and not re.search(r"\bmeets?\s+NFPA", text, re.IGNORECASE):
        found.append(("sprinkler_design", "NFPA " + design.group(1).upper()))
    hydrant = _HYDRANT.search(text)
    if hydrant:
        found.append(("hydrant_distance_ft", int((hydrant.group(1) or hydrant.group(2)).replace(",", ""))))
    if _STATION.search(text):
        miles = _MILES.search(text)
        if miles:
            found.append(("fire_station_distance_mi", float(miles.group(1))))
    ppc = _PPC.search(text)
    if ppc:
        found.append(("ppc", int(ppc.group(1))))
    alarm = _alarm(text)
    if alarm is not None:
        found.append(("alarm", alarm))
    return found


# ---- reading a document ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TextUnit:
    """A sentence or list item of a document's visible text, with where it stands."""

    text: str
    chunk: Chunk
    heading: str  # the heading path it stands under ("" in PDFs, whose sections are lines of text)
    paragraph: int  # counts paragraphs through the document: units of one paragraph share it


# A numbered or location title on a line of its own ('2. Lumen Inn Biltmore Village - 14 Lodge Street', 'Location
# 2 - Warehouse, 4820 Industrial Parkway'): not wrapped text of the sentence after it.
_TITLE_LINE = re.compile(r"^((?:\d{1,2}(?:\.\d{1,2})*\.?|(?:location|loc\.|site|building|bldg\.?)\s*#?\s*\d{1,3}"
                         r"\s*[-–:])\s+[A-Z][^\n.]{2,90}?)[ \t]*$", re.MULTILINE | re.IGNORECASE)


def visible_units(chunks: Sequence[Chunk]) -> Iterable[TextUnit]:
    """The units of a document's visible text in reading order, each with its chunk; overlaps counted once,
    table-row chunks left to the table reader, flagged chunks (planted text, hidden text) never read."""
    ordered = sorted((chunk for chunk in chunks if not chunk.flags), key=Chunk.sort_key)
    paragraph = 0
    for index, chunk in enumerate(ordered):
        text = chunk.text.strip()
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if following is not None and following.page == chunk.page:
            cut = overlap_start(text, following.text.strip())
            if cut is not None:
                text = text[:cut]
        if chunk.rows:
            # A table chunk: its rows are read whole by the table reader; a title line before them is text.
            text = "\n".join(line for line in text.splitlines() if "|" not in line)
        # A structured document's heading path ('§ 3 Protection > 3.4 Hydrants, ¶ 2'); a PDF's or a text's chunk
        # heading is only its first line, not a section, so it gives no context.
        heading = chunk.heading if (chunk.location or "").startswith("§") else ""
        text = _TITLE_LINE.sub(lambda m: f"\n\n{m.group(1)}\n\n", text)  # a title line is its own paragraph
        for block in re.split(r"\n\s*\n", text):
            paragraph += 1
            for unit in split_units(block, heading):
                context = unit.context if heading or unit.context != chunk.heading else ""
                if context != heading:
                    heading = context
                    paragraph += 1
                yield TextUnit(unit.text, chunk, context, paragraph)


def clauses(text: str) -> list[str]:
    """A unit's clauses: split at semicolons, and at a colon that opens an explanation ("No sprinklers are
    present in Building 2: the wet system in the plating plant does not extend across the walkway")."""
    parts = [part.strip() for part in re.split(r";\s+|:\s+(?=[a-z])", text) if part.strip()]
    return parts or [text]


SITE_WIDE = frozenset(("ppc", "fire_station_distance_mi"))
_BUILDING_NOUN = re.compile(r"\b(?:building|plant|warehouse|shop|annex|cottage|structure|garage|hotel|inn|lodge|motel|"
                            r"store|tower|townhomes?)s?\b", re.IGNORECASE)
_AND_FIGURE = re.compile(r",?\s+and\s+(?=(?:about|roughly|approximately|some|around)?\s*\d)", re.IGNORECASE)


def _split_by_location(parts: list[str], aliases: Aliases) -> list[str]:
    """A clause about two locations with a figure for each ("roughly 240 ft off Building 1 and about 300 ft from
    Building 2") becomes one clause per location, the later ones led by the first one's words up to its figure
    ("The closest hydrant sits roughly about 300 ft from Building 2"), so each figure keeps what it measures."""
    found: list[str] = []
    for part in parts:
        pieces = _AND_FIGURE.split(part)
        if len(pieces) < 2 or len(aliases.named(part)) < 2 or any(len(aliases.named(p)) != 1 for p in pieces):
            found.append(part)
            continue
        lead = re.match(r"^(.*?)(?=\b(?:about|roughly|approximately|some|around)?\s*\d)", pieces[0])
        prefix = lead.group(1) if lead else ""
        found += [pieces[0]] + [f"{prefix}{piece}" for piece in pieces[1:]]
    return found


def _names_one_as_title(text: str, aliases: Aliases) -> bool:
    """A title line naming one location ('2. Lumen Inn Biltmore Village - 14 Lodge Street, Asheville'): short, no
    full stop, no verb."""
    return (len(text.split()) <= 14 and not text.rstrip().endswith((".", ":", ";"))
            and not re.search(r"\b(?:is|are|was|were|has|have|had)\b", text) and len(aliases.named(text)) == 1)


def _last_heading(path: str) -> str:
    return path.split(" > ")[-1] if path else ""


def read_text(chunks: Sequence[Chunk], aliases: Aliases, default: str | None,
              site_wide: Sequence[str] = ()) -> list[Finding]:
    """Every per-location value the document's prose states, tied to its location (see the module docstring).

    Context, narrowest first: the locations a clause names; the one location named earlier in the same
    paragraph ("The annex is another matter. The hydrant nearest to it is ..."); the location header the
    text stands under (a line "Location 2 - Warehouse", a heading naming one location, "Main building:");
    the document's own location. `site_wide`: the locations a value with no location of its own applies to,
    for the fields that describe the site rather than a building (public protection class, fire-station
    distance): "the responding fire department is 3.4 road miles away" holds for every building of a campus
    report; such findings are marked (`Finding.site_wide`) and rank below a location's own."""
    findings: list[Finding] = []
    current: str | None = None
    heading = None
    paragraph = -1
    recent: str | None = None
    for unit in visible_units(chunks):
        text = unit.text
        if unit.heading != heading:
            heading = unit.heading
            current = None
            for part in reversed(heading.split(" > ") if heading else []):  # deepest heading naming one location
                named_heading = aliases.named(part)
                if len(named_heading) == 1:
                    current = next(iter(named_heading))
                    break
        if unit.paragraph != paragraph:
            paragraph, recent = unit.paragraph, None
        header = location_header(text)
        if header is not None:
            current = header[0]
            text = header[1]
            if not text:
                continue
        elif is_section_heading(text) or _names_one_as_title(text, aliases):
            named_line = aliases.named(text)
            current = next(iter(named_line)) if len(named_line) == 1 else None
            continue
        lead = re.match(r"^([^:]{3,60}):\s", text)  # 'Memory care cottage: full NFPA 13 protection ...'
        if lead is not None and len(aliases.named(lead.group(1))) == 1:
            current = next(iter(aliases.named(lead.group(1))))
        unit_named = aliases.named(text)
        stated = False
        for clause in _split_by_location(clauses(text), aliases):
            values = extract(clause)
            named = aliases.named(clause) or unit_named
            if not values:
                continue
            stated = True
            if len(named) == 1 and len(_BUILDING_NOUN.findall(clause)) >= 2:
                named = set()  # "the plating building ... plus the shipping building next to it": which one?
                where = None
                continue
            if len(named) == 1:
                where: str | None = next(iter(named))
            elif named:
                where = None  # a clause about several locations says nothing about one
            else:
                where = recent or current or default
            for key, value in values:
                if where is None and not named and key in SITE_WIDE and site_wide:
                    findings += [Finding(key, value, text, unit.chunk, number, site_wide=True) for number in site_wide]
                elif where is not None and where in aliases.groups:  # a site of several buildings, as a whole
                    if key in SITE_WIDE:
                        findings += [Finding(key, value, text, unit.chunk, number, site_wide=True)
                                     for number in aliases.groups[where]]
                elif where is not None:
                    findings.append(Finding(key, value, text, unit.chunk, where))
        if not stated and len(unit_named) == 1:
            recent = next(iter(unit_named))  # a topic sentence: "The annex is another matter."
    return findings
