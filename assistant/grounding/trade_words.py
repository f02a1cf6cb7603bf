"""The trade's shorthand: the abbreviations of underwriting field notes, schedules and loss runs, and the
words they stand for, so a question's words find a note written in shorthand ("Hyd: 220 ft", "FD: resp stn
#3, 2.4 mi", "Sprk: wet, 100%", "Orig bldg 1924, 2 sty").

`expansions(word)` gives the full words a written word stands for (none for an ordinary word);
`other_peril(term, word)` says that two words name different perils, which must never stand in for each
other however close their meanings lie ("wildfire" is not "fire", "hail" is not "flood"). The table
holds the abbreviations of COPE surveys, ACORD schedules and loss runs in general use, and a few names the
trade uses for the same thing ("fire plug" for a hydrant, "fire brigade" for the fire department); it is
not drawn from any document set. Imports nothing of the product.
"""

from __future__ import annotations

_TABLE: dict[str, tuple[str, ...]] = {
    # buildings and construction
    "bldg": ("building",), "bldgs": ("buildings",), "bld": ("building",), "const": ("construction",),
    "constr": ("construction",), "cnst": ("construction",), "sty": ("story", "storey"), "stys": ("stories",),
    "mezz": ("mezzanine",), "orig": ("original",), "yr": ("year",), "blt": ("built",), "yob": ("year", "built"),
    "sf": ("square", "feet"), "sqft": ("square", "feet"), "brg": ("bearing",), "flr": ("floor",),
    "flrs": ("floors",), "wd": ("wood",), "conc": ("concrete",), "jm": ("joisted", "masonry"),
    "mnc": ("masonry", "non-combustible"), "whse": ("warehouse",), "mfg": ("manufacturing",),
    "occ": ("occupancy",),
    # protection
    "sprk": ("sprinkler", "sprinklers"), "spk": ("sprinkler", "sprinklers"), "spr": ("sprinkler", "sprinklers"),
    "hyd": ("hydrant", "plug"), "hydrant": ("plug",), "hydrants": ("plugs",),
    "fd": ("fire", "department", "brigade", "service"), "stn": ("station",), "resp": ("responding", "response"),
    "ppc": ("public", "protection", "class"), "ug": ("underground",),
    "oh1": ("ordinary", "hazard"), "oh2": ("ordinary", "hazard"), "eh1": ("extra", "hazard"),
    "eh2": ("extra", "hazard"), "lh": ("light", "hazard"), "gpm": ("flow",), "psi": ("pressure",),
    "department": ("brigade",), "brigade": ("department",),
    # values, coverage and losses
    "tiv": ("total", "insured", "value"), "bpp": ("business", "personal", "property", "contents"),
    "bi": ("business", "income", "interruption"), "ee": ("extra", "expense"), "ded": ("deductible",),
    "deds": ("deductibles",), "prem": ("premium",), "insd": ("insured",), "eff": ("effective",),
    "os": ("outstanding", "reserve"), "dol": ("date", "loss"), "clm": ("claim",), "clms": ("claims",),
    "rec": ("recommendation",), "recs": ("recommendations",), "loc": ("location",), "locs": ("locations",),
    "approx": ("approximately",), "mi": ("miles",), "ft": ("feet",),
}


def expansions(word: str) -> tuple[str, ...]:
    """The words `word` (lower case) stands for in the trade's shorthand; empty for any other word."""
    return _TABLE.get(word, ())


# Perils as the trade insures them: a word stands in for a peril's term only from the same group.
_PERILS: tuple[frozenset[str], ...] = (
    frozenset({"wildfire", "wildfires", "bushfire", "brushfire", "wildland", "brush"}),
    frozenset({"fire", "fires", "blaze"}),
    frozenset({"windstorm", "windstorms", "wind", "winds", "tornado", "tornadoes", "hurricane", "hurricanes",
               "cyclone", "typhoon", "storm", "storms", "named"}),
    frozenset({"hail", "hailstorm", "hailstorms"}),
    frozenset({"flood", "floods", "flooding", "surge"}),
    frozenset({"earthquake", "earthquakes", "quake", "seismic", "tremor"}),
    frozenset({"theft", "burglary", "crime", "dishonesty", "robbery"}),
    frozenset({"freeze", "freezing", "frozen"}),
    frozenset({"explosion", "explosions"}),
    frozenset({"lightning"}),
    frozenset({"cyber"}),
)
_PERIL_OF = {word: group for group in _PERILS for word in group}


def other_peril(term: str, word: str) -> bool:
    """Whether `term` and `word` (lower case) both name perils, and different ones."""
    group = _PERIL_OF.get(term)
    return group is not None and word in _PERIL_OF and word not in group
