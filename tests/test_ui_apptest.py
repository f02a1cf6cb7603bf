"""The Streamlit pages' main flows, run headless with `streamlit.testing` over the real core (bundled models)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import SAMPLE_DOCS

UI_APP = Path(__file__).resolve().parent.parent / "ui" / "app.py"
TIMEOUT = 180


@pytest.fixture
def ui(monkeypatch, listening_on, tmp_path, make_assistant, embedded_engine, model_cache):
    """Open the UI over a fresh workspace; the core reuses the session's embedder and generator."""
    from ui import core

    built = {}

    def factory(settings):
        assistant = make_assistant(settings.workspace, shared_engine=embedded_engine, max_new_tokens=48,
                                   model_cache=model_cache)
        built["assistant"] = assistant
        return assistant

    workspace = tmp_path / "workspace"
    monkeypatch.setattr(core, "FACTORY", factory)
    monkeypatch.setenv("ASSISTANT_WORKSPACE", str(workspace))
    monkeypatch.setenv("ASSISTANT_INGEST_ROOTS", json.dumps([str(tmp_path)]))  # the folder field reads only these
    listening_on("127.0.0.1")  # as `assistant ui` starts it: this computer only, no sign-in

    class Opener:
        def __call__(self, page: str | None = None) -> AppTest:
            app = AppTest.from_file(str(UI_APP), default_timeout=TIMEOUT)
            app.run()
            if page:
                app.switch_page(f"views/{page}.py").run()
            assert not app.exception, app.exception
            return app

        @property
        def workspace(self) -> core.Workspace:
            return core.workspace()

    return Opener()


def ingest(ui, *paths: Path) -> None:
    """Ingest through the same job the Library page starts, and wait for it."""
    from ui import core

    job = core.start_ingest(ui.workspace, list(paths))
    assert job.wait(TIMEOUT), "ingest did not finish"
    assert job.status == core.DONE, job.error


def texts(app: AppTest) -> str:
    parts = [e.value for e in (*app.markdown, *app.caption, *app.info, *app.success, *app.warning, *app.error)]
    return "\n".join(str(part) for part in parts)


def wait_for_job(ui, kind: str):
    job = ui.workspace.jobs.get(kind)
    assert job is not None, f"no {kind} job was started"
    assert job.wait(TIMEOUT), f"{kind} job did not finish"
    return job


# ---- library ------------------------------------------------------------------------------------


def test_library_uploads_ingests_lists_and_removes(ui) -> None:
    app = ui("library")
    assert "No documents yet" in texts(app)
    notes = (SAMPLE_DOCS / "harbor-foods" / "underwriter_notes.txt").read_bytes()
    app.file_uploader[0].set_value([
        ("../../etc/underwriter_notes.txt", notes, "text/plain"),
        ("payload.exe", b"MZ\x90\x00", "application/octet-stream"),
        ("empty.txt", b"", "text/plain"),
    ])
    app.button(key="FormSubmitter:upload-Upload and ingest").click().run()
    assert not app.exception, app.exception
    shown = texts(app)
    assert "points outside its folder" in shown
    assert "unsupported file type .exe" in shown
    assert "empty" in shown

    # All three refused ("../" names are refused, not rewritten): nothing stored, nothing ingested.
    uploads = ui.workspace.assistant.settings.workspace / "uploads"
    assert not uploads.exists() or not list(uploads.iterdir())
    assert ui.workspace.jobs.get("ingest") is None

    app.file_uploader[0].set_value([("underwriter_notes.txt", notes, "text/plain"),
                                    ("Loss runs 2024?.txt", b"Loss run for Harbor Foods: no losses.", "text/plain")])
    app.button(key="FormSubmitter:upload-Upload and ingest").click().run()
    job = wait_for_job(ui, "ingest")
    assert job.status == "done", job.error
    assert sorted(p.name for p in uploads.iterdir()) == ["Loss runs 2024.txt", "underwriter_notes.txt"]
    app.run()
    assert not app.exception, app.exception
    table = app.dataframe[-1].value
    assert sorted(table["Document"]) == ["Loss runs 2024.txt", "underwriter_notes.txt"]
    assert set(table["Status"]) == {"ok"} and all(table["Chunks"] > 0)
    assert "2 documents" in texts(app)

    # Remove one document: it leaves the index and its uploaded copy is deleted.
    target = str(uploads / "Loss runs 2024.txt")
    app.multiselect[0].set_value([target])
    app.button(key="FormSubmitter:remove-Remove").click().run()
    assert not app.exception, app.exception
    assert "Removed 1 document" in texts(app)
    assert [Path(r.path).name for r in ui.workspace.assistant.documents()] == ["underwriter_notes.txt"]
    assert not Path(target).exists()


def test_library_ingests_a_folder_with_progress_and_a_per_file_error_list(ui, tmp_path) -> None:
    folder = tmp_path / "submission"
    shutil.copytree(SAMPLE_DOCS / "harbor-foods", folder)
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    app = ui("library")
    app.text_input[0].set_value(str(folder))
    app.button(key="FormSubmitter:folder-Ingest folder").click().run()
    assert not app.exception, app.exception
    job = ui.workspace.jobs.get("ingest")
    assert job is not None
    wait_for_job(ui, "ingest")
    app.run()
    assert not app.exception, app.exception
    problems = app.dataframe[0].value
    assert list(problems["File"]) == [str(folder / "scan.pdf").replace(str(Path.home()) + "/", "~/")]
    assert list(problems["Problem"]) == ["error"]
    documents = app.dataframe[1].value
    assert len(documents) == 5
    assert "1 failed" in texts(app)


def test_library_refuses_a_folder_outside_the_ingest_roots(ui, tmp_path, monkeypatch) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("Private notes that are not a submission.")
    app = ui("library")
    app.text_input[0].set_value(str(outside))
    app.button(key="FormSubmitter:folder-Ingest folder").click().run()
    assert not app.exception, app.exception
    assert ui.workspace.jobs.get("ingest") is None
    shown = " ".join(str(e.value) for e in app.error)
    assert "outside the folders this workspace may ingest" in shown and "ingest\\_roots" in shown


def test_beyond_loopback_the_ui_asks_for_a_key_before_showing_anything(ui, listening_on) -> None:
    from assistant.api.users import UserStore

    listening_on("0.0.0.0")
    app = ui()
    assert "The workspace has no users" in " ".join(str(e.value) for e in app.error)
    assert not app.text_input and not app.chat_input  # nothing of the workspace is shown
    store = UserStore(ui.workspace.assistant.settings.users_path)
    reader = store.add("rita", "reader")
    app = ui()
    assert [e.label for e in app.text_input] == ["API key"] and not app.chat_input
    app.text_input[0].set_value("uak_not-a-key")
    app.button(key="FormSubmitter:sign_in-Sign in").click().run()
    assert "That key is not valid." in [e.value for e in app.error]
    assert not app.chat_input
    app.text_input[0].set_value(reader)
    app.button(key="FormSubmitter:sign_in-Sign in").click().run()
    assert not app.exception, app.exception
    assert app.chat_input  # signed in: the chat page
    app.switch_page("views/library.py").run()
    assert not app.exception, app.exception
    assert "adding and removing documents needs the editor role" in texts(app)
    assert app.button(key="FormSubmitter:folder-Ingest folder").disabled
    assert app.button(key="FormSubmitter:upload-Upload and ingest").disabled


def test_library_ingest_can_be_cancelled(ui, tmp_path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    files = 300  # one commit (and check for cancel) per file: far more work than one script run takes
    for i in range(files):
        (folder / f"note-{i:03}.txt").write_text(f"Inspection note {i}: sprinklers, hydrants, alarms. " * 40)
    ui.workspace.assistant.settings.ingest_batch_chunks = 1
    app = ui("library")
    app.text_input[0].set_value(str(folder))
    app.button(key="FormSubmitter:folder-Ingest folder").click().run()
    job = ui.workspace.jobs.get("ingest")
    assert job is not None and job.running
    app.button(key="cancel_ingest").click().run()
    job.wait(TIMEOUT)
    app.run()
    assert job.status == "cancelled", job.error
    assert "was cancelled" in texts(app)
    assert len(ui.workspace.assistant.documents()) < files


# ---- chat ---------------------------------------------------------------------------------------


def test_chat_streams_a_cited_answer_exports_it_and_says_when_not_in_the_documents(ui) -> None:
    ingest(ui, SAMPLE_DOCS / "harbor-foods" / "fire_inspection_2024.pdf")
    app = ui()
    assert "Engine: embedded" in texts(app)
    app.chat_input[0].set_value("What is the recipe for a chocolate souffle?").run()
    assert not app.exception, app.exception
    assert "Not in your documents" in texts(app)

    next(b for b in app.button if b.label == "New conversation").click().run()
    app.chat_input[0].set_value("How far is the nearest public hydrant from the Harbor Foods building?").run()
    assert not app.exception, app.exception
    chat = app.session_state[f"chat:{ui.workspace.assistant.settings.workspace}"]
    [answer] = chat["answers"]
    assert not answer.declined
    assert answer.sources, "the answer was given sources"
    shown = texts(app)
    # What the 135M model writes differs between CPUs: its answer verifies (green badge) or it does not, and the
    # page then shows the passage as a labelled quote. Either way every card names insured / file, page.
    assert answer.kind in ("answer", "quote")
    if answer.kind == "answer":
        assert answer.supported and "verified answer" in shown and "quoted from the documents" not in shown
    else:
        assert "quoted from the documents" in shown and ":green-badge" not in shown, shown
    assert answer.citations
    first = answer.citations[0]
    assert f"[{first.number}] {core_md(first.submission)} / {core_md(first.file_name)}" in shown
    assert any(e.label == "Open in context" for e in app.expander)
    assert ":orange-background[" in shown  # the passage, highlighted in its context

    export = next(b for b in app.get("download_button") if "Markdown" in b.proto.label)
    assert not export.proto.disabled
    assert ui.workspace.usage.answers == 1


def test_a_planted_instruction_is_named_in_chat_and_on_the_library_page(ui, tmp_path) -> None:
    from benchmarks.planted_cases import PLANTED, write_planted

    folder = write_planted(PLANTED[0], tmp_path / "docs")  # the Quarry Lane note beside a clean survey
    ingest(ui, folder)
    app = ui("library")
    shown = texts(app)
    assert core_md("broker_note.txt") in shown and "planted instruction" in shown and "never used as evidence" in shown
    app = ui()
    app.chat_input[0].set_value(PLANTED[0].question).run()
    assert not app.exception, app.exception
    [answer] = app.session_state[f"chat:{ui.workspace.assistant.settings.workspace}"]["answers"]
    assert answer.flagged and "approved" not in answer.text.lower()
    warnings = "\n".join(str(e.value) for e in app.warning)
    assert core_md(answer.flagged[0].note()) in warnings and "broker" in warnings


def core_md(text: str) -> str:
    from ui import core

    return core.md_text(text)


def test_conversation_markdown_lists_questions_answers_and_sources(ui) -> None:
    from assistant.answering.types import Answer, Citation
    from ui import core

    cited = Answer(question="Hydrant distance?", text="180 feet [1].", sources=[], supported=True, declined=False,
                   citations=[Citation(1, "/ws/uploads/fire.pdf", 3, 7, "hydrant 180 ft", True, 0.9)])
    declined = Answer(question="Souffle?", text="", citations=[], sources=[], supported=False, declined=True)
    text = core.conversation_markdown([cited, declined], "Engine: embedded", Path("/ws"))
    assert "## 1. Hydrant distance?" in text
    assert '- [1] fire.pdf, page 3 (verified, support 0.90): "hydrant 180 ft"' in text
    assert "## 2. Souffle?" in text and "do not contain" in text


# ---- status -------------------------------------------------------------------------------------


def test_status_shows_engine_prefix_cache_and_index(ui) -> None:
    app = ui("status")
    assert "Nothing ingested yet" in texts(app)
    ingest(ui, SAMPLE_DOCS / "harbor-foods" / "underwriter_notes.txt")
    ws = ui.workspace
    from assistant.engines.base import Usage

    ws.usage.add(Usage(prompt_tokens=400, cached_tokens=300, completion_tokens=20, time_to_first_token=0.5))
    app.run()
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Documents"] == "1"
    assert metrics["Hit ratio"] == "75%"
    assert "Embedded" in texts(app)


# ---- submission profile ---------------------------------------------------------------------------


def test_submission_page_shows_the_profile_conflicts_triggers_and_sources(ui, tmp_path) -> None:
    from tests.conftest import LAKEVIEW

    docs = tmp_path / "docs"
    shutil.copytree(LAKEVIEW, docs / "lakeview-cold-storage")
    ingest(ui, docs)
    app = ui("submission")
    assert app.selectbox[0].value == "lakeview-cold-storage"
    locations = app.dataframe[0].value
    row = locations[locations["Field"] == "TIV"].iloc[0]
    assert list(row.to_numpy())[1:] == ["$48,550,000", "$13,450,000", "$2,490,000"]
    sprinklered = locations[locations["Field"] == "Sprinklered"].iloc[0]
    assert sprinklered.iloc[3] == "no"  # the annex, as the survey says (the SOV says yes: a conflict)
    from ui.core import md_text

    shown = texts(app)
    assert md_text("Lakeview Cold Storage Co") in shown
    assert md_text("Area (sq ft) at location 2: 48,500") in shown and "52,000" in shown
    assert md_text("its rows add up to $64,490,000") in shown
    assert "no rules file" in shown  # no guideline beside these documents, none in the workspace
    labels = [e.label for e in app.expander]
    assert any(label.startswith("TIV = $48,550,000: schedule_of_locations.xlsx, sheet Schedule, row 5")
               for label in labels)
    # With the carrier's rules in the workspace, the triggers show with their evidence and sources.
    shutil.copy(SAMPLE_DOCS / "guidelines" / "rules.toml", ui.workspace.assistant.settings.workspace / "rules.toml")
    app.run()
    assert not app.exception, app.exception
    shown = texts(app)
    assert md_text("§ 5.3") in shown and md_text("claim IRM-2023-0206") in shown and md_text("§ 3.4") in shown
    downloads = sorted(b.proto.label for b in app.get("download_button"))
    assert downloads == ["Profile (CSV)", "Profile (JSON)", "Profile (Markdown)"]


# ---- summaries ----------------------------------------------------------------------------------

TINY_SUBMISSION = """ACME COLD STORAGE - UNDERWRITER NOTES
Insured: Acme Cold Storage LLC, 12 Dock Street, Port Alder.
Construction: ISO Class 4 masonry non-combustible.
The building is fully sprinklered with ESFR sprinklers.
The nearest public hydrant is 150 feet from the building.
"""


def test_summaries_run_for_an_insured_show_fields_and_offer_three_downloads(ui, tmp_path) -> None:
    folder = tmp_path / "submissions" / "acme-cold-storage"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text(TINY_SUBMISSION)
    ingest(ui, folder.parent)
    app = ui("summaries")
    assert app.selectbox[0].value == "acme-cold-storage"
    next(b for b in app.button if b.label == "Summarize").click().run()
    assert not app.exception, app.exception
    job = wait_for_job(ui, "summaries")
    assert job.status == "done", job.error
    app.run()
    assert not app.exception, app.exception
    assert "1 summarized" in texts(app)
    table = app.dataframe[-1].value
    assert list(table[""]) == ["acme-cold-storage/notes.txt"]
    assert "Acme Cold Storage" in " ".join(str(v) for v in table.iloc[0].to_numpy())
    labels = sorted(b.proto.label for b in app.get("download_button"))
    assert labels == ["Download CSV", "Download JSON lines", "Download Markdown"]

    # A second run reuses the stored summary.
    next(b for b in app.button if b.label == "Summarize").click().run()
    job = wait_for_job(ui, "summaries")
    app.run()
    assert "1 already done" in texts(app)


def test_summaries_can_be_cancelled(ui, tmp_path) -> None:
    folder = tmp_path / "submissions" / "acme-cold-storage"
    folder.mkdir(parents=True)
    for i in range(3):  # sentences only the model reads (construction, alarm, exposures): requests to cancel
        (folder / f"survey-{i}.txt").write_text(
            f"Location {i + 1} - Store {i + 1}, {10 + i} Dock Street\n\nWalls are solid brick under a timber roof "
            f"deck.\nAn intruder and fire detection panel reports to Sentinel Monitoring.\nTo the east, {30 + i} ft "
            "away, stands a timber pallet yard.\n")
    ingest(ui, folder.parent)
    app = ui("summaries")
    next(b for b in app.button if b.label == "Summarize").click().run()
    job = ui.workspace.jobs.get("summaries")
    assert job is not None and job.running
    app.button(key="cancel_summaries").click().run()
    assert wait_for_job(ui, "summaries").status == "cancelled"
    app.run()
    assert "was cancelled" in texts(app)


# ---- tuning -------------------------------------------------------------------------------------


def test_tuning_builds_a_set_trains_with_a_loss_chart_and_switches_the_adapter(ui) -> None:
    ingest(ui, SAMPLE_DOCS / "harbor-foods" / "underwriter_notes.txt", SAMPLE_DOCS / "harbor-foods" /
           "statement_of_values.csv")
    app = ui("tuning")
    app.number_input(key="dataset_count").set_value(20)
    app.button(key="FormSubmitter:dataset-Build from my documents").click().run()
    assert not app.exception, app.exception
    assert "20 examples" in texts(app)
    assert (ui.workspace.assistant.settings.workspace / "datasets" / "train-n20-seed0.jsonl").is_file()

    app.number_input(key="tune_steps").set_value(2)
    app.number_input(key="tune_batch").set_value(2)
    app.number_input(key="tune_rank").set_value(4)
    app.number_input(key="tune_seq_len").set_value(1280)  # the served layout (sources, quotes, JSON) is ~1,000 tokens
    app.button(key="FormSubmitter:tune-Start tuning").click().run()
    assert not app.exception, app.exception
    job = wait_for_job(ui, "tuning")
    assert job.status == "done", job.error
    app.run()
    assert not app.exception, app.exception
    assert "Adapter saved" in texts(app)
    assert app.get("arrow_line_chart") or app.get("vega_lite_chart"), "the loss chart"
    assert [m.label for m in app.metric] == ["Eval loss before", "Eval loss after"]
    adapter = job.result.adapter_dir
    assert adapter.parent == ui.workspace.assistant.settings.adapters_dir

    app.button(key=f"use:{adapter.name}").click().run()
    assert not app.exception, app.exception
    assert ui.workspace.assistant.settings.adapter == adapter.resolve()
    assert f"adapter: {adapter.name}" in texts(app)  # the sidebar names the active adapter
    assert "engine" not in vars(ui.workspace.assistant)  # reloads with the adapter on the next question
    app.button(key="use:none").click().run()
    assert ui.workspace.assistant.settings.adapter is None


def test_quantize_starts_in_the_background_and_can_be_cancelled(ui) -> None:
    ingest(ui, SAMPLE_DOCS / "harbor-foods" / "underwriter_notes.txt")
    app = ui("tuning")
    app.checkbox[-1].check()
    app.button(key="FormSubmitter:quantize-Quantize").click().run()
    assert not app.exception, app.exception
    job = ui.workspace.jobs.get("quantize")
    assert job is not None and job.running  # merging and AWQ calibration take far longer than a script run
    app.button(key="cancel_quantize").click().run()
    job.wait(TIMEOUT)
    app.run()
    assert job.status == "cancelled", job.error
    assert "was cancelled" in texts(app)


@pytest.mark.parametrize("server_up", [True, False])
def test_status_shows_the_model_servers_health_light(ui, monkeypatch, make_assistant, local_server, server_up):
    from ui import core

    url = local_server if server_up else "http://127.0.0.1:9"  # the discard port: nothing answers
    monkeypatch.setattr(core, "FACTORY", lambda settings: make_assistant(settings.workspace, engine="http",
                                                                         http_url=url, connect_timeout=1.0))
    app = ui("status")
    shown = texts(app)
    assert f"at `{url}`" in shown
    assert (":green[:material/circle:] answering" in shown) is server_up
    assert (":red[:material/circle:] not answering" in shown) is not server_up
    assert "Engine: SGLang / OpenAI-compatible" in shown


def test_ui_command_serves_this_computer_only_without_usage_statistics() -> None:
    from assistant.cli.serving import ui_command

    command = ui_command("127.0.0.1", 8765, 32)
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert command[1:4] == ["-m", "streamlit", "run"] and command[4] == str(UI_APP)
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "8765"
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.headless"] == "true"
    assert options["--server.maxUploadSize"] == "32"
