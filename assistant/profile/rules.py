"""The carrier's rules: a TOML file of referral triggers and limits, each naming the profile field(s), the test
and the guideline section, checked against a `Profile` with the evidence that fired each trigger.

A rules file::

    [guideline]
    name = "Summit Ridge Commercial Property Guidelines 2024.3"

    [[rule]]
    id = "large-loss"
    section = "5.3"
    text = "Any single loss with total incurred above $150,000 in the last three years"
    action = "Home Office referral"
    applies_to = "claim"      # submission | location | claim | recommendation | losses | request | statement
    within_years = 3          # claims only: date of loss within N years before the effective date
    all = [{ field = "incurred", op = ">", value = 150000 }]
    any = []                  # optional: the rule fires when every `all` and at least one `any` (if given) hold
    reviewed = true           # a drafted rule is false until a person reviews it; unreviewed rules never apply

A `losses` rule names its line of business (`line = "property"`, the default). A `statement` rule tests every
sentence of the submission's documents (a class hazard no profile field holds: "foam plastic panels without an
FM 4880 or UL 1040 listing") and fires once for the submission, with each sentence that passed as evidence;
`states_any` reads negation ("no visible listing" does not state a listing). A condition on a value no
document states is not a pass and not a trigger: the rule "cannot check: <field> not stated" there. Conditions
are three-valued (true, false, unknown): `all` fails on any false condition whatever else is unknown, `any`
holds on any true one, so an unstated field matters only where it could change the outcome.

`load_rules(path)` validates the file (one line naming the file, the rule and the problem); `check(profile,
rules)` gives a `CheckReport`; `draft_rules(guideline)` proposes rules from a guideline's text, unreviewed
(`assistant.profile.drafting`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.grounding.verification import affirms
from assistant.profile.model import (
    LOCATION_FIELDS,
    Claim,
    CoverageRequest,
    LocationProfile,
    LossSummary,
    Profile,
    Recommendation,
    Source,
    Sourced,
    TermExperience,
)
from assistant.profile.statements import Statement, dates_in, separations_ft, years_before

APPLIES_TO = ("submission", "location", "claim", "recommendation", "losses", "request", "statement")
CLAIM_FIELDS = ("incurred", "paid", "reserve", "status", "cause", "line", "date_of_loss", "claim_number",
                "location", "policy")
LOSSES_FIELDS = ("claims", "open_claims", "incurred", "paid", "open_reserves", "loss_ratio_pct",
                 "stated_loss_ratio_pct", "frequency_per_year", "years_covered", "earned_premium", "term_years")
RECOMMENDATION_FIELDS = ("number", "text", "priority", "status", "location")
SUBMISSION_FIELDS = ("largest_location_tiv", "total_tiv", "total_area_sqft", "location_count", "loss_run_age_days",
                     "property_claims_5y", "claims_5y", "loss_run_documents", "unsprinklered_locations",
                     "occupancies")
# A statement rule tests each sentence of the submission's documents (`assistant.profile.statements`): its text,
# its text with the sentence after it (`context`), the distances in feet it states between things and how many
# years before the effective date the dates it states lie (a list each: a test holds when one of them passes).
STATEMENT_FIELDS = ("text", "context", "separation_ft", "years_before_effective")
# A coverage request's own amounts, and the submission's figures a rule may weigh them against (a minimum
# deductible by program TIV).
REQUEST_FIELDS = ("coverage", "limit", "sublimit", "deductible", "coinsurance_pct", "text", *SUBMISSION_FIELDS)
FIELDS: dict[str, tuple[str, ...]] = {
    "request": REQUEST_FIELDS,
    "location": (*LOCATION_FIELDS, "building_area_sqft", "esfr_or_in_rack", *SUBMISSION_FIELDS),
    "statement": (*STATEMENT_FIELDS, *SUBMISSION_FIELDS),
    "claim": CLAIM_FIELDS,
    "losses": LOSSES_FIELDS,
    "recommendation": (*RECOMMENDATION_FIELDS, *SUBMISSION_FIELDS),
    "submission": SUBMISSION_FIELDS,
}
COMPARISONS = (">", ">=", "<", "<=", "==", "!=")
# states_any: a phrase occurs and is not negated ("no visible listing", "non-approved" do not state "listing",
# "approved"); not states_any: none of them is stated so. denies_any: one occurs negated and none affirmed;
# unknown (not false) where none occurs, so a requirement the text does not address is "cannot check".
LIST_OPS = ("in", "not in", "contains_any", "not contains_any", "states_any", "not states_any", "denies_any")
TEXT_OPS = ("contains", "not contains")
PRESENCE_OPS = ("is_stated", "not_stated")
OPS = (*COMPARISONS, *LIST_OPS, *TEXT_OPS, *PRESENCE_OPS)

Status = Literal["fired", "clear", "cannot_check", "not_reviewed"]


class RulesError(ValueError):
    """A rules file that cannot be used; the message is one line naming the file, the rule and the problem."""


# ---- the rules -----------------------------------------------------------------------------------------------


class Condition(BaseModel):
    field: str
    op: str
    value: Any = None

    def describe(self) -> str:
        if self.op in PRESENCE_OPS:
            return f"{self.field} {self.op.replace('_', ' ')}"
        return f"{self.field} {self.op} {show(self.value)}"


class Rule(BaseModel):
    id: str
    section: str
    text: str = ""
    action: str = ""
    applies_to: str = "submission"
    within_years: float | None = None
    line: str = "property"  # losses rules: the line of business
    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)
    reviewed: bool = True

    def fields(self) -> list[str]:
        return list(dict.fromkeys(condition.field for condition in (*self.all, *self.any)))

    def describe(self) -> str:
        parts = [" and ".join(c.describe() for c in self.all)] if self.all else []
        if self.any:
            parts.append("(" + " or ".join(c.describe() for c in self.any) + ")")
        where = f", date of loss within {show(self.within_years)} years" if self.within_years else ""
        return " and ".join(parts) + where


class RuleSet(BaseModel):
    guideline: str = ""
    path: str = ""
    rules: list[Rule] = Field(default_factory=list)  # reviewed: these are checked
    unreviewed: list[Rule] = Field(default_factory=list)  # drafted, never applied until a person reviews them
    notes: list[str] = Field(default_factory=list)  # problems in unreviewed rules (they must be fixed to review)


def load_rules(path: Path | str) -> RuleSet:
    """Read and validate a rules file. A bad file raises `RulesError` with one line: file, rule id, problem.
    Unreviewed rules are kept apart (never checked); their problems are notes, not errors."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the rules file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RulesError(f"{path}: not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML ({exc})") from None
    return parse_rules(data, str(path))


def parse_rules(data: dict[str, Any], label: str = "rules") -> RuleSet:
    guideline = data.get("guideline", {})
    if not isinstance(guideline, dict):
        raise RulesError(f"{label}: [guideline] must be a table")
    unknown_top = sorted(set(data) - {"guideline", "rule"})
    if unknown_top:
        raise RulesError(f"{label}: unknown top-level key {unknown_top[0]!r} (expected [guideline] and [[rule]])")
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not all(isinstance(r, dict) for r in raw_rules):
        raise RulesError(f"{label}: rules must be [[rule]] tables")
    ruleset = RuleSet(guideline=str(guideline.get("name", "")), path=label)
    seen: set[str] = set()
    for number, raw in enumerate(raw_rules, 1):
        rule_id = str(raw.get("id", "")).strip()
        where = f"rule {rule_id!r}" if rule_id else f"rule #{number} (no id)"
        reviewed = raw.get("reviewed", True)
        if not isinstance(reviewed, bool):
            raise RulesError(f"{label}: {where}: reviewed must be true or false")
        try:
            rule = _validate(raw, rule_id)
        except _Problem as problem:
            if not reviewed:
                ruleset.notes.append(f"{label}: {where} (not reviewed): {problem}")
                ruleset.unreviewed.append(_lenient(raw, rule_id or f"#{number}"))
                continue
            raise RulesError(f"{label}: {where}: {problem}") from None
        if rule.id in seen:
            raise RulesError(f"{label}: {where}: duplicate id")
        seen.add(rule.id)
        (ruleset.rules if rule.reviewed else ruleset.unreviewed).append(rule)
    return ruleset


class _Problem(Exception):
    pass


RULE_KEYS = {"id", "section", "text", "action", "applies_to", "within_years", "line", "all", "any", "reviewed"}


def _validate(raw: dict[str, Any], rule_id: str) -> Rule:
    if not rule_id:
        raise _Problem("missing id")
    unknown = sorted(set(raw) - RULE_KEYS)
    if unknown:
        raise _Problem(f"unknown key {unknown[0]!r}")
    section = raw.get("section")
    if section is None or not str(section).strip():
        raise _Problem("missing section (the guideline section the rule comes from)")
    applies_to = raw.get("applies_to", "submission")
    if applies_to not in APPLIES_TO:
        raise _Problem(f"unknown applies_to {applies_to!r} (one of {', '.join(APPLIES_TO)})")
    within = raw.get("within_years")
    if within is not None:
        if applies_to != "claim":
            raise _Problem("within_years applies to claim rules only")
        if isinstance(within, bool) or not isinstance(within, int | float) or within <= 0:
            raise _Problem("within_years must be a positive number")
    conditions: dict[str, list[Condition]] = {}
    for key in ("all", "any"):
        items = raw.get(key, [])
        if not isinstance(items, list):
            raise _Problem(f"{key} must be a list of {{ field, op, value }}")
        conditions[key] = [_condition(item, applies_to) for item in items]
    if not conditions["all"] and not conditions["any"]:
        raise _Problem("no conditions (give all = [...] or any = [...])")
    for key in ("text", "action", "line"):
        if key in raw and not isinstance(raw[key], str):
            raise _Problem(f"{key} must be a string")
    return Rule(id=rule_id, section=str(section).strip(), text=raw.get("text", ""), action=raw.get("action", ""),
                applies_to=applies_to, within_years=within, line=raw.get("line", "property"),
                all=conditions["all"], any=conditions["any"], reviewed=raw.get("reviewed", True))


def _condition(item: Any, applies_to: str) -> Condition:
    if not isinstance(item, dict):
        raise _Problem("a condition must be { field = ..., op = ..., value = ... }")
    name, op = item.get("field"), item.get("op")
    if not name:
        raise _Problem("a condition has no field")
    if name not in FIELDS[applies_to]:
        raise _Problem(f"unknown field {name!r} for applies_to = {applies_to!r} "
                       f"(known: {', '.join(FIELDS[applies_to])})")
    if op not in OPS:
        raise _Problem(f"unknown op {op!r} on field {name!r} (one of {', '.join(OPS)})")
    value = item.get("value")
    if op in PRESENCE_OPS:
        return Condition(field=name, op=op)
    if value is None:
        raise _Problem(f"op {op!r} on field {name!r} needs a value")
    if op in LIST_OPS and (not isinstance(value, list) or not value):
        raise _Problem(f"op {op!r} on field {name!r} needs a non-empty list value")
    if op in TEXT_OPS and not isinstance(value, str):
        raise _Problem(f"op {op!r} on field {name!r} needs a text value")
    if op in ("<", "<=", ">", ">=") and _number(value) is None:
        raise _Problem(f"op {op!r} on field {name!r} needs a number, got {value!r}")
    return Condition(field=name, op=op, value=value)


def _lenient(raw: dict[str, Any], rule_id: str) -> Rule:
    """An unreviewed rule with a problem, kept for listing only (never checked)."""
    def conditions(key: str) -> list[Condition]:
        items = raw.get(key) if isinstance(raw.get(key), list) else []
        return [Condition(field=str(i.get("field", "?")), op=str(i.get("op", "?")), value=i.get("value"))
                for i in items if isinstance(i, dict)]

    return Rule(id=rule_id, section=str(raw.get("section", "") or "?"), text=str(raw.get("text", "")),
                action=str(raw.get("action", "")), applies_to=str(raw.get("applies_to", "submission")),
                all=conditions("all"), any=conditions("any"), reviewed=False)


def find_rules(configured: Path | None, workspace: Path, beside: Sequence[Path] = ()) -> Path:
    """The rules file to check with: the one configured (or given), else the workspace's rules.toml, else the
    one rules.toml found beside the ingested documents (the starter file next to a guideline)."""
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise RulesError(f"{path}: no such rules file")
        return path
    default = Path(workspace) / "rules.toml"
    if default.is_file():
        return default
    found = sorted({folder / "rules.toml" for folder in beside if (folder / "rules.toml").is_file()})
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise RulesError("several rules files beside the documents (" + ", ".join(str(p) for p in found)
                         + "): give --rules FILE or set ASSISTANT_RULES_PATH")
    raise RulesError(f"no rules file: give --rules FILE, set ASSISTANT_RULES_PATH, or put one at {default} "
                     "(`assistant rules draft GUIDELINE -o FILE` proposes one)")


# ---- the report ----------------------------------------------------------------------------------------------


class Evidence(BaseModel):
    """One value a trigger rests on, with where it was read (or what it was derived from)."""

    field: str
    value: Any
    method: str = "table"  # table | text | derived
    basis: str = ""  # for a derived value: how it was computed
    sources: list[Source] = Field(default_factory=list)

    def cite(self) -> str:
        return "; ".join(dict.fromkeys(source.cite() for source in self.sources)) or self.basis or "derived"


class Trigger(BaseModel):
    """One place a rule fired: the subject (a location, a claim, ...), the conditions that held, the evidence."""

    subject: str  # "location 2", "claim NBM-23-000588", "property losses", "submission"
    conditions: list[str]  # "area_sqft 36,500 >= 25,000"
    evidence: list[Evidence]


class RuleResult(BaseModel):
    rule_id: str
    section: str
    text: str = ""
    action: str = ""
    applies_to: str
    test: str = ""  # the rule's conditions in words
    status: Status
    triggers: list[Trigger] = Field(default_factory=list)
    unchecked: list[str] = Field(default_factory=list)  # "location 3: cannot check: alarm not stated"


class CheckReport(BaseModel):
    submission: str
    guideline: str = ""
    rules_file: str = ""
    effective_date: Sourced | None = None
    results: list[RuleResult] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def having(self, status: Status) -> list[RuleResult]:
        return [result for result in self.results if result.status == status]

    @property
    def fired(self) -> list[RuleResult]:
        return self.having("fired")

    @property
    def clear(self) -> list[RuleResult]:
        return self.having("clear")

    @property
    def cannot_check(self) -> list[RuleResult]:
        return self.having("cannot_check")

    @property
    def not_reviewed(self) -> list[RuleResult]:
        return self.having("not_reviewed")

    def result(self, rule_id: str) -> RuleResult | None:
        return next((result for result in self.results if result.rule_id == rule_id), None)

    def lines(self) -> list[str]:
        """The report in plain lines, for a terminal."""
        checked = len(self.results) - len(self.not_reviewed)
        out = [f"{self.submission}: {checked} rules checked ({self.guideline or self.rules_file}): "
               f"{len(self.fired)} fired, {len(self.clear)} clear, {len(self.cannot_check)} could not be checked"
               + (f", {len(self.not_reviewed)} not reviewed (not applied)" if self.not_reviewed else "")]
        out += [f"note: {note}" for note in self.notes]
        for result in self.fired:
            out.append(f"FIRED  § {result.section} {result.rule_id}: {result.action or result.text}")
            for trigger in result.triggers:
                out.append(f"  {trigger.subject}: {'; '.join(trigger.conditions)}")
                for item in trigger.evidence:
                    out.append(f"    {item.field} = {show(item.value)}  [{item.cite()}]")
            out += [f"  {line}" for line in result.unchecked]
        for result in self.cannot_check:
            out.append(f"CANNOT CHECK  § {result.section} {result.rule_id}: " + "; ".join(result.unchecked))
        for result in self.clear:
            out.append(f"clear  § {result.section} {result.rule_id}")
        for result in self.not_reviewed:
            out.append(f"not reviewed  § {result.section} {result.rule_id}: {result.text[:80]}")
        return out


# ---- values --------------------------------------------------------------------------------------------------


@dataclass
class Value:
    """A field's value on one subject with its evidence; `lower_bound`: a maximum, sum or count over the
    subjects that state it while others do not (the true figure is at least this)."""

    value: Any
    evidence: list[Evidence] = field(default_factory=list)
    lower_bound: str = ""  # why the value is only a lower bound ("tiv not stated at location 3")


@dataclass
class Missing:
    reason: str  # "alarm not stated"


Lookup = Callable[[str], "Value | Missing"]


def _term_years(terms: Sequence[TermExperience]) -> float | None:
    """The years a loss history's policy terms cover: their periods merged (two carriers' overlapping terms
    count once, a gap between terms not at all)."""
    periods = sorted((t.start, t.end) for t in terms if t.start and t.end and t.end > t.start)
    if not periods:
        return None
    days, (start, end) = 0, periods[0]
    for begin, finish in periods[1:]:
        if begin > end:
            days, start = days + (end - start).days, begin
        end = max(end, finish)
    return round((days + (end - start).days) / 365.25, 2)


def _evidence_of(name: str, sourced: Sourced) -> Evidence:
    return Evidence(field=name, value=sourced.value, method=sourced.method, basis=sourced.basis,
                    sources=[sourced.source] if sourced.source else [])


def _years_before(anchor: date, years: float) -> date:
    whole = int(years)
    months = round((years - whole) * 12)
    year, month = anchor.year - whole, anchor.month - months
    while month < 1:
        month, year = month + 12, year - 1
    day = anchor.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:  # 29 February, 31 April
            day -= 1


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


_RACK_PROTECTION = re.compile(r"\b(?:ESFR|early\s+suppression|in[\s-]?rack)\b", re.IGNORECASE)
_NO_RACK_PROTECTION = re.compile(r"\b(?:no|not|without|non|lacks?)\s+(?:an?\s+|any\s+)?(?:[\w-]+\s+){0,2}?"
                                 r"(?:ESFR|early\s+suppression|in[\s-]?rack)\b|\b(?:ESFR|in[\s-]?rack)\b[^.;]{0,20}?"
                                 r"\b(?:not\s+(?:provided|installed|present)|absent|missing)\b", re.IGNORECASE)


def _storage_protection(loc: LocationProfile | None) -> Value | Missing:
    """Whether the location's storage is under ESFR or in-rack sprinklers (guideline 3.2): yes when its sprinkler
    system, design or the sentence stating the storage height names one and does not deny it ("no in-rack
    sprinklers", "not ESFR"); no when it is unsprinklered or they are denied or another system is stated."""
    if loc is None:
        return Missing("esfr_or_in_rack: no such location")
    readings = [(key, loc.sourced(key)) for key in ("sprinkler_type", "sprinkler_design", "storage_height_ft")]
    readings = [(key, sourced) for key, sourced in readings if sourced is not None]
    texts = [(key, sourced, f"{sourced.value} {sourced.source.quote if sourced.source else ''}") for key, sourced in
             readings]
    sprinklered = loc.sourced("sprinklered")
    if sprinklered is not None and sprinklered.value is False:
        return Value(False, [_evidence_of("sprinklered", sprinklered)])
    denied = [(key, sourced) for key, sourced, text in texts if _NO_RACK_PROTECTION.search(text)]
    if denied:
        return Value(False, [_evidence_of(key, sourced) for key, sourced in denied])
    named = [(key, sourced) for key, sourced, text in texts if _RACK_PROTECTION.search(text)]
    if named:
        return Value(True, [_evidence_of(key, sourced) for key, sourced in named])
    system = loc.sourced("sprinkler_type")
    if system is not None:
        return Value(False, [_evidence_of("sprinkler_type", system)])
    return Missing("esfr_or_in_rack: no sprinkler system stated")


class _Facts:
    """Resolves the fields of every subject of a profile."""

    def __init__(self, profile: Profile, statements: Sequence[Statement] | None = None) -> None:
        self.profile = profile
        self.statements = statements
        self.effective = _as_date(profile.effective_date.value) if profile.effective_date else None

    def effective_evidence(self) -> Evidence:
        assert self.profile.effective_date is not None
        return _evidence_of("effective_date", self.profile.effective_date)

    # -- locations
    def location(self, number: str) -> Lookup:
        loc = self.profile.location(number)

        def lookup(name: str) -> Value | Missing:
            if name in SUBMISSION_FIELDS:
                return self.submission(name)
            if name == "building_area_sqft":  # the area of the location's building, when it has one building
                count = loc.get("buildings") if loc else None
                if isinstance(count, int) and count > 1:
                    return Missing(f"building_area_sqft: {count} buildings, only the site's total area is stated")
                name = "area_sqft"
            if name == "esfr_or_in_rack":
                return _storage_protection(loc)
            sourced = loc.sourced(name) if loc else None
            if sourced is None or sourced.value is None or sourced.value == "":
                return Missing(f"{name} not stated")
            return Value(sourced.value, [_evidence_of(name, sourced)])
        return lookup

    # -- a sentence of the documents
    def statement(self, statement: Statement) -> Lookup:
        def lookup(name: str) -> Value | Missing:
            if name in SUBMISSION_FIELDS:
                return self.submission(name)
            evidence = [Evidence(field="statement", value=statement.text, method="text", sources=[statement.source])]
            if name == "years_before_effective":
                stated = dates_in(statement.text)
                if stated and self.effective is None:
                    return Missing("effective_date not stated (years_before_effective is counted from it)")
                return Value(years_before(self.effective, stated) if stated and self.effective else [], evidence)
            if name == "separation_ft":
                return Value(separations_ft(statement.text), evidence)
            if name == "context" and statement.following:  # the evidence quotes both sentences
                source = statement.source.model_copy(update={"quote": statement.context})
                return Value(statement.context, [Evidence(field="statement", value=statement.context, method="text",
                                                          sources=[source])])
            return Value(statement.text, evidence)
        return lookup

    # -- coverage requests
    def request(self, request: CoverageRequest) -> Lookup:
        def lookup(name: str) -> Value | Missing:
            if name in SUBMISSION_FIELDS:
                return self.submission(name)
            value = getattr(request, name)
            if value is None or value == "":
                return Missing(f"{name} not stated")
            return Value(value, [Evidence(field=name, value=value, sources=[request.source])])
        return lookup

    # -- claims
    @staticmethod
    def claim(claim: Claim) -> Lookup:
        def lookup(name: str) -> Value | Missing:
            value = getattr(claim, name)
            if value is None or value == "":
                return Missing(f"{name} not stated")
            return Value(value, [Evidence(field=name, value=value, sources=[claim.source])])
        return lookup

    # -- recommendations
    def recommendation(self, rec: Recommendation) -> Lookup:
        def lookup(name: str) -> Value | Missing:
            if name in SUBMISSION_FIELDS:
                return self.submission(name)
            value = getattr(rec, name)
            if value is None or value == "":
                return Missing(f"{name} not stated")
            source = rec.status_source if name == "status" and rec.status_source else rec.source
            return Value(value, [Evidence(field=name, value=value, sources=[source])])
        return lookup

    # -- loss summaries
    def losses(self, summary: LossSummary) -> Lookup:
        line = summary.line
        claims = [c for c in self.profile.claims if c.line == line]
        terms = [t for t in self.profile.terms if t.line == line]

        def lookup(name: str) -> Value | Missing:
            if name == "term_years":  # the years the loss runs' policy terms cover, overlaps counted once
                years = _term_years(terms)
                if years is None:
                    return Missing(f"{line} term_years: the loss runs list no policy terms with their dates")
                return Value(years, [Evidence(field=name, value=years, method="derived", basis=f"{len(terms)} "
                                              f"{line} policy terms", sources=list({t.source.cite(): t.source
                                                                                   for t in terms}.values()))])
            value = getattr(summary, name)
            basis = ""
            if name == "loss_ratio_pct":
                if value is None and summary.stated_loss_ratio_pct is not None:
                    value, basis = summary.stated_loss_ratio_pct, "the loss run's stated total loss ratio"
                else:
                    basis = f"incurred / earned premium over {len(terms)} terms"
            if value is None:
                return Missing(f"{line} {name} not stated")
            uses_terms = name in ("loss_ratio_pct", "stated_loss_ratio_pct", "earned_premium", "years_covered")
            sources = [t.source for t in terms] if uses_terms and terms else [c.source for c in claims]
            basis = basis or f"from {len(claims)} {line} claims" + (f" and {len(terms)} terms" if terms else "")
            return Value(value, [Evidence(field=name, value=value, method="derived", basis=basis,
                                          sources=list({s.cite(): s for s in sources}.values()))])
        return lookup

    # -- the submission's derived fields
    def submission(self, name: str) -> Value | Missing:
        locations = self.profile.locations
        if name in ("largest_location_tiv", "total_tiv", "total_area_sqft"):
            key = "area_sqft" if name == "total_area_sqft" else "tiv"
            if name != "largest_location_tiv" and key in self.profile.totals:
                total = self.profile.totals[key]
                return Value(total.value, [_evidence_of(name, total)])
            if not locations:
                return Missing(f"{name}: no locations in the profile")
            stated = [(loc, loc.sourced(key)) for loc in locations]
            known = [(loc, s) for loc, s in stated if s is not None and _number(s.value) is not None]
            missing = [loc.number for loc, s in stated if s is None or _number(s.value) is None]
            if not known:
                return Missing(f"{name}: {key} not stated at any location")
            partial = f"{key} not stated at location {', '.join(missing)}" if missing else ""
            if name == "largest_location_tiv":  # buildings "1-1", "1-2" are one location: their TIVs add up
                sites: dict[str, list[tuple[Any, Sourced]]] = {}
                for loc, sourced in known:
                    sites.setdefault(loc.number.split("-")[0], []).append((loc, sourced))
                site, buildings = max(sites.items(), key=lambda item: sum(_number(s.value) for _, s in item[1]))
                label = (lambda loc: f"tiv (location {loc.number})") if len(buildings) == 1 else (
                    lambda loc: f"tiv (location {site}, building {loc.number})")
                evidence = [_evidence_of(label(loc), sourced) for loc, sourced in buildings]
                if len(buildings) > 1:
                    missing_here = [n for n in missing if n.split("-")[0] == site]
                    partial = partial or (f"tiv not stated at {', '.join(missing_here)}" if missing_here else "")
                return Value(sum(_number(s.value) for _, s in buildings), evidence, partial)
            total_value = sum(_number(s.value) for _, s in known)
            evidence = [_evidence_of(f"{key} (location {loc.number})", s) for loc, s in known]
            return Value(total_value, evidence, partial)
        if name == "location_count":
            return Value(len(locations)) if locations else Missing("no locations in the profile")
        if name == "occupancies":  # every location's occupancy: the submission's class
            stated = [(loc, loc.sourced("occupancy")) for loc in locations]
            stated = [(loc, sourced) for loc, sourced in stated if sourced is not None and sourced.value]
            if not stated:
                return Missing("occupancies: no location's occupancy stated")
            return Value("; ".join(str(sourced.value) for _, sourced in stated),
                         [_evidence_of(f"location {loc.number} occupancy", sourced) for loc, sourced in stated])
        if name == "unsprinklered_locations":  # locations a document states are not sprinklered
            unsprinklered = [loc for loc in locations if loc.get("sprinklered") is False]
            return Value(len(unsprinklered), [_evidence_of(f"location {loc.number} sprinklered",
                                                           loc.sourced("sprinklered")) for loc in unsprinklered])
        if name == "loss_run_documents":  # how many of the submission's documents are loss runs (0: none sent)
            runs = sorted(path for path, role in self.profile.roles.items() if role == "loss_run")
            return Value(len(runs), [Evidence(field=name, value=len(runs), method="derived",
                                              basis="loss runs among the documents: " + (", ".join(
                                                  p.rsplit("/", 1)[-1] for p in runs) or "none"))])
        if name == "loss_run_age_days":
            dated = [(s, _as_date(s.valuation_date.value)) for s in self.profile.losses if s.valuation_date]
            dated = [(s, d) for s, d in dated if d is not None]
            if not dated:
                return Missing("loss run valuation date not stated")
            if self.effective is None:
                return Missing("effective_date not stated (loss_run_age_days is counted from it)")
            summary, latest = max(dated, key=lambda pair: pair[1])
            assert summary.valuation_date is not None
            return Value((self.effective - latest).days,
                         [_evidence_of("valuation_date", summary.valuation_date), self.effective_evidence()])
        if name in ("property_claims_5y", "claims_5y"):
            if not self.profile.claims and not self.profile.terms and not self.profile.losses:
                return Missing(f"{name}: no loss history in the profile")
            if self.effective is None:
                return Missing(f"effective_date not stated ({name} counts the five years before it)")
            start = _years_before(self.effective, 5)
            claims = [c for c in self.profile.claims if name == "claims_5y" or c.line == "property"]
            within = [c for c in claims if c.date_of_loss is not None and c.date_of_loss >= start]
            undated = [c.claim_number or c.source.cite() for c in claims if c.date_of_loss is None]
            evidence = [Evidence(field=f"claim {c.claim_number or '?'} date_of_loss", value=c.date_of_loss,
                                 sources=[c.source]) for c in within]
            evidence.append(self.effective_evidence())
            partial = f"date of loss not stated for {', '.join(undated)}" if undated else ""
            return Value(len(within), evidence, partial)
        return Missing(f"{name} not stated")  # pragma: no cover - the loader refuses unknown fields


# ---- evaluation ----------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*\$?\s*(-?[\d,]*\.?\d+)\s*(%|sq\.? ?ft|ft|feet|mi|miles)?\s*", value, re.I)
        if match:
            try:
                return float(match.group(1).replace(",", ""))
            except ValueError:
                return None
    return None


_TRUE = {"y", "yes", "true", "1"}
_FALSE = {"n", "no", "false", "0", "none"}


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return None


def _text(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().lower()


def _mentions(haystack: Any, phrase: str) -> bool:
    """`phrase` as whole words in `haystack`, case-insensitive (a plural -s or -es is allowed)."""
    words = [re.escape(word) for word in re.split(r"[\s-]+", _text(phrase)) if word]
    pattern = r"(?<![a-z0-9])" + r"[\s-]+".join(words) + r"(?:s|es)?(?![a-z0-9])"
    return re.search(pattern, _text(haystack)) is not None


def _equal(a: Any, b: Any) -> bool | None:
    if isinstance(b, bool) or isinstance(a, bool):
        ta, tb = _truth(a), _truth(b)
        return None if ta is None or tb is None else ta == tb
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    if nb is not None and na is None and not isinstance(a, date):
        return None  # a text where the rule wants a number ("ISO 1 - Frame" for construction_class 1)
    if isinstance(a, date) or isinstance(b, date):
        return _as_date(a) == _as_date(b)
    return _text(a) == _text(b)


def _compare(op: str, a: Any, b: Any) -> bool | None:
    """`a op b`, or None when the stated value is not comparable (a text where a number is needed)."""
    if op in ("==", "!="):
        same = _equal(a, b)
        return None if same is None else same == (op == "==")
    if op in ("in", "not in"):
        found = [_equal(a, item) for item in b]
        if True in found:
            return op == "in"
        return None if None in found else op == "not in"
    if op in ("contains", "not contains"):
        return _mentions(a, b) == (op == "contains")
    if op in ("contains_any", "not contains_any"):
        return any(_mentions(a, item) for item in b) == (op == "contains_any")
    if op in ("states_any", "not states_any"):
        return any(affirms(str(a), item) for item in b) == (op == "states_any")
    if op == "denies_any":
        readings = [affirms(str(a), item) for item in b]
        return False if True in readings else True if False in readings else None
    if isinstance(a, list):  # the figures one sentence states: the test holds when one of them passes
        found = [_compare(op, item, b) for item in a]
        return True if True in found else None if None in found else False
    da, db = _as_date(a), _as_date(b)
    na, nb = (da.toordinal(), db.toordinal()) if da and db else (_number(a), _number(b))
    if na is None or nb is None:
        return None
    return {">": na > nb, ">=": na >= nb, "<": na < nb, "<=": na <= nb}[op]


def _described(condition: Condition, value: Any) -> str:
    """A condition that was tested, in words, with the stated value: "area_sqft 36,500 >= 25,000",
    "sprinklered = no", "occupancy 'Sawmill' mentions 'sawmill'"."""
    name, op, target = condition.field, condition.op, condition.value
    if name in ("text", "context"):  # a sentence: its evidence quotes it
        if op in ("contains_any", "contains"):
            hits = [item for item in (target if isinstance(target, list) else [target]) if _mentions(value, item)]
            return f"{name} mentions " + ", ".join(repr(hit) for hit in hits)
        if op in ("not contains", "not contains_any"):
            return f"{name} does not mention {show(target)}"
    if op == "==":
        return f"{name} = {show(value)}"
    if op in ("contains_any", "contains"):
        hits = [item for item in (target if isinstance(target, list) else [target]) if _mentions(value, item)]
        return f"{name} {show(value)!r} mentions " + ", ".join(repr(hit) for hit in hits)
    if op in ("not contains", "not contains_any"):
        return f"{name} {show(value)!r} does not mention {show(target)}"
    if op == "states_any":
        return f"{name} states " + ", ".join(repr(item) for item in target if affirms(str(value), item))
    if op == "not states_any":
        return f"{name} does not state {show(target)}"
    if op == "denies_any":
        return f"{name} denies " + ", ".join(repr(item) for item in target if affirms(str(value), item) is False)
    if isinstance(value, list):
        passed = [item for item in value if _compare(op, item, target)]
        return f"{name} {show(passed or value)} {op} {show(target)}"
    return f"{name} {show(value)} {op} {show(target)}"


@dataclass
class _Outcome:
    holds: bool | None  # None: unknown
    described: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _test(condition: Condition, lookup: Lookup) -> _Outcome:
    found = lookup(condition.field)
    if condition.op in PRESENCE_OPS:
        stated = isinstance(found, Value)
        holds = stated == (condition.op == "is_stated")
        evidence = found.evidence if stated else []
        return _Outcome(holds, [condition.describe()], evidence)
    if isinstance(found, Missing):
        return _Outcome(None, unknown=[found.reason])
    holds = _compare(condition.op, found.value, condition.value)
    if holds is None and condition.op == "denies_any":
        return _Outcome(None, unknown=[f"{condition.field} states none of {show(condition.value)}"])
    shown = _described(condition, found.value)
    if holds is None:
        return _Outcome(None, unknown=[f"{condition.field} {show(found.value)!r} cannot be compared with "
                                       f"{show(condition.value)!r}"])
    if found.lower_bound and not (holds and condition.op in (">", ">=")):
        # the true figure is at least the value: only "more than" can be decided from it
        return _Outcome(None, unknown=[f"{condition.field}: {found.lower_bound}"])
    evidence = found.evidence
    if holds and condition.op in ("contains", "contains_any") and len(evidence) > 1:
        # a value joined from several (every location's occupancy): the evidence is the ones that matched
        wanted = condition.value if isinstance(condition.value, list) else [condition.value]
        evidence = [e for e in evidence if any(_mentions(e.value, item) for item in wanted)] or evidence
    return _Outcome(holds, [shown + (f" (at least; {found.lower_bound})" if found.lower_bound else "")], evidence)


def _all(outcomes: list[_Outcome]) -> _Outcome:
    if any(o.holds is False for o in outcomes):
        return _Outcome(False)
    unknown = [reason for o in outcomes for reason in o.unknown]
    if unknown:
        return _Outcome(None, unknown=unknown)
    return _Outcome(True, [d for o in outcomes for d in o.described], [e for o in outcomes for e in o.evidence])


def _any(outcomes: list[_Outcome]) -> _Outcome:
    held = [o for o in outcomes if o.holds]
    if held:
        return _Outcome(True, [d for o in held for d in o.described], [e for o in held for e in o.evidence])
    unknown = [reason for o in outcomes for reason in o.unknown]
    return _Outcome(None, unknown=unknown) if unknown else _Outcome(False)


def _evaluate(rule: Rule, lookup: Lookup) -> _Outcome:
    parts = [_all([_test(c, lookup) for c in rule.all])] if rule.all else []
    if rule.any:
        parts.append(_any([_test(c, lookup) for c in rule.any]))
    return _all(parts)


def _subjects(rule: Rule, facts: _Facts) -> tuple[list[tuple[str, Lookup, list[Evidence]]], list[str]]:
    """(subject, lookup, extra evidence) for each thing the rule is tested on, and the reasons it cannot be
    tested at all."""
    profile = facts.profile
    if rule.applies_to == "submission":
        return [("submission", facts.submission, [])], []
    if rule.applies_to == "location":
        if not profile.locations:
            return [], ["cannot check: no locations in the profile"]
        return [(f"location {loc.number}", facts.location(loc.number), []) for loc in profile.locations], []
    if rule.applies_to == "recommendation":
        if not profile.recommendations and "inspection" not in profile.roles.values():
            return [], ["cannot check: no recommendations and no inspection report in the profile"]
        return [(f"recommendation {r.number}", facts.recommendation(r), []) for r in profile.recommendations], []
    if rule.applies_to == "request":
        if not profile.requests:
            return [], ["cannot check: no coverage request stated in the documents"]
        return [(f"request {r.coverage}", facts.request(r), []) for r in profile.requests], []
    if rule.applies_to == "statement":  # each sentence is tested by `_check_statements`
        given = facts.statements is not None
        return [], [] if given else ["cannot check: the documents' sentences were not given to the check"]
    if rule.applies_to == "losses":
        summary = profile.loss_summary(rule.line)
        if summary is None:
            history = "no loss history" if not profile.losses else f"no {rule.line} loss history"
            return [], [f"cannot check: {history} in the profile"]
        return [(f"{rule.line} losses", facts.losses(summary), [])], []
    # claims
    if not profile.claims and not profile.terms and not profile.losses:
        return [], ["cannot check: no loss history in the profile"]
    subjects: list[tuple[str, Lookup, list[Evidence]]] = []
    reasons: list[str] = []
    start = None
    if rule.within_years:
        if facts.effective is None:
            return [], [f"cannot check: effective_date not stated (it anchors 'last {show(rule.within_years)} "
                        "years')"]
        start = _years_before(facts.effective, rule.within_years)
    for claim in profile.claims:
        subject = f"claim {claim.claim_number or claim.source.cite()}"
        extra: list[Evidence] = []
        if start is not None:
            if claim.date_of_loss is None:
                reasons.append(f"{subject}: cannot check: date_of_loss not stated")
                continue
            if claim.date_of_loss < start:
                continue
            extra = [Evidence(field="date_of_loss", value=claim.date_of_loss, sources=[claim.source]),
                     facts.effective_evidence()]
        subjects.append((subject, facts.claim(claim), extra))
    return subjects, reasons


def check(profile: Profile, rules: RuleSet, statements: Sequence[Statement] | None = None) -> CheckReport:
    """Every reviewed rule against the profile: fired (with the evidence per trigger), clear, or could not be
    checked (naming what is not stated); drafted rules are listed as not reviewed and never applied. Statement
    rules test `statements` (`assistant.profile.statements.statements_of`); without them they cannot be checked."""
    facts = _Facts(profile, statements)
    report = CheckReport(submission=profile.submission, guideline=rules.guideline, rules_file=rules.path,
                         effective_date=profile.effective_date, notes=list(rules.notes))
    if profile.effective_date is None or facts.effective is None:
        report.notes.append("effective date not stated: rules over 'the last N years' and the loss runs' age "
                            "cannot be checked")
    for rule in rules.rules:
        result = RuleResult(rule_id=rule.id, section=rule.section, text=rule.text, action=rule.action,
                            applies_to=rule.applies_to, test=rule.describe(), status="clear")
        subjects, reasons = _subjects(rule, facts)
        result.unchecked += reasons
        if rule.applies_to == "statement":
            _check_statements(rule, facts, result)
            subjects = []
        for subject, lookup, extra in subjects:
            outcome = _evaluate(rule, lookup)
            if outcome.holds:
                conditions = list(outcome.described)
                if extra:
                    conditions.append(f"date of loss within {show(rule.within_years)} years before the "
                                      "effective date")
                result.triggers.append(Trigger(subject=subject, conditions=conditions,
                                               evidence=_dedupe([*outcome.evidence, *extra])))
            elif outcome.holds is None:
                result.unchecked.append(f"{subject}: cannot check: {'; '.join(dict.fromkeys(outcome.unknown))}")
        result.status = "fired" if result.triggers else "cannot_check" if result.unchecked else "clear"
        report.results.append(result)
    for rule in rules.unreviewed:
        report.results.append(RuleResult(rule_id=rule.id, section=rule.section, text=rule.text, action=rule.action,
                                         applies_to=rule.applies_to, test=rule.describe(), status="not_reviewed"))
    return report


def _check_statements(rule: Rule, facts: _Facts, result: RuleResult) -> None:
    """A statement rule over every sentence: it fires once for the submission, with each sentence that passed as
    evidence. Where none passed, a sentence that names the hazard and states the requirement met (every condition
    but the `denies_any` ones holds) answers it: clear. Else the sentences that name the hazard without saying
    make it "cannot check", each quoted; a submission field not stated (the effective date) does too."""
    fired: list[_Outcome] = []
    unknown: dict[str, None] = {}
    answered = False
    denials = any(c.op == "denies_any" for c in (*rule.all, *rule.any))
    without_denials = rule.model_copy(update={"all": [c for c in rule.all if c.op != "denies_any"],
                                              "any": [c for c in rule.any if c.op != "denies_any"]})
    for statement in facts.statements or ():
        subject, lookup = f"statement {statement.source.cite()}", facts.statement(statement)
        outcome = _evaluate(rule, lookup)
        if outcome.holds and statement.following:  # quote the sentence after it only where the test needs it
            alone = _evaluate(rule, facts.statement(replace(statement, following="")))
            outcome = alone if alone.holds else outcome
        if outcome.holds:
            fired.append(outcome)
        elif outcome.holds is False and denials:
            answered = answered or _evaluate(without_denials, lookup).holds is True
        elif outcome.holds is None:
            sentence_only = all(reason.startswith(("context ", "text ")) for reason in outcome.unknown)
            text = lookup("text")
            quoted = str(text.value) if isinstance(text, Value) else ""
            quoted = quoted if len(quoted) <= 90 else quoted[:89].rstrip() + "…"
            where = f'{subject.removeprefix("statement ")} ("{quoted}"): ' if sentence_only else ""
            for reason in outcome.unknown:
                unknown[f"{where}{reason}"] = None
    if fired:
        conditions = list(dict.fromkeys(c for o in fired for c in o.described))
        evidence = [e for o in fired for e in o.evidence]
        quoted = [e for e in evidence if e.field == "statement"]  # a sentence and its context: the longer one
        evidence = [e for e in evidence if e.field != "statement" or not any(
            other is not e and other.cite() == e.cite() and str(e.value) in str(other.value)
            and len(str(other.value)) > len(str(e.value)) for other in quoted)]
        result.triggers = [Trigger(subject="submission", conditions=conditions, evidence=_dedupe(evidence))]
    elif not answered:
        result.unchecked += [f"submission: cannot check: {reason}" for reason in unknown]


def _dedupe(evidence: Iterable[Evidence]) -> list[Evidence]:
    seen: dict[tuple[str, str, str], Evidence] = {}
    for item in evidence:
        seen.setdefault((item.field, repr(item.value), item.cite()), item)
    return list(seen.values())


def show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)



def draft_rules(guideline: Path | str, *, text: str | None = None) -> str:
    """Proposed rules (TOML) from a guideline's text, each `reviewed = false`: see `assistant.profile.drafting`."""
    from assistant.profile.drafting import draft_rules as draft

    return draft(guideline, text=text)
