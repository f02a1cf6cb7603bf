"""Drafting rules from a guideline's text: sentences that refer, decline, exclude or require, with a figure
("above $150,000", "at least 90%", "within 1,000 feet", "PPC 7 and 8", "four claims in five years"), become rules
written `reviewed = false` with the sentence as their text, for the underwriter to review. The section is the
nearest heading's number or the paragraph's leading one ("5.3 Large losses ..."). A standard ("must be within 5
miles", "at least 90%") is turned round so the rule fires where it is not met. Never applied unreviewed: the
loader keeps such rules apart and `check` lists them as not reviewed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.profile.rules import PRESENCE_OPS, Condition, RulesError, show

_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30}
_NUM = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+|" + "|".join(_WORD_NUMBERS) + r")"
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_FIGURE = re.compile(
    r"(?P<money>\$\s?(?P<mnum>\d[\d,]*(?:\.\d+)?)(?:\s*(?P<scale>million|thousand|billion|mm|bn|[kmb])\b)?)"
    r"|(?P<pct>(?P<pnum>\d[\d,]*(?:\.\d+)?)\s?(?:%|percent\b|per cent\b))"
    r"|(?P<ppc>\b(?:PPC|(?:public\s+)?protection\s+class(?:ification)?)\s*(?:\(PPC\)\s*)?(?:of\s+)?"
    r"(?P<c1>\d{1,2})(?:\s*(?:,|to|-|–|and|or|through)\s*(?P<c2>\d{1,2}))?\b)"
    r"|(?P<cls>\b(?:ISO\s+)?(?:construction\s+)?class\s+(?P<cnum>[1-6])\b)"
    r"|(?P<qty>\b(?P<qnum>" + _NUM + r")(?P<between>\s+or\s+(?:more|greater|fewer|less))?"
    r"\s*(?:road\s+|linear\s+|consecutive\s+|property\s+|calendar\s+)?"
    r"(?P<unit>square\s+feet|sq\.?\s?ft\.?|square\s+foot|feet|foot|ft\b|miles?\b|mi\b|stories|storeys|story|storey"
    r"|days?\b|years?\b|claims?\b|losses\b))",
    re.I)
_REFER = re.compile(r"\b(refer|referred|referral|decline[ds]?|ineligible|not\s+eligible|not\s+written|prohibited"
                    r"|not\s+acceptable|unacceptable)\b", re.I)
_REQUIRE = re.compile(r"\b(must|required|requires?|shall)\b", re.I)
_AFTER_OPS = [(r"^\s*(?:or|and)\s+(?:more|greater|above|over|higher|larger|longer)\b", ">="),
              (r"^\s*(?:or|and)\s+(?:less|fewer|below|under|lower|smaller|shorter)\b", "<=")]
_BEFORE_OPS = [(r"no\s+more\s+than|not\s+more\s+than|not\s+exceeding|up\s+to|at\s+most|maximum(?:\s+of)?|within", "<="),
               (r"not\s+less\s+than|no\s+less\s+than|at\s+least|minimum(?:\s+of)?", ">="),
               (r"(?:more|greater|larger|longer|higher)\s+than|over|above|exceed(?:s|ing)?|in\s+excess\s+of", ">"),
               (r"(?:less|fewer|lower|shorter|smaller)\s+than|below|under", "<")]
_STANDARD_WORDS = re.compile(r"\b(within|at\s+least|minimum|not\s+less\s+than|no\s+less\s+than|up\s+to|at\s+most"
                             r"|no\s+more\s+than|not\s+more\s+than|maximum|not\s+exceeding)\s*(?:of\s+)?$", re.I)
_NEGATE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
_SECTION_HEAD = re.compile(r"^\s*(?:#+\s*)?(?:section\s+)?(\d+(?:\.\d+)*)\.?\s*[-\u2013:]?\s+(?=\S)", re.I)
_LEADING_NUMBER = re.compile(r"^\s*(?:\*\*)?(?:section\s+)?(\d+\.\d+(?:\.\d+)*|\d+\.)(?:\*\*)?\s+", re.I)


@dataclass
class _Draft:
    section: str
    text: str
    action: str
    applies_to: str
    conditions: list[Condition]
    any_of: list[Condition] = field(default_factory=list)
    within_years: float | None = None
    comments: list[str] = field(default_factory=list)


def _unique(conditions: list[Condition]) -> list[Condition]:
    return list({condition.describe(): condition for condition in conditions}.values())


def _read_guideline(path: Path) -> str:
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            import docx

            lines = []
            for paragraph in docx.Document(str(path)).paragraphs:
                style = (paragraph.style.name if paragraph.style is not None else "") or ""
                level = re.match(r"Heading\s*(\d)", style)
                lines.append(("#" * int(level.group(1)) + " " if level else "") + paragraph.text)
                lines.append("")
            return "\n".join(lines)
        if suffix == ".pdf":
            from pypdf import PdfReader

            return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the guideline ({exc.strerror or exc})") from None
    except Exception as exc:  # a corrupt DOCX or PDF: one line
        raise RulesError(f"{path}: cannot read the guideline ({type(exc).__name__}: {exc})") from None


def _blocks(text: str) -> list[tuple[str, str, str, bool]]:
    """(section, section title, text, is_item) for each paragraph, list item and table row, in reading order: the
    section from the nearest heading or a paragraph's leading number ("5.3 Large losses ..."); a table row as
    "header cell; header cell" text."""
    blocks: list[tuple[str, str, str, bool]] = []
    section, title = "", ""
    paragraph: list[str] = []
    item: list[str] = []
    header: list[str] = []

    def flush() -> None:
        nonlocal section
        if item:
            blocks.append((section, title, " ".join(item), True))
            item.clear()
        if not paragraph:
            return
        joined = " ".join(paragraph)
        paragraph.clear()
        leading = _LEADING_NUMBER.match(joined)
        if leading:
            section = leading.group(1).rstrip(".")
            joined = joined[leading.end():]
        blocks.append((section, title, joined, False))

    for raw in text.splitlines():
        stripped = raw.strip()
        heading = re.match(r"^#+\s+(.*)$", stripped)
        plain_heading = (stripped and len(stripped) < 80 and not stripped.endswith((".", ":", ";", ","))
                         and re.match(r"^(?:section\s+)?\d+(?:\.\d+)*\.?\s*[-\u2013:]?\s+[A-Z]", stripped, re.I)
                         and not re.search(r"[.:;]\s", stripped) and not paragraph)
        if heading or plain_heading:
            flush()
            head = heading.group(1) if heading else stripped
            number = _SECTION_HEAD.match(head)
            if number:
                section = number.group(1)
            title = _SECTION_HEAD.sub("", head).strip(" *")
            header = []
            blocks.append((section, title, "", False))  # a heading ends the previous paragraph's context
            continue
        if not stripped:
            flush()
            continue
        if stripped.startswith("|"):
            flush()
            cells = [cell.strip() for cell in stripped.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", cell) for cell in cells if cell):
                continue
            if not header:
                header = cells
                continue
            pairs = [f"{name} {cell}" if name else cell for name, cell in zip(header, cells, strict=False) if cell]
            blocks.append((section, title, "ROW " + "; ".join(pairs), True))
            continue
        header = [] if not stripped.startswith("|") else header
        bullet = re.match(r"^(?:[-*\u2022]|\d+[.)]|\([a-z0-9]\))\s+(.*)$", stripped)
        if bullet and not _LEADING_NUMBER.match(stripped):
            flush()
            item.append(bullet.group(1))
            continue
        if item and raw[:1] in (" ", "\t"):
            item.append(stripped)  # a list item's continuation line
            continue
        if item:
            flush()
        paragraph.append(stripped)
    flush()
    return blocks


def _sentences(text: str) -> list[str]:
    text = re.sub(r"\*\*|__|`", "", text)
    return [s.strip() for s in re.split(r"(?<=[.;!?])\s+(?=[A-Z(\"'])", text) if s.strip()]


def _quantity(number: str) -> float | None:
    number = number.lower()
    if number in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[number])
    try:
        return float(number.replace(",", ""))
    except ValueError:
        return None


def _op_near(sentence: str, start: int, end: int) -> tuple[str | None, bool]:
    """The comparison the words around a figure state (None: none stated), and whether it is a standard
    ("within 5 miles", "at least 90%") rather than a trigger ("above $150,000")."""
    after = sentence[end:end + 30]
    for pattern, op in _AFTER_OPS:
        if re.match(pattern, after, re.I):
            return op, False
    before = sentence[max(0, start - 40):start]
    before = re.sub(r"\$\s*$", "", before)
    for pattern, op in _BEFORE_OPS:
        if re.search(r"\b(?:" + pattern + r")\s*(?:of\s+|than\s+)?(?:the\s+|a\s+)?$", before, re.I):
            return op, bool(_STANDARD_WORDS.search(before))
    return None, False


def _figures(sentence: str, context: str) -> tuple[list[tuple[str, Condition, str]], float | None, list[str]]:
    """The conditions a sentence states ((applies_to, condition, comment)), its 'last N years', comments."""
    lowered = f"{sentence} {context}".lower()
    sentence_l = sentence.lower()
    requirement = bool(_REQUIRE.search(sentence)) and not _REFER.search(sentence)
    only = bool(re.search(r"\b(acceptable only|only (?:if|where|when|for)|otherwise)\b", sentence, re.I))
    found: list[tuple[str, Condition, str]] = []
    within: float | None = None
    comments: list[str] = []
    if re.search(r"\b(?:un|non-?)sprinklered\b|\bnot sprinklered\b|\bwithout sprinklers\b", sentence, re.I):
        found.append(("location", Condition(field="sprinklered", op="==", value=False), ""))
    for system in dict.fromkeys(re.findall(r"\bNFPA\s+13[RD]\b", sentence)):
        found.append(("location", Condition(field="sprinkler_type", op="contains", value=system), ""))
    for match in _FIGURE.finditer(sentence):
        op, standard = _op_near(sentence, match.start(), match.end())
        note = ""
        if match.group("ppc"):
            low, high = int(match.group("c1")), int(match.group("c2") or match.group("c1"))
            values = list(range(low, high + 1)) if high >= low else [low]
            if op is not None:
                found.append(("location", Condition(field="ppc", op=op, value=low), ""))
            else:
                found.append(("location", Condition(field="ppc", op="in" if len(values) > 1 else "==",
                                                    value=values if len(values) > 1 else low), ""))
            continue
        if match.group("cls"):
            if "protection" in sentence_l[max(0, match.start() - 30):match.start()]:
                continue
            found.append(("location", Condition(field="construction_class", op="==",
                                                value=int(match.group("cnum"))), ""))
            continue
        if match.group("money"):
            value = float(match.group("mnum").replace(",", ""))
            scale = (match.group("scale") or "").lower()
            value *= _SCALE.get(scale, 1)
            around = sentence_l[max(0, match.start() - 80):match.end() + 40]
            if re.search(r"\b(loss|losses|claim|claims|incurred)\b", around):
                subject, name = "claim", "incurred"
            elif re.search(r"\b(tiv|insured value|values?|limit)\b", around) or "tiv" in lowered:
                largest = re.search(r"\b(largest|single location|per location|any one location)\b", lowered)
                subject, name = ("submission", "largest_location_tiv") if largest and "any location" not in \
                    lowered else ("location", "tiv")
            else:
                continue
        elif match.group("pct"):
            value = float(match.group("pnum").replace(",", ""))
            if "loss ratio" in lowered:
                subject, name = "losses", "loss_ratio_pct"
            elif re.search(r"sprinkler|coverage|floor area", lowered):
                subject, name = "location", "sprinkler_coverage_pct"
            else:
                continue
        else:
            value = _quantity(match.group("qnum"))
            unit = match.group("unit").lower()
            if match.group("between"):
                op = ">=" if re.search(r"more|greater", match.group("between"), re.I) else "<="
            if value is None:
                continue
            if unit.startswith(("square", "sq")):
                subject, name = "location", "area_sqft"
            elif unit in ("feet", "foot", "ft"):
                if "hydrant" not in sentence_l:
                    continue
                subject, name = "location", "hydrant_distance_ft"
            elif unit.startswith("mi"):
                if not re.search(r"fire (station|department|hall)|responding|\bfd\b", lowered):
                    continue
                subject, name = "location", "fire_station_distance_mi"
            elif unit.startswith(("stor", "story")):
                subject, name = "location", "stories"
            elif unit.startswith("day"):
                if not re.search(r"valu|loss run|loss history", lowered):
                    continue
                subject, name = "submission", "loss_run_age_days"
            elif unit.startswith("year"):
                before = sentence_l[max(0, match.start() - 30):match.start()]
                if re.search(r"(last|past|prior|preceding|within|in)\s+(the\s+)?(last\s+|past\s+)?$", before):
                    within = value
                continue
            else:  # claims, losses: a count
                years = re.search(r"(?:in|within|over)\s+(?:the\s+)?(?:last\s+|past\s+)?(" + _NUM + r")\s+years?",
                                  sentence_l[match.end():match.end() + 40])
                span = _quantity(years.group(1)) if years else None
                if span is not None and span != 5:
                    note = f"the text counts claims over {show(span)} years; property_claims_5y counts five"
                subject, name = "submission", "property_claims_5y"
                within = None if years else within
        if op is None:
            op = ">="
            note = note or "no comparison word found: check the op"
        elif (requirement and standard) or only:
            op = _NEGATE[op]  # the rule fires where the standard is not met
            note = note or "standard"
        found.append((subject, Condition(field=name, op=op, value=_integral(value)), note))
    if requirement and found and not any(note == "standard" for _, _, note in found):
        comments.append("a requirement: add the condition that fails it (the figures say where it applies)")
    return found, within, comments


def _integral(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _action(sentence: str, section: str) -> str:
    """What the sentence says to do: "Home Office referral", "Decline unless ...", "Ineligible: decline"."""
    if re.search(r"\b(ineligible|not eligible|not written|prohibited|unacceptable|not acceptable)\b", sentence, re.I):
        return "Ineligible: decline"
    match = re.search(r"\b(?i:refer(?:red|ral)?\s+to\s+(?:the\s+)?)((?:[A-Z][\w-]*\s?)+)", sentence)
    if match:
        return f"{match.group(1).strip()} referral"
    match = re.search(r"\brequires?\s+(?:a\s+|an\s+)?((?:[A-Z][\w]*\s+)*referral)", sentence)
    if match:
        return match.group(1).strip()
    match = re.search(r"\b(declined?|declines)\b(.*?)(?:[.;]|$)", sentence, re.I)
    if match:
        return "Decline" + match.group(2).rstrip()
    if re.search(r"\brefer(?:ral|red)?\b", sentence, re.I):
        return "Referral"
    match = re.search(r"\brequires?\s+(.+?)(?:[,.;]|$)", sentence)
    if match:
        return f"Required: {match.group(1).strip()}"
    return f"Requirement of section {section} not met: refer" if section else "Requirement not met: refer"


def _draft(blocks: list[tuple[str, str, str, bool]]) -> list[_Draft]:
    drafts: list[_Draft] = []
    intro = ""  # the last paragraph's text, the context of the list items under it
    listing: _Draft | None = None  # an ineligible-occupancy list being collected
    for section, title, text, is_item in blocks:
        if listing is not None and not (is_item and section == listing.section):
            drafts.append(listing)
            listing = None
        if listing is not None:
            item = re.sub(r"\s*\([^)]*\)", "", re.sub(r"\*\*", "", text)).strip(" .;").lower()
            if item:
                listing.conditions[0].value.append(item)
            continue
        row = text.startswith("ROW ")
        for sentence in [text[4:]] if row else _sentences(text):
            refer, require = _REFER.search(sentence), _REQUIRE.search(sentence)
            if sentence.endswith(":") and refer and re.search(r"occupanc|classes|risks|following|operations",
                                                              f"{sentence} {title}", re.I):
                listing = _Draft(section, re.sub(r"\*\*", "", text), "Ineligible: decline", "location",
                                 [Condition(field="occupancy", op="contains_any", value=[])], [],
                                 comments=["the list's items as written: shorten each to the words an "
                                           "occupancy would use"])
                continue
            context = f"{intro} {title}" if is_item else title
            if not (refer or require or (is_item and _REFER.search(context))):
                continue
            figures, within, comments = _figures(sentence, context)
            if not figures:
                continue
            subjects = list(dict.fromkeys(subject for subject, _, _ in figures))
            subject = subjects[0]
            kept = [(s, c, n) for s, c, n in figures if s == subject]
            if len(subjects) > 1:
                dropped = ", ".join(c.describe() for s, c, _ in figures if s != subject)
                comments.append(f"also in the text, for another subject: {dropped}")
            comments += [n for _, _, n in kept if n and n != "standard"]
            standards = [c for _, c, n in kept if n == "standard"]
            applicable = [c for _, c, n in kept if n != "standard"]
            if standards and len(standards) > 1:  # a standard of several parts is failed by failing any one
                all_of, any_of = applicable, standards
            elif re.search(r"\bor\b(?!\s+(?:more|less|fewer|greater|higher|lower|above|below|over|under)\b)",
                           sentence) and len(kept) > 1 and not standards:
                all_of, any_of = [], applicable
                comments.append("'or' in the text: check which conditions belong in all and which in any")
            else:
                all_of, any_of = applicable + standards, []
            text_of = f"{intro} {sentence}" if is_item and intro else sentence
            drafts.append(_Draft(section, text_of, _action(sentence, section), subject,
                                 _unique(all_of), _unique(any_of), within if subject == "claim" else None,
                                 comments))
        if not is_item:
            intro = _sentences(text)[-1] if _sentences(text) else ""
    if listing is not None:
        drafts.append(listing)
    return [draft for draft in drafts if (draft.conditions or draft.any_of)
            and not (draft.conditions and draft.conditions[0].op == "contains_any" and not draft.conditions[0].value)]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def _toml_condition(condition: Condition) -> str:
    value = f", value = {_toml_value(condition.value)}" if condition.op not in PRESENCE_OPS else ""
    return "{ " + f"field = {_toml_value(condition.field)}, op = {_toml_value(condition.op)}{value}" + " }"


def draft_rules(guideline: Path | str, *, text: str | None = None) -> str:
    """Proposed rules (TOML) from a guideline's sentences that refer, decline, exclude or require with a
    figure: each `reviewed = false`, its sentence as `text`, for the underwriter to review. Never applied
    until a person sets `reviewed = true` (the loader keeps them apart and `check` lists them as not reviewed)."""
    path = Path(guideline)
    text = _read_guideline(path) if text is None else text
    name = next((re.sub(r"^#+\s*", "", line).strip() for line in text.splitlines() if line.strip()), path.stem)
    version = re.search(r"\bversion\s+([\w.\-]+)", text, re.I)
    if version and version.group(1).rstrip(".") not in name:
        name = f"{name} {version.group(1).rstrip('.,')}"
    drafts = _draft(_blocks(text))
    out = [f"# Rules drafted from {path.name} by `assistant rules draft`: {len(drafts)} proposed, none reviewed.",
           "# Review each rule against its text (field, op, value, applies_to, action), fix it, then set",
           "# reviewed = true. A rule that is not reviewed is never applied.", "",
           "[guideline]", f"name = {_toml_value(name)}", f"file = {_toml_value(path.name)}"]
    counts: dict[str, int] = {}
    for draft in drafts:
        key = draft.section or "0"
        counts[key] = counts.get(key, 0) + 1
        rule_id = f"s{key}-{counts[key]}"
        out += ["", "[[rule]]"]
        out += [f"# {comment}" for comment in dict.fromkeys(draft.comments)]
        out += [f"id = {_toml_value(rule_id)}", f"section = {_toml_value(draft.section or '?')}",
                f"text = {_toml_value(draft.text)}", f"action = {_toml_value(draft.action)}",
                f"applies_to = {_toml_value(draft.applies_to)}"]
        if draft.within_years:
            out.append(f"within_years = {_toml_value(_integral(draft.within_years))}")
        for key, conditions in (("all", draft.conditions), ("any", draft.any_of)):
            if conditions or (key == "all" and not draft.any_of):
                out.append(f"{key} = [" + ", ".join(_toml_condition(c) for c in conditions) + "]")
        out.append("reviewed = false")
    return "\n".join(out) + "\n"
