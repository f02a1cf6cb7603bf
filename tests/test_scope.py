"""Search scoped to a submission (the folder an insured's documents lie in): real FAISS, SQLite and embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DOCS
from tests.test_ingest import run_cli
from tests.test_loaders import write_pdf

QUERY = "ESFR sprinkler coverage of the warehouse and distance to the nearest hydrant"
ACME_PAGES = 70  # more chunks than the retriever's 50 candidates, every one closer to QUERY than Birch's


@pytest.fixture(scope="module")
def two_submissions(tmp_path_factory, embedder):
    """Two submissions sharing a file name: acme-bakery (70 sprinkler pages) and birch-logistics (4 chunks
    about other things), ingested into one workspace."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    root = tmp_path_factory.mktemp("submissions")
    acme, birch = root / "acme-bakery", root / "birch-logistics"
    acme.mkdir()
    birch.mkdir()
    write_pdf(acme / "fire_inspection_2024.pdf", [
        f"Building {n} protection\nESFR sprinklers cover {60 + n % 40}% of warehouse bay {n}. "
        f"The nearest hydrant is {100 + 10 * n} feet from the warehouse." for n in range(ACME_PAGES)])
    write_pdf(birch / "fire_inspection_2024.pdf", [
        "Fire inspection report\nHousekeeping: pallets are stacked below four feet and aisles are kept clear.",
        "Electrical\nThe main electrical panel has 36 inches of clearance and a current thermographic scan.",
        "Forklifts\nThe forklift charging station is ventilated and has a spill kit.",
    ])
    (birch / "underwriter_notes.txt").write_text("Broker wants the quote by Friday; payroll is $2.1M.")
    core = Assistant(load_settings(workspace=root / "workspace"), embedder=embedder)
    report = core.ingest([acme, birch])
    assert report.failed == [], report.failed
    return core, acme, birch


def sources(hits) -> set[str]:
    return {hit.chunk.source for hit in hits}


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_scoped_search_returns_k_hits_of_that_submission_only(two_submissions, mode: str) -> None:
    core, acme, birch = two_submissions
    unscoped = core.search(QUERY, k=50, mode=mode)
    assert sources(unscoped) == {str(acme / "fire_inspection_2024.pdf")}  # Birch is below the top 50

    scoped = core.search(QUERY, k=4, mode=mode, scope="birch-logistics")
    assert len(scoped) == 4  # every chunk of the scope, though none is in the unscoped top 50
    assert sources(scoped) == {str(birch / "fire_inspection_2024.pdf"), str(birch / "underwriter_notes.txt")}
    assert all(hit.dense_score is not None for hit in scoped)
    assert [hit.score for hit in scoped] == sorted((hit.score for hit in scoped), reverse=True)
    assert len(core.search(QUERY, k=10, mode=mode, scope="birch-logistics")) == 4  # the scope holds 4

    acme_hits = core.search(QUERY, k=7, mode=mode, scope="acme-bakery")
    assert len(acme_hits) == 7 and sources(acme_hits) == {str(acme / "fire_inspection_2024.pdf")}


def test_same_file_name_in_two_submissions_is_told_apart(two_submissions) -> None:
    core, acme, birch = two_submissions
    for mode in ("bm25", "hybrid"):
        for scope, folder in (("acme-bakery", acme), ("birch-logistics", birch)):
            hits = core.search("fire inspection report", k=3, mode=mode, scope=scope)
            assert hits and {Path(hit.chunk.source).parent for hit in hits} == {folder}
            assert any(Path(hit.chunk.source).name == "fire_inspection_2024.pdf" for hit in hits)
    [hit] = core.search("forklift charging station spill kit", k=1, mode="bm25", scope="birch-logistics")
    assert hit.chunk.source == str(birch / "fire_inspection_2024.pdf") and hit.chunk.page == 3
    assert core.search("forklift charging station spill kit", k=5, mode="bm25", scope="acme-bakery") == []


def test_bm25_only_hits_get_their_cosine_inside_the_scope_only(two_submissions) -> None:
    """Hybrid search scores BM25-only hits by their exact cosine: that look-up keeps to the scope too."""
    core = two_submissions[0]
    store, scope = core.reader, core.retriever.resolve("birch-logistics")
    [vector] = core.embedder.embed([QUERY])
    acme_ids = [hit.chunk.id for hit in core.search(QUERY, k=5, scope="acme-bakery")]
    assert store.dense_scores(vector, acme_ids, scope) == {}
    assert set(store.dense_scores(vector, acme_ids)) == set(acme_ids)
    assert {chunk for chunk, _ in store.bm25("warehouse hydrant pallets", 50, scope)} <= scope.chunk_ids


def test_scope_as_a_path(two_submissions, monkeypatch) -> None:
    core, acme, birch = two_submissions
    assert sources(core.search(QUERY, k=3, scope=str(birch))) <= {str(p) for p in birch.iterdir()}
    monkeypatch.chdir(acme.parent)
    assert sources(core.search(QUERY, k=3, scope="birch-logistics/")) <= {str(p) for p in birch.iterdir()}
    assert sources(core.search(QUERY, k=3, scope="./acme-bakery")) == {str(acme / "fire_inspection_2024.pdf")}
    one_file = core.search(QUERY, k=5, scope="birch-logistics/underwriter_notes.txt")
    assert sources(one_file) == {str(birch / "underwriter_notes.txt")}


def test_unknown_scope_names_the_known_submissions(two_submissions) -> None:
    from index.retriever import RetrievalError

    core, _, _ = two_submissions
    for scope in ("cedar-farms", "", "/no/such/folder"):
        with pytest.raises(RetrievalError) as caught:
            core.search_many([QUERY], k=3, scope=scope)
        message = str(caught.value)
        assert "\n" not in message and message.endswith("known submissions: acme-bakery, birch-logistics")


def test_submissions_listed_and_kept_current(two_submissions, make_assistant) -> None:
    core, acme, birch = two_submissions
    found = core.submissions()
    assert [(s.name, s.folder) for s in found] == [("acme-bakery", str(acme)), ("birch-logistics", str(birch))]
    assert found[1].documents == (str(birch / "fire_inspection_2024.pdf"), str(birch / "underwriter_notes.txt"))
    assert sum(s.chunks for s in found) == core.stats().chunks and found[1].chunks == 4
    assert core.insureds() == {"acme-bakery": [str(acme / "fire_inspection_2024.pdf")],
                               "birch-logistics": list(found[1].documents)}

    # A scope resolved before a change to the data sees the change (its cache is per data generation).
    assert len(core.search(QUERY, k=10, scope="birch-logistics")) == 4
    writer, added = make_assistant(core.settings.workspace), birch / "loss_runs_2024.txt"
    added.write_text("Loss runs 2019-2024: one forklift collision in 2023, paid $12,400.")
    try:
        assert writer.ingest([added], prune=False).failed == []
        hits = core.search(QUERY, k=10, scope="birch-logistics")
        assert len(hits) == 5 and str(added) in sources(hits)
        assert core.submissions()[1].documents[1] == str(added)
    finally:
        writer.remove_documents([added])
        added.unlink()
    assert sources(core.search(QUERY, k=10, scope="birch-logistics")) == set(found[1].documents)


# ---- the CLI, over the sample documents ---------------------------------------------------------


def test_cli_submissions_lists_the_sample_submissions(sample_workspace) -> None:
    result = run_cli(sample_workspace.workspace, "submissions", "--json")
    assert result.returncode == 0, result.stderr
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [item["name"] for item in listed] == ["guidelines", "harbor-foods", "meridian-plastics",
                                                 "oakridge-senior-living"]
    by_name = {item["name"]: item for item in listed}
    assert by_name["guidelines"]["documents"] == [str(SAMPLE_DOCS / "guidelines" / "underwriting_guidelines.md")]
    assert by_name["harbor-foods"]["folder"] == str(SAMPLE_DOCS / "harbor-foods")
    assert str(SAMPLE_DOCS / "harbor-foods" / "fire_inspection_2024.pdf") in by_name["harbor-foods"]["documents"]
    assert sum(len(item["documents"]) for item in listed) == 17 and all(item["chunks"] > 0 for item in listed)

    table = run_cli(sample_workspace.workspace, "submissions")
    assert table.returncode == 0, table.stderr
    assert "4 submissions" in table.stdout and "oakridge-senior-living" in table.stdout
    assert "fire_inspection_2024.pdf" in table.stdout


def test_cli_search_scope(sample_workspace, tmp_path: Path) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("fire inspection sprinklers\nloss runs carrier\n")
    result = run_cli(sample_workspace.workspace, "search", "--batch", str(batch), "--scope", "meridian-plastics",
                     "--json", "-k", "4")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert len(line["results"]) == 4
        assert {Path(hit["source"]).parent for hit in line["results"]} == {SAMPLE_DOCS / "meridian-plastics"}

    single = run_cli(sample_workspace.workspace, "search", "fire inspection", "--scope",
                     str(SAMPLE_DOCS / "harbor-foods"), "--json", "-k", "3")
    assert single.returncode == 0, single.stderr
    hits = json.loads(single.stdout)["results"]
    assert len(hits) == 3 and {Path(hit["source"]).parent for hit in hits} == {SAMPLE_DOCS / "harbor-foods"}

    unknown = run_cli(sample_workspace.workspace, "search", "fire inspection", "--scope", "harbour-foods")
    assert unknown.returncode == 2 and unknown.stdout == ""
    [line] = unknown.stderr.strip().splitlines()
    assert "'harbour-foods'" in line
    assert line.endswith("known submissions: guidelines, harbor-foods, meridian-plastics, oakridge-senior-living")
