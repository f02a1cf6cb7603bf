"""The profile's model: sourced values per location, values and totals, claims and derived loss figures,
recommendations, conflicts. Pydantic, serialised to JSON as is (`Profile.model_dump(mode="json")`)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

Method = Literal["table", "text", "model", "derived"]  # "model": chosen by the model, verified

# The per-location fields, in the order a reader expects them (COPE, then values), with their labels.
LOCATION_FIELDS: dict[str, str] = {
    "address": "Address",
    "occupancy": "Occupancy",
    "construction_class": "ISO construction class",
    "construction": "Construction",
    "year_built": "Year built",
    "area_sqft": "Area (sq ft)",
    "stories": "Stories",
    "storage_height_ft": "Storage height (ft)",  # the highest a document states
    "sprinklered": "Sprinklered",
    "sprinkler_coverage_pct": "Sprinkler coverage (%)",
    "sprinkler_type": "Sprinkler system",
    "sprinkler_design": "Sprinkler design",
    "alarm": "Alarm",
    "hydrant_distance_ft": "Hydrant distance (ft)",
    "fire_station_distance_mi": "Fire station distance (mi)",
    "ppc": "Public protection class",
    "exposures": "Exposures",
    "buildings": "Buildings",
    "building_value": "Building",
    "contents_value": "Contents",
    "bi_value": "Business income",
    "tiv": "TIV",
}
VALUE_FIELDS = ("building_value", "contents_value", "bi_value", "tiv")
NUMERIC_FIELDS = frozenset(("construction_class", "year_built", "area_sqft", "stories", "sprinkler_coverage_pct",
                            "hydrant_distance_ft", "fire_station_distance_mi", "ppc", *VALUE_FIELDS))
TOTAL_FIELDS = (*VALUE_FIELDS, "area_sqft")


class Source(BaseModel):
    """Where a value was read: the file, a location in it a reader can find, and the verbatim quote."""

    file: str  # the document's path as ingested
    location: str  # "page 3", "sheet SOV row 4", "§ 3.4 Hydrants, ¶ 1", "msg > sov.xlsx, row 2"
    quote: str  # verbatim from the document (a table row as "Header value | ..." text)
    chunk_id: int | None = None
    page: int = 1
    role: str = ""  # the document's role in the submission: sov, loss_run, inspection, broker, notes, other

    @property
    def name(self) -> str:
        return self.file.rsplit("/", 1)[-1]

    def cite(self) -> str:
        return f"{self.name}, {self.location}"


class Sourced(BaseModel):
    """One value with where it came from and how: parsed from a table row, extracted from text, or derived."""

    value: Any
    source: Source | None = None  # None only for derived values (see `basis`)
    method: Method = "table"
    basis: str = ""  # how a derived value was computed ("sum of 2 locations")


class FieldValue(BaseModel):
    """A field of a location: the value shown and every other reading of it (agreeing or not)."""

    value: Sourced | None = None  # None: not stated
    readings: list[Sourced] = Field(default_factory=list)  # all readings, the shown one first

    @property
    def stated(self) -> bool:
        return self.value is not None


class LocationProfile(BaseModel):
    number: str  # "1", or "1-2" for building 2 of location 1
    name: str = ""  # "Molding plant", when a document names it
    fields: dict[str, FieldValue] = Field(default_factory=dict)

    def get(self, key: str) -> Any:
        found = self.fields.get(key)
        return found.value.value if found is not None and found.value is not None else None

    def sourced(self, key: str) -> Sourced | None:
        found = self.fields.get(key)
        return found.value if found is not None else None


class Claim(BaseModel):
    claim_number: str = ""
    date_of_loss: date | None = None
    cause: str = ""
    line: str = "property"  # property | liability | other, from the table or section it is listed in
    paid: float | None = None
    reserve: float | None = None
    incurred: float | None = None
    status: str = ""  # open | closed | reopened | ...
    location: str = ""  # the location number when the claim names one
    policy: str = ""
    source: Source


class TermExperience(BaseModel):
    """One policy term of a loss run's experience summary (premium, claims, incurred, loss ratio)."""

    term: str
    start: date | None = None
    end: date | None = None
    line: str = "property"
    earned_premium: float | None = None
    claims: int | None = None
    incurred: float | None = None
    loss_ratio_pct: float | None = None
    source: Source


class YearLosses(BaseModel):
    year: int
    count: int
    incurred: float


class LossSummary(BaseModel):
    """Figures derived from the claims (and the terms' premiums where stated), per line of business."""

    line: str = "property"
    claims: int = 0
    open_claims: int = 0
    incurred: float = 0.0
    paid: float = 0.0
    open_reserves: float = 0.0
    by_year: list[YearLosses] = Field(default_factory=list)
    years_covered: float | None = None  # span of the loss history in years, from the terms or the claims
    frequency_per_year: float | None = None
    largest: list[str] = Field(default_factory=list)  # claim numbers, largest incurred first
    earned_premium: float | None = None
    loss_ratio_pct: float | None = None  # incurred / earned premium over the terms stated
    stated_loss_ratio_pct: float | None = None  # the loss run's own total loss ratio, when it states one
    valuation_date: Sourced | None = None  # of the loss run the line's claims come from


class Recommendation(BaseModel):
    number: str
    text: str = ""
    priority: str = ""
    status: str = ""  # as the latest document states it ("complete", "in progress - ...", "open" when none)
    location: str = ""
    source: Source
    status_source: Source | None = None


class CoverageRequest(BaseModel):
    """A coverage the broker asks to be quoted, with the amounts asked for ("Spoilage (CP 04 40): $5,000,000
    limit, $50,000 deductible")."""

    coverage: str
    limit: float | None = None
    sublimit: float | None = None
    deductible: float | None = None
    coinsurance_pct: float | None = None
    text: str = ""  # the request as the document words it
    source: Source


class Conflict(BaseModel):
    """Two documents (or a total and its rows) that disagree about one thing."""

    field: str
    location: str = ""  # the location number, "" for the submission
    summary: str  # one line a reader understands: "area_sqft at location 2: 36,500 (SOV) vs 38,000 (inspection)"
    readings: list[Sourced]


class Profile(BaseModel):
    submission: str  # the folder's name
    folder: str
    insured: Sourced | None = None
    effective_date: Sourced | None = None  # of the policy proposed: anchors "the last three years"
    valuation_date: Sourced | None = None  # of the latest loss run
    documents: list[str] = Field(default_factory=list)
    roles: dict[str, str] = Field(default_factory=dict)  # document path -> role
    locations: list[LocationProfile] = Field(default_factory=list)
    totals: dict[str, Sourced] = Field(default_factory=dict)  # stated totals where a document states them, else derived
    premium: dict[str, Sourced] = Field(default_factory=dict)  # "expiring", "quoted", ...
    claims: list[Claim] = Field(default_factory=list)
    terms: list[TermExperience] = Field(default_factory=list)
    losses: list[LossSummary] = Field(default_factory=list)  # one per line of business with claims or terms
    recommendations: list[Recommendation] = Field(default_factory=list)
    requests: list[CoverageRequest] = Field(default_factory=list)  # coverages the broker asks to be quoted
    conflicts: list[Conflict] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # per field or document: why something could not be read
    model: str = ""  # the model that read descriptive fields from prose ("" when none was used)
    model_use: dict[str, Any] = Field(default_factory=dict)  # its requests, values kept and dropped, tokens
    version: int = 1

    def location(self, number: str) -> LocationProfile | None:
        return next((loc for loc in self.locations if loc.number == number), None)

    def loss_summary(self, line: str = "property") -> LossSummary | None:
        return next((summary for summary in self.losses if summary.line == line), None)
