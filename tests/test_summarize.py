"""`assistant summarize`: with the real embedded model, and through the CLI with the HTTP engine against our
local server. Model answers are kept short (a few tokens) and the documents few, so the file stays quick;
the pure parts (template, sentences, overlaps, verification, reports) are tested without a model."""

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
from assistant.engines.base import StreamEvent, Usage, special_tokens_of
from assistant.summaries.output import render, render_csv, render_jsonl, render_markdown
from assistant.summaries.summarizer import (
    DocumentSummary,
    FieldResult,
    Item,
    Job,
    Piece,
    Summarizer,
    SummaryStore,
    Window,
    collapse,
    insured_group,
    overlap_start,
    parse_answer,
    pieces_of,
    reduce_field,
    sentences,
    verify_answer,
)
from assistant.summaries.template import TemplateError, load_template, parse_template
from index.types import Chunk
from tests.conftest import CLI, SAMPLE_DOCS

HARBOR = SAMPLE_DOCS / "harbor-foods"
SOV = HARBOR / "statement_of_values.csv"
LOSS_RUNS = HARBOR / "loss_runs_2019-2024.pdf"
ANSWER_TOKENS = 8  # enough for a short value; the tests check the mechanics, not the model's prose

SMALL_TEMPLATE = '''
name = "Test summary"
instructions = """Copy facts from the document between <document> and </document>.
Answer in a few words, then the page in parentheses. If it is not there, answer: not stated"""
answer_tokens = 8

[[fields]]
key = "construction"
label = "Construction"
method = "model"
question = "What is the construction of the building?"
keywords = ["construction", "masonry", "non-combustible"]
pattern = \'\'\'\\bISO [1-6]\\b[^;.,\\n]{0,40}\'\'\'

[[fields]]
key = "loss_history"
label = "Loss history"
kind = "list"
method = "extract"
keywords = ["claim*"]
pattern = \'\'\'(?x) (?P<date>\\b\\d{1,2}/\\d{1,2}/\\d{4}) \\s+ (?:\\|\\s+ (?:Cause\\ of\\ Loss|Cause) \\s+)?
  (?P<cause>(?:(?!\\d{1,2}/\\d{1,2}/\\d{4})[^$|]){3,300}?) \\s* (?:\\|\\s*Status\\s+)? \\s* (?P<status>Open|Closed)
  \\s* (?:\\|\\s*Paid\\s+)? \\s* (?P<paid>\\$[\\d,]+) \\s* (?:\\|\\s*Reserved?\\s+)? \\s* (?P<reserved>\\$[\\d,]+)\'\'\'
pattern_scope = "page"
display = "{date}: {cause} ({status}); paid {paid}, reserved {reserved}"
max_items = 20
'''


class Counting:
    """A real engine, counting the requests it is sent; `fail_on` makes prompts containing it fail."""

    def __init__(self, inner, fail_on: str | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.fail_on = fail_on

    def special_tokens(self) -> list[str]:
        return special_tokens_of(self.inner)

    def stream(self, request):
        self.calls += 1
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

    core = Assistant(load_settings(workspace=workspace, model_cache=model_cache), embedder=embedder, engine=engine)
    return core


def page_text(core, path: str, page: int) -> str:
    return collapse(" ".join(chunk.text for chunk in core.store.chunks_of(path) if chunk.page == page))


def assert_grounded(core, summary: DocumentSummary) -> None:
    """Every statement's quote is on the page it cites; a model answer's words are in that quote."""
    from assistant.answering.citations import terms

    for result in summary.fields.values():
        for item in result.items:
            text = page_text(core, summary.document, item.page)
            assert collapse(item.quote) in text, (result.key, item)
            if item.method == "model":
                claim = terms(item.text)
                assert len(claim & terms(item.quote)) >= 0.85 * len(claim), (result.key, item)
            else:
                for part in item.parts.values():
                    assert part in collapse(item.quote)


# ---- the real embedded model ----------------------------------------------------------------------


def test_embedded_summary_formats_and_resume(harbor_workspace, embedded_engine, embedder, model_cache) -> None:
    engine = Counting(embedded_engine)
    core = make_core(harbor_workspace, engine, embedder, model_cache)
    events = []
    report = core.summarize([SOV], max_tokens=ANSWER_TOKENS, progress=events.append)
    assert not report.failed and report.summarized == 1
    summary = report.summaries[0]
    assert summary.insured_group == "harbor-foods"
    assert engine.calls == summary.requests >= 2  # the model was asked where the SOV mentions a field
    assert len(summary.answers) == summary.requests
    assert summary.cached_tokens > 0  # requests over the same window reuse its prefix
    construction = summary.fields["construction"]
    assert construction.stated and any(w in construction.items[0].text.lower() for w in ("iso 4", "masonry"))
    assert construction.items[0].page == 1
    assert sorted(i.text for i in summary.fields["locations"].items) == ["2150 Wharf Road", "40 Ferry Street"]
    for key in ("alarms", "hydrant", "loss_history", "recommendations"):
        assert not summary.fields[key].stated, key  # the SOV says nothing about these
    assert_grounded(core, summary)
    kinds = [event.kind for event in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "tokens" in kinds

    md = render(report.summaries, "md")
    assert "## harbor-foods/statement\\_of\\_values.csv" in md
    assert "(statement_of_values.csv:1)" in md and "**Loss history**: not stated" in md
    row = json.loads(render(report.summaries, "jsonl"))
    assert row["document"] == str(SOV) and row["loss_history"] == {
        "value": "not stated", "stated": False, "citations": [], "items": [], "more": 0}
    assert row["construction"]["citations"] == ["statement_of_values.csv:1"]
    rows = list(csv.DictReader(io.StringIO(render(report.summaries, "csv"))))
    assert len(rows) == 1 and rows[0]["alarms"] == "not stated"
    assert "[statement_of_values.csv:1]" in rows[0]["construction"]

    again = core.summarize([SOV], max_tokens=ANSWER_TOKENS)
    assert again.resumed == 1 and again.summarized == 0 and engine.calls == summary.requests  # nothing re-asked
    assert again.summaries[0].fields["construction"].items[0].text == construction.items[0].text


def test_a_failing_document_is_one_line_and_the_others_go_on(harbor_workspace, embedded_engine, embedder,
                                                              model_cache) -> None:
    engine = Counting(embedded_engine, fail_on="loss_runs_2019-2024.pdf")
    core = make_core(harbor_workspace, engine, embedder, model_cache)
    report = core.summarize([SOV, LOSS_RUNS], max_tokens=ANSWER_TOKENS)
    assert [s.document for s in report.summaries] == [str(SOV)]  # summarized (or resumed from the test above)
    assert len(report.failed) == 1
    path, reason = report.failed[0]
    assert path == str(LOSS_RUNS) and "refused" in reason and "\n" not in reason


def test_a_document_longer_than_the_context_is_mapped_and_reduced(tmp_path, embedded_engine, embedder,
                                                                   model_cache) -> None:
    template = tmp_path / "small.toml"
    template.write_text(SMALL_TEMPLATE)
    lines = []
    for n in range(1, 13):
        lines.append(f"Claim {n}: {n:02d}/14/20{10 + n} Water damage number {n} in the warehouse Closed "
                     f"${n * 1000:,} $0")
        lines.append("The adjuster visited the site and reviewed the invoices with the facility manager. " * 2)
        if n in (1, 12):
            lines.append(f"Building {n}: ISO {2 if n == 1 else 4} construction, masonry walls and a steel roof.")
    document = tmp_path / "long" / "long_report.txt"
    document.parent.mkdir()
    document.write_text("\n".join(lines) + "\n")
    engine = Counting(embedded_engine)
    core = make_core(tmp_path / "workspace", engine, embedder, model_cache)
    report = core.summarize([document], template=template, max_tokens=6, max_context_tokens=640)
    assert not report.failed
    summary = report.summaries[0]
    assert summary.windows >= 3
    assert sum(summary.window_chars) == summary.document_chars >= len(document.read_text()) * 0.9
    losses = summary.fields["loss_history"].items
    assert len(losses) == 12 and summary.fields["loss_history"].more == 0  # every window was read, nothing cut
    assert {item.window for item in losses} == set(range(summary.windows))
    assert losses[0].parts["paid"] == "$1,000" and losses[-1].parts["paid"] == "$12,000"
    assert engine.calls == summary.requests == 2  # only the two windows that mention the construction
    assert {a["window"] for a in summary.answers} == {0, summary.windows - 1}
    (best,) = summary.fields["construction"].items  # reduced to one statement, from one of the two windows
    assert best.quote.startswith(("Building 1: ISO 2", "Building 12: ISO 4"))
    assert summary.cached_tokens > 0  # the instructions are a shared prefix across windows


# ---- the HTTP engine through the CLI, against the local server -------------------------------------


def run_cli(workspace: Path, url: str, model_cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_MODEL_CACHE": str(model_cache), "COLUMNS": "200"}
    env.pop("ASSISTANT_WORKSPACE", None)
    return subprocess.run([*CLI, "--workspace", str(workspace), "summarize", "--url", url, *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_http_cli_all_formats_resume_force_and_failure(harbor_workspace, local_server, model_cache,
                                                       tmp_path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(harbor_workspace, workspace, ignore=shutil.ignore_patterns("summaries", "*.lock"))
    template = tmp_path / "small.toml"
    template.write_text(SMALL_TEMPLATE)
    corrupt = tmp_path / "inbox" / "corrupt.pdf"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    out = tmp_path / "report.jsonl"
    common = ["--template", str(template), "--max-tokens", str(ANSWER_TOKENS), "--concurrency", "2"]

    first = run_cli(workspace, local_server, model_cache, str(SOV), str(LOSS_RUNS), str(corrupt), *common,
                    "--out", str(out))
    assert first.returncode == 1, first.stderr  # one input failed, the rest was summarized
    failures = [line for line in first.stderr.splitlines() if "corrupt.pdf" in line]
    assert len(failures) == 1, first.stderr
    assert "2 summarized, 0 already done, 1 failed" in first.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(row["document"]).name for row in rows] == ["loss_runs_2019-2024.pdf", "statement_of_values.csv"]
    loss_runs, sov = rows
    assert loss_runs["construction"]["value"] == "not stated" and not loss_runs["construction"]["stated"]
    assert sov["loss_history"]["value"] == "not stated"
    assert any(w in sov["construction"]["value"].lower() for w in ("iso 4", "masonry"))
    assert sov["construction"]["citations"] == ["statement_of_values.csv:1"]
    claims = loss_runs["loss_history"]["items"]
    assert {c["date"] for c in claims} == {"12/27/2021", "06/03/2022", "02/11/2023", "01/16/2024", "08/17/2020"}
    open_claim = next(c for c in claims if c["date"] == "01/16/2024")
    assert (open_claim["status"], open_claim["paid"], open_claim["reserved"]) == ("Open", "$62,300", "$95,000")
    assert open_claim["citations"] == ["loss_runs_2019-2024.pdf:1"]

    csv_out = tmp_path / "report.csv"
    second = run_cli(workspace, local_server, model_cache, str(SOV), str(LOSS_RUNS), *common, "--out", str(csv_out),
                     "--per", "insured")
    assert second.returncode == 0, second.stderr
    assert "0 summarized, 2 already done, 0 failed" in second.stderr  # resumed: no request sent
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8
    (row,) = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["insured_group"] == "harbor-foods" and row["pages"] == "3"
    assert "[loss_runs_2019-2024.pdf:1]" in row["loss_history"] and "[statement_of_values.csv:1]" in row[
        "construction"]

    third = run_cli(workspace, local_server, model_cache, str(SOV), str(LOSS_RUNS), *common, "--force",
                    "--format", "md")
    assert third.returncode == 0, third.stderr
    assert "2 summarized, 0 already done" in third.stderr
    assert "## harbor-foods/loss\\_runs\\_2019-2024.pdf" in third.stdout
    assert "**Construction**: not stated" in third.stdout and "(loss_runs_2019-2024.pdf:1)" in third.stdout

    bad = run_cli(workspace, local_server, model_cache, "--all", "--template", str(tmp_path / "missing.toml"))
    assert bad.returncode == 2 and "cannot read template" in bad.stderr


# ---- without a model: template, text, verification, reports ----------------------------------------


def test_default_template_loads_and_bad_templates_are_one_line_errors(tmp_path) -> None:
    template = load_template()
    keys = [spec.key for spec in template.fields]
    for key in ("insured", "locations", "occupancy", "construction", "sprinklers", "alarms", "hydrant",
                "fire_department", "exposures", "loss_history", "recommendations", "red_flags"):
        assert key in keys
    assert load_template().hash == template.hash
    base = {"instructions": "x", "fields": [{"key": "a", "keywords": ["a"], "question": "q"}]}
    assert parse_template(base).hash != parse_template({**base, "instructions": "y"}).hash
    for broken, words in [
        ({**base, "fields": [{"key": "a", "kind": "table", "keywords": ["a"], "question": "q"}]}, "kind"),
        ({**base, "fields": [{"key": "a", "keywords": ["a"], "pattern": "(", "method": "extract"}]}, "bad pattern"),
        ({**base, "fields": [{"key": "document", "keywords": ["a"], "question": "q"}]}, "reserved"),
        ({**base, "fields": [{"key": "a", "keywords": ["a"]}]}, "question"),
        ({**base, "fields": [{"key": "a", "keywords": ["a"], "question": "q", "colour": 1}]}, "unknown"),
    ]:
        with pytest.raises(TemplateError, match=words):
            parse_template(broken)
    bad = tmp_path / "bad.toml"
    bad.write_text("instructions = ")
    with pytest.raises(TemplateError, match="not valid TOML"):
        load_template(bad)


def chunk(text: str, page: int = 1, position: int = 0) -> Chunk:
    return Chunk(id=position, source="/docs/a/report.pdf", page=page, position=position, text=text)


def test_chunk_overlaps_are_counted_once_and_nothing_else_is_dropped() -> None:
    first = "Claim 1 Closed $48,950 $0 $48,950\nClaim 2 Hail - roof damage\nwarehouse\nClosed $127,800 $0 $127,"
    second = "Claim 2 Hail - roof damage\nwarehouse\nClosed $127,800 $0 $127,800\nTOTAL - 2 claim(s)"
    assert overlap_start(first, second) == first.index("Claim 2")
    pieces = pieces_of([chunk(first), chunk(second, position=1), chunk("Page two text.", page=2, position=2)])
    joined = "".join(p.joiner + p.text for p in pieces if p.page == 1)
    assert collapse(joined) == collapse("Claim 1 Closed $48,950 $0 $48,950\n" + second)
    assert pieces[-1] == Piece(2, "Page two text.", "\n")
    assert overlap_start("no shared words here", "something else entirely") is None


def test_sentences_rejoin_wrapped_lines_and_split_records() -> None:
    text = ("HF-24-03 Medium Confirm the listing of the panels; replace them with FM Approved (FM\n"
            "4880) panels as they are renovated.\n"
            "10/17/2024  Submission logged. Incumbent Northbridge,\n"
            "            expiring premium $385,800.\n"
            "- first bullet\n- second bullet\n"
            "Location No: 1; Occupancy: Warehouse; Construction: ISO 4 - Masonry Non-Combustible; Stories: 1.")
    units = sentences(text)
    assert units[0].endswith("(FM 4880) panels as they are renovated.")
    assert "Incumbent Northbridge, expiring premium $385,800." in units
    assert "- first bullet" in units and "- second bullet" in units
    assert "Construction: ISO 4 - Masonry Non-Combustible;" in units


def test_answers_are_kept_only_when_the_page_bears_them_out() -> None:
    template = load_template()
    hydrant = template.field("hydrant")
    window = Window(0, [Piece(3, "The nearest public hydrant, H-217, is 180 feet from the building.\n"
                                 "Total floor area is 218,500 square feet.")])
    assert parse_answer("The hydrant is 180 feet away (page 3).") == ("The hydrant is 180 feet away", 3)
    assert parse_answer("Answer: ISO 4 [page 2]") == ("ISO 4", 2)
    assert parse_answer("not stated") == (None, None)
    kept = verify_answer("The hydrant is 180 feet from the building", 3, hydrant, window)
    assert kept is not None and kept.page == 3 and kept.method == "model" and "H-217" in kept.quote
    assert kept.text == "180 feet from the building"
    assert verify_answer("The hydrant is 180 feet away", 3, hydrant, window) is None  # "away" is not on the page
    cited_elsewhere = verify_answer("hydrant, H-217, is 180 feet", 9, hydrant, window)
    assert cited_elsewhere is not None and cited_elsewhere.page == 3  # cited where it actually is
    assert verify_answer("The nearest hydrant is 218 feet", 3, hydrant, window) is None  # invented figure
    assert verify_answer("How far is the nearest fire hydrant", 3, hydrant, window) is None  # an echo
    assert verify_answer("Total floor area is 218,500 square feet", 3, hydrant, window) is None  # off the field


def test_list_fields_keep_distinct_items_and_count_the_rest() -> None:
    spec = parse_template({"instructions": "x", "fields": [
        {"key": "flags", "kind": "list", "method": "extract", "keywords": ["open"], "max_items": 2}]}).fields[0]
    items = [Item(f"Claim {n} remains open", 1, "keywords", f"Claim {n} remains open", 1.0, 0, n) for n in range(4)]
    items.append(Item("Claim 1 remains open", 2, "keywords", "Claim 1 remains open", 1.0, 0, 9))
    result = reduce_field(spec, items)
    assert [i.text for i in result.items] == ["Claim 0 remains open", "Claim 1 remains open"] and result.more == 2


def fake_summary(path: str, group: str, construction: str | None, page: int = 1) -> DocumentSummary:
    items = [Item(construction, page, "pattern", construction)] if construction else []
    return DocumentSummary(
        document=path, title="t", insured_group=group, content_hash="h", pages=2, model="m", template="T",
        template_hash="x", not_stated="not stated",
        fields={"construction": FieldResult("construction", "Construction", "text", "", items),
                "red_flags": FieldResult("red_flags", "Red flags", "list", "",
                                         [Item("=HYPERLINK(\"http://x\")", 2, "keywords", "q")])})


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


def test_insured_groups_and_the_resume_key() -> None:
    assert insured_group("/in/acme/sub/a.pdf", "/in") == "acme"
    assert insured_group("/in/a.pdf", "/in") == "in"
    assert insured_group("/x/acme/a.pdf", None) == "acme"
    key = SummaryStore.key("hash", "model", "template", 8192, 24)
    assert key == SummaryStore.key("hash", "model", "template", 8192, 24)
    assert len({key, SummaryStore.key("hash2", "model", "template", 8192, 24),
                SummaryStore.key("hash", "model2", "template", 8192, 24),
                SummaryStore.key("hash", "model", "template2", 8192, 24)}) == 4


class CharEngine:
    """A stand-in engine for window planning: one token per four characters, no generation."""

    name = "stub"
    context_window = 400

    def count_tokens(self, messages) -> int:
        return sum(len(m["content"]) for m in messages) // 4 + 8

    def model_id(self) -> str:
        return "stub"

    def stream(self, request):
        yield StreamEvent(text="not stated")
        yield StreamEvent(usage=Usage(prompt_tokens=self.count_tokens(request.messages), completion_tokens=2))


def test_a_piece_larger_than_a_window_is_split_never_cut(tmp_path) -> None:
    template = parse_template({"instructions": "Extract.", "fields": [
        {"key": "walls", "kind": "list", "method": "extract", "keywords": ["wall"], "max_items": 50}]})
    text = " ".join(f"Wall {n} is brick." for n in range(200))  # one chunk, far larger than a window
    summarizer = Summarizer(CharEngine(), template, SummaryStore(tmp_path))
    job = Job("/docs/a/walls.txt", "walls", "h", 1, "a")
    summary = summarizer.summarize_document(job, [chunk(text)])
    assert summary.windows > 3 and sum(summary.window_chars) == len(text)
    found = {int(item.text.split()[1]) for item in summary.fields["walls"].items}
    assert summary.fields["walls"].more + len(found) >= 199  # split points may join two sentences, none is lost
    with pytest.raises(Exception, match="no room"):
        Summarizer(CharEngine(), parse_template({"instructions": "x" * 2000, "fields": template_fields()}),
                   SummaryStore(tmp_path)).summarize_document(job, [chunk(text)])


def template_fields() -> list[dict]:
    return [{"key": "walls", "kind": "list", "method": "extract", "keywords": ["wall"]}]


def test_concurrent_batch_keeps_order_isolates_failures_and_resumes(tmp_path) -> None:
    template = parse_template({"instructions": "Extract.", "fields": [
        {"key": "roof", "method": "model", "question": "What is the roof?", "keywords": ["roof"]}]})
    texts = {f"/docs/acme/doc{n}.txt": f"The roof of building {n} is a steel deck with TPO membrane." for n in range(6)}
    texts["/docs/acme/empty.txt"] = ""
    jobs = [Job(path, "t", f"hash-{path}", 1, "acme") for path in sorted(texts, reverse=True)]

    def chunks_of(path: str) -> list[Chunk]:
        return [Chunk(1, path, 1, 0, texts[path])] if texts[path] else []

    engine = CharEngine()
    engine.context_window = 2000
    events = []
    summarizer = Summarizer(engine, template, SummaryStore(tmp_path), concurrency=3)
    report = summarizer.run(jobs, chunks_of, progress=events.append)
    assert [s.document for s in report.summaries] == sorted(p for p in texts if texts[p])
    assert report.failed == [("/docs/acme/empty.txt", "no text to summarize (the document has no chunks in the index)")]
    assert all(s.fields["roof"].stated and s.requests == 1 for s in report.summaries)  # the stub said "not stated"
    assert all(s.fields["roof"].items[0].method == "keywords" for s in report.summaries)
    assert sum(e.kind == "done" for e in events) == 6 and sum(e.kind == "error" for e in events) == 1
    again = summarizer.run(jobs, chunks_of)
    assert again.resumed == 6 and again.summarized == 0
    forced = summarizer.run(jobs, chunks_of, force=True)
    assert forced.summarized == 6 and forced.resumed == 0
