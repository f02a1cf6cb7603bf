"""The carrier's rules: the starter rules file against a profile built by hand (Harbor Foods, as its documents state
it), cannot-check for unstated values, drafted rules never applied unreviewed, one-line errors for a bad file, and
the drafter on the sample guideline and on a guideline worded differently."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.profile.model import FieldValue, LocationProfile, Source, Sourced
from assistant.profile.rules import RulesError, check, draft_rules, find_rules, load_rules, parse_rules
from assistant.profile.statements import Statement
from tests.conftest import SAMPLE_DOCS
from tests.rules_profiles import LOSS_RUN, SOV, harbor_profile

STARTER = SAMPLE_DOCS / "guidelines" / "rules.toml"
GUIDELINE = SAMPLE_DOCS / "guidelines" / "underwriting_guidelines.md"


@pytest.fixture(scope="module")
def starter():
    return load_rules(STARTER)


def write(tmp_path: Path, body: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text('[guideline]\nname = "Test guideline"\n\n' + body)
    return path


def rule_toml(rule_id: str = "big", *, section: str = '"5.3"', applies_to: str = "claim",
              conditions: str = '{ field = "incurred", op = ">", value = 150000 }', extra: str = "",
              reviewed: str = "true") -> str:
    return (f'[[rule]]\nid = "{rule_id}"\n' + (f"section = {section}\n" if section else "")
            + f'text = "a test"\naction = "Refer"\napplies_to = "{applies_to}"\nall = [{conditions}]\n{extra}'
            f"reviewed = {reviewed}\n\n")


# ---- the starter rules on Harbor Foods ----------------------------------------------------------------------


def test_starter_rules_load_and_cover_the_guideline_sections(starter) -> None:
    sections = {rule.section for rule in starter.rules}
    assert {"2.1", "3.1", "3.2", "3.3", "3.4", "4", "5.1", "5.2", "5.3", "5.4", "6.1", "6.2", "7.1", "7.2", "7.3",
            "9"} <= sections
    assert starter.rules and not starter.unreviewed and all(rule.reviewed for rule in starter.rules)
    assert "Summit Ridge" in starter.guideline


def test_harbor_foods_triggers_are_exactly_the_documented_ones(starter) -> None:
    report = check(harbor_profile(), starter)
    fired = {result.rule_id for result in report.fired}
    # underwriter_notes.txt: over Level II (2.1), two large losses (5.3), five property claims (5.2), runs 93 days
    # old (5.4), Loc 2 unsprinklered at 36,500 sq ft (3.1); cold storage is a conditional class (6.2).
    assert fired == {"authority-home-office", "large-loss", "claim-frequency", "loss-runs-current",
                     "sprinklers-large-building", "conditional-occupancy"}
    assert {result.rule_id for result in report.clear} >= {"authority-level-2", "loss-ratio-regional",
                                                          "loss-ratio-decline", "ineligible-occupancy",
                                                          "central-station", "ppc-7-8", "jm-unsprinklered"}


def test_a_trigger_carries_its_evidence_with_sources(starter) -> None:
    report = check(harbor_profile(), starter)
    large = report.result("large-loss")
    assert large is not None and large.section == "5.3" and large.action == "Home Office referral"
    claims = [trigger.subject for trigger in large.triggers]
    assert claims == ["claim NBM-23-000588", "claim NBM-24-000163"]  # the 2020 loss is over three years old
    first = large.triggers[0]
    incurred = next(item for item in first.evidence if item.field == "incurred")
    assert incurred.value == 184500
    assert incurred.sources[0].file == LOSS_RUN and "NBM-23-000588" in incurred.sources[0].quote
    assert any(item.field == "effective_date" and item.value == date(2025, 1, 1) for item in first.evidence)
    assert "incurred 184,500 > 150,000" in first.conditions

    sprinklers = report.result("sprinklers-large-building")
    assert [trigger.subject for trigger in sprinklers.triggers] == ["location 2"]
    evidence = {item.field: item for item in sprinklers.triggers[0].evidence}
    assert set(evidence) == {"area_sqft", "sprinklered"}
    assert evidence["area_sqft"].value == 36500 and evidence["area_sqft"].sources[0].file == SOV
    assert evidence["area_sqft"].cite() == "statement_of_values.csv, row 3"
    assert "Square Footage 36,500" in evidence["area_sqft"].sources[0].quote

    authority = report.result("authority-home-office")
    tiv = authority.triggers[0].evidence[0]
    assert tiv.value == 82750000 and tiv.field == "tiv (location 1)" and tiv.sources[0].location == "row 2"

    runs = report.result("loss-runs-current")
    assert runs.triggers[0].conditions == ["loss_run_age_days 93 > 90"]
    assert {item.field for item in runs.triggers[0].evidence} == {"valuation_date", "effective_date"}


def test_an_unstated_field_is_cannot_check_never_a_pass_or_a_trigger(starter) -> None:
    report = check(harbor_profile(), starter)
    hydrant = report.result("hydrant-distance")
    assert hydrant.status == "cannot_check" and not hydrant.triggers
    assert hydrant.unchecked == ["location 2: cannot check: hydrant_distance_ft not stated"]
    assert hydrant not in report.clear and hydrant not in report.fired
    # location 2's TIV is under $10M: the unstated alarm does not matter there, and location 1 states one
    assert report.result("central-station").status == "clear"


def _warehouse(**fields: object) -> LocationProfile:
    location = LocationProfile(number="1")
    for key, value in fields.items():
        quote = f"{key}: {value}"
        reading = Sourced(value=value, method="text", source=Source(file="/in/acme/survey.pdf", location="page 2",
                                                                    quote=quote))
        location.fields[key] = FieldValue(value=reading, readings=[reading])
    return location


@pytest.mark.parametrize(("fields", "status"), [
    ({"storage_height_ft": 20, "sprinklered": True, "sprinkler_type": "Wet-pipe ceiling sprinklers; no in-rack heads"},
     "fired"),  # named only to be denied
    ({"storage_height_ft": 20, "sprinklered": False}, "fired"),
    ({"storage_height_ft": 20, "sprinklered": True, "sprinkler_type": "Wet pipe, OH2 density"}, "fired"),
    ({"storage_height_ft": 20, "sprinklered": True, "sprinkler_type": "ESFR K-25 pendent"}, "clear"),
    ({"storage_height_ft": 20, "sprinklered": True, "sprinkler_type": "Wet pipe",
      "sprinkler_design": "In-rack level at 10 ft"}, "clear"),
    ({"storage_height_ft": 10, "sprinklered": False}, "clear"),
    ({"storage_height_ft": 20, "sprinklered": True}, "cannot_check"),  # which system protects it is not stated
])
def test_high_piled_storage_needs_esfr_or_in_rack(starter, fields: dict, status: str) -> None:
    from assistant.profile.model import Profile

    profile = Profile(submission="acme", folder="/in/acme", locations=[_warehouse(**fields)])
    assert check(profile, starter).result("high-piled-storage").status == status


def test_unknown_matters_only_where_it_could_change_the_outcome(starter) -> None:
    profile = harbor_profile()
    loc1 = profile.location("1")
    del loc1.fields["sprinkler_coverage_pct"]  # sprinklered, coverage not stated: 3.1 cannot be decided
    report = check(profile, starter)
    sprinklers = report.result("sprinklers-large-building")
    assert sprinklers.status == "fired"  # location 2 still fires
    assert sprinklers.unchecked == ["location 1: cannot check: sprinkler_coverage_pct not stated"]
    del profile.location("2").fields["sprinklered"]
    report = check(profile, starter)
    assert report.result("sprinklers-large-building").status == "cannot_check"


def test_without_an_effective_date_time_windows_cannot_be_checked(starter) -> None:
    profile = harbor_profile()
    profile.effective_date = None
    report = check(profile, starter)
    for rule_id in ("large-loss", "claim-frequency", "loss-runs-current"):
        result = report.result(rule_id)
        assert result.status == "cannot_check", rule_id
        assert "effective_date not stated" in " ".join(result.unchecked)
    assert any("effective date not stated" in note for note in report.notes)
    assert report.result("authority-home-office").status == "fired"  # not time-bound


def test_a_largest_tiv_over_some_locations_is_a_lower_bound(starter) -> None:
    profile = harbor_profile()
    profile.locations.append(LocationProfile(number="3", fields={}))  # a location whose TIV no document states
    report = check(profile, starter)
    assert report.result("authority-home-office").status == "fired"  # $82.75M already exceeds $60M
    level2 = report.result("authority-level-2")
    assert level2.status == "cannot_check" and "tiv not stated at location 3" in level2.unchecked[0]


def test_the_largest_location_adds_up_its_buildings(starter) -> None:
    profile = harbor_profile()
    loc2 = profile.location("2")
    loc2.number = "2-1"
    twin = loc2.model_copy(deep=True)
    twin.number = "2-2"
    for building in (loc2, twin):
        building.fields["tiv"].value.value = 30_000_000
    profile.locations.append(twin)
    profile.location("1").fields["tiv"].value.value = 50_000_000
    report = check(profile, starter)
    assert report.result("authority-home-office").status == "clear"  # $60M is not above $60M
    level2 = report.result("authority-level-2")
    assert level2.status == "fired"  # location 2 is 2 x $30M = $60M, within Level II; location 1 alone is $50M
    assert [e.field for e in level2.triggers[0].evidence] == ["tiv (location 2, building 2-1)",
                                                              "tiv (location 2, building 2-2)"]


def test_losses_rules_cite_the_terms(starter) -> None:
    profile = harbor_profile()
    profile.losses[0].loss_ratio_pct = 61.0
    report = check(profile, starter)
    regional = report.result("loss-ratio-regional")
    assert regional.status == "fired" and regional.triggers[0].subject == "property losses"
    evidence = regional.triggers[0].evidence[0]
    assert evidence.method == "derived" and len(evidence.sources) == 6 and "over 6 terms" in evidence.basis
    profile.losses = []
    profile.claims, profile.terms = [], []
    report = check(profile, starter)
    assert report.result("loss-ratio-regional").unchecked == ["cannot check: no loss history in the profile"]
    assert report.result("large-loss").status == "cannot_check"


def test_five_years_of_loss_runs_are_counted_from_the_policy_terms(starter) -> None:
    profile = harbor_profile()  # six annual terms, 2019 to 2025
    assert check(profile, starter).result("loss-runs-five-years").status == "clear"
    gap = [t for t in profile.terms if t.start.year not in (2020, 2021)]  # two carriers' runs, 2020-2021 missing
    profile.terms = [*gap, gap[-1].model_copy(update={"term": "overlap"})]  # a term listed twice counts once
    result = check(profile, starter).result("loss-runs-five-years")
    assert result.status == "fired"
    assert result.triggers[0].conditions == ["term_years 4 < 5"]
    profile.terms = []
    assert check(profile, starter).result("loss-runs-five-years").status == "cannot_check"  # claims' span is not it


def test_text_ops_match_whole_words_case_insensitively(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, rule_toml(
        "foam", applies_to="location", section='"6.1"',
        conditions='{ field = "occupancy", op = "contains_any", value = ["EPS", "sawmill"] }')
        + rule_toml("stated", applies_to="location", section='"3.4"',
                    conditions='{ field = "alarm", op = "not_stated" }')
        + rule_toml("ppc", applies_to="location", section='"3.4"',
                    conditions='{ field = "ppc", op = "in", value = [3, 4] }')))
    profile = harbor_profile()
    occupancy = profile.location("2").fields["occupancy"].value
    occupancy.value = "Sawmills and dry kilns; loading steps"  # "steps" holds "eps" but not the word
    report = check(profile, rules)
    assert [t.subject for t in report.result("foam").triggers] == ["location 2"]
    assert report.result("foam").triggers[0].conditions == [
        "occupancy 'Sawmills and dry kilns; loading steps' mentions 'sawmill'"]  # the word that matched, not 'EPS'
    assert [t.subject for t in report.result("stated").triggers] == ["location 2"]
    assert [t.subject for t in report.result("ppc").triggers] == ["location 1", "location 2"]
    occupancy.value = "Loading steps"
    assert check(profile, rules).result("foam").status == "clear"


def test_a_text_where_a_number_is_needed_cannot_be_checked(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, rule_toml("far", applies_to="location", section='"3.4"',
                                                 conditions='{ field = "hydrant_distance_ft", op = ">", '
                                                            'value = 1000 }')))
    profile = harbor_profile()
    source = Source(file=SOV, location="row 2", quote="Hydrant nearby")
    profile.location("1").fields["hydrant_distance_ft"] = FieldValue(value=Sourced(value="nearby", source=source))
    result = check(profile, rules).result("far")
    assert result.status == "cannot_check" and "'nearby' cannot be compared" in result.unchecked[0]

    rules = parse_rules({"rule": [{"id": "frame", "section": "3.4", "applies_to": "location",
                                   "all": [{"field": "construction_class", "op": "==", "value": 1}]}]})
    profile.location("1").fields["construction_class"].value.value = "ISO 1 - Frame"
    result = check(profile, rules).result("frame")
    assert result.status == "cannot_check" and "location 1: cannot check: construction_class 'ISO 1 - Frame'" in \
        result.unchecked[0]


def test_recommendation_rules_need_an_inspection(tmp_path: Path) -> None:
    rules = parse_rules({"rule": [{"id": "open-high", "section": "8", "applies_to": "recommendation",
                                   "all": [{"field": "priority", "op": "==", "value": "high"},
                                           {"field": "status", "op": "not in", "value": ["complete", "closed"]}]}]})
    profile = harbor_profile()
    result = check(profile, rules).result("open-high")
    assert [t.subject for t in result.triggers] == ["recommendation HF-24-02"]
    assert result.triggers[0].evidence[1].sources[0].file.endswith("underwriter_notes.txt")  # the latest status
    profile.recommendations = []
    profile.roles = {}  # no inspection among the documents either
    assert check(profile, rules).result("open-high").status == "cannot_check"
    profile.roles = {"/docs/harbor-foods/fire_inspection_2024.pdf": "inspection"}
    assert check(profile, rules).result("open-high").status == "clear"


# ---- statement rules: what the documents say about a class hazard ------------------------------------------

CAMPUS = "/docs/acme-foods/risk_survey_2025.pdf"


def said(text: str, following: str = "", page: int = 3) -> Statement:
    return Statement(text, following, Source(file=CAMPUS, location=f"page {page}", quote=text, page=page,
                                             role="inspection"))


def test_a_statement_rule_fires_once_on_a_denied_listing_and_quotes_the_sentence(starter) -> None:
    statements = [
        said("The dock office walls are EPS sandwich panels."),  # names the hazard, says nothing more
        said("Blast freezers are lined with EPS sandwich panels (2011).",  # the denial in the sentence after it
             "They have no FM 4880 or UL 1040 label and are presumed unlisted.", page=4),
        said("The new dock walls are polyisocyanurate-core panels.", "Each carries an FM Approved label.", page=5),
    ]
    report = check(harbor_profile(), starter, statements)
    foam = report.result("foam-plastic-panels")
    assert foam.status == "fired" and [t.subject for t in foam.triggers] == ["submission"]
    quoted = [item for item in foam.triggers[0].evidence if item.field == "statement"]
    assert [item.cite() for item in quoted] == ["risk_survey_2025.pdf, page 4"]  # both sentences, quoted once
    assert quoted[0].sources[0].quote == ("Blast freezers are lined with EPS sandwich panels (2011). They have no "
                                          "FM 4880 or UL 1040 label and are presumed unlisted.")
    assert report.result("cold-storage-unlisted-panels").status == "fired"  # harbor is a refrigerated warehouse
    # the same panels with the listing affirmed: clear (a sentence that names them and says so answers the rule);
    # without statements the rule cannot be checked
    statements[1] = said("Blast freezers are lined with EPS sandwich panels (2011).", "All carry FM 4880 labels.")
    assert check(harbor_profile(), starter, statements).result("foam-plastic-panels").status == "clear"
    assert check(harbor_profile(), starter).result("foam-plastic-panels").status == "cannot_check"


def test_a_hazard_whose_requirement_no_sentence_addresses_cannot_be_checked(starter) -> None:
    result = check(harbor_profile(), starter, [said("Blast freezers are lined with EPS sandwich panels (2011).")]
                   ).result("foam-plastic-panels")
    assert result.status == "cannot_check" and not result.triggers
    assert result.unchecked == ['submission: cannot check: risk_survey_2025.pdf, page 3 ("Blast freezers are lined '
                                'with EPS sandwich panels (2011)."): context states none of [FM 4880, UL 1040, FM '
                                'Approved, approved, approval, listed, listing]']
    # no hazard named (or the hazard denied): nothing to check
    for text in ("No foam plastic panels are used anywhere in the building.", "Walls are precast concrete."):
        assert check(harbor_profile(), starter, [said(text)]).result("foam-plastic-panels").status == "clear"


def test_a_statement_rule_weighs_dates_against_the_effective_date(starter) -> None:
    old = said("Their process safety management audit was last done on 03/15/2019 by an outside firm.")
    recent = said("A PSM compliance audit was completed in May 2023.")
    assert check(harbor_profile(), starter, [old]).result("ammonia-psm-audit").status == "fired"  # effective 2025
    assert check(harbor_profile(), starter, [recent]).result("ammonia-psm-audit").status == "clear"
    undated = harbor_profile()
    undated.effective_date = None
    result = check(undated, starter, [old]).result("ammonia-psm-audit")
    assert result.status == "cannot_check" and "effective_date not stated" in result.unchecked[0]


def test_a_statement_rule_reads_separations_not_heights(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, rule_toml(
        "yard", applies_to="statement", section='"7.2"',
        conditions='{ field = "text", op = "states_any", value = ["lumber", "pallet"] }, '
                   '{ field = "separation_ft", op = "<=", value = 100 }')))
    def status(text: str) -> str:
        return check(harbor_profile(), rules, [said(text)]).result("yard").status

    assert status("A lumber yard sits 60 ft north of the plant.") == "fired"
    assert status("Lumber is racked 14 ft high inside the mill.") == "clear"  # a height, not a distance
    assert status("A lumber yard lies 250 feet from the east wall.") == "clear"
    assert status("No pallets are stored within 50 feet of the building.") == "clear"  # denied


PLASTICS, SENIOR = "Plastics extrusion and injection molding", "Assisted living community, 80 units"


@pytest.mark.parametrize(("occupancy", "text", "following", "rule_id", "status"), [
    (PLASTICS, "Presses 1-9 are hydraulic and run on standard petroleum oil; no interlocks are fitted.", "",
     "plastics-hydraulic-fluid", "fired"),
    (PLASTICS, "All hydraulic units were converted to a fire-resistant glycol fluid in 2022.", "",
     "plastics-hydraulic-fluid", "clear"),
    (PLASTICS, "Hydraulic power units serve the 14 presses.", "", "plastics-hydraulic-fluid", "cannot_check"),
    (SENIOR, "Spare oxygen tanks are kept in a closet without ventilation.", "This does not meet NFPA 99.",
     "senior-living-oxygen-storage", "fired"),
    (SENIOR, "Oxygen cylinders are stored in a rated, ventilated room that meets NFPA 99.", "",
     "senior-living-oxygen-storage", "clear"),
    (PLASTICS, "Scrap tires are piled 80 ft from the north wall.", "", "plastics-outdoor-exposure", "fired"),
    (PLASTICS, "A lumber yard lies 300 ft to the north.", "", "plastics-outdoor-exposure", "clear"),
    (SENIOR, "Scrap tires are piled 80 ft from the north wall.", "", "plastics-outdoor-exposure", "clear"),  # class
])
def test_the_class_rules_read_sentences_worded_differently(starter, occupancy: str, text: str, following: str,
                                                           rule_id: str, status: str) -> None:
    profile = harbor_profile()
    profile.location("1").fields["occupancy"].value.value = occupancy
    assert check(profile, starter, [said(text, following)]).result(rule_id).status == status


def test_location_and_recommendation_rules_may_weigh_the_submissions_class(starter) -> None:
    profile = harbor_profile()  # refrigerated warehouse: not a senior-living class
    laundry = profile.location("2")
    laundry.fields["construction_class"].value.value = 1  # frame, unsprinklered
    assert check(profile, starter).result("senior-living-frame-sprinklered").status == "clear"
    profile.location("1").fields["occupancy"].value.value = "Assisted living, 80 units"
    result = check(profile, starter).result("senior-living-frame-sprinklered")
    assert [t.subject for t in result.triggers] == ["location 2"]
    assert any(item.field == "location 1 occupancy" for item in result.triggers[0].evidence)


# ---- unreviewed rules --------------------------------------------------------------------------------------


def test_an_unreviewed_rule_is_never_applied(tmp_path: Path) -> None:
    body = rule_toml("any-loss", conditions='{ field = "incurred", op = ">", value = 0 }', reviewed="false")
    rules = load_rules(write(tmp_path, body))
    assert not rules.rules and [rule.id for rule in rules.unreviewed] == ["any-loss"]
    result = check(harbor_profile(), rules).result("any-loss")
    assert result.status == "not_reviewed" and not result.triggers
    # the same rule, reviewed, fires: the test above can fail
    reviewed = load_rules(write(tmp_path, body.replace("reviewed = false", "reviewed = true"), "reviewed.toml"))
    assert check(harbor_profile(), reviewed).result("any-loss").status == "fired"


def test_an_unreviewed_rule_with_a_problem_is_a_note_not_an_error(tmp_path: Path) -> None:
    body = rule_toml("todo", conditions='{ field = "deductible", op = ">", value = 1 }', reviewed="false")
    rules = load_rules(write(tmp_path, body))
    assert [rule.id for rule in rules.unreviewed] == ["todo"]
    assert "unknown field 'deductible'" in rules.notes[0] and "(not reviewed)" in rules.notes[0]
    with pytest.raises(RulesError, match="unknown field 'deductible'"):
        load_rules(write(tmp_path, body.replace("reviewed = false", "reviewed = true"), "reviewed.toml"))


# ---- bad files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "problem"), [
    (rule_toml(conditions='{ field = "incurredd", op = ">", value = 1 }'), "rule 'big': unknown field 'incurredd'"),
    (rule_toml(conditions='{ field = "incurred", op = "gt", value = 1 }'), "rule 'big': unknown op 'gt'"),
    (rule_toml(section=""), "rule 'big': missing section"),
    (rule_toml(applies_to="policy"), "rule 'big': unknown applies_to 'policy'"),
    (rule_toml(conditions='{ field = "incurred", op = ">", value = "lots" }'), "rule 'big': op '>' on field "
                                                                               "'incurred' needs a number"),
    (rule_toml(applies_to="location", conditions='{ field = "tiv", op = ">", value = 1 }',
               extra="within_years = 3\n"), "within_years applies to claim rules only"),
    (rule_toml() + rule_toml(), "rule 'big': duplicate id"),
    ('[[rule]]\nid = "x"\nsection = "1"\nall = [{ field = "tiv" op = ">" }]\n', "not valid TOML"),
])
def test_a_bad_rules_file_gets_one_line_naming_file_rule_and_problem(tmp_path: Path, body: str,
                                                                     problem: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ") and problem in message


def test_the_rules_file_is_the_one_given_or_the_workspaces(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="no rules file") as caught:
        find_rules(None, tmp_path)
    assert "\n" not in str(caught.value)
    (tmp_path / "rules.toml").write_text("")
    assert find_rules(None, tmp_path) == tmp_path / "rules.toml"
    assert find_rules(STARTER, tmp_path) == STARTER
    with pytest.raises(RulesError, match="no such rules file"):
        find_rules(tmp_path / "missing.toml", tmp_path)


def test_the_report_serialises_to_json(starter) -> None:
    report = check(harbor_profile(), starter)
    data = report.model_dump(mode="json")
    large = next(result for result in data["results"] if result["rule_id"] == "large-loss")
    assert large["triggers"][0]["evidence"][0]["sources"][0]["file"] == LOSS_RUN
    lines = report.lines()
    assert lines[0].startswith(f"harbor-foods: {len(starter.rules)} rules checked") and "6 fired" in lines[0]
    assert any(line.startswith("FIRED  § 5.3 large-loss") for line in lines)


# ---- drafting -----------------------------------------------------------------------------------------------


def drafted(text: str, tmp_path: Path, name: str = "guide.md"):
    path = tmp_path / name
    path.write_text(text)
    out = tmp_path / "drafted.toml"
    out.write_text(draft_rules(path))
    return out


def by_fields(rules) -> dict[tuple[str, ...], object]:
    return {tuple(f"{c.field} {c.op} {c.value}" for c in (*rule.all, *rule.any)): rule for rule in rules}


def test_drafted_sample_rules_are_unreviewed_and_name_their_sections(tmp_path: Path) -> None:
    out = tmp_path / "drafted.toml"
    out.write_text(draft_rules(GUIDELINE))
    rules = load_rules(out)
    assert not rules.rules and not rules.notes and len(rules.unreviewed) >= 10
    found = by_fields(rules.unreviewed)
    large = found[("incurred > 150000",)]
    assert (large.section, large.applies_to, large.within_years, large.action) == ("5.3", "claim", 3,
                                                                                 "Home Office referral")
    assert large.text.startswith("Any single loss with total incurred above $150,000")
    assert found[("ppc in [7, 8]",)].section == "3.4"
    assert found[("loss_ratio_pct > 55", "loss_ratio_pct <= 75")].action == "Regional Manager referral"
    assert found[("loss_run_age_days > 90",)].section == "5.4"  # "valued within 90 days": fires when older
    assert found[("area_sqft >= 25000", "sprinkler_coverage_pct < 90")].section == "3.1"
    assert found[("fire_station_distance_mi > 5", "hydrant_distance_ft > 1000")].any  # either standard failing
    assert found[("property_claims_5y > 4",)].section == "5.2"
    occupancy = next(rule for rule in rules.unreviewed if rule.all and rule.all[0].op == "contains_any")
    assert occupancy.section == "6.1" and len(occupancy.all[0].value) == 8
    # reviewed as drafted, every rule passes the strict loader, and check applies it
    reviewed_path = tmp_path / "reviewed.toml"
    reviewed_path.write_text(out.read_text().replace("reviewed = false", "reviewed = true"))
    reviewed = load_rules(reviewed_path)
    assert len(reviewed.rules) == len(rules.unreviewed)
    assert check(harbor_profile(), reviewed).fired


WESTERN = """WESTERN MUTUAL PROPERTY APPETITE GUIDE
Edition 7

Section 4 - Protection

4.2 Hydrants. Risks located more than 1,500 feet from a fire hydrant must be declined.

4.3 Buildings larger than 40,000 sq ft without sprinklers are not eligible.

Section 8 - Prior losses

8.1 Refer to the Chief Underwriter any claim exceeding $1.5 million within the past five years.

8.2 A loss ratio of 60 percent or greater requires referral to the Regional Vice President.

8.3 Loss runs must be valued no more than 60 days before inception. Premium is due in 30 days.

8.4 Applicants with six or more property claims in five years are not eligible.
"""


def test_the_drafter_reads_a_guideline_worded_differently(tmp_path: Path) -> None:
    rules = load_rules(drafted(WESTERN, tmp_path, "western.txt"))
    assert rules.guideline.startswith("WESTERN MUTUAL") and not rules.rules
    found = {(rule.section, rule.applies_to, tuple(f"{c.field} {c.op} {c.value}" for c in rule.all),
              rule.within_years, rule.action) for rule in rules.unreviewed}
    assert found == {
        ("4.2", "location", ("hydrant_distance_ft > 1500",), None, "Decline"),
        ("4.3", "location", ("sprinklered == False", "area_sqft > 40000"), None, "Ineligible: decline"),
        ("8.1", "claim", ("incurred > 1500000",), 5, "Chief Underwriter referral"),
        ("8.2", "losses", ("loss_ratio_pct >= 60",), None, "Regional Vice President referral"),
        ("8.3", "submission", ("loss_run_age_days > 60",), None, "Requirement of section 8.3 not met: refer"),
        ("8.4", "submission", ("property_claims_5y >= 6",), None, "Ineligible: decline"),
    }
    texts = {rule.section: rule.text for rule in rules.unreviewed}
    assert texts["8.3"] == "Loss runs must be valued no more than 60 days before inception."  # not the premium


def test_the_drafter_reads_a_docx_guideline(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Eastern Casualty Guide", level=1)
    document.add_heading("3.4 Protection class", level=2)
    document.add_paragraph("Risks in protection class 8 or higher must be referred to the Home Office.")
    path = tmp_path / "eastern.docx"
    document.save(str(path))
    out = tmp_path / "eastern.toml"
    out.write_text(draft_rules(path))
    (rule,) = load_rules(out).unreviewed
    assert (rule.section, rule.all[0].field, rule.all[0].op, rule.all[0].value) == ("3.4", "ppc", ">=", 8)
    assert rule.action == "Home Office referral"


def test_parse_rules_accepts_a_dict() -> None:
    rules = parse_rules({"rule": [{"id": "a", "section": "1", "applies_to": "submission",
                                   "all": [{"field": "total_tiv", "op": ">", "value": 1}]}]})
    assert check(harbor_profile(), rules).result("a").triggers[0].evidence[0].value == 88280000


# ---- the CLI, over real ingested documents ------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, make_assistant):
    """The CLI in-process over a workspace holding Harbor Foods' documents only (no guideline, so no rules file
    lies beside them)."""
    import shutil

    from typer.testing import CliRunner

    import assistant.cli.main as cli_module

    docs = tmp_path / "docs"
    shutil.copytree(SAMPLE_DOCS / "harbor-foods", docs / "harbor-foods")
    workspace = tmp_path / "ws"
    core = make_assistant(workspace)
    core.ingest([docs])
    runner = CliRunner()
    original = cli_module.core

    def invoke(*args):
        cli_module.core = lambda **overrides: core
        try:
            return runner.invoke(cli_module.app, [str(arg) for arg in args])
        finally:
            cli_module.core = original

    return invoke, workspace


def test_cli_check_prints_triggers_and_json(cli) -> None:
    import json

    invoke, _ = cli
    result = invoke("check", "harbor-foods", "--rules", STARTER)
    assert result.exit_code == 0, result.output
    assert "FIRED  § 5.3 large-loss: Home Office referral" in result.stdout
    assert "claim NBM-23-000588: incurred 184,500 > 150,000" in result.stdout
    # a statement rule, read from the ingested documents: the inspection's sentence, quoted with its page
    assert "FIRED  § 4 foam-plastic-panels" in result.stdout
    assert "non-approved combustible foam.  [fire_inspection_2024.pdf, page 1]" in result.stdout
    result = invoke("check", "harbor-foods", "--rules", STARTER, "--json")
    report = json.loads(result.stdout)
    assert {r["rule_id"] for r in report["results"] if r["status"] == "fired"} >= {"large-loss", "claim-frequency"}


def test_cli_check_finds_the_workspace_rules_or_says_why_not(cli) -> None:
    invoke, workspace = cli
    result = invoke("check", "harbor-foods")
    assert result.exit_code == 2 and "no rules file" in result.output
    assert len(result.output.strip().splitlines()) == 1
    (workspace / "rules.toml").write_text(STARTER.read_text())
    result = invoke("check", "harbor-foods")
    assert result.exit_code == 0 and "FIRED  § 2.1 authority-home-office" in result.stdout
    bad = write(workspace, rule_toml(conditions='{ field = "incurred", op = "~", value = 1 }'), "bad.toml")
    result = invoke("check", "harbor-foods", "--rules", bad)
    assert result.exit_code == 2 and "rule 'big': unknown op '~'" in result.output
    result = invoke("check", "no-such-insured", "--rules", STARTER)
    assert result.exit_code == 2 and "no submission named 'no-such-insured'" in result.output


def test_cli_rules_draft_writes_unreviewed_rules_and_keeps_a_reviewed_file(cli, tmp_path: Path) -> None:
    invoke, _ = cli
    out = tmp_path / "drafted.toml"
    result = invoke("rules", "draft", GUIDELINE, "-o", out)
    assert result.exit_code == 0, result.output
    rules = load_rules(out)
    assert rules.unreviewed and not rules.rules
    result = invoke("rules", "draft", GUIDELINE, "-o", out)
    assert result.exit_code == 2 and "exists" in result.output
    result = invoke("rules", "draft", tmp_path / "missing.md")
    assert result.exit_code == 2 and "cannot read the guideline" in result.output


def test_cli_memo_writes_the_docx(cli, tmp_path: Path) -> None:
    import docx

    invoke, _ = cli
    out = tmp_path / "memo.docx"
    result = invoke("memo", "harbor-foods", "-o", out, "--rules", STARTER)
    assert result.exit_code == 0, result.output
    assert "§ 5.3 Home Office referral" in "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    result = invoke("memo", "harbor-foods", "-o", tmp_path / "memo.txt", "--rules", STARTER)
    assert result.exit_code == 2 and "a memo is .md or .docx" in result.output
