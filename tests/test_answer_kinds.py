"""What a question asks for, and whether a unit holds it (assistant.grounding.kinds), on wording unlike sample_docs."""

from assistant.grounding.kinds import (
    COUNT,
    DISTANCE,
    MONEY,
    NAME,
    PERCENT,
    amounts,
    answers_kind,
    asked_kind,
    asks_aggregate,
    counts_noun,
    focus_terms,
    holds_kind,
    is_total_row,
    superlative,
)


def kind_of(question: str) -> str | None:
    return asked_kind(question, focus_terms(question), False, False)


def test_focus_is_the_wh_phrase_past_a_possessive():
    assert focus_terms("What ISO construction class is the plant on Mill Lane?") == ("iso", "construction", "class")
    assert focus_terms("What is Lindell Foundry's five-year loss ratio?") == ("five-year", "loss", "ratio")
    assert focus_terms("How many forklifts did the engineer count?") == ("forklifts",)
    assert focus_terms("Is there any brush or wildfire exposure at the yard?") == ("brush", "wildfire", "exposure")


def test_asked_kinds():
    assert kind_of("How close is the nearest fire plug to the depot?") == DISTANCE
    assert kind_of("How many staff work nights at the bakery?") == COUNT
    assert kind_of("What premium did the broker quote for the renewal?") == MONEY
    assert kind_of("What is the bakery's three-year loss ratio?") == PERCENT
    assert kind_of("Which contractor serviced the sprinkler valves?") == NAME
    assert kind_of("What roof covering does the warehouse have?") is None
    # progress, not a distance
    assert kind_of("How far along is the roof replacement at the depot?") != DISTANCE
    assert kind_of("How far behind schedule is the alarm upgrade?") != DISTANCE


def test_how_much_asks_for_money_only_of_money():
    assert kind_of("How much did the carrier pay on the theft?") == MONEY
    assert kind_of("How much liability cover does the tenant carry?") == MONEY
    assert kind_of("How much stock is declared for the cold store?") == MONEY
    # a quantity of a substance, a share, a space: any figure, not a currency amount
    assert asked_kind("How much propane is kept in the yard tanks?", (), True, False) == "figure"
    assert kind_of("How much diesel does the generator day tank hold?") is None
    assert kind_of("How much of the roof was replaced?") is None
    # "by how much": a difference, money only when money is named
    assert kind_of("By how much does the loading dock sit below the street?") != MONEY
    assert kind_of("By how much did the property premium go up?") == MONEY


def test_values_held():
    assert holds_kind(DISTANCE, "Hydrant 310 ft from the loading dock.")
    assert not holds_kind(DISTANCE, "Hydrant at the corner of 5th Street.")
    assert holds_kind(DISTANCE, "Engine 4 responds from 2.7 driving miles away.")
    # a money column of a table row, its cells bare numbers; an area or a year is not money
    assert holds_kind(MONEY, "Site 3 | Yr Blt 1971 | Bldg Amt 2,450,000 | Total SF 18000")
    assert holds_kind(MONEY, "LocNo 2 | Contents_RC 880000")
    assert not holds_kind(MONEY, "Site 3 | Yr Blt 1971 | Total SF 18,000")
    # with a question, only a column it asks about: a building amount is not a premium
    row = "Site 3 | Bldg Amt 2,450,000 | Total SF 18000"
    assert holds_kind(MONEY, row, "What building value is declared for site 3?")
    assert not holds_kind(MONEY, row, "What premium was quoted for the account?")
    assert holds_kind(MONEY, "Deductible USD 25k per occurrence.")
    assert holds_kind(PERCENT, "Loss ratio 41.5% over five terms.")
    assert holds_kind(NAME, "Valves serviced by Northgate Fire Systems.", "Which contractor serviced the valves?")
    assert not holds_kind(NAME, "valves serviced in may.", "Which contractor serviced the valves?")


def test_a_count_stands_before_its_noun():
    assert counts_noun("The night shift has twenty-two staff on site.", ("staff",))
    assert counts_noun("Fifty-two presses are hydraulic", ("presses",))
    assert not counts_noun("Built in 1988 with 14,000 sq ft; staff smoke outside.", ("staff",))


def test_the_gate_takes_a_percentage_for_an_amount():
    assert answers_kind(MONEY, "Earthquake deductible 5% of values") is True
    assert answers_kind(MONEY, "Earthquake deductible applies") is False
    assert answers_kind(None, "anything") is None


def test_superlatives_and_amounts():
    assert superlative("What was the costliest claim?") == 1
    assert superlative("Which loss was the most severe?") == 1
    assert superlative("What was the most recent inspection?") == 0
    assert superlative("What is the lowest deductible offered?") == -1
    assert amounts("paid $56,300; reserve USD 4k; limit $1.2M") == [56300.0, 4000.0, 1200000.0]


def test_table_rows_written_one_per_line_are_units_of_their_own():
    """Ingest writes each table row as one line of "header value" cells; two rows are never one unit."""
    from assistant.grounding.evidence import split_units

    text = ("Ref 17-A | Peril Hail | Settled USD 12,400 | Open reserve USD 0\n"
            "Ref 18-C | Peril Escape of water from burst tank | Settled USD 3,100 | Open reserve USD 22,000\n"
            "The adjuster closed both files in May.")
    units = split_units(text)
    assert [unit.kind for unit in units] == ["row", "row", "sentence"]
    assert units[1].text.startswith("Ref 18-C") and units[1].text.endswith("USD 22,000")


def test_a_question_asks_for_the_totals_row_only_when_it_asks_for_an_aggregate():
    assert asks_aggregate("What is the combined value of every building on the schedule?")
    assert asks_aggregate("What is the bakery's three-year property loss ratio?")
    assert asks_aggregate("What are the total values declared on the schedule?")
    # "total" of one named record is that record's column
    assert not asks_aggregate("What is the total incurred on the 2022 burglary claim?")
    assert not asks_aggregate("What contents value is declared for the cold store building?")
    assert is_total_row("Site TOTALS | Bldg Amt 9,100,000 | Cont Amt 2,000,000")
    assert is_total_row("Peril Grand Total - 7 losses | Settled USD 310,000")
    assert not is_total_row("Site 2 | Total Insured Value 4,000,000")
    assert not is_total_row("The total was agreed with the broker.")
