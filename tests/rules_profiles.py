"""Profiles built by hand for the rules and memo tests: Harbor Foods as its documents state it (sample_docs), each
value with a real Source (file, location, verbatim quote)."""

from __future__ import annotations

from datetime import date
from typing import Any

from assistant.profile.model import (
    Claim,
    Conflict,
    FieldValue,
    LocationProfile,
    LossSummary,
    Profile,
    Recommendation,
    Source,
    Sourced,
    TermExperience,
    YearLosses,
)

FOLDER = "/docs/harbor-foods"
SOV = f"{FOLDER}/statement_of_values.csv"
LOSS_RUN = f"{FOLDER}/loss_runs_2019-2024.pdf"
INSPECTION = f"{FOLDER}/fire_inspection_2024.pdf"
BROKER = f"{FOLDER}/broker_cover_letter.docx"
NOTES = f"{FOLDER}/underwriter_notes.txt"

SOV_HEADER = ("Location No", "Building No", "Address", "Occupancy", "Total Insured Value", "Construction",
              "Year Built", "Sprinklered (Y/N)", "Sprinkler Type", "Square Footage", "Stories", "ISO PPC")
SOV_ROWS = {
    "1": ("1", "1", "2150 Wharf Road", "Refrigerated warehouse and distribution center", "$82,750,000",
          "ISO 4 - Masonry Non-Combustible", "2006", "Y", "ESFR wet pipe; double-interlock preaction in freezer",
          "182,000", "1", "3"),
    "2": ("2", "1", "40 Ferry Street", "Dry goods storage and fleet maintenance garage", "$5,530,000",
          "ISO 3 - Non-Combustible", "1988", "N", "None", "36,500", "1", "3"),
}


def sov_source(number: str) -> Source:
    row = SOV_ROWS[number]
    quote = " | ".join(f"{name} {value}" for name, value in zip(SOV_HEADER, row, strict=True))
    return Source(file=SOV, location=f"row {int(number) + 1}", quote=quote, role="sov")


def table(value: Any, number: str) -> FieldValue:
    return FieldValue(value=Sourced(value=value, source=sov_source(number), method="table"))


def text(value: Any, file: str, location: str, quote: str, role: str = "inspection") -> FieldValue:
    source = Source(file=file, location=location, quote=quote, page=int(location.split()[1]) if
                    location.startswith("page") else 1, role=role)
    return FieldValue(value=Sourced(value=value, source=source, method="text"))


def claim(number: str, loss: date, cause: str, paid: float, reserve: float, status: str, page: int,
          line: str = "property") -> Claim:
    quote = (f"{number} | {loss:%m/%d/%Y} | {cause} | {status.title()} | ${paid:,.0f} | ${reserve:,.0f} | "
             f"${paid + reserve:,.0f}")
    return Claim(claim_number=number, date_of_loss=loss, cause=cause, line=line, paid=paid, reserve=reserve,
                 incurred=paid + reserve, status=status,
                 source=Source(file=LOSS_RUN, location=f"page {page}, claim {number}", quote=quote, page=page,
                               role="loss_run"))


def harbor_profile() -> Profile:
    loc1 = LocationProfile(number="1", name="Cold storage warehouse", fields={
        "address": table("2150 Wharf Road, Port Alder, WA 98421", "1"),
        "occupancy": table("Refrigerated warehouse and distribution center", "1"),
        "construction_class": table(4, "1"),
        "construction": table("Masonry Non-Combustible", "1"),
        "year_built": table(2006, "1"),
        "area_sqft": table(182000, "1"),
        "stories": table(1, "1"),
        "sprinklered": table(True, "1"),
        "sprinkler_coverage_pct": text(100, INSPECTION, "page 2", "The building is 100% sprinklered."),
        "sprinkler_type": table("ESFR wet pipe; double-interlock preaction in freezer", "1"),
        "alarm": text("Central station monitored waterflow and valve tamper", INSPECTION, "page 2",
                      "Waterflow and valve tamper signals are monitored by a UL-listed central station."),
        "hydrant_distance_ft": text(180, INSPECTION, "page 1", "Nearest hydrant 180 ft from the north wall."),
        "fire_station_distance_mi": text(1.8, INSPECTION, "page 1", "Port Alder FD Station 2, 1.8 road miles."),
        "ppc": table(3, "1"),
        "building_value": table(28400000, "1"),
        "contents_value": table(41750000, "1"),
        "bi_value": table(12600000, "1"),
        "tiv": table(82750000, "1"),
    })
    loc2 = LocationProfile(number="2", name="Dry goods and garage", fields={
        "address": table("40 Ferry Street, Port Alder, WA 98422", "2"),
        "occupancy": table("Dry goods storage and fleet maintenance garage", "2"),
        "construction_class": table(3, "2"),
        "construction": table("Non-Combustible", "2"),
        "year_built": table(1988, "2"),
        "area_sqft": FieldValue(value=Sourced(value=36500, source=sov_source("2")), readings=[
            Sourced(value=36500, source=sov_source("2")),
            Sourced(value=38000, method="text", source=Source(
                file=INSPECTION, location="page 3", quote="The Ferry Street building measures 38,000 sq ft.",
                page=3, role="inspection"))]),
        "stories": table(1, "2"),
        "sprinklered": table(False, "2"),
        "ppc": table(3, "2"),
        "building_value": table(3150000, "2"),
        "contents_value": table(1480000, "2"),
        "bi_value": table(900000, "2"),
        "tiv": table(5530000, "2"),
    })
    claims = [
        claim("PCI-20-118842", date(2020, 8, 17), "Refrigeration breakdown - spoilage of frozen seafood", 212400, 0,
              "closed", 2),
        claim("NBM-21-004417", date(2021, 12, 27), "Freeze-up of wet sprinkler branch line", 48950, 0, "closed", 1),
        claim("NBM-22-001932", date(2022, 6, 3), "Forklift struck sprinkler main in cooler", 31200, 0, "closed", 1),
        claim("NBM-23-000588", date(2023, 2, 11), "Ammonia release from machine room relief valve", 184500, 0,
              "closed", 1),
        claim("NBM-24-000163", date(2024, 1, 16), "Utility power outage during ice storm; spoilage", 62300, 95000,
              "open", 1),
    ]
    term_rows = [("01/01/2019-01/01/2020", 2019, 298000, 0, 0, 0.0), ("01/01/2020-01/01/2021", 2020, 311500, 1,
                 212400, 68.2), ("01/01/2021-01/01/2022", 2021, 336800, 1, 48950, 14.5),
                 ("01/01/2022-01/01/2023", 2022, 352400, 1, 31200, 8.9),
                 ("01/01/2023-01/01/2024", 2023, 371900, 1, 184500, 49.6),
                 ("01/01/2024-01/01/2025", 2024, 289350, 1, 157300, 54.4)]
    terms = [TermExperience(term=term, start=date(year, 1, 1), end=date(year + 1, 1, 1), earned_premium=premium,
                            claims=count, incurred=incurred, loss_ratio_pct=ratio,
                            source=Source(file=LOSS_RUN, location=f"page 2, term {term}", page=2, role="loss_run",
                                          quote=f"{term} | ${premium:,.0f} | {count} | ${incurred:,.0f} | {ratio}%"))
             for term, year, premium, count, incurred, ratio in term_rows]
    valuation = Sourced(value=date(2024, 9, 30), method="text", source=Source(
        file=LOSS_RUN, location="page 1", quote="Valuation date 09/30/2024", role="loss_run"))
    losses = LossSummary(line="property", claims=5, open_claims=1, incurred=634350, paid=539350, open_reserves=95000,
                         by_year=[YearLosses(year=y, count=c, incurred=i) for y, c, i in
                                  [(2020, 1, 212400), (2021, 1, 48950), (2022, 1, 31200), (2023, 1, 184500),
                                   (2024, 1, 157300)]],
                         years_covered=5.75, frequency_per_year=0.87, earned_premium=1959950, loss_ratio_pct=32.4,
                         stated_loss_ratio_pct=32.4, largest=["PCI-20-118842", "NBM-23-000588", "NBM-24-000163"],
                         valuation_date=valuation)
    recommendations = [
        Recommendation(number="HF-24-01", text="Relocate the pallet storage 50 ft from the building", priority="high",
                       status="complete", location="1", source=Source(
                           file=INSPECTION, location="page 4", quote="HF-24-01 Relocate idle pallet storage", page=4)),
        Recommendation(number="HF-24-02", text="Separate the lithium-ion charging room with 2-hour walls",
                       priority="high", status="in progress - scheduled Q1 2025", location="1",
                       source=Source(file=INSPECTION, location="page 4", quote="HF-24-02 Li-ion charging room",
                                     page=4),
                       status_source=Source(file=NOTES, location="line 24", quote="(HF-24-02) scheduled for Q1 2025",
                                            role="notes")),
        Recommendation(number="HF-24-03", text="Replace the unlisted 2006 cooler panels", priority="medium",
                       status="open", location="1", source=Source(
                           file=INSPECTION, location="page 4", quote="HF-24-03 Unlisted cooler panels", page=4)),
    ]
    conflict = Conflict(field="area_sqft", location="2",
                        summary="area_sqft at location 2: 36,500 (SOV) vs 38,000 (inspection)",
                        readings=loc2.fields["area_sqft"].readings)
    total_source = Source(file=SOV, location="row 4 (TOTAL)", quote="TOTAL | $31,550,000 | $43,230,000 | "
                          "$13,500,000 | $88,280,000", role="sov")
    return Profile(
        submission="harbor-foods", folder=FOLDER,
        insured=Sourced(value="Harbor Foods Distribution LLC", method="text", source=Source(
            file=BROKER, location="¶ 1", quote="Harbor Foods Distribution LLC", role="broker")),
        effective_date=Sourced(value=date(2025, 1, 1), method="text", source=Source(
            file=NOTES, location="line 4", quote="Line: Commercial property, proposed effective 01/01/2025",
            role="notes")),
        documents=[SOV, LOSS_RUN, INSPECTION, BROKER, NOTES],
        roles={SOV: "sov", LOSS_RUN: "loss_run", INSPECTION: "inspection", BROKER: "broker", NOTES: "notes"},
        locations=[loc1, loc2],
        totals={"tiv": Sourced(value=88280000, source=total_source),
                "building_value": Sourced(value=31550000, source=total_source),
                "area_sqft": Sourced(value=218500, method="derived", basis="sum of 2 locations")},
        premium={"expiring": Sourced(value=385800, method="text", source=Source(
            file=NOTES, location="line 7", quote="expiring premium $385,800", role="notes"))},
        claims=claims, terms=terms, losses=[losses], recommendations=recommendations, conflicts=[conflict],
        notes=["fire_inspection_2024.pdf: no alarm stated for location 2"],
    )
