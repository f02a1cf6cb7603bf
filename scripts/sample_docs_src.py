"""Text sources for the sample submission set in ``sample_docs/``.

Everything here is invented: the insureds, brokers, carriers, engineers, addresses and numbers are
fictional, but kept consistent across every document so that each eval question in
``sample_docs/eval/questions.jsonl`` has exactly one right answer.

``scripts/make_sample_docs.py`` turns these sources into PDF, DOCX, XLSX, CSV, HTML, Markdown and
text files.  Money totals, TIVs and loss ratios are computed from the numbers below, never typed twice.

PDF pages are lists of blocks: ("h1", text), ("h2", text), ("p", text), ("kv", [(label, value)]),
("table", {"widths": [...], "header": [...], "rows": [[...]]}), ("bullets", [text]), ("sig", [lines]).
"""

from __future__ import annotations


def p(text: str) -> tuple[str, str]:
    """A paragraph block; the source may wrap freely, whitespace is collapsed."""
    return ("p", " ".join(text.split()))


def money(value: float) -> str:
    return f"${value:,.0f}"


def pct(num: float, den: float) -> str:
    return f"{100.0 * num / den:.1f}%"


# The carrier whose underwriters use the assistant (guidelines, file notes).
COMPANY = "Summit Ridge Insurance Company"

# ---------------------------------------------------------------------------------------------------
# Statements of values (one source of truth for every value, year built, area and construction class)
# ---------------------------------------------------------------------------------------------------

HARBOR_SOV = [
    {
        "loc": 1, "bldg": 1, "address": "2150 Wharf Road", "city": "Port Alder", "state": "WA",
        "zip": "98421", "occupancy": "Refrigerated warehouse and distribution center",
        "building": 28_400_000, "contents": 41_750_000, "bi": 12_600_000,
        "construction": "ISO 4 - Masonry Non-Combustible", "year": 2006, "sprinklered": "Y",
        "sprinkler_type": "ESFR wet pipe; double-interlock preaction in freezer", "sqft": 182_000,
        "stories": 1, "ppc": 3,
    },
    {
        "loc": 2, "bldg": 1, "address": "40 Ferry Street", "city": "Port Alder", "state": "WA",
        "zip": "98422", "occupancy": "Dry goods storage and fleet maintenance garage",
        "building": 3_150_000, "contents": 1_480_000, "bi": 900_000,
        "construction": "ISO 3 - Non-Combustible", "year": 1988, "sprinklered": "N",
        "sprinkler_type": "None", "sqft": 36_500, "stories": 1, "ppc": 3,
    },
]

MERIDIAN_SOV = [
    {
        "loc": 1, "bldg": 1, "address": "4700 Industrial Parkway", "city": "Ashford Mills", "state": "OH",
        "zip": "44618", "occupancy": "Injection molding plant",
        "building": 19_800_000, "contents": 34_600_000, "bi": 22_500_000,
        "construction": "ISO 3 - Non-Combustible", "year": 1979, "sprinklered": "Y",
        "sprinkler_type": "Wet pipe (partial)", "sprinkler_pct": 85, "sqft": 168_000, "stories": 1,
    },
    {
        "loc": 2, "bldg": 1, "address": "4820 Industrial Parkway", "city": "Ashford Mills", "state": "OH",
        "zip": "44618", "occupancy": "Finished goods and resin warehouse",
        "building": 7_900_000, "contents": 11_250_000, "bi": 2_000_000,
        "construction": "ISO 4 - Masonry Non-Combustible", "year": 1998, "sprinklered": "Y",
        "sprinkler_type": "ESFR K-16.8 wet pipe", "sprinkler_pct": 100, "sqft": 78_000, "stories": 1,
    },
    {
        "loc": 3, "bldg": 1, "address": "12 Foundry Road", "city": "Ashford Mills", "state": "OH",
        "zip": "44618", "occupancy": "Tool and die shop, mold storage",
        "building": 1_350_000, "contents": 3_900_000, "bi": 1_100_000,
        "construction": "ISO 2 - Joisted Masonry", "year": 1962, "sprinklered": "N",
        "sprinkler_type": "None", "sprinkler_pct": 0, "sqft": 14_200, "stories": 1,
    },
]

OAKRIDGE_SOV = [
    {
        "loc": 1, "bldg": 1, "address": "310 Chestnut Hill Drive", "city": "Millbrook", "state": "NC",
        "zip": "27597", "occupancy": "Assisted living - 96 units / 118 licensed beds",
        "building": 21_600_000, "contents": 2_450_000, "bi": 4_800_000,
        "construction": "ISO 1 - Frame", "year": 2009, "sprinklered": "Y",
        "sprinkler_type": "NFPA 13R wet pipe (attic not sprinklered)", "sqft": 92_400, "stories": 3,
    },
    {
        "loc": 2, "bldg": 1, "address": "320 Chestnut Hill Drive", "city": "Millbrook", "state": "NC",
        "zip": "27597", "occupancy": "Memory care cottage - 24 beds",
        "building": 4_300_000, "contents": 520_000, "bi": 1_150_000,
        "construction": "ISO 1 - Frame", "year": 2016, "sprinklered": "Y",
        "sprinkler_type": "NFPA 13 wet pipe with dry-pipe attic system", "sqft": 14_600, "stories": 1,
    },
    {
        "loc": 3, "bldg": 1, "address": "330 Chestnut Hill Drive", "city": "Millbrook", "state": "NC",
        "zip": "27597", "occupancy": "Laundry and maintenance building",
        "building": 380_000, "contents": 210_000, "bi": 0,
        "construction": "ISO 1 - Frame", "year": 2009, "sprinklered": "N",
        "sprinkler_type": "None", "sqft": 2_400, "stories": 1,
    },
]


def tiv(row: dict) -> int:
    return row["building"] + row["contents"] + row["bi"]


def total_tiv(rows: list[dict]) -> int:
    return sum(tiv(r) for r in rows)


HARBOR_TIV = total_tiv(HARBOR_SOV)  # 88,280,000
MERIDIAN_TIV = total_tiv(MERIDIAN_SOV)  # 104,400,000
OAKRIDGE_TIV = total_tiv(OAKRIDGE_SOV)  # 35,410,000

HARBOR_RATE = 0.416
MERIDIAN_RATE = 0.525
OAKRIDGE_RATE = 0.560
HARBOR_PREMIUM = round(HARBOR_TIV / 100 * HARBOR_RATE)
MERIDIAN_PREMIUM = round(MERIDIAN_TIV / 100 * MERIDIAN_RATE)
OAKRIDGE_PREMIUM = round(OAKRIDGE_TIV / 100 * OAKRIDGE_RATE)

# ---------------------------------------------------------------------------------------------------
# Loss history.  Each term: (term label, carrier, policy number, earned premium, [claims]).
# Claim: (claim no, date of loss, cause, status, paid, reserved)
# ---------------------------------------------------------------------------------------------------

HARBOR_TERMS = [
    ("01/01/2019-01/01/2020", "Pacific Crest Insurance Company", "PC-CPP-19-55120", 298_000, []),
    ("01/01/2020-01/01/2021", "Pacific Crest Insurance Company", "PC-CPP-20-55120", 311_500, [
        ("PCI-20-118842", "08/17/2020",
         "Refrigeration breakdown - low-stage compressor failure; spoilage of frozen seafood",
         "Closed", 212_400, 0),
    ]),
    ("01/01/2021-01/01/2022", "Northbridge Mutual Insurance Company", "HF-PR-2021-00417", 336_800, [
        ("NBM-21-004417", "12/27/2021",
         "Freeze-up of wet sprinkler branch line at dock doors 14-16; water damage to stock",
         "Closed", 48_950, 0),
    ]),
    ("01/01/2022-01/01/2023", "Northbridge Mutual Insurance Company", "HF-PR-2022-00417", 352_400, [
        ("NBM-22-001932", "06/03/2022",
         "Forklift struck sprinkler main in cooler; water damage and product contamination",
         "Closed", 31_200, 0),
    ]),
    ("01/01/2023-01/01/2024", "Northbridge Mutual Insurance Company", "HF-PR-2023-00417", 371_900, [
        ("NBM-23-000588", "02/11/2023",
         "Ammonia release from machine room relief valve; evacuation and contaminated product",
         "Closed", 184_500, 0),
    ]),
    ("01/01/2024-01/01/2025", "Northbridge Mutual Insurance Company", "HF-PR-2024-00417", 289_350, [
        ("NBM-24-000163", "01/16/2024",
         "Utility power outage during ice storm; spoilage in freezer and cooler",
         "Open", 62_300, 95_000),
    ]),
]
HARBOR_ANNUAL_PREMIUM_2024 = 385_800

MERIDIAN_PROPERTY_TERMS = [
    ("03/01/2020-03/01/2021", "MP-PR-2020-01188", 402_000, [
        ("GLI-P-20-7731", "11/04/2020",
         "Fire - hydraulic oil spray ignited at injection press #22; sprinklers controlled",
         "Closed", 386_700, 0),
    ]),
    ("03/01/2021-03/01/2022", "MP-PR-2021-01188", 418_600, [
        ("GLI-P-22-2291", "03/19/2022",
         "Hail - roof membrane and rooftop unit damage, Location 2 warehouse",
         "Closed", 127_800, 0),
    ]),
    ("03/01/2022-03/01/2023", "MP-PR-2022-01188", 447_300, []),
    ("03/01/2023-03/01/2024", "MP-PR-2023-01188", 489_900, [
        ("GLI-P-23-6604", "09/08/2023",
         "Fire - granulator motor overheated in regrind room; smoke damage to adjacent bay",
         "Closed", 94_350, 0),
        ("GLI-P-24-1127", "02/26/2024",
         "Water damage - frozen domestic water pipe burst above front offices",
         "Open", 18_200, 22_000),
    ]),
    ("03/01/2024-03/01/2025", "MP-PR-2024-01188", 392_500, []),
]
MERIDIAN_GL_TERMS = [
    ("03/01/2020-03/01/2021", "MP-GL-2020-01189", 86_200, []),
    ("03/01/2021-03/01/2022", "MP-GL-2021-01189", 91_500, [
        ("GLI-L-21-4410", "07/12/2021",
         "Products - customer alleged cracked appliance housings; replacement cost claim",
         "Closed", 45_000, 0),
    ]),
    ("03/01/2022-03/01/2023", "MP-GL-2022-01189", 97_800, []),
    ("03/01/2023-03/01/2024", "MP-GL-2023-01189", 104_600, [
        ("GLI-L-23-3050", "05/30/2023",
         "Premises - third-party delivery driver slipped on oil at shipping dock; back injury",
         "Open", 12_400, 60_000),
    ]),
    ("03/01/2024-03/01/2025", "MP-GL-2024-01189", 84_300, []),
]
MERIDIAN_PROPERTY_ANNUAL_2024 = 520_500
MERIDIAN_GL_ANNUAL_2024 = 112_400

OAKRIDGE_TERMS = [
    ("10/01/2019-10/01/2020", "Atlantic Shore Casualty Company", "ASC-HAB-0047731-01", 142_000, [
        ("ASC-19-20871", "10/05/2019",
         "Kitchen grease fire on range; hood suppression system discharged; smoke cleanup",
         "Closed", 23_800, 0),
    ]),
    ("10/01/2020-10/01/2021", "Atlantic Shore Casualty Company", "ASC-HAB-0047731-02", 149_300, [
        ("ASC-21-01455", "01/29/2021",
         "Frozen domestic water line in attic burst; water damage to 11 third-floor units",
         "Closed", 67_450, 0),
    ]),
    ("10/01/2021-10/01/2022", "Blue Ridge Mutual Insurance Company", "OSL-PK-2021-00952", 171_900, [
        ("BRM-22-08817", "08/14/2022",
         "Lightning strike - fire alarm control panel and elevator controller damaged",
         "Closed", 19_600, 0),
    ]),
    ("10/01/2022-10/01/2023", "Blue Ridge Mutual Insurance Company", "OSL-PK-2022-00952", 188_400, []),
    ("10/01/2023-10/01/2024", "Blue Ridge Mutual Insurance Company", "OSL-PK-2023-00952", 172_625, [
        ("BRM-23-12290", "12/02/2023",
         "Fire in commercial clothes dryer, laundry building (Location 3); lint ignition",
         "Closed", 41_300, 0),
        ("BRM-24-02716", "03/09/2024",
         "Windstorm - oak tree fell on memory care cottage roof (Location 2)",
         "Open", 8_750, 36_000),
    ]),
]
OAKRIDGE_ANNUAL_PREMIUM_2023 = 207_150


def incurred(claims: list) -> int:
    return sum(c[4] + c[5] for c in claims)


def loss_ratio(terms: list, prem_idx: int, claims_idx: int) -> str:
    earned = sum(t[prem_idx] for t in terms)
    losses = sum(incurred(t[claims_idx]) for t in terms)
    return pct(losses, earned)


HARBOR_LR = loss_ratio(HARBOR_TERMS, 3, 4)
MERIDIAN_PROP_LR = loss_ratio(MERIDIAN_PROPERTY_TERMS, 2, 3)
MERIDIAN_GL_LR = loss_ratio(MERIDIAN_GL_TERMS, 2, 3)
OAKRIDGE_LR = loss_ratio(OAKRIDGE_TERMS, 3, 4)

# ---------------------------------------------------------------------------------------------------
# Harbor Foods Distribution LLC - fire inspection report (PDF, 4 pages)
# ---------------------------------------------------------------------------------------------------

HARBOR_INSPECTION = {
    "file": "harbor-foods/fire_inspection_2024.pdf",
    "title": "Property Fire Inspection Report - Harbor Foods Distribution LLC",
    "author": "Northline Risk Engineering",
    "date": (2024, 8, 26),
    "header": "NORTHLINE RISK ENGINEERING  |  Property Fire Inspection Report",
    "footer": "Report NRE-24-0818  |  Harbor Foods Distribution LLC  |  Confidential",
    "pages": [
        [
            ("title", "Property Fire Inspection Report"),
            ("kv", [
                ("Named insured", "Harbor Foods Distribution LLC"),
                ("Location inspected", "Location 1 - 2150 Wharf Road, Port Alder, WA 98421"),
                ("Date of inspection", "August 20, 2024"),
                ("Report number", "NRE-24-0818"),
                ("Inspector", "Dana Whitlock, CFPS, Senior Risk Engineer"),
                ("Prepared for", "Cascade Risk Partners (broker) on behalf of the insured"),
                ("Site contact", "Luis Ortega, Facilities Manager"),
                ("Overall risk grade", "Good (above average for class)"),
            ]),
            ("h1", "Executive Summary"),
            p("""Harbor Foods Distribution LLC operates a refrigerated distribution center that
            serves grocery and food-service customers in western Washington. The facility is a
            single-story tilt-up concrete building with insulated metal panel freezer and cooler
            rooms and is protected throughout by automatic sprinklers supplied by a diesel fire
            pump. The principal hazards are the foam-core insulated panels, high-piled storage of
            cartoned food on wood pallets, the anhydrous ammonia refrigeration system and the
            lithium-ion forklift charging area. Management commitment to loss prevention is good.
            Five recommendations are made in Section 6. Location 2 (40 Ferry Street) was not
            visited during this survey."""),
            ("h1", "1. Construction"),
            p("""The building was constructed in 2006 and has not been enlarged. Exterior walls are
            7.25-inch reinforced tilt-up concrete panels. The roof is a steel deck on open-web steel
            bar joists carried by steel girders and interior steel columns, covered by rigid
            polyisocyanurate insulation and a single-ply TPO membrane; the 2019 reroof was installed
            as an FM Class 1 assembly. The building qualifies as ISO Construction Class 4 (Masonry
            Non-Combustible)."""),
            p("""Total floor area is 182,000 square feet on one level: freezer 64,000 sq ft held at
            -10 deg F, cooler 48,000 sq ft held at 34 deg F, ambient warehouse and shipping docks
            60,800 sq ft, ammonia machine room 2,400 sq ft and a two-story office of 6,800 sq ft at
            the southwest corner. Clear height is 40 feet in the freezer and 36 feet elsewhere."""),
            p("""Freezer and cooler rooms are built from insulated metal panels (IMP) with
            polyurethane foam cores, 6 inches thick in the freezer. Labels on the freezer panels
            show FM 4880 Class 1 approval. The original 2006 cooler panels carry no visible listing
            and are assumed to be non-approved combustible foam. The machine room is enclosed by
            2-hour fire-rated masonry walls with 90-minute rated doors."""),
        ],
        [
            ("h1", "2. Occupancy"),
            p("""The insured receives, stores and ships frozen seafood, frozen vegetables, dairy and
            packaged produce. No food processing or cooking is performed on site. The facility runs
            24 hours a day, six days a week, with approximately 140 employees on two shifts."""),
            p("""Storage is in selective and push-back steel racks to 34 feet in the freezer and to
            30 feet in the cooler and ambient areas, with 10-foot aisles. The commodity is Class III
            (food in corrugated cartons on wood pallets) with some cartoned unexpanded Group A
            plastics (bottled beverages and packaging film) in the ambient warehouse."""),
            ("h2", "Refrigeration"),
            p("""Refrigeration is a two-stage anhydrous ammonia (R-717) system with a total charge
            of approximately 12,000 pounds, which brings the site under the OSHA Process Safety
            Management standard (29 CFR 1910.119) and the EPA Risk Management Program. Machine room
            ammonia detectors alarm at 25 ppm and start the emergency exhaust fans at 150 ppm. The
            most recent PSM compliance audit was completed in April 2023 by Cold Chain Compliance
            Group, after the February 2023 relief valve release."""),
            ("h2", "Material handling and standby power"),
            p("""The fleet consists of 46 electric forklifts and pallet jacks, 18 of which use
            lithium-ion batteries. Charging takes place in a 1,800 sq ft area along the east wall
            that is inside the sprinklered ambient warehouse but is not separated by fire-rated
            construction. A 1,000 kW diesel standby generator was installed in May 2024 after the
            January 2024 ice storm outage; it carries the freezer compressors and evaporator fans but
            not the full cooler load."""),
            ("h1", "3. Protection"),
            ("h2", "3.1 Automatic sprinklers"),
            p("""The building is 100% sprinklered. Systems were installed in 2006 to NFPA 13 and the
            ambient warehouse was converted to ESFR in 2019. A dry-pipe system was added to the
            exterior dock canopies in 2022 after the December 2021 freeze-up of a wet branch line.
            Sprinkler systems are summarized below."""),
            ("table", {
                "widths": [10, 38, 30, 52],
                "header": ["No.", "Area served", "System type", "Design"],
                "rows": [
                    ["1", "Ambient warehouse and docks", "Wet pipe ESFR",
                     "K-25.2 pendent, 12 heads at 40 psi"],
                    ["2", "Cooler (34 deg F)", "Wet pipe ESFR", "K-25.2 pendent, 12 heads at 40 psi"],
                    ["3", "Freezer (-10 deg F)", "Double-interlock preaction",
                     "K-16.8 CMSA ceiling heads plus in-rack sprinklers at 10 ft and 20 ft"],
                    ["4", "Office and machine room", "Wet pipe, standard spray",
                     "0.15 gpm/sq ft over 1,500 sq ft"],
                    ["5", "Exterior dock canopies", "Dry pipe", "0.20 gpm/sq ft over 1,500 sq ft"],
                ],
            }),
            p("""Inspection, testing and maintenance follow NFPA 25 under an annual contract with
            Evergreen Fire Protection. The last annual inspection on July 9, 2024 found no
            impairments; the preaction system full trip test was satisfactory."""),
        ],
        [
            ("h2", "3.2 Water supply and fire pump"),
            p("""Water is supplied from the City of Port Alder 12-inch main in Wharf Road through
            an 8-inch fire service with a double check detector assembly, feeding a private 8-inch
            loop. A hydrant flow test on June 4, 2024 recorded 78 psi static and 52 psi residual
            with 1,850 gpm flowing. A 2,000 gpm diesel-driven horizontal split-case fire pump rated
            at 125 psi, in a separate sprinklered pump room, boosts pressure to the ESFR systems.
            The annual pump test on June 11, 2024 delivered 3,000 gpm at 88 psi at the 150% point,
            which meets NFPA 25 acceptance criteria. Weekly churn tests are logged."""),
            ("h2", "3.3 Fire alarm and supervision"),
            p("""Waterflow switches, control valve tamper switches, fire pump running and trouble
            signals, preaction low air and the ammonia detectors are monitored by Cascade Alarm
            Monitoring, a UL-listed central station. Smoke detection is limited to the office and
            the machine room. All sprinkler control valves are electrically supervised."""),
            ("h2", "3.4 Hydrants and public fire protection"),
            p("""The nearest public hydrant, H-217, is on Wharf Road 180 feet from the northeast
            corner of the building. Two private yard hydrants on the 8-inch loop stand on the east
            and west sides. The responding fire department is Port Alder Fire District 3, Station 31
            at 900 Marine View Drive, 1.8 road miles from the site. It is a fully paid career
            department with an estimated response time of 5 minutes. The ISO Public Protection
            Classification for the site is Class 3. District crews completed a pre-incident
            planning walkthrough in February 2024."""),
            ("h1", "4. Exposures"),
            ("table", {
                "widths": [18, 30, 82],
                "header": ["Side", "Distance", "Exposure"],
                "rows": [
                    ["North", "60 feet",
                     "Port Alder Marine Supply - one-story wood frame boat repair shop and chandlery "
                     "with fiberglass resin work and outdoor boat storage. Moderate exposure; the "
                     "exposed wall (machine room) is blank tilt-up concrete."],
                    ["East", "15 feet",
                     "Idle wood pallet stacks of the insured (see Section 5), then the Port Alder "
                     "Terminal Railroad spur at 95 feet."],
                    ["South", "80 feet", "Wharf Road, then a vacant paved lot."],
                    ["West", "40 feet",
                     "Trailer staging yard with up to 60 refrigerated trailers with diesel reefer "
                     "units, then employee parking."],
                ],
            }),
            ("h2", "Natural hazards"),
            p("""The site is in FEMA flood zone X (area of minimal flood hazard), map panel
            53053C0342E, about 6 feet above the mean higher high water line. Storage racks are
            anchored to the slab and sprinkler piping has seismic bracing per NFPA 13. Winter ice
            storms have interrupted utility power, as in January 2024."""),
        ],
        [
            ("h1", "5. Housekeeping and Maintenance"),
            p("""Housekeeping is good overall. Aisles were clear and no storage encroached within
            36 inches of the ESFR deflectors. Hot work is controlled by a written permit system and
            smoking is permitted only at a designated shelter 50 feet west of the building. The
            following exceptions were noted:"""),
            ("bullets", [
                "About 1,200 idle wood pallets stacked 12 feet high along the east wall, only 15 feet "
                "from the building.",
                "Shrink-wrap film and corrugated waste accumulated around the trash compactor at "
                "dock door 31.",
                "Two lithium-ion battery chargers had damaged cable jackets and were tagged out.",
                "Infrared thermography of the main switchgear was last performed in 2021.",
            ]),
            ("h1", "6. Recommendations"),
            ("table", {
                "widths": [20, 18, 92],
                "header": ["No.", "Priority", "Recommendation"],
                "rows": [
                    ["HF-24-01", "High",
                     "Relocate idle pallet storage at least 50 feet from the building, or limit "
                     "stacks to 6 feet high and 30 feet away, per FM Data Sheet 8-24."],
                    ["HF-24-02", "High",
                     "Separate the lithium-ion battery charging area from the warehouse with 1-hour "
                     "fire-rated construction, or move charging to a detached structure."],
                    ["HF-24-03", "Medium",
                     "Confirm the listing of the 2006 cooler panels; replace unlisted panels with FM "
                     "Approved (FM 4880) panels as they are renovated."],
                    ["HF-24-04", "Medium",
                     "Resume annual infrared thermographic surveys of switchgear, motor control "
                     "centers and battery chargers."],
                    ["HF-24-05", "Low",
                     "Remove shrink-wrap and corrugated waste from the dock compactor area at the end "
                     "of every shift."],
                ],
            }),
            p("""The recommendations above were reviewed with Luis Ortega at the closing meeting.
            Management agreed to complete HF-24-01 by October 1, 2024."""),
            ("sig", [
                "Dana Whitlock, CFPS",
                "Senior Risk Engineer, Northline Risk Engineering",
                "410 Capitol Way South, Olympia, WA 98501",
                "Report issued August 26, 2024",
            ]),
        ],
    ],
}

# ---------------------------------------------------------------------------------------------------
# Meridian Plastics Inc - fire inspection report (PDF, 5 pages)
# ---------------------------------------------------------------------------------------------------

MERIDIAN_INSPECTION = {
    "file": "meridian-plastics/fire_inspection_2024.pdf",
    "title": "Loss Control Inspection - Meridian Plastics Inc",
    "author": "Keystone Loss Control Services",
    "date": (2024, 5, 10),
    "header": "KEYSTONE LOSS CONTROL SERVICES  |  Fire and Property Inspection",
    "footer": "KLC-2024-1147  |  Meridian Plastics Inc  |  Prepared for Great Lakes Indemnity Company",
    "pages": [
        [
            ("title", "Fire and Property Inspection"),
            ("kv", [
                ("Insured", "Meridian Plastics Inc"),
                ("Locations", "1: 4700 Industrial Parkway; 2: 4820 Industrial Parkway; "
                              "3: 12 Foundry Road - all Ashford Mills, OH 44618"),
                ("Inspection date", "May 2, 2024"),
                ("Report no.", "KLC-2024-1147"),
                ("Consultant", "Raymond Okafor, P.E."),
                ("Requested by", "Great Lakes Indemnity Company, Loss Control Department"),
                ("Policy", "MP-PR-2024-01188 (property)"),
                ("Interviewed", "Gary Lindholm, Plant Manager; Tasha Moreno, EHS Coordinator"),
            ]),
            ("h1", "Summary"),
            p("""Meridian Plastics Inc is a custom injection molder. The molding plant is a
            non-combustible building that is only partially sprinklered; hydraulic presses using
            mineral oil, combustible plastic dust in the regrind room and a severe pallet yard
            exposure on the east side drive the loss potential. The finished goods warehouse is well
            protected by ESFR sprinklers. Risk quality is rated Below Average until the sprinkler
            gaps and hydraulic oil hazards are corrected. Six recommendations are listed on the
            last page."""),
            ("h1", "1. Construction"),
            ("h2", "Location 1 - Molding plant, 4700 Industrial Parkway"),
            p("""One story, 168,000 sq ft, built in 1979 with bay extensions in 1998 and 2011.
            Steel frame with steel columns, steel bar joists and a metal roof deck with a built-up
            roof covering (reroofed 2014). Walls are insulated metal panels with mineral-wool core
            on steel girts above a 4-foot concrete block wainscot. Eave height is 24 feet. An
            8,500 sq ft steel mezzanine over the east bay holds resin and colorant. ISO Construction
            Class 3 (Non-Combustible)."""),
            ("h2", "Location 2 - Warehouse, 4820 Industrial Parkway"),
            p("""One story, 78,000 sq ft, built in 1998, detached and 120 feet east of the molding
            plant. Precast concrete wall panels, steel joists and metal deck with a mechanically
            fastened single-ply membrane. Clear height 32 feet. ISO Construction Class 4 (Masonry
            Non-Combustible)."""),
            ("h2", "Location 3 - Tool and die shop, 12 Foundry Road"),
            p("""One story, 14,200 sq ft, built in 1962. Brick bearing walls with wood roof joists
            and wood plank deck. ISO Construction Class 2 (Joisted Masonry). Reviewed from the
            exterior and the front office only."""),
        ],
        [
            ("h1", "2. Occupancy and Process Hazards"),
            p("""Meridian produces polypropylene, ABS, nylon and polycarbonate components for
            automotive interior trim, appliance housings and medical device enclosures. The plant
            runs three 8-hour shifts five days a week, with maintenance on weekends."""),
            ("h2", "Injection presses and hydraulic oil"),
            p("""The plant operates 64 horizontal injection molding presses from 85 to 1,100 tons
            clamp force. Fifty-two presses are hydraulic and use petroleum-based (mineral oil)
            hydraulic fluid with reservoirs of 60 to 400 gallons; the other 12 are all-electric.
            Hydraulic oil in the presses totals an estimated 9,800 gallons, with 14 more drums
            (770 gallons) in the oil storage cage. None of the hydraulic presses has a fluid-release
            interlock, and none uses an FM Approved less-flammable fluid. A high-pressure hose
            failure atomizes oil into a spray fire, which is what happened at press #22 in
            November 2020."""),
            ("h2", "Resin handling and regrind"),
            p("""Resin is delivered by bulk truck to six outdoor steel silos of 60,000 lb each on
            the north side and conveyed pneumatically to central dryers. Specialty resins and
            colorants in corrugated gaylords are kept on the unsprinklered mezzanine, typically 300
            to 400 gaylords. Runners and rejects are ground in a 2,200 sq ft regrind room with four
            granulators; dust is captured by a cartridge dust collector outside the north wall
            without explosion venting or an isolation valve."""),
            ("h2", "Utilities"),
            p("""A 400 hp rotary screw air compressor, three process chillers and the main 4,000 amp
            switchgear share the electrical and compressor room on the west side. Mold temperature
            controllers at each press use water, not thermal oil."""),
            ("h2", "Warehouse storage (Location 2)"),
            p("""Finished goods are stored in corrugated cartons and reusable plastic totes,
            classified as cartoned unexpanded Group A plastics, in selective steel racks to 25 feet.
            Bulk resin gaylords are block stacked three high, about 12 feet."""),
            ("h2", "Tool and die shop (Location 3)"),
            p("""Mold building and repair with CNC machining centers, EDM machines, surface grinders
            and welding. About 450 customer-owned and company molds are stored on steel shelving;
            their value is included in the Location 3 contents."""),
        ],
        [
            ("h1", "3. Protection"),
            ("h2", "3.1 Automatic sprinklers"),
            p("""The molding plant has four wet-pipe risers. Press bays are designed for 0.30
            gpm/sq ft over 2,500 sq ft (Extra Hazard Group 1) and packaging for 0.20 gpm/sq ft over
            1,500 sq ft, with standard-response 286 deg F heads at roof level. Approximately 85% of
            the molding plant floor area is sprinklered. The resin mezzanine (8,500 sq ft), the
            maintenance and mold repair shop (9,600 sq ft) and the electrical and compressor room
            (7,100 sq ft) have no sprinklers. The warehouse is fully protected by ESFR sprinklers;
            the tool and die shop is not sprinklered and relies on portable extinguishers."""),
            ("table", {
                "widths": [24, 34, 36, 36],
                "header": ["Location", "System", "Design basis", "Coverage"],
                "rows": [
                    ["1 - Molding plant", "Wet pipe, 4 risers",
                     "EH-1 0.30/2,500; OH-2 0.20/1,500", "About 85% of floor area"],
                    ["2 - Warehouse", "Wet pipe ESFR, 1 riser",
                     "K-16.8 pendent, 12 heads at 52 psi", "100%"],
                    ["3 - Tool and die shop", "None", "Portable extinguishers only", "0%"],
                ],
            }),
            p("""Quarterly and annual testing is performed by Buckeye Fire Protection Co. The last
            five-year internal obstruction investigation, in 2022, found no obstructions or signs of
            microbiologically influenced corrosion."""),
            ("h2", "3.2 Water supply and fire pump"),
            p("""The Ashford Mills Water Department 10-inch main in Industrial Parkway supplies a
            private 8-inch loop serving Locations 1 and 2. A 1,500 gpm electric horizontal
            split-case fire pump rated at 100 psi, installed in 1998 in a pump house beside the
            warehouse, boosts the loop. The annual pump test on March 27, 2024 produced 2,250 gpm
            at 71 psi at the 150% point, which is acceptable. The September 2023 municipal flow test
            recorded 64 psi static and 41 psi residual with 1,420 gpm flowing."""),
            p("""The press bay demand of about 1,180 gpm plus a 500 gpm hose allowance can be met
            with the pump running. Without the pump the supply falls short of the ESFR demand in the
            warehouse."""),
        ],
        [
            ("h2", "3.3 Alarm and supervision"),
            p("""Waterflow and valve tamper switches for all five risers are monitored by Buckeye
            Central Alarm, a UL-listed central station. There is no automatic smoke or heat
            detection in the production areas. Written hot work permit and sprinkler impairment
            programs are in place."""),
            ("h2", "3.4 Hydrants and fire department"),
            p("""The nearest public hydrant is on Industrial Parkway, 350 feet from the main
            entrance of the molding plant; there are no private yard hydrants on the loop. The
            responding fire department is the Ashford Mills Fire Department, Station 2 at
            215 Canal Street, 3.4 road miles away. It is a combination department of career
            officers and paid-on-call firefighters with an estimated response time of 9 minutes.
            The ISO Public Protection Classification is Class 5."""),
            ("h1", "4. Exposures"),
            p("""East: Tri-County Pallet Company, a wood pallet manufacturing and recycling yard,
            lies 70 feet from the east wall of the molding plant. Pallets are stacked outdoors up to
            15 feet high along the shared fence line. The exposed wall is metal panel with six
            window openings and no exposure protection. This is a severe exposure."""),
            p("""North: the resin silos at 20 feet, then a Norfolk Southern rail line. South:
            Industrial Parkway, then the Ashford Mills municipal garage at 250 feet. West: open
            field. Location 2 is 120 feet east of Location 1 and is not considered an exposure to
            it."""),
            ("h1", "5. Housekeeping"),
            p("""Housekeeping is fair. Leaking hydraulic hoses at presses 14, 22 and 31 have
            saturated the surrounding floor; absorbent pads are used but not changed daily. A layer
            of plastic dust and fines about 1/8 inch deep covers the beams and light fixtures of the
            regrind room. Gaylords of regrind were stored in aisles of the east press bay.
            Combustible trash is removed daily by Valley Waste Services, and the smoking area is
            outdoors 40 feet from the building."""),
        ],
        [
            ("h1", "6. Recommendations"),
            ("table", {
                "widths": [20, 18, 92],
                "header": ["No.", "Priority", "Recommendation"],
                "rows": [
                    ["MP-24-01", "Critical",
                     "Extend automatic sprinklers to the resin mezzanine, maintenance shop and "
                     "electrical/compressor room so that the molding plant is 100% sprinklered "
                     "per NFPA 13."],
                    ["MP-24-02", "High",
                     "Install fluid-release interlocks on all 52 hydraulic presses, or convert them "
                     "to an FM Approved industrial fluid."],
                    ["MP-24-03", "High",
                     "Perform a Dust Hazard Analysis per NFPA 652 for the regrind room and dust "
                     "collector, and clean dust to a written schedule."],
                    ["MP-24-04", "Medium",
                     "Repair the hydraulic hose leaks at presses 14, 22 and 31 and clean the "
                     "oil-soaked floors."],
                    ["MP-24-05", "Medium",
                     "Provide exposure protection for the east wall facing Tri-County Pallet: "
                     "replace the windows with blank wall or install window sprinklers."],
                    ["MP-24-06", "Low",
                     "Evaluate automatic sprinkler protection for the Location 3 tool and die shop."],
                ],
            }),
            ("h2", "Loss experience reviewed"),
            p("""The November 2020 press #22 fire was controlled by four sprinklers, and the
            September 2023 granulator motor fire by two. Both events support MP-24-02 and
            MP-24-03."""),
            ("sig", [
                "Raymond Okafor, P.E.",
                "Senior Consultant, Keystone Loss Control Services",
                "1800 East Ninth Street, Cleveland, OH 44114",
                "Report date: May 10, 2024",
            ]),
        ],
    ],
}

# ---------------------------------------------------------------------------------------------------
# Oakridge Senior Living - fire inspection report (PDF, 3 pages)
# ---------------------------------------------------------------------------------------------------

OAKRIDGE_INSPECTION = {
    "file": "oakridge-senior-living/fire_inspection_2024.pdf",
    "title": "Risk Control Survey - Oakridge Senior Living",
    "author": "Blue Ridge Mutual Insurance Company - Risk Control Services",
    "date": (2024, 6, 24),
    "header": "BLUE RIDGE MUTUAL INSURANCE COMPANY  |  Risk Control Services",
    "footer": "Survey BRM-RC-24-3391  |  Oakridge Senior Living, LLC  |  Policy OSL-PK-2023-00952",
    "pages": [
        [
            ("title", "Habitational Risk Control Survey"),
            ("kv", [
                ("Account", "Oakridge Senior Living, LLC"),
                ("Campus", "310, 320 and 330 Chestnut Hill Drive, Millbrook, NC 27597"),
                ("Survey date", "June 18, 2024"),
                ("Survey number", "BRM-RC-24-3391"),
                ("Consultant", "Angela Pruitt, CSP"),
                ("Accompanied by", "Denise Hollowell, Executive Director; Mark Reyes, Maintenance"),
            ]),
            ("h1", "1. Construction"),
            p("""Main building (Location 1, 310 Chestnut Hill Drive): three stories, 92,400 sq ft
            total (30,800 sq ft per floor), built in 2009. Wood frame (IBC Type V-A) on a concrete
            slab, with wood roof trusses, OSB roof sheathing and asphalt shingles; exterior of brick
            veneer and vinyl siding. Corridors are 1-hour rated and the three stairwells are 2-hour
            rated. ISO Construction Class 1 (Frame)."""),
            p("""Memory care cottage (Location 2, 320 Chestnut Hill Drive): one story, 14,600 sq ft,
            built in 2016, wood frame with a wood truss attic, ISO Class 1 (Frame). Laundry and
            maintenance building (Location 3, 330 Chestnut Hill Drive): one story, 2,400 sq ft,
            built in 2009, wood frame, ISO Class 1 (Frame)."""),
            ("h1", "2. Occupancy"),
            p("""Licensed assisted living community with 96 apartments and 118 licensed beds in the
            main building and 24 beds in the secured memory care cottage. The average resident age
            is 84; about 30% of residents use walkers or wheelchairs and 22 residents use
            supplemental oxygen. A commercial kitchen on the first floor serves three meals daily;
            there is also a beauty salon, a chapel and an activity room. Residents are not capable of
            self-preservation without staff assistance, so evacuation capability is rated
            impractical and the building relies on defend-in-place."""),
        ],
        [
            ("h1", "3. Protection"),
            ("h2", "Sprinklers"),
            p("""Main building: NFPA 13R wet-pipe system installed in 2009 with quick-response
            residential sprinklers in apartments, corridors and common areas. As NFPA 13R permits,
            the combustible wood truss attic and concealed floor/ceiling spaces are not sprinklered.
            Sprinkler coverage is estimated at 88% of the protectable area. The 2021 attic pipe
            break shows that the unheated attic also carries domestic water lines."""),
            p("""Memory care cottage: full NFPA 13 protection, 100%, with a wet-pipe system in the
            occupied areas and a separate dry-pipe system in the attic. Laundry and maintenance
            building: not sprinklered."""),
            ("h2", "Water supply"),
            p("""Town of Millbrook 8-inch water main. There is no fire pump. The 2022 flow test
            recorded 68 psi static and 49 psi residual with 1,100 gpm flowing."""),
            ("h2", "Detection and alarm"),
            p("""Addressable fire alarm system with smoke detectors in corridors, common areas and
            every resident apartment, manual pull stations and magnetic door holders on corridor
            smoke doors. Signals are monitored by Piedmont Alarm Monitoring, a UL-listed central
            station. The kitchen hood has a UL 300 wet chemical system serviced semi-annually, last
            in March 2024. A 150 kW diesel generator supplies life safety loads, the elevators and
            the kitchen."""),
            ("h2", "Emergency planning"),
            p("""Fire drills are held quarterly on each shift; the last drill was on May 21, 2024.
            Staff are trained in RACE and PASS procedures."""),
            ("h2", "Hydrants and fire department"),
            p("""The nearest fire hydrant is at the entrance to Chestnut Hill Drive, 420 feet from
            the main building's front entrance. The Millbrook Volunteer Fire Department responds from
            Station 1, 4.6 road miles away, with an estimated response time of 12 minutes; automatic
            mutual aid comes from Wake Crossroads Fire Rescue. The ISO Public Protection
            Classification is Class 6."""),
        ],
        [
            ("h1", "4. Exposures"),
            p("""West: mixed pine and hardwood forest 45 feet from the main building, a
            wildland-urban interface exposure with pine straw landscaping beds against the
            building. North: the memory care cottage, 75 feet away. East: parking lot. South:
            Chestnut Hill Drive, then single-family homes."""),
            ("h1", "5. Housekeeping"),
            p("""Common areas, the kitchen and mechanical rooms are clean. Exceptions: heavy lint
            in the dryer exhaust ducts of the laundry building, where the December 2023 dryer fire
            started; 38 spare E-size oxygen cylinders kept in an unventilated second-floor storage
            closet; and extension cords used with space heaters in five apartments. The campus is
            smoke-free except for a smoking shelter 25 feet from the main building."""),
            ("h1", "6. Recommendations"),
            ("table", {
                "widths": [22, 18, 90],
                "header": ["No.", "Priority", "Recommendation"],
                "rows": [
                    ["OSL-24-01", "High",
                     "Provide sprinkler protection in the main building attic (dry-pipe or listed "
                     "attic sprinklers) so the building meets NFPA 13."],
                    ["OSL-24-02", "High",
                     "Clean dryer exhaust ducts monthly and lint traps after every load; document "
                     "both."],
                    ["OSL-24-03", "Medium",
                     "Create 30 feet of defensible space on the west side and replace pine straw "
                     "next to the building with non-combustible mulch."],
                    ["OSL-24-04", "Medium",
                     "Move spare oxygen cylinders to a ventilated, rated storage room meeting "
                     "NFPA 99."],
                    ["OSL-24-05", "Low",
                     "Prohibit space heaters and extension cords in resident apartments; inspect "
                     "monthly."],
                ],
            }),
            ("sig", [
                "Angela Pruitt, CSP",
                "Risk Control Consultant, Blue Ridge Mutual Insurance Company",
                "Survey report dated June 24, 2024",
            ]),
        ],
    ],
}

# ---------------------------------------------------------------------------------------------------
# Broker cover letters (DOCX).  Blocks: ("h1"|"h2"|"p"|"bullets"|"table", ...)
# ---------------------------------------------------------------------------------------------------

HARBOR_LETTER = {
    "file": "harbor-foods/broker_cover_letter.docx",
    "author": "Melissa Tran",
    "date": (2024, 10, 15),
    "blocks": [
        ("p", "Cascade Risk Partners | 1201 Pacific Avenue, Suite 1400, Tacoma, WA 98402"),
        ("p", "October 15, 2024"),
        ("p", f"{COMPANY}, Attn: Jordan Castellano, Senior Property Underwriter"),
        ("h1", "Re: Harbor Foods Distribution LLC - Commercial Property Renewal Submission"),
        ("p", "Proposed effective date: January 1, 2025. Quotes requested by December 1, 2024."),
        ("h2", "Account Overview"),
        ("p", "Harbor Foods Distribution LLC is a third-generation, family-owned refrigerated "
              "distributor operating a 182,000 square foot cold-storage warehouse at 2150 Wharf "
              "Road in Port Alder, Washington, plus a dry goods and fleet garage at 40 Ferry "
              "Street. The property program is currently written by Northbridge Mutual Insurance "
              f"Company under policy HF-PR-2024-00417 at an annual premium of "
              f"{money(HARBOR_ANNUAL_PREMIUM_2024)}. Northbridge has signalled a double-digit "
              "increase, driven by the 2023 ammonia claim, and we are marketing the account."),
        ("h2", "Coverage Requested"),
        ("table", [
            ["Coverage", "Request"],
            ["Total insured values (blanket)", money(HARBOR_TIV)],
            ["Forms", "CP 00 10, CP 10 30 (Special Form), CP 00 30 Business Income"],
            ["Spoilage (CP 04 40)", "$5,000,000 limit, $50,000 deductible"],
            ["Ammonia contamination", "$2,500,000 sublimit"],
            ["Flood", "$10,000,000 sublimit (site is flood zone X)"],
            ["All other perils deductible", "$50,000"],
            ["Coinsurance", "Agreed Value"],
        ]),
        ("h2", "Loss History"),
        ("p", "Five years of loss runs are enclosed. The two largest recent claims are the "
              "February 11, 2023 ammonia relief valve release and the January 16, 2024 ice storm "
              "power outage; the spoilage claim remains open. Both causes have been addressed."),
        ("h2", "Risk Improvements Since Last Renewal"),
        ("bullets", [
            "1,000 kW diesel standby generator installed in May 2024, carrying the freezer load.",
            "Relief valve headers re-piped to a diffusion tank and the PSM program re-audited in "
            "April 2023.",
            "Dry-pipe sprinkler system installed on the dock canopies in 2022.",
            "Idle pallets moved to the west yard, completing inspection recommendation HF-24-01.",
        ]),
        ("h2", "Enclosures"),
        ("bullets", [
            "Statement of values (CSV)",
            "Loss run package valued 09/30/2024",
            "Northline Risk Engineering fire inspection report NRE-24-0818",
        ]),
        ("p", "Please call me with any questions."),
        ("p", "Melissa Tran, CPCU, Senior Vice President, Cascade Risk Partners, (253) 555-0147"),
    ],
}

MERIDIAN_LETTER = {
    "file": "meridian-plastics/broker_cover_letter.docx",
    "author": "Paul Dziedzic",
    "date": (2024, 12, 9),
    "blocks": [
        ("p", "LAKESHORE COMMERCIAL INSURANCE SERVICES"),
        ("p", "600 Superior Avenue East, Cleveland, OH 44114"),
        ("p", "December 9, 2024"),
        ("p", f"To: Renee Adeyemi, Manufacturing Property Underwriter, {COMPANY}"),
        ("h1", "Submission: Meridian Plastics Inc - Property and General Liability"),
        ("p", "Term: March 1, 2025 to March 1, 2026. Incumbent: Great Lakes Indemnity Company, "
              "policies MP-PR-2024-01188 (property) and MP-GL-2024-01189 (general liability). "
              f"Expiring premiums: property {money(MERIDIAN_PROPERTY_ANNUAL_2024)}, general "
              f"liability {money(MERIDIAN_GL_ANNUAL_2024)}."),
        ("h2", "The Business"),
        ("p", "Meridian Plastics is a custom injection molder serving automotive, appliance and "
              "medical device customers from its campus on Industrial Parkway in Ashford Mills, "
              "Ohio. Projected gross sales for fiscal 2024 are $86,400,000, which is the rating "
              "basis for the general liability quote."),
        ("h2", "Property Program"),
        ("table", [
            ["Item", "Requested terms"],
            ["Total insured value, 3 locations", money(MERIDIAN_TIV)],
            ["Coverage forms", "CP 00 10 with CP 10 30 Causes of Loss - Special Form; CP 00 30"],
            ["Business income", "12 months actual loss sustained, 120-day extended period"],
            ["Dependent property (CP 15 08)", "$2,500,000 for Vantor Automotive Interiors"],
            ["Deductible", "$100,000 all other perils"],
        ]),
        ("h2", "General Liability"),
        ("p", "Coverage on form CG 00 01 (occurrence) with limits of $1,000,000 each occurrence, "
              "$2,000,000 general aggregate and $2,000,000 products-completed operations aggregate. "
              "Medical device components represent less than 8% of sales and are limited to "
              "non-implantable housings."),
        ("h2", "Addressing the Sprinkler Gap"),
        ("p", "We know that the molding plant is only 85% sprinklered. The board approved a "
              "$410,000 capital project in September 2024; Buckeye Fire Protection Co. has been "
              "awarded the contract to sprinkler the resin mezzanine, maintenance shop and "
              "compressor room, with completion scheduled for April 2025. The insured will accept "
              "a completion warranty."),
        ("h2", "Other Improvements"),
        ("bullets", [
            "Dust Hazard Analysis completed in September 2024 (recommendation MP-24-03).",
            "Hose leaks at presses 14, 22 and 31 repaired; oil-soaked floors cleaned.",
            "Fourteen hydraulic presses converted to FM Approved fluid; interlocks on twenty more.",
        ]),
        ("p", "Enclosed: statement of values (XLSX), Great Lakes loss runs valued 12/02/2024, the "
              "Keystone inspection report KLC-2024-1147 and the Halvorsen engineering survey."),
        ("p", "Regards, Paul Dziedzic, ARM, Account Executive, (216) 555-0192"),
    ],
}

OAKRIDGE_LETTER = {
    "file": "oakridge-senior-living/broker_cover_letter.docx",
    "author": "Carla Jennings",
    "date": (2024, 8, 12),
    "blocks": [
        ("p", "Piedmont Insurance Brokers, 4100 Glenwood Avenue, Raleigh, NC 27612"),
        ("p", "August 12, 2024"),
        ("p", f"{COMPANY} - Habitational Unit, Attn: Tomas Whitfield"),
        ("h1", "New Business Submission: Oakridge Senior Living, LLC"),
        ("p", "We are pleased to submit Oakridge Senior Living for property and general liability "
              "effective October 1, 2024. The account is currently insured by Blue Ridge Mutual "
              "Insurance Company under package policy OSL-PK-2023-00952, which expires October 1, "
              "2024. Blue Ridge is exiting assisted living and has issued a non-renewal notice."),
        ("h2", "About the Community"),
        ("p", "Oakridge is a family-operated assisted living community in Millbrook, North "
              "Carolina: a three-story, 96-apartment main building (118 licensed beds) opened in "
              "2009, a 24-bed memory care cottage opened in 2016 and a small laundry building. "
              "Occupancy has averaged 93% over the past twelve months."),
        ("h2", "Requested Terms"),
        ("table", [
            ["Line", "Request"],
            ["Property - total insured value", money(OAKRIDGE_TIV)],
            ["Property forms", "CP 00 10, CP 10 30, CP 00 30 (12 months business income)"],
            ["Property deductible", "$25,000 all other perils"],
            ["General liability", "CG 00 01, $1,000,000 / $3,000,000"],
            ["Abuse and molestation", "$250,000 sublimit"],
        ]),
        ("p", "Professional liability is placed separately on a claims-made basis and is not part "
              "of this request."),
        ("h2", "Protection and Loss Control"),
        ("p", "The main building has an NFPA 13R sprinkler system; the owner has obtained a bid "
              "of $186,000 to add dry-pipe sprinklers in the attic and can complete the work by "
              "March 31, 2025. The memory care cottage is fully NFPA 13 sprinklered including the "
              "attic. Fire alarm signals are monitored by a UL-listed central station."),
        ("h2", "Loss History"),
        ("p", "Five years of loss runs from Atlantic Shore Casualty and Blue Ridge Mutual are "
              "enclosed, valued 07/31/2024. There have been no liability claims in the period."),
        ("p", "Sincerely, Carla Jennings, CIC, Senior Account Manager, Piedmont Insurance Brokers"),
    ],
}

# ---------------------------------------------------------------------------------------------------
# Meridian statement of values (XLSX) - sheet 2: business income worksheet
# ---------------------------------------------------------------------------------------------------

MERIDIAN_BI_WORKSHEET = [
    ("Worksheet", "Business Income Worksheet - Meridian Plastics Inc, fiscal year ending 12/31/2024"),
    ("Basis", "CP 15 15 worksheet, projected figures"),
    ("Gross sales (projected FY2024)", 86_400_000),
    ("Less: raw materials (resin, colorant, packaging)", 41_300_000),
    ("Less: outside services and freight", 4_900_000),
    ("Gross earnings", 40_200_000),
    ("Business income limit requested (all locations)", 25_600_000),
    ("Period of restoration assumed", "12 months"),
    ("Extended period of indemnity", "120 days"),
    ("Ordinary payroll", "Included, 90 days"),
    ("Largest customer", "Vantor Automotive Interiors - 38% of sales"),
    ("Dependent property limit requested (CP 15 08)", 2_500_000),
    ("Critical bottleneck", "Presses over 700 tons (8 units) - lead time 40 weeks"),
    ("Prepared by", "Lakeshore Commercial Insurance Services, 12/02/2024"),
]

# ---------------------------------------------------------------------------------------------------
# Underwriting guidelines (Markdown)
# ---------------------------------------------------------------------------------------------------

GUIDELINES_MD = f"""# {COMPANY} - Commercial Property and Casualty Underwriting Guidelines

Version 2024.3, effective July 1, 2024. Issued by the Home Office Property Underwriting Department.
These guidelines apply to new and renewal middle-market property and general liability business.

## 1. Scope and use

Guidelines set minimum acceptability standards. Any risk that does not meet a standard in Sections 3
to 7 must be referred at the level shown in Section 2. Document every referral and its approval in the
underwriting file notes.

## 2. Underwriting authority

2.1 Authority is measured by total insured value (TIV = building + contents + business income) at the
largest single location.

| Authority level | Title | Maximum TIV per location |
|---|---|---|
| Level I | Underwriter | $25,000,000 |
| Level II | Senior Underwriter | $60,000,000 |
| Home Office | VP Property | Above $60,000,000 |

2.2 Referrals under Sections 3.1, 5.3 and 7 go to the Home Office regardless of TIV.

## 3. Fire protection requirements

3.1 **Minimum sprinkler requirement.** Every building of 25,000 square feet or more must be protected by
automatic sprinklers designed and installed to NFPA 13 covering at least 90% of the floor area.
Coverage below 90%, or an unsprinklered building of 25,000 square feet or more, requires Home Office
referral. NFPA 13R and 13D systems are acceptable only for the habitational classes in Section 7.3.

3.2 High-piled storage above 12 feet requires ESFR sprinklers or in-rack sprinklers designed for the
commodity. Storage of Group A plastics requires a design to NFPA 13 or FM Data Sheet 8-9.

3.3 Central station monitoring of waterflow and valve tamper signals is required for any location with
a TIV above $10,000,000.

3.4 **Public protection.** ISO Public Protection Classification (PPC) 1 to 6 is acceptable. PPC 7 and 8
require referral to the Regional Manager. PPC 9 and 10 are ineligible for frame (ISO Class 1)
construction. The responding fire station must be within 5 road miles and a public or private hydrant
within 1,000 feet of the building.

3.5 Sprinkler impairments longer than 10 days must be reported to the underwriter, who may require an
impairment plan or fire watch.

## 4. Construction classes

| ISO class | Description | Notes |
|---|---|---|
| 1 | Frame | Habitational maximum four stories |
| 2 | Joisted Masonry | Unsprinklered JM over 15,000 sq ft: refer |
| 3 | Non-Combustible | |
| 4 | Masonry Non-Combustible | |
| 5 | Modified Fire Resistive | |
| 6 | Fire Resistive | |

Buildings with combustible foam plastic insulated panels must have FM Approved (FM 4880) or
UL 1040 listed panels; otherwise refer to the Home Office.

## 5. Loss history

5.1 **Loss ratio thresholds.** Use the five-year incurred loss ratio (paid plus reserves divided by
earned premium):

- 55% or less: acceptable within authority.
- Above 55% and up to 75%: refer to the Regional Manager.
- Above 75%: decline unless the Home Office approves a documented corrective action plan.

5.2 **Frequency.** More than four property claims in five years requires a loss control visit and a
written loss control plan, whatever the loss ratio.

5.3 **Large losses.** Any single loss with total incurred above $150,000 in the last three years
requires Home Office referral.

5.4 Carrier loss runs covering five years are required, valued within 90 days of the proposed
effective date.

## 6. Occupancy eligibility

6.1 **Ineligible occupancies.** The following are not written:

- Fireworks or explosives manufacturing and storage
- Cannabis cultivation, processing or dispensaries
- Waste recycling, tire recycling and scrap yards
- Sawmills, wood pellet plants and pallet manufacturing or recycling
- Expanded foam plastics manufacturing (EPS, polyurethane foam)
- Vacant or unoccupied buildings (more than 60 consecutive days)
- Nightclubs and bars with live entertainment
- Grain elevators and feed mills

6.2 **Conditional occupancies** (acceptable only under Section 7): refrigerated warehouses and cold
storage, plastics injection molding and extrusion, and senior living and assisted living facilities.

## 7. Class guidelines

### 7.1 Cold storage and refrigerated warehouses

- Anhydrous ammonia systems over 10,000 lb must comply with OSHA PSM (29 CFR 1910.119), with a
  compliance audit completed within the last three years.
- Freezers must be protected by preaction or dry-pipe systems, or by listed freezer sprinklers.
- Insulated metal panels must meet Section 4; unlisted panels require Home Office referral.
- Spoilage is written only on CP 04 40 with a maximum sublimit of $2,500,000 and a minimum deductible
  of $25,000. Ammonia contamination is sublimited to $1,000,000.
- Standby power able to carry the freezer load for 48 hours earns a rate credit of up to 5%.

### 7.2 Plastics injection molding

- Hydraulic presses must use FM Approved less-flammable fluid or have fluid-release interlocks; until
  then apply the partial-sprinkler minimum rate in Section 9.
- A Dust Hazard Analysis (NFPA 652) is required where regrind or granulating is performed.
- Minimum all other perils deductible $100,000.
- Outdoor combustible exposures within 100 feet (for example pallet yards) must be noted and priced.

### 7.3 Senior living, assisted living and memory care

- Frame buildings must be fully sprinklered. NFPA 13R is acceptable only for buildings of two stories
  or fewer, or where the combustible attic is sprinklered; otherwise refer to the Home Office with a
  completion warranty for attic protection.
- Addressable fire alarm with smoke detection in corridors and sleeping rooms, monitored by a central
  station (Protective Safeguards P-2).
- Commercial cooking protected by a UL 300 system (P-5).
- Oxygen cylinder storage must meet NFPA 99.
- PPC 1 to 6 only. Professional liability is not written by this company.

## 8. Approved forms

| Form | Title | Use |
|---|---|---|
| CP 00 10 | Building and Personal Property Coverage Form | All property accounts |
| CP 10 30 | Causes of Loss - Special Form | Standard causes of loss form |
| CP 10 20 | Causes of Loss - Broad Form | Only with Home Office approval |
| CP 00 30 | Business Income (and Extra Expense) Coverage Form | When BI values are reported |
| CP 04 11 | Protective Safeguards | Mandatory where credit is given for P-1 to P-5 |
| CP 04 40 | Spoilage Coverage | Cold storage and food accounts (Section 7.1) |
| CP 15 08 | Business Income From Dependent Properties - Broad Form | Limit up to $2,500,000 |
| CG 00 01 | Commercial General Liability Coverage Form (occurrence) | All GL accounts |
| CG 00 02 | Commercial General Liability Coverage Form (claims-made) | Not offered |
| CG 21 47 | Employment-Related Practices Exclusion | Mandatory on all GL policies |
| IL 00 17 | Common Policy Conditions | All policies |

Protective Safeguards symbols on CP 04 11: P-1 automatic sprinkler system, P-2 automatic fire alarm
(central station), P-3 security service, P-4 service contract, P-5 automatic commercial cooking
exhaust and extinguishing system.

## 9. Minimum rates and deductibles

| Class | Minimum property rate per $100 TIV |
|---|---|
| Cold storage, ISO 3 to 6, fully sprinklered | 0.350 |
| Plastics molding, 100% sprinklered | 0.450 |
| Plastics molding, partially sprinklered | 0.500 |
| Senior living, frame, NFPA 13 | 0.400 |
| Senior living, frame, NFPA 13R | 0.500 |

Minimum all other perils deductible by total program TIV: under $10,000,000: $10,000;
$10,000,000 to $50,000,000: $25,000; over $50,000,000: $50,000. An unsprinklered building carries a
minimum deductible of $25,000 regardless of TIV.

Coinsurance is 90% minimum. Agreed Value may be granted with a signed statement of values dated within
12 months.
"""

# ---------------------------------------------------------------------------------------------------
# Meridian engineering survey (HTML)
# ---------------------------------------------------------------------------------------------------

MERIDIAN_SURVEY_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Property Loss Prevention Survey - Meridian Plastics Inc</title>
</head>
<body>
<h1>Property Loss Prevention Survey and Loss Estimate</h1>
<p><strong>Client:</strong> Meridian Plastics Inc, 4700 and 4820 Industrial Parkway and 12 Foundry Road,
Ashford Mills, OH 44618<br>
<strong>Prepared by:</strong> Halvorsen Engineering Group, Columbus, Ohio<br>
<strong>Engineer:</strong> Priya Natarajan, P.E.<br>
<strong>Survey date:</strong> October 22, 2024<br>
<strong>Commissioned by:</strong> Lakeshore Commercial Insurance Services, for marketing of the
March 1, 2025 renewal</p>

<h2>1. Purpose and Scope</h2>
<p>This survey updates the COPE information for the three Meridian locations, follows up the six
recommendations of the May 2024 Keystone inspection (KLC-2024-1147) and provides loss estimates for the
molding plant, which is the largest fire area. Values are taken from the broker's statement of values
for the March 1, 2025 renewal.</p>

<h2>2. COPE Summary</h2>
<table border="1">
<thead>
<tr><th>Location</th><th>Construction</th><th>Occupancy</th><th>Protection</th><th>Exposure</th></tr>
</thead>
<tbody>
<tr><td>1 - Molding plant</td><td>ISO 3 Non-Combustible, 1979, 168,000 sq ft</td>
<td>64 injection presses, regrind, resin mezzanine</td>
<td>Wet pipe, about 85% sprinklered; 1,500 gpm electric fire pump; central station</td>
<td>Pallet yard 70 ft east (severe)</td></tr>
<tr><td>2 - Warehouse</td><td>ISO 4 Masonry Non-Combustible, 1998, 78,000 sq ft</td>
<td>Cartoned unexpanded Group A plastics in racks to 25 ft</td>
<td>ESFR K-16.8, 100%</td><td>Light</td></tr>
<tr><td>3 - Tool and die shop</td><td>ISO 2 Joisted Masonry, 1962, 14,200 sq ft</td>
<td>Mold building and repair; mold storage</td><td>Not sprinklered</td><td>Light</td></tr>
</tbody>
</table>

<h2>3. Loss Estimates (Location 1 - Molding Plant)</h2>
<p>Location 1 values: building $19,800,000, contents $34,600,000 and business income $22,500,000, a
total of $76,900,000.</p>
<table border="1">
<thead>
<tr><th>Estimate</th><th>Scenario</th><th>Property damage</th><th>Business income</th><th>Total</th></tr>
</thead>
<tbody>
<tr><td>Normal Loss Expectancy (NLE)</td>
<td>Hydraulic oil spray fire at one press cell; sprinklers operate; 10 days of downtime</td>
<td>$4,900,000</td><td>$1,300,000</td><td>$6,200,000</td></tr>
<tr><td>Probable Maximum Loss (PML)</td>
<td>Fire starts in the unsprinklered resin mezzanine and spreads into the east press bay before
sprinklers control it; 5 months of downtime</td>
<td>$12,500,000</td><td>$6,200,000</td><td>$18,700,000</td></tr>
<tr><td>Maximum Foreseeable Loss (MFL)</td>
<td>All fixed protection fails; burnout of the molding plant; 12 months of downtime</td>
<td>$42,900,000</td><td>$18,500,000</td><td>$61,400,000</td></tr>
</tbody>
</table>
<p>The PML falls to an estimated $9,800,000 once sprinkler protection is extended to the mezzanine
under recommendation MP-24-01.</p>

<h2>4. Hydraulic Press Fluid Status</h2>
<table border="1">
<thead>
<tr><th>Condition</th><th>Number of hydraulic presses</th></tr>
</thead>
<tbody>
<tr><td>Converted to FM Approved less-flammable fluid</td><td>14</td></tr>
<tr><td>Mineral oil with fluid-release interlock installed</td><td>20</td></tr>
<tr><td>Mineral oil with no safeguard</td><td>18</td></tr>
<tr><td>Total hydraulic presses</td><td>52</td></tr>
</tbody>
</table>

<h2>5. Status of Prior Recommendations</h2>
<table border="1">
<thead>
<tr><th>No.</th><th>Subject</th><th>Status at October 22, 2024</th></tr>
</thead>
<tbody>
<tr><td>MP-24-01</td><td>Sprinklers for mezzanine, maintenance shop, compressor room</td>
<td>In progress - contract awarded to Buckeye Fire Protection Co.; completion due April 2025</td></tr>
<tr><td>MP-24-02</td><td>Hydraulic press interlocks or approved fluid</td>
<td>Partially complete - 34 of 52 presses safeguarded</td></tr>
<tr><td>MP-24-03</td><td>Dust Hazard Analysis, regrind room</td>
<td>Complete - DHA issued September 2024 by Ridgeline Process Safety</td></tr>
<tr><td>MP-24-04</td><td>Hose leaks at presses 14, 22, 31</td><td>Complete</td></tr>
<tr><td>MP-24-05</td><td>East wall exposure protection</td><td>Not started</td></tr>
<tr><td>MP-24-06</td><td>Sprinklers for the tool and die shop</td>
<td>Declined by insured - building under 15,000 sq ft</td></tr>
</tbody>
</table>

<h2>6. New Recommendations</h2>
<ol>
<li><strong>HEG-24-1:</strong> Add an explosion isolation valve (flap valve) on the dust collector inlet
duct serving the regrind room, as identified in the DHA.</li>
<li><strong>HEG-24-2:</strong> Keep gaylords on the resin mezzanine to no more than 250 until sprinkler
protection is in service.</li>
<li><strong>HEG-24-3:</strong> Provide a second fire pump driver or a diesel pump; the electric pump has
no standby power and the warehouse ESFR system depends on it.</li>
</ol>

<h2>7. Engineer's Opinion</h2>
<p>With MP-24-01 complete and the remaining 18 presses safeguarded, the molding plant would be an
average risk for the injection molding class. Until then it should be treated as partially
sprinklered.</p>
<p>Priya Natarajan, P.E., Halvorsen Engineering Group</p>
</body>
</html>
"""

# ---------------------------------------------------------------------------------------------------
# Underwriter file notes (plain text)
# ---------------------------------------------------------------------------------------------------

_HP, _HT, _HL1 = money(HARBOR_ANNUAL_PREMIUM_2024), money(HARBOR_TIV), money(tiv(HARBOR_SOV[0]))
_HQ = money(HARBOR_PREMIUM)

HARBOR_NOTES = f"""UNDERWRITING FILE NOTES - {COMPANY.upper()}
Account: Harbor Foods Distribution LLC          Broker: Cascade Risk Partners (Melissa Tran)
Underwriter: Jordan Castellano, Senior Property Underwriter
Line: Commercial property, proposed effective 01/01/2025

10/17/2024  Submission logged. Incumbent Northbridge Mutual, policy HF-PR-2024-00417, expiring premium
            {_HP}. Program TIV {_HT}; the largest location, Loc 1 (2150 Wharf Road),
            is {_HL1}, over the Level II limit of $60,000,000, so the file needs Home
            Office approval (Guideline 2.1).

10/18/2024  Loss review. Incurred loss ratio 2019-2024 (six terms incl. current) {HARBOR_LR} - within
            authority under 5.1. BUT two single losses over $150,000 in the last three years:
            02/11/2023 ammonia release ($184,500) and 01/16/2024 ice storm spoilage (still open).
            Home Office referral under 5.3.
            Five property claims in the period triggers the 5.2 loss control plan requirement.
            Loss runs valued 09/30/2024 are 93 days before the effective date, over the 90-day limit
            in 5.4. Asked broker for updated runs.

10/22/2024  COPE notes: ISO 4 masonry non-combustible, 100% sprinklered (ESFR plus preaction freezer),
            PPC 3, hydrant 180 ft, FD 1.8 miles. Meets 3.1-3.4 at Loc 1. Loc 2 at 40 Ferry Street is
            36,500 sq ft and not sprinklered - exception to 3.1 needed. Loc 2 TIV is only {money(tiv(HARBOR_SOV[1]))};
            propose to accept with a $50,000 deductible at Loc 2.
            Unlisted 2006 cooler panels (rec HF-24-03) also need Home Office sign-off under 7.1.

10/24/2024  Call with Melissa Tran. Pallets moved to the west yard on 10/01/2024 (HF-24-01 done,
            photos in file). Li-ion charging room separation (HF-24-02) scheduled for Q1 2025.
            No new claims since 09/30/2024 per broker email; carrier runs to follow.

11/05/2024  Home Office referral approved by Karen Lindqvist, VP Property, subject to:
            - CP 04 11 Protective Safeguards with P-1 (sprinklers) and P-2 (central station alarm)
            - Spoilage on CP 04 40 capped at $2,500,000 (broker asked for $5,000,000), $50,000 deductible
            - Ammonia contamination sublimit $1,000,000
            - Completion of HF-24-02 within 120 days of binding

11/12/2024  Quote released. Rate {HARBOR_RATE:.3f} per $100 TIV, premium {_HQ}, AOP deductible $50,000,
            Agreed Value granted (SOV signed 10/10/2024). Generator credit of 3% included under 7.1.
            Quote valid until 12/15/2024.
"""

MERIDIAN_NOTES = f"""{COMPANY} - underwriter notes
Insured:  Meridian Plastics Inc
Broker:   Lakeshore Commercial Insurance Services - Paul Dziedzic
UW:       Renee Adeyemi (manufacturing property)
Eff date: 03/01/2025          Lines: property + GL

12/10/2024
Received submission. TIV {money(MERIDIAN_TIV)} across 3 locations. Loc 1 molding plant
{money(tiv(MERIDIAN_SOV[0]))} TIV -> above Level II, Home Office approval needed.
Injection molding is a conditional class (6.2) -> see 7.2.

12/11/2024
Sprinklers: Loc 1 only 85% -> below the 90% minimum in 3.1 -> HO referral. Broker says $410k project
will finish April 2025. Loc 3 tool shop unsprinklered but only 14,200 sq ft (under the 25,000 sq ft
trigger). Hydrant 350 ft, FD 3.4 mi, PPC 5 -> OK under 3.4.
Halvorsen survey: NLE $6.2M, PML $18.7M, MFL $61.4M. PML drops to $9.8M after MP-24-01.

12/12/2024
Loss ratios (Great Lakes runs valued 12/02/2024): property {MERIDIAN_PROP_LR}, GL {MERIDIAN_GL_LR}.
No single loss > $150k in last 3 yrs (the $386,700 press fire was 11/04/2020, outside the window).
Open GL claim GLI-L-23-3050 (dock slip and fall) reserved $60,000.

12/16/2024
HO approval (K. Lindqvist). Conditions:
  * Sprinkler completion warranty - MP-24-01 complete by 06/01/2025, else partial-sprinkler rate
    and deductible stay on
  * Remaining 18 unsafeguarded presses interlocked or converted by 09/01/2025
  * AOP deductible $100,000; Loc 3 deductible $250,000
  * Tri-County Pallet exposure noted and loaded in rate (7.2)

12/18/2024
Quoted property at {MERIDIAN_RATE:.3f} per $100 (partial-sprinkler min is 0.500) = {money(MERIDIAN_PREMIUM)}.
GL quoted on CG 00 01 with CG 21 47, $1M/$2M/$2M, premium $118,900 on $86.4M sales.
Dependent property CP 15 08 $2.5M for Vantor Automotive Interiors agreed.
"""

OAKRIDGE_NOTES = f"""FILE NOTE - HABITATIONAL UNIT, {COMPANY.upper()}
Oakridge Senior Living, LLC - new business, eff. 10/01/2024
Broker: Piedmont Insurance Brokers, Carla Jennings       Underwriter: Tomas Whitfield

08/13/2024 - Submission in. Blue Ridge Mutual non-renewing (exiting assisted living). Expiring policy
OSL-PK-2023-00952, annual premium {money(OAKRIDGE_ANNUAL_PREMIUM_2023)}. TIV {money(OAKRIDGE_TIV)};
main building TIV {money(tiv(OAKRIDGE_SOV[0]))} -> within my Level II authority on values.

08/14/2024 - Guideline 7.3 check. Main building: three-story frame with NFPA 13R and an unsprinklered
attic. 13R only OK for two stories or fewer unless the attic is sprinklered -> Home Office referral
with attic warranty. Memory care cottage is full NFPA 13 incl. attic - fine. Laundry building
unsprinklered but 2,400 sq ft, and it was the site of the 12/02/2023 dryer fire ($41,300).
PPC 6, FD 4.6 road miles, nearest hydrant 420 ft -> all inside 3.4 limits, but FD is volunteer.

08/15/2024 - Losses: 5 property claims in 5 years (largest $67,450, the 01/29/2021 attic pipe freeze).
Loss ratio {OAKRIDGE_LR}. Only four claims allowed before 5.2 applies -> exactly five, so loss control
plan required. Open claim BRM-24-02716 (tree on cottage roof) reserve $36,000.

08/20/2024 - Broker: owner signed the $186,000 attic dry-pipe proposal; target completion 03/31/2025.
Oxygen storage moving to a rated room on the first floor in September.

09/03/2024 - HO approved (K. Lindqvist). Subjectivities: attic sprinkler warranty by 03/31/2025;
CP 04 11 with P-1, P-2 and P-5; dryer duct cleaning log monthly; 30 ft defensible space on west side.
Property rate {OAKRIDGE_RATE:.3f} (13R minimum 0.500) -> premium {money(OAKRIDGE_PREMIUM)}.
AOP deductible $25,000. GL on CG 00 01, $1M/$3M, abuse and molestation sublimit $250,000,
premium $61,250.
"""

# ---------------------------------------------------------------------------------------------------
# Eval questions -> sample_docs/eval/questions.jsonl
# (question, gold_file relative to sample_docs/, gold_page, answer); gold_file None = unanswerable.
# gold_page: 1-based PDF page or XLSX sheet number; 1 for every other format.
# ---------------------------------------------------------------------------------------------------

HF = "harbor-foods/"
MP = "meridian-plastics/"
OS = "oakridge-senior-living/"
GL = "guidelines/underwriting_guidelines.md"

_QUESTIONS = [
    # Harbor Foods - fire inspection (PDF, 4 pages)
    ("What ISO construction class is the Harbor Foods cold-storage warehouse on Wharf Road?",
     HF + "fire_inspection_2024.pdf", 1, "ISO Construction Class 4"),
    ("How is the freezer at Harbor Foods protected - what kind of sprinkler system is in there?",
     HF + "fire_inspection_2024.pdf", 2, "Double-interlock preaction"),
    ("How far is the nearest public hydrant from the Harbor Foods building?",
     HF + "fire_inspection_2024.pdf", 3, "180 feet"),
    ("How many road miles is the responding fire station from the Harbor Foods warehouse?",
     HF + "fire_inspection_2024.pdf", 3, "1.8 road miles"),
    ("How much anhydrous ammonia is in the Harbor Foods refrigeration system?",
     HF + "fire_inspection_2024.pdf", 2, "12,000 pounds"),
    ("Which inspection recommendation deals with the lithium-ion forklift charging area at Harbor Foods?",
     HF + "fire_inspection_2024.pdf", 4, "HF-24-02"),
    ("What flow and pressure did the Harbor Foods diesel fire pump deliver on its last annual test?",
     HF + "fire_inspection_2024.pdf", 3, "3,000 gpm at 88 psi"),
    ("What business is next door on the north side of the cold storage building, and is it a concern?",
     HF + "fire_inspection_2024.pdf", 3, "Port Alder Marine Supply"),
    ("How big is the backup generator at the refrigerated warehouse?",
     HF + "fire_inspection_2024.pdf", 2, "1,000 kW"),
    ("How many spare pallets were piled up against the east wall of the Harbor Foods building?",
     HF + "fire_inspection_2024.pdf", 4, "1,200 idle wood pallets"),
    ("What FEMA flood zone is the Harbor Foods warehouse in?",
     HF + "fire_inspection_2024.pdf", 3, "flood zone X"),
    # Harbor Foods - loss runs (PDF, 2 pages)
    ("What was the total incurred on the February 2023 ammonia release claim at Harbor Foods?",
     HF + "loss_runs_2019-2024.pdf", 1, "$184,500"),
    ("How much is still reserved on the open Harbor Foods ice storm spoilage claim?",
     HF + "loss_runs_2019-2024.pdf", 1, "$95,000"),
    ("Under which policy number was the 01/16/2024 power outage loss reported?",
     HF + "loss_runs_2019-2024.pdf", 1, "HF-PR-2024-00417"),
    ("What did the prior carrier pay on the 2020 compressor failure at Harbor Foods?",
     HF + "loss_runs_2019-2024.pdf", 2, "$212,400"),
    ("What is Harbor Foods' overall loss ratio across the 2019-2024 policy terms?",
     HF + "loss_runs_2019-2024.pdf", 2, "32.4%"),
    # Harbor Foods - SOV (CSV), cover letter (DOCX), notes (TXT)
    ("What building value is reported for 40 Ferry Street?",
     HF + "statement_of_values.csv", 1, "$3,150,000"),
    ("What is the total insured value on the Harbor Foods statement of values?",
     HF + "statement_of_values.csv", 1, "$88,280,000"),
    ("What year was Harbor Foods' dry goods and fleet maintenance garage built?",
     HF + "statement_of_values.csv", 1, "1988"),
    ("What spoilage coverage did Cascade Risk Partners ask for on Harbor Foods?",
     HF + "broker_cover_letter.docx", 1, "$5,000,000 limit, $50,000 deductible"),
    ("By when does the broker want Harbor Foods quotes back?",
     HF + "broker_cover_letter.docx", 1, "December 1, 2024"),
    ("What flood sublimit is being requested for the Harbor Foods program?",
     HF + "broker_cover_letter.docx", 1, "$10,000,000 sublimit"),
    ("What premium was quoted to Harbor Foods, and at what rate?",
     HF + "underwriter_notes.txt", 1, "$367,245"),
    ("Who signed off on the Home Office referral for Harbor Foods?",
     HF + "underwriter_notes.txt", 1, "Karen Lindqvist"),
    ("Why did the Harbor Foods loss runs have to be updated before binding?",
     HF + "underwriter_notes.txt", 1, "93 days before the effective date"),
    # Meridian Plastics - fire inspection (PDF, 5 pages)
    ("What share of the Meridian molding plant floor area has sprinklers?",
     MP + "fire_inspection_2024.pdf", 3, "Approximately 85%"),
    ("Which parts of the Meridian moulding plant are left without sprinkler protection?",
     MP + "fire_inspection_2024.pdf", 3, "resin mezzanine (8,500 sq ft)"),
    ("How many of Meridian's injection moulding machines run on hydraulic oil?",
     MP + "fire_inspection_2024.pdf", 2, "Fifty-two presses are hydraulic"),
    ("What ISO Public Protection Classification applies to Meridian Plastics?",
     MP + "fire_inspection_2024.pdf", 4, "Class 5"),
    ("How far does the Ashford Mills fire department have to travel to reach Meridian?",
     MP + "fire_inspection_2024.pdf", 4, "3.4 road miles"),
    ("Which neighbouring business is a severe fire exposure to the Meridian plant?",
     MP + "fire_inspection_2024.pdf", 4, "Tri-County Pallet Company"),
    ("What does recommendation MP-24-03 require?",
     MP + "fire_inspection_2024.pdf", 5, "Dust Hazard Analysis per NFPA 652"),
    ("What did Meridian's fire pump produce at the 150% point on the March 2024 test?",
     MP + "fire_inspection_2024.pdf", 3, "2,250 gpm at 71 psi"),
    ("What is the clear height of the Meridian finished goods warehouse?",
     MP + "fire_inspection_2024.pdf", 1, "Clear height 32 feet"),
    ("Where is the nearest public hydrant to the Meridian plant and how far away is it?",
     MP + "fire_inspection_2024.pdf", 4, "350 feet"),
    # Meridian Plastics - loss runs (PDF, 3 pages)
    ("What was Meridian's largest property claim in the last five years, in dollars?",
     MP + "loss_runs_2020-2024.pdf", 1, "$386,700"),
    ("How much of the 2020 press fire claim was business income?",
     MP + "loss_runs_2020-2024.pdf", 1, "$145,400"),
    ("What is the total incurred on the Meridian dock slip-and-fall liability claim?",
     MP + "loss_runs_2020-2024.pdf", 2, "$72,400"),
    ("What was the property loss ratio for Meridian's 03/01/2020-03/01/2021 term?",
     MP + "loss_runs_2020-2024.pdf", 3, "96.2%"),
    ("What is the five-year general liability loss ratio for Meridian Plastics?",
     MP + "loss_runs_2020-2024.pdf", 3, "25.3%"),
    # Meridian Plastics - SOV (XLSX: sheet 1 SOV, sheet 2 BI worksheet)
    ("According to the SOV, what construction class is the 4820 Industrial Parkway building?",
     MP + "statement_of_values.xlsx", 1, "ISO 4 - Masonry Non-Combustible"),
    ("What sprinkler system does the SOV list for Meridian's warehouse?",
     MP + "statement_of_values.xlsx", 1, "ESFR K-16.8 wet pipe"),
    ("What extended period of indemnity is assumed in Meridian's business income worksheet?",
     MP + "statement_of_values.xlsx", 2, "120 days"),
    ("How concentrated is Meridian's customer base - how much of sales comes from its biggest customer?",
     MP + "statement_of_values.xlsx", 2, "38% of sales"),
    ("What is the critical production bottleneck for a Meridian business interruption?",
     MP + "statement_of_values.xlsx", 2, "lead time 40 weeks"),
    # Meridian Plastics - engineering survey (HTML), letter (DOCX), notes (TXT)
    ("What is the PML for the Meridian molding plant?",
     MP + "engineering_survey_2024.html", 1, "$18,700,000"),
    ("What is the worst-case loss estimate for the Meridian molding plant if all protection fails?",
     MP + "engineering_survey_2024.html", 1, "$61,400,000"),
    ("Who carried out the dust hazard analysis for Meridian's regrind room?",
     MP + "engineering_survey_2024.html", 1, "Ridgeline Process Safety"),
    ("How far along is Meridian with safeguarding its hydraulic presses (interlocks or approved fluid)?",
     MP + "engineering_survey_2024.html", 1, "34 of 52 presses safeguarded"),
    ("What are Meridian Plastics' projected gross sales for fiscal 2024?",
     MP + "broker_cover_letter.docx", 1, "$86,400,000"),
    ("How much money has Meridian committed to finishing the sprinkler system?",
     MP + "broker_cover_letter.docx", 1, "$410,000"),
    ("What deductible applies to Meridian's tool and die shop location?",
     MP + "underwriter_notes.txt", 1, "Loc 3 deductible $250,000"),
    ("By what date must Meridian finish the sprinkler work under the quote warranty?",
     MP + "underwriter_notes.txt", 1, "06/01/2025"),
    # Oakridge Senior Living - inspection (PDF, 3 pages)
    ("What kind of sprinkler system is in the Oakridge main building?",
     OS + "fire_inspection_2024.pdf", 2, "NFPA 13R wet-pipe system"),
    ("How close is the closest fire plug to the Oakridge assisted living building?",
     OS + "fire_inspection_2024.pdf", 2, "420 feet"),
    ("Which fire department covers Oakridge Senior Living and how far away is its station?",
     OS + "fire_inspection_2024.pdf", 2, "4.6 road miles"),
    ("How many Oakridge residents are on supplemental oxygen?",
     OS + "fire_inspection_2024.pdf", 1, "22 residents"),
    ("Is there any wildfire or brush exposure at the Oakridge campus?",
     OS + "fire_inspection_2024.pdf", 3, "pine and hardwood forest 45 feet"),
    ("How many spare oxygen cylinders did the surveyor find at Oakridge?",
     OS + "fire_inspection_2024.pdf", 3, "38 spare E-size oxygen cylinders"),
    ("What sprinkler coverage percentage was estimated for the Oakridge main building?",
     OS + "fire_inspection_2024.pdf", 2, "88%"),
    ("What construction type is the Oakridge main building under the building code?",
     OS + "fire_inspection_2024.pdf", 1, "IBC Type V-A"),
    # Oakridge - loss runs (PDF, 2 pages), SOV (CSV), letter (DOCX), notes (TXT)
    ("How much was paid on the January 2021 frozen pipe claim at Oakridge?",
     OS + "loss_runs_2019-2024.pdf", 2, "$67,450"),
    ("What is the outstanding reserve on the tree-on-roof claim at the memory care cottage?",
     OS + "loss_runs_2019-2024.pdf", 1, "$36,000"),
    ("What is Oakridge's five-year loss ratio?",
     OS + "loss_runs_2019-2024.pdf", 2, "23.9%"),
    ("What business income value is reported for the Oakridge main building?",
     OS + "statement_of_values.csv", 1, "$4,800,000"),
    ("Why is the incumbent carrier not renewing Oakridge Senior Living?",
     OS + "broker_cover_letter.docx", 1, "exiting assisted living"),
    ("What abuse and molestation sublimit is the broker asking for on Oakridge?",
     OS + "broker_cover_letter.docx", 1, "$250,000 sublimit"),
    ("How much will it cost to sprinkler the attic at Oakridge?",
     OS + "broker_cover_letter.docx", 1, "$186,000"),
    ("What property premium was offered to Oakridge Senior Living?",
     OS + "underwriter_notes.txt", 1, "$198,296"),
    # Guidelines (Markdown)
    ("What minimum sprinkler coverage do the guidelines require for buildings of 25,000 sq ft or more?",
     GL, 1, "at least 90% of the floor area"),
    ("Which form code is the Causes of Loss - Special Form?",
     GL, 1, "CP 10 30"),
    ("What is form CG 00 01?",
     GL, 1, "Commercial General Liability Coverage Form (occurrence)"),
    ("At what five-year loss ratio must we decline unless the Home Office approves a corrective plan?",
     GL, 1, "Above 75%"),
    ("Can we write a pallet recycling operation?",
     GL, 1, "pallet manufacturing or recycling"),
    ("What is the most TIV per location a Senior Underwriter can approve?",
     GL, 1, "$60,000,000"),
    ("Which endorsement is required when we give credit for sprinklers or central station alarms?",
     GL, 1, "CP 04 11"),
    ("What is the minimum rate for a partially sprinklered plastics molding account?",
     GL, 1, "Plastics molding, partially sprinklered | 0.500"),
    # Unanswerable: no document in the set states these facts.
    ("What is the earthquake deductible on the Meridian Plastics property program?", None, None, None),
    ("Which FEMA flood zone is the Oakridge Senior Living campus located in?", None, None, None),
    ("How many employees work at the Meridian Plastics plant?", None, None, None),
    ("What is Harbor Foods' workers' compensation experience modification factor?", None, None, None),
    ("What cyber liability limit is being requested for Oakridge Senior Living?", None, None, None),
    ("What were Harbor Foods Distribution's annual revenues last year?", None, None, None),
    ("What commission is Lakeshore Commercial asking for on the Meridian Plastics account?",
     None, None, None),
]

QUESTIONS = [
    {
        "id": f"q{i:02d}",
        "question": q,
        "gold_file": f,
        "gold_page": page,
        "answer": a,
        "answerable": f is not None,
    }
    for i, (q, f, page, a) in enumerate(_QUESTIONS, start=1)
]
