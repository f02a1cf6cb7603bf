"""Ingest: formats, incremental re-runs, pruning, bad input, crash safety and the writer lock."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.ingest import READER_VERSION
from tests.conftest import CLI
from tests.test_loaders import write_pdf

LOSS_RUN = "Loss run for policy HF-PR-2024-00417.\n\n2022-03-14 water damage, paid $184,500."
INSPECTION = [
    "Fire Inspection Report\nHarbor Foods Distribution, 1200 Wharf Road.",
    "Construction\nThe warehouse is tilt-up concrete, ISO class 4 masonry non-combustible, built in 1996.",
    "Protection\nESFR sprinklers cover 100% of the cold storage area. Nearest hydrant is 250 feet away.",
]


def make_folder(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_pdf(root / "inspection.pdf", INSPECTION)
    (root / "loss_run.txt").write_text(LOSS_RUN)
    (root / "notes.md").write_text("# File notes\n\nBroker asked for a quote by Friday. Form CG 00 01 requested.")
    return root


def run_cli(workspace: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run([*CLI, "--workspace", str(workspace), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_ingest_then_search_finds_page(tmp_path: Path, make_assistant) -> None:
    docs = make_folder(tmp_path / "docs")
    core = make_assistant(tmp_path / "ws")
    report = core.ingest([docs])
    assert (report.added, report.failed) == (3, [])
    assert report.chunks >= 3
    hits = core.search("Which sprinklers protect the cold storage area?", k=3)
    top = hits[0].chunk
    assert top.source.endswith("inspection.pdf") and top.page == 3
    assert top.title and top.heading == "Protection"


def test_rerun_embeds_nothing_and_changes_replace_chunks(tmp_path: Path, make_assistant) -> None:
    docs = make_folder(tmp_path / "docs")
    core = make_assistant(tmp_path / "ws")
    core.ingest([docs])
    before = {c.id for c in core.store.chunks_of(str(docs / "loss_run.txt"))}

    calls = []
    original = core.embedder.embed
    core.embedder.embed = lambda texts: calls.append(len(texts)) or original(texts)
    try:
        again = core.ingest([docs])
        assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 3, 0)
        assert calls == []
        # Same content, new mtime: hashed, still unchanged, nothing embedded.
        os.utime(docs / "notes.md", (time.time() + 5, time.time() + 5))
        assert core.ingest([docs]).unchanged == 3 and calls == []

        (docs / "loss_run.txt").write_text(LOSS_RUN + "\n\n2023-08-02 roof collapse, reserved $90,000.")
        changed = core.ingest([docs])
    finally:
        core.embedder.embed = original
    assert (changed.updated, changed.unchanged) == (1, 2)
    assert calls and sum(calls) == changed.chunks
    # A file read by an earlier version of the readers (its hash has no "r2:" tag) is read again once, then it is
    # unchanged again.
    notes = str(docs / "notes.md")
    old_hash = core.store.document(notes).content_hash.split(":", 1)[1]
    core.store.db.execute("UPDATE documents SET content_hash = ? WHERE path = ?", (old_hash, notes))
    reread = core.ingest([docs])
    assert (reread.updated, reread.unchanged) == (1, 2)
    assert core.store.document(notes).content_hash.startswith(f"r{READER_VERSION}:")
    assert core.ingest([docs]).unchanged == 3
    after = core.store.chunks_of(str(docs / "loss_run.txt"))
    assert {c.id for c in after}.isdisjoint(before)
    assert any("roof collapse" in c.text for c in after)
    assert core.search("roof collapse reserve", k=1)[0].chunk.source.endswith("loss_run.txt")


def test_removed_files_are_pruned_and_docs_remove(tmp_path: Path, make_assistant) -> None:
    docs = make_folder(tmp_path / "docs")
    core = make_assistant(tmp_path / "ws")
    core.ingest([docs])
    (docs / "notes.md").unlink()
    report = core.ingest([docs])
    assert report.removed == 1
    assert [Path(d.path).name for d in core.store.documents()] == ["inspection.pdf", "loss_run.txt"]
    assert all(not h.chunk.source.endswith("notes.md") for h in core.search("CG 00 01", k=5, mode="bm25"))

    removed = core.remove_documents([docs / "loss_run.txt"])
    assert [Path(p).name for p in removed] == ["loss_run.txt"]
    assert core.search("HF-PR-2024-00417", k=5, mode="bm25") == []
    assert all(not h.chunk.source.endswith("loss_run.txt") for h in core.search("water damage paid", k=5))


def test_bad_files_reported_rest_ingested_nothing_lost(tmp_path: Path, make_assistant) -> None:
    docs = make_folder(tmp_path / "docs")
    core = make_assistant(tmp_path / "ws")
    core.ingest([docs])
    stored = {d.path: d.chunks for d in core.store.documents()}

    bad = docs / "bad"
    bad.mkdir()
    (bad / "corrupt.pdf").write_bytes(b"%PDF-1.4 broken")
    write_pdf(bad / "scanned.pdf", [""])
    write_pdf(bad / "locked.pdf", ["Secret"], password="pw")
    (bad / "zero.txt").write_bytes(b"")
    (bad / "junk.txt").write_bytes(os.urandom(4096))
    (bad / "image.png").write_bytes(b"\x89PNG\r\n")
    (bad / "latin1.txt").write_bytes("Café inspection: sprinklers tested.".encode("cp1252"))
    (bad / "loop").symlink_to(bad / "loop")
    (bad / "back").symlink_to(docs)
    # A file that was fine becomes corrupt: its stored chunks must survive.
    write_pdf(docs / "inspection.pdf", INSPECTION)
    (docs / "inspection.pdf").write_bytes(b"%PDF-1.4 truncated")

    report = core.ingest([docs])
    reasons = {Path(p).name: r for p, r in report.failed}
    assert "corrupt PDF" in reasons["corrupt.pdf"]
    assert "corrupt PDF" in reasons["inspection.pdf"]
    assert "no extractable text" in reasons["scanned.pdf"]
    assert "encrypted PDF" in reasons["locked.pdf"]
    assert "empty file" in reasons["zero.txt"]
    assert "binary content" in reasons["junk.txt"]
    assert "symlink loop" in reasons["loop"]
    assert "symlink loop" in reasons["back"]
    assert [Path(p).name for p, _ in report.skipped] == ["image.png"]
    assert [Path(p).name for p, _ in report.warnings] == ["latin1.txt"]
    assert report.added == 1  # latin1.txt
    now = {d.path: d.chunks for d in core.store.documents()}
    assert all(now[path] == count for path, count in stored.items())
    assert core.search("ESFR sprinklers cold storage", k=1)[0].chunk.source.endswith("inspection.pdf")


def test_cli_exit_codes_and_one_line_errors(tmp_path: Path) -> None:
    docs = make_folder(tmp_path / "docs")
    (docs / "junk.txt").write_bytes(b"\x00\x01\x02" * 100)
    result = run_cli(tmp_path / "ws", "ingest", str(docs))
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if "junk.txt" in line]
    assert len(lines) == 1 and lines[0].endswith("junk.txt: binary content, not text")
    assert "3 added" in result.stderr and "1 failed" in result.stderr

    (docs / "junk.txt").unlink()
    assert run_cli(tmp_path / "ws", "ingest", str(docs)).returncode == 0
    missing = run_cli(tmp_path / "ws2", "search", "anything")
    assert missing.returncode == 2 and "run `assistant ingest PATH` first" in missing.stderr


def test_unreadable_file(tmp_path: Path, make_assistant) -> None:
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="uw-unreadable-", dir="/tmp"))  # outside root's private pytest dir
    docs = make_folder(shared / "docs")
    secret = docs / "secret.txt"
    secret.write_text("Reserve notes.")
    secret.chmod(0)
    if os.geteuid() != 0:
        report = make_assistant(tmp_path / "ws").ingest([docs])
        assert ("permission denied" in dict(report.failed)[str(secret)])
        return
    # root reads anything: run the CLI as nobody, over a world-writable workspace.
    workspace = shared / "ws"
    workspace.mkdir()
    for path in (shared, docs, workspace):
        path.chmod(0o777)
    for path in docs.iterdir():
        if path != secret:
            path.chmod(0o644)
    command = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", *CLI,
               "--workspace", str(workspace), "ingest", str(docs)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HOME": str(workspace)}, cwd=str(shared))
    shutil.rmtree(shared, ignore_errors=True)
    assert result.returncode == 1, result.stderr
    assert "secret.txt: permission denied" in result.stderr
    assert "3 added" in result.stderr


def corpus(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        paragraphs = [f"Location {number} inspection note {part}: building {number} has {part + 2} hydrants "
                      f"and a {number % 7 + 1}-story frame; survey reference LOC-{number:04d}-{part}."
                      for part in range(6)]
        (folder / f"doc_{number:04d}.txt").write_text("\n\n".join(paragraphs))
    return folder


@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_whole_documents_and_next_run_finishes(tmp_path: Path, make_assistant) -> None:
    docs = corpus(tmp_path / "docs", 120)
    workspace = tmp_path / "ws"
    env = {"ASSISTANT_INGEST_BATCH_CHUNKS": "4", "ASSISTANT_CHUNK_SIZE": "40", "ASSISTANT_CHUNK_OVERLAP": "0"}
    process = subprocess.Popen([*CLI, "--workspace", str(workspace), "ingest", str(docs)],
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = workspace / "index.sqlite3"
    deadline = time.time() + 240
    committed = 0
    while time.time() < deadline and process.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as connection:
                    committed = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
            except sqlite3.OperationalError:
                committed = 0
            if committed >= 10:
                break
        time.sleep(0.05)
    assert process.poll() is None, "ingest finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()

    core = make_assistant(workspace, chunk_size=40, chunk_overlap=0)
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT d.chunks, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) FROM documents d").fetchall()
    assert 10 <= len(rows) < 120
    assert all(declared == actual and actual > 0 for declared, actual in rows)
    hits = core.search("survey reference LOC-0003-2", k=3)
    assert hits and hits[0].chunk.source.endswith("doc_0003.txt")
    assert core.search("hydrants frame building", k=3, mode="dense")

    report = core.ingest([docs])
    assert report.failed == []
    assert report.unchanged == len(rows) and report.added == 120 - len(rows)
    assert core.stats().documents == 120


@pytest.mark.slow
def test_second_ingest_refused_while_first_holds_lock_and_search_works(tmp_path: Path, make_assistant) -> None:
    from index.lock import WriterLock

    docs = make_folder(tmp_path / "docs")
    workspace = tmp_path / "ws"
    make_assistant(workspace).ingest([docs])
    with WriterLock(workspace / "ingest.lock"):
        refused = run_cli(workspace, "ingest", "--wait", "0.5", str(docs))
        assert refused.returncode == 2
        assert "another ingest" in refused.stderr and str(os.getpid()) in refused.stderr
        found = run_cli(workspace, "search", "HF-PR-2024-00417", "--json")
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["results"][0]["source"].endswith("loss_run.txt")


@pytest.mark.slow
def test_offline_ingest_and_search(tmp_path: Path) -> None:
    """Outbound connections raise: ingest and search still work (nothing is fetched)."""
    docs = make_folder(tmp_path / "docs")
    guard = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('network disabled by test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\nsocket.getaddrinfo = refuse\n"
        "from assistant.cli.main import app\nsys.argv = ['assistant'] + sys.argv[1:]\napp()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    base = [sys.executable, "-c", guard, "--workspace", str(tmp_path / "ws")]
    ingest = subprocess.run([*base, "ingest", str(docs)], capture_output=True, text=True, env=env, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    search = subprocess.run([*base, "search", "CG 00 01", "--json"], capture_output=True, text=True, env=env,
                            timeout=300)
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)["results"][0]["source"].endswith("notes.md")
