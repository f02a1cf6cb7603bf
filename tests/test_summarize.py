"""`assistant summarize`: a view of each submission's profile. With the real embedded model (which reads the
descriptive fields the patterns leave unstated, under a JSON schema, verified), and through the CLI with the
HTTP engine against our local server. The model's choices are checked against adversarial answers too
(`ask` returning what a model might: a line not offered, an invented value, another field's words)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.engines import EngineError
from assistant.engines.base import special_tokens_of
from assistant.grounding.verification import quote_in_source
from assistant.profile.model import FieldValue, LocationProfile, Source, Sourced
from assistant.profile.prose import Aliases
from assistant.profile.prose_model import Asked, ModelFiller, field_schema, value_spans
from assistant.summaries.output import render, render_csv, render_jsonl, render_markdown
from assistant.summaries.summarizer import DocumentSummary, FieldResult, Item, insured_group
from assistant.summaries.template import TemplateError, load_template, parse_template
from index.types import Chunk
from tests.conftest import CLI, SAMPLE_DOCS

HARBOR = SAMPLE_DOCS / "harbor-foods"
SOV = HARBOR / "statement_of_values.csv"
LOSS_RUNS = HARBOR / "loss_runs_2019-2024.pdf"

# A survey worded unlike sample_docs: its construction, alarm and exposures are sentences no pattern reads.
SURVEY = """KESTREL BAKERY LTD - RISK SURVEY

Insured: Kestrel Bakery Ltd, 14 Mill Lane, Dunmore.

The premises are given over to wholesale baking of bread, rolls and pastries, with a packing hall at the rear.
Walls are solid brick under a timber roof deck covered with felt.
The nearest public hydrant is 180 feet from the front door.
An intruder and fire detection panel reports to Sentinel Monitoring around the clock.
To the east, 30 ft away, stands a timber pallet yard belonging to a neighbouring haulier.
"""


class Counting:
    """A real engine, counting the requests it is sent; `fail_on` makes prompts containing it fail."""

    def __init__(self, inner, fail_on: str | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.fail_on = fail_on
        self.schemas: list[dict] = []

    def special_tokens(self) -> list[str]:
        return special_tokens_of(self.inner)

    def stream(self, request):
        self.calls += 1
        self.schemas.append(request.json_schema)
        if self.fail_on and any(self.fail_on in m["content"] for m in request.messages):
            raise EngineError(f"model server refused the request for {self.fail_on}\n(second line)")
        yield from self.inner.stream(request)

    def count_tokens(self, messages):
        return self.inner.count_tokens(messages)

    @property
    def context_window(self) -> int:
        return self.inner.context_window

    def model_id(self) -> str:
        return self.inner.model_id()


@pytest.fixture(scope="module")
def harbor_workspace(tmp_path_factory, embedder, model_cache) -> Path:
    """A workspace with the harbor-foods submission ingested (no summaries yet)."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    workspace = tmp_path_factory.mktemp("summarize-workspace")
    core = Assistant(load_settings(workspace=workspace, model_cache=model_cache), embedder=embedder)
    report = core.ingest([HARBOR])
    assert not report.failed and report.added == 5
    return workspace


def make_core(workspace: Path, engine, embedder, model_cache):
    from assistant.app import Assistant
    from assistant.settings import load_settings

    return Assistant(load_settings(workspace=workspace, model_cache=model_cache), embedder=embedder, engine=engine)


def assert_from_the_profile(core, summary: DocumentSummary) -> None:
    """Every statement quotes its own document and is a value its submission's profile read from it."""
    text = " ".join(chunk.text for chunk in core.store.chunks_of(summary.document))
    for result in summary.fields.values():
        for item in result.items:
            assert quote_in_source(item.quote, text), (result.key, item)
            assert item.method in ("table", "text", "model") and item.location, (result.key, item)


# ---- the real embedded model ----------------------------------------------------------------------


def test_the_model_reads_only_what_the_patterns_left_and_each_choice_verifies(tmp_path, embedded_engine, embedder,
                                                                             model_cache) -> None:
    folder = tmp_path / "in" / "kestrel-bakery"
    folder.mkdir(parents=True)
    (folder / "risk_survey.txt").write_text(SURVEY)
    engine = Counting(embedded_engine)
    core = make_core(tmp_path / "workspace", engine, embedder, model_cache)
    events = []
    report = core.summarize([folder.parent], progress=events.append)
    assert not report.failed and report.summarized == 1
    (summary,) = report.summaries
    assert summary.model == embedded_engine.model_id() and summary.role == "inspection"
    assert_from_the_profile(core, summary)
    # The hydrant distance is the pattern's; the model is asked only about descriptive fields still unstated,
    # always under the schema, and never about a field without a sentence on its topic.
    assert summary.fields["hydrant"].items[0].text == "180" and summary.fields["hydrant"].items[0].method == "text"
    assert engine.calls == summary.requests >= 2 and all(schema and "anyOf" in schema for schema in engine.schemas)
    profile = core.profile("kestrel-bakery", model=True)
    answers = profile.model_use["answers"]
    assert {a["field"] for a in answers} <= {"occupancy", "construction", "sprinkler_type", "sprinkler_design",
                                             "alarm", "exposures"}
    assert "hydrant_distance_ft" not in {a["field"] for a in answers}
    kept = [(key, fv.value) for key, fv in profile.locations[0].fields.items() if fv.value.method == "model"]
    assert kept, answers  # the 135M model chose at least one line, and it verified
    for key, value in kept:
        assert quote_in_source(value.source.quote, SURVEY) and value.value.lower() in value.source.quote.lower(), key
    kinds = [event.kind for event in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "tokens" in kinds
    md = render(report.summaries, "md")
    assert "chosen by the model, verified against the quote" in md
    assert "**Conflicts between documents**: none found" in md and "**Loss history**: not stated" in md

    # Without the model the same summary has the patterns' values only; the stored profiles are kept apart.
    plain = core.summarize([folder.parent], model=False)
    assert plain.summarized == 1 and not any(item.method == "model" for result in plain.summaries[0].fields.values()
                                             for item in result.items)
    again = core.summarize([folder.parent])
    assert again.resumed == 1 and engine.calls == summary.requests  # the model's profile reused: nothing re-asked


def test_harbor_summaries_are_the_profiles_values_per_document(harbor_workspace, embedded_engine, embedder,
                                                               model_cache) -> None:
    core = make_core(harbor_workspace, Counting(embedded_engine), embedder, model_cache)
    report = core.summarize([HARBOR])
    assert not report.failed and len(report.summaries) == 5
    by_file = {summary.file: summary for summary in report.summaries}
    for summary in report.summaries:
        assert_from_the_profile(core, summary)
    sov = by_file["statement_of_values.csv"]
    addresses = [item.text for item in sov.fields["locations"].items]
    assert len(addresses) == 2 and any("2150 Wharf Road" in a for a in addresses) and any(
        "40 Ferry Street" in a for a in addresses)
    profile = core.profile("harbor-foods", model=True)
    tiv = profile.totals["tiv"]
    assert sov.fields["tiv"].items[0].text == f"${tiv.value:,.0f}" and tiv.source.file == str(SOV)
    assert not sov.fields["loss_history"].stated  # the SOV states no claims
    losses = by_file["loss_runs_2019-2024.pdf"].fields["loss_history"].items
    assert len(losses) == len(profile.claims) >= 4
    open_claim = next(item for item in losses if item.parts.get("status", "").lower() == "open")
    assert open_claim.parts["reserve"].startswith("$") and open_claim.page >= 1
    row = json.loads(render(report.summaries, "jsonl", "insured"))
    assert row["insured_group"] == "harbor-foods" and len(row["documents"]) == 5
    assert row["loss_history"]["stated"] and all(c.startswith("loss_runs_2019-2024.pdf:") for c in
                                                 row["loss_history"]["citations"])


def test_a_failing_model_costs_its_submission_one_line(tmp_path, embedded_engine, embedder, model_cache) -> None:
    folder = tmp_path / "in"
    (folder / "kestrel-bakery").mkdir(parents=True)
    (folder / "kestrel-bakery" / "risk_survey.txt").write_text(SURVEY)
    shutil.copytree(HARBOR, folder / "harbor-foods")
    engine = Counting(embedded_engine, fail_on="solid brick")
    core = make_core(tmp_path / "workspace", engine, embedder, model_cache)
    report = core.summarize([folder])
    assert {Path(s.document).parent.name for s in report.summaries} == {"harbor-foods"}
    (failed,) = report.failed
    assert failed[0].endswith("risk_survey.txt") and "refused" in failed[1] and "\n" not in failed[1]


# ---- the HTTP engine through the CLI, against the local server -------------------------------------


def run_cli(workspace: Path, url: str, model_cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_MODEL_CACHE": str(model_cache), "COLUMNS": "200"}
    env.pop("ASSISTANT_WORKSPACE", None)
    return subprocess.run([*CLI, "--workspace", str(workspace), "summarize", "--url", url, *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_http_cli_all_formats_resume_force_and_failure(harbor_workspace, local_server, model_cache,
                                                       tmp_path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(harbor_workspace, workspace, ignore=shutil.ignore_patterns("profiles", "*.lock"))
    corrupt = tmp_path / "inbox" / "corrupt.pdf"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    out = tmp_path / "report.jsonl"

    first = run_cli(workspace, local_server, model_cache, str(SOV), str(LOSS_RUNS), str(corrupt), "--out", str(out))
    assert first.returncode == 1, first.stderr  # one input failed, the rest was summarized
    failures = [line for line in first.stderr.splitlines() if "corrupt.pdf" in line]
    assert len(failures) == 1, first.stderr
    assert "2 summarized, 0 already done, 1 failed" in first.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(row["document"]).name for row in rows] == ["loss_runs_2019-2024.pdf", "statement_of_values.csv"]
    loss_runs, sov = rows
    assert loss_runs["construction_class"]["value"] == "not stated" and not loss_runs["construction_class"]["stated"]
    assert sov["loss_history"]["value"] == "not stated"
    assert sov["construction_class"]["citations"] == ["statement_of_values.csv:1"]
    claims = loss_runs["loss_history"]["items"]
    assert "2024-01-16" in {c["date"] for c in claims}
    open_claim = next(c for c in claims if c["date"] == "2024-01-16")
    assert (open_claim["status"].lower(), open_claim["paid"], open_claim["reserve"]) == ("open", "$62,300", "$95,000")
    assert open_claim["citations"] == ["loss_runs_2019-2024.pdf:1"]

    csv_out = tmp_path / "report.csv"
    second = run_cli(workspace, local_server, model_cache, str(SOV), str(LOSS_RUNS), "--out", str(csv_out),
                     "--per", "insured")
    assert second.returncode == 0, second.stderr
    assert "0 summarized, 2 already done, 0 failed" in second.stderr  # resumed: the stored profile, no request
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8
    (row,) = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["insured_group"] == "harbor-foods" and row["pages"] == "3"
    assert "[loss_runs_2019-2024.pdf:1]" in row["loss_history"] and "[statement_of_values.csv:1]" in row[
        "construction_class"]

    third = run_cli(workspace, local_server, model_cache, str(SOV), str(LOSS_RUNS), "--force", "--format", "md")
    assert third.returncode == 0, third.stderr
    assert "2 summarized, 0 already done" in third.stderr
    assert "## harbor-foods/loss\\_runs\\_2019-2024.pdf" in third.stdout
    assert "**ISO construction class**: not stated" in third.stdout and "(loss_runs_2019-2024.pdf:1)" in third.stdout

    bad = run_cli(workspace, local_server, model_cache, "--all", "--template", str(tmp_path / "missing.toml"))
    assert bad.returncode == 2 and "cannot read template" in bad.stderr


def test_http_profile_model_reads_prose_through_response_format(tmp_path, local_server, model_cache, embedder) -> None:
    """`profile --model --url`: the same schema reaches the server as `response_format` (json_schema)."""
    folder = tmp_path / "in" / "kestrel-bakery"
    folder.mkdir(parents=True)
    (folder / "risk_survey.txt").write_text(SURVEY)
    workspace = tmp_path / "workspace"
    make_core(workspace, None, embedder, model_cache).ingest([folder.parent])
    env = {**os.environ, "ASSISTANT_MODEL_CACHE": str(model_cache)}
    env.pop("ASSISTANT_WORKSPACE", None)
    done = subprocess.run([*CLI, "--workspace", str(workspace), "profile", "kestrel-bakery", "--model", "--url",
                           local_server, "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    profile = json.loads(done.stdout)
    assert profile["model"] and profile["model_use"]["requests"] >= 2
    read = {key: fv["value"] for key, fv in profile["locations"][0]["fields"].items()
            if fv["value"]["method"] == "model"}
    assert read, profile["model_use"]
    for key, value in read.items():
        assert quote_in_source(value["source"]["quote"], SURVEY), key
    assert profile["locations"][0]["fields"]["hydrant_distance_ft"]["value"]["method"] == "text"


# ---- the model's choices against adversarial answers --------------------------------------------


def survey_chunk(text: str, path: str = "/in/acme/survey.txt") -> Chunk:
    return Chunk(1, path, 1, 0, text, title="Survey")


def fill_with(answer: str, text: str, *, stated: dict[str, str] | None = None,
              advice: tuple[str, ...] = ()) -> tuple[LocationProfile, list[dict]]:
    """One location, one document, every request answered with `answer`; what the filler kept and saw."""
    location = LocationProfile(number="1")
    for key, value in (stated or {}).items():
        reading = Sourced(value=value, method="text", source=Source(file="/in/acme/sov.csv", location="row 2",
                                                                    quote=value))
        location.fields[key] = FieldValue(value=reading, readings=[reading])
    asked: list[dict] = []

    def ask(messages, schema, name):
        asked.append({"messages": messages, "schema": schema})
        return Asked(answer, 10, 0, 5)

    aliases = Aliases()
    aliases.add_number("1")
    filler = ModelFiller(ask, fields=("construction", "alarm"))
    filler.fill([location], {"/in/acme/survey.txt": ([survey_chunk(text)], "inspection", "1")}, aliases, advice)
    return location, asked


WALLS = "Walls are solid brick under a timber roof deck. The alarm panel reports to a central station."


def test_a_faithful_choice_is_kept_with_its_quote_and_method() -> None:
    location, asked = fill_with('{"line": 1, "value": "Walls are solid brick under a timber roof deck"}', WALLS)
    construction = location.sourced("construction")
    assert construction is not None and construction.method == "model"
    assert construction.value == "Walls are solid brick under a timber roof deck"
    assert construction.source.quote.startswith("Walls are solid brick") and construction.source.location
    assert len(asked) == 2 and asked[0]["messages"][0]["content"] == asked[1]["messages"][0]["content"]  # one prefix


@pytest.mark.parametrize("answer", [
    '{"line": 3, "value": "Walls are solid brick under a timber roof deck"}',  # a line that was not offered
    '{"line": 1, "value": "Walls are reinforced concrete under a steel roof deck"}',  # invented, contradicting
    '{"line": 1, "value": "Walls are solid brick under a timber roof deck, built in 1990"}',  # a fact added
    '{"line": 0, "value": "not stated"}',
    "Walls are brick.",  # not the schema
])
def test_choices_that_do_not_verify_leave_the_field_not_stated(answer: str) -> None:
    location, _ = fill_with(answer, WALLS)
    assert location.sourced("construction") is None


def test_a_value_about_another_field_is_not_kept() -> None:
    location, _ = fill_with('{"line": 1, "value": "The alarm panel reports to a central station"}',
                            "The alarm panel reports to a central station and the walls are brick.")
    assert location.sourced("construction") is None  # no construction word in the value
    assert location.get("alarm") == "central station"  # the alarm's kind, as the patterns give it


def test_stated_fields_recommendations_and_questions_are_never_asked() -> None:
    text = ("Provide a monitored fire alarm reporting to a central station. Is the roof timber or steel? "
            "Walls are solid brick under a timber roof deck.")
    location, asked = fill_with('{"line": 1, "value": "x"}', text, stated={"construction": "Masonry"},
                                advice=("Provide a monitored fire alarm reporting to a central station.",))
    assert location.get("construction") == "Masonry"  # the pattern's value stays; the model was not asked
    assert not asked  # the only alarm sentence is a recommendation (what should be), the roof line a question


def test_the_schema_offers_each_lines_clauses_and_not_stated() -> None:
    lines = ["Walls are brick; the roof is timber", "Alarm reports to Sentinel Monitoring"]
    schema = field_schema(lines)
    branches = schema["anyOf"]
    assert [b["properties"]["line"]["const"] for b in branches] == [1, 2, 0]
    assert branches[0]["properties"]["value"]["enum"] == value_spans(lines[0]) == [
        "Walls are brick; the roof is timber", "Walls are brick", "the roof is timber"]
    assert branches[2]["properties"]["value"] == {"const": "not stated"}


# ---- templates and reports -------------------------------------------------------------------------


def test_default_template_names_profile_fields_and_bad_templates_are_one_line_errors(tmp_path) -> None:
    template = load_template()
    keys = [spec.key for spec in template.fields]
    for key in ("insured", "locations", "occupancy", "construction", "sprinklers", "alarms", "hydrant",
                "fire_department", "exposures", "loss_history", "recommendations", "red_flags"):
        assert key in keys
    assert template.field("loss_history").source == "claims" and template.field("loss_history").kind == "list"
    assert template.field("red_flags").empty == "none found" and template.field("insured").empty == ""
    assert load_template().hash == template.hash
    base = {"fields": [{"key": "a", "from": "insured"}]}
    assert parse_template(base).hash != parse_template({**base, "not_stated": "n/a"}).hash
    for broken, message in [
        ({"fields": [{"key": "a", "from": "location.colour"}]}, "must name a profile field"),
        ({"instructions": "x", "fields": [{"key": "a", "from": "insured"}]}, "unknown settings instructions"),
        ({"fields": [{"key": "a", "from": "insured", "pattern": "x"}]}, "unknown settings pattern"),
        ({"fields": [{"key": "a", "from": "insured"}, {"key": "a", "from": "claims"}]}, "duplicate field keys"),
        ({"fields": [{"key": "document", "from": "insured"}]}, "reserved"),
        ({"fields": []}, "at least one"),
    ]:
        with pytest.raises(TemplateError, match=message) as caught:
            parse_template(broken)
        assert "\n" not in str(caught.value)
    bad = tmp_path / "bad.toml"
    bad.write_text("fields = [")
    with pytest.raises(TemplateError, match="not valid TOML"):
        load_template(bad)


def fake_summary(path: str, group: str, construction: str | None, page: int = 1) -> DocumentSummary:
    items = [Item(construction, page, "table", construction, "row 2")] if construction else []
    return DocumentSummary(
        document=path, title="t", insured_group=group, content_hash="h", pages=2, model="m", template="T",
        template_hash="x", not_stated="not stated",
        fields={"construction": FieldResult("construction", "Construction", "text", "", items),
                "red_flags": FieldResult("red_flags", "Red flags", "list", "",
                                         [Item("=HYPERLINK(\"http://x\")", 2, "text", "q", "page 2")])})


def test_reports_per_insured_and_spreadsheet_safety() -> None:
    summaries = [fake_summary("/in/acme/sov.csv", "acme", "ISO 4 - Masonry", 1),
                 fake_summary("/in/acme/notes.txt", "acme", "ISO 4 masonry", 1),
                 fake_summary("/in/zenith/notes.txt", "zenith", None)]
    (acme,) = [json.loads(line) for line in render_jsonl(summaries, "insured").splitlines()][:1]
    assert acme["construction"]["citations"] == ["sov.csv:1", "notes.txt:1"]  # the same statement, merged
    assert len(acme["documents"]) == 2
    rows = list(csv.reader(io.StringIO(render_csv(summaries))))
    assert rows[0][:4] == ["document", "insured_group", "title", "pages"]
    assert rows[3][4] == "not stated" and rows[1][5].startswith("'=HYPERLINK")  # never a live formula
    md = render_markdown(summaries, "insured")
    assert "## acme" in md and "## zenith" in md and "**Construction**: not stated" in md

    quiet = fake_summary("/in/acme/sov.csv", "acme", None)
    quiet.fields["red_flags"] = FieldResult("red_flags", "Conflicts", "list", "", [], 0, "none found")
    assert "**Conflicts**: none found" in render_markdown([quiet]) and "**Construction**: not stated" in \
        render_markdown([quiet])
    assert json.loads(render_jsonl([quiet]))["red_flags"]["value"] == "none found"
    assert list(csv.reader(io.StringIO(render_csv([quiet]))))[1][4:] == ["not stated", "none found"]


def test_insured_groups() -> None:
    assert insured_group("/in/acme/sub/a.pdf", "/in") == "acme"
    assert insured_group("/in/a.pdf", "/in") == "in"
    assert insured_group("/x/acme/a.pdf", None) == "acme"
