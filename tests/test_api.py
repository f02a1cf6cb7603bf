"""The application API over a real workspace (bundled embedder and generator, SQLite, FAISS), spoken to over
real HTTP on 127.0.0.1 by httpx and by the CLI's `--server`: endpoints, the answer JSON, keys and roles, the
bounded engine queue (429 with Retry-After), and searches while an ingest runs."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import SAMPLE_DOCS

pytestmark = pytest.mark.slow

QUESTION = "How far is the nearest hydrant from the Harbor Foods warehouse?"
FILES = ["underwriter_notes.txt", "statement_of_values.csv"]


def build_core(workspace: Path, roots: list[Path], embedder, engine, model_cache: Path, **overrides):
    from assistant.app import Assistant
    from assistant.settings import load_settings

    settings = load_settings(workspace=workspace, model_cache=model_cache, max_new_tokens=16,
                             ingest_roots=[str(root) for root in roots], **overrides)
    return Assistant(settings, embedder=embedder, engine=engine)


@pytest.fixture(scope="module")
def team(tmp_path_factory, embedder, embedded_engine, model_cache):
    """A workspace with two Harbor Foods files, three users (one per role), and the API on a free port."""
    from assistant.api.service import start_api_in_thread
    from assistant.api.users import UserStore

    base = tmp_path_factory.mktemp("api")
    roots = base / "submissions"
    docs = roots / "harbor-foods"
    docs.mkdir(parents=True)
    for name in FILES:
        shutil.copy(SAMPLE_DOCS / "harbor-foods" / name, docs / name)
    core = build_core(base / "workspace", [roots], embedder, embedded_engine, model_cache)
    assert not core.ingest([docs]).failed
    users = UserStore(core.settings.users_path)
    keys = {role: users.add(f"{role}-user", role) for role in ("reader", "editor", "admin")}
    url, stop = start_api_in_thread(core)
    yield type("Team", (), {"url": url, "core": core, "keys": keys, "roots": roots, "docs": docs, "base": base})
    stop()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def without_timings(answer: dict) -> dict:
    """An answer's JSON less what differs between two runs of the same answer: timings, its audit record."""
    return {key: value for key, value in answer.items() if key not in ("usage", "audit_id")}


def sse(text: str) -> list[tuple[str, dict]]:
    events, event = [], "message"
    for line in text.splitlines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            events.append((event, json.loads(line[5:])))
    return events


def cli(*args: str):
    from assistant.cli.main import app

    return CliRunner().invoke(app, list(args))


# ---- endpoints ----------------------------------------------------------------------------------------


def test_openapi_docs_are_served_and_list_the_endpoints(team) -> None:
    assert httpx.get(f"{team.url}/docs").status_code == 200
    paths = httpx.get(f"{team.url}/openapi.json").json()["paths"]
    for path in ("/api/search", "/api/ask", "/api/ask/batch", "/api/ingest/upload", "/api/ingest/folder",
                 "/api/documents", "/api/status", "/api/submissions", "/api/submissions/{name}/profile",
                 "/api/submissions/{name}/check"):
        assert path in paths


def test_search_documents_submissions_and_status_are_what_the_cli_prints(team) -> None:
    from assistant.cli.console import document_dict, result_dict, status_payload

    key = auth(team.keys["reader"])
    found = httpx.post(f"{team.url}/api/search", json={"query": "hydrant distance", "k": 3}, headers=key).json()
    expected = [result_dict(hit) for hit in team.core.search("hydrant distance", k=3)]
    assert found == [{"id": "1", "query": "hydrant distance", "results": expected}]
    documents = httpx.get(f"{team.url}/api/documents", headers=key).json()
    assert documents == [document_dict(record) for record in team.core.documents()]
    assert sorted(Path(d["path"]).name for d in documents) == sorted(FILES)
    submissions = httpx.get(f"{team.url}/api/submissions", headers=key).json()
    assert [item["name"] for item in submissions] == ["harbor-foods"]
    status = httpx.get(f"{team.url}/api/status", headers=key).json()
    assert status["documents"] == 2 and status["api"]["user"] == "reader-user"
    assert status["api"]["queue"]["max_waiting"] == team.core.settings.api_max_queue

    result = cli("--server", team.url, "--key", team.keys["reader"], "search", "hydrant distance", "-k", "3",
                 "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == found[0]
    result = cli("--server", team.url, "--key", team.keys["reader"], "docs", "list", "--json")
    assert [json.loads(line) for line in result.stdout.splitlines()] == documents
    result = cli("--server", team.url, "--key", team.keys["reader"], "submissions")
    assert result.exit_code == 0 and "harbor-foods" in result.stdout
    result = cli("--server", team.url, "--key", team.keys["reader"], "status", "--json")
    assert result.exit_code == 0, result.output
    remote = json.loads(result.stdout)
    assert remote.pop("api")["role"] == "reader"
    assert remote == status_payload(team.core.settings, team.core.stats(), team.core.documents(), team.core.flagged())
    result = cli("--server", team.url, "--key", team.keys["reader"], "status")
    assert result.exit_code == 0 and "Underwriter Assistant" in result.stdout and "2 documents" in result.stdout


def test_the_submission_profile_and_rules_check_over_the_api(team) -> None:
    key = auth(team.keys["reader"])
    profile = httpx.get(f"{team.url}/api/submissions/harbor-foods/profile", headers=key)
    assert profile.status_code == 200, profile.text
    data = profile.json()
    assert data == team.core.profile("harbor-foods").model_dump(mode="json")
    tiv = next(loc for loc in data["locations"] if loc["number"] == "1")["fields"]["tiv"]["value"]
    assert tiv["value"] == 82_750_000 and tiv["source"]["location"] == "row 2"
    missing = httpx.get(f"{team.url}/api/submissions/no-such-insured/profile", headers=key)
    assert missing.status_code == 404 and "no submission named" in missing.text
    assert httpx.get(f"{team.url}/api/submissions/harbor-foods/profile").status_code == 401
    no_rules = httpx.get(f"{team.url}/api/submissions/harbor-foods/check", headers=key)
    assert no_rules.status_code == 409 and "no rules file" in no_rules.text
    shutil.copy(SAMPLE_DOCS / "guidelines" / "rules.toml", team.core.settings.workspace / "rules.toml")
    try:
        report = httpx.get(f"{team.url}/api/submissions/harbor-foods/check", headers=key).json()
    finally:
        (team.core.settings.workspace / "rules.toml").unlink()
    fired = {r["rule_id"] for r in report["results"] if r["status"] == "fired"}
    assert {"authority-home-office", "sprinklers-large-building"} <= fired


def test_ask_streams_drafts_then_the_answer_json_of_ask_json(team) -> None:
    response = httpx.post(f"{team.url}/api/ask", json={"question": QUESTION}, headers=auth(team.keys["reader"]),
                          timeout=300)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse(response.text)
    assert events[-1][0] == "answer" and all(kind == "draft" for kind, _ in events[:-1])
    streamed = events[-1][1]
    assert streamed["kind"] in ("answer", "quote") and streamed["sources"]
    record = team.core.audit_log.get(streamed["audit_id"])  # the audit trail names the key's user
    assert (record.user, record.shell, record.question) == ("reader-user", "api", QUESTION)
    local = team.core.answer(QUESTION).to_dict()  # the very function `ask --json` prints
    assert without_timings(streamed) == without_timings(local)
    assert len(events) > 2  # the model was asked: its draft streamed in pieces before the answer

    whole = httpx.post(f"{team.url}/api/ask", json={"question": QUESTION, "stream": False},
                       headers=auth(team.keys["reader"]), timeout=300).json()
    assert without_timings(whole) == without_timings(local)

    result = cli("--server", team.url, "--key", team.keys["reader"], "ask", QUESTION, "--json")
    assert result.exit_code == 0, result.output
    assert without_timings(json.loads(result.stdout)) == without_timings(local)
    result = cli("--server", team.url, "--key", team.keys["reader"], "ask", QUESTION)
    assert result.exit_code == 0 and local["answer"] in result.stdout


def test_ask_batch_streams_one_line_per_question_with_ids(team, tmp_path) -> None:
    body = {"questions": [{"id": "h", "question": QUESTION}, "What is the total insured value?"]}
    response = httpx.post(f"{team.url}/api/ask/batch", json=body, headers=auth(team.keys["reader"]), timeout=600)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == ["h", "2"]
    assert without_timings(lines[0]) == without_timings({"id": "h", **team.core.answer(QUESTION).to_dict()})

    batch = tmp_path / "questions.jsonl"
    batch.write_text(json.dumps({"id": "q1", "question": QUESTION}) + "\n")
    result = cli("--server", team.url, "--key", team.keys["reader"], "ask", "--batch", str(batch), "--json")
    assert result.exit_code == 0, result.output
    assert without_timings(json.loads(result.stdout)) == without_timings(lines[0] | {"id": "q1"})


def test_upload_and_folder_ingest_for_editors_only_and_folders_only_under_the_roots(team, tmp_path) -> None:
    editor, reader = auth(team.keys["editor"]), auth(team.keys["reader"])
    note = tmp_path / "broker_note.txt"
    note.write_text("Broker note: the Harbor Foods roof was replaced in 2021 with a TPO membrane.\n")
    files = {"files": ("broker_note.txt", note.read_bytes())}
    assert httpx.post(f"{team.url}/api/ingest/upload", files=files, headers=reader).status_code == 403
    job = httpx.post(f"{team.url}/api/ingest/upload", params={"wait": True}, files=files, headers=editor,
                     timeout=300).json()
    assert job["status"] == "done" and job["report"]["added"] == 1, job
    uploaded = team.core.settings.uploads_dir / "broker_note.txt"
    assert job["paths"] == [str(uploaded.resolve())] and uploaded.read_bytes() == note.read_bytes()

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the index")
    refused = httpx.post(f"{team.url}/api/ingest/folder", json={"folder": str(outside)}, headers=editor)
    assert refused.status_code == 403 and "outside the folders this workspace may ingest" in refused.json()["detail"]
    sneaky = httpx.post(f"{team.url}/api/ingest/folder",
                        json={"folder": f"{team.roots}/{os.path.relpath(outside, team.roots)}"}, headers=editor)
    assert sneaky.status_code == 403
    (team.roots / "link").symlink_to(outside)
    assert httpx.post(f"{team.url}/api/ingest/folder", json={"folder": str(team.roots / "link")},
                      headers=editor).status_code == 403
    (team.roots / "link").unlink()
    done = httpx.post(f"{team.url}/api/ingest/folder", json={"folder": str(team.docs), "wait": True},
                      headers=editor, timeout=300).json()
    assert done["status"] == "done" and done["report"]["unchanged"] == len(FILES), done
    assert not any("secret" in d["path"] for d in httpx.get(f"{team.url}/api/documents", headers=reader).json())

    assert httpx.delete(f"{team.url}/api/documents", params={"path": str(uploaded)}, headers=reader).status_code \
        == 403
    removed = httpx.delete(f"{team.url}/api/documents", params={"path": str(uploaded)}, headers=editor)
    assert removed.status_code == 200 and removed.json()["removed"] == [str(uploaded.resolve())]


# ---- keys and roles -----------------------------------------------------------------------------------


def test_no_key_or_a_wrong_key_is_401_everywhere_but_health_and_docs(team) -> None:
    for method, path in (("GET", "/api/status"), ("POST", "/api/search"), ("POST", "/api/ask"),
                         ("GET", "/api/documents"), ("GET", "/v1/models"), ("POST", "/v1/chat/completions")):
        assert httpx.request(method, f"{team.url}{path}").status_code == 401, path
        wrong = team.keys["reader"][:-1] + ("A" if team.keys["reader"][-1] != "A" else "B")
        assert httpx.request(method, f"{team.url}{path}", headers=auth(wrong)).status_code == 401, path
    assert httpx.get(f"{team.url}/api/status", headers={"X-API-Key": team.keys["reader"]}).status_code == 200
    assert httpx.get(f"{team.url}/v1/models", headers=auth(team.keys["reader"])).json()["data"][0]["id"] \
        == "SmolLM2-135M-Instruct"
    assert httpx.get(f"{team.url}/api/health").status_code == 200
    result = cli("--server", team.url, "--key", "uak_wrong", "status")
    assert result.exit_code == 2 and "HTTP 401" in result.stderr


def test_roles_reader_editor_admin(team) -> None:
    for role, expected in (("reader", 403), ("editor", 403), ("admin", 200)):
        assert httpx.get(f"{team.url}/api/users", headers=auth(team.keys[role])).status_code == expected, role
    assert httpx.get(f"{team.url}/api/ingest", headers=auth(team.keys["reader"])).status_code == 403
    added = httpx.post(f"{team.url}/api/users", json={"name": "temp", "role": "reader"},
                       headers=auth(team.keys["admin"])).json()
    assert httpx.get(f"{team.url}/api/status", headers=auth(added["key"])).status_code == 200
    assert httpx.delete(f"{team.url}/api/users/temp", headers=auth(team.keys["admin"])).status_code == 200
    assert httpx.get(f"{team.url}/api/status", headers=auth(added["key"])).status_code == 401


# ---- under load -----------------------------------------------------------------------------------------


def test_a_full_queue_answers_429_with_retry_after_and_searches_never_fail_during_an_ingest(
        tmp_path, embedder, embedded_engine, model_cache) -> None:
    from assistant.api.queue import EngineQueue
    from assistant.api.service import start_api_in_thread

    roots = tmp_path / "submissions"
    first, second = roots / "harbor-foods", roots / "oakridge-senior-living"
    shutil.copytree(SAMPLE_DOCS / "harbor-foods", first)
    shutil.copytree(SAMPLE_DOCS / "oakridge-senior-living", second)
    core = build_core(tmp_path / "workspace", [roots], embedder, embedded_engine, model_cache)
    assert not core.ingest([first / "underwriter_notes.txt"]).failed
    queue = EngineQueue(slots=1, max_waiting=2, timeout=300)
    url, stop = start_api_in_thread(core, queue=queue)  # no users: loopback, open
    try:
        def ask(n: int) -> httpx.Response:
            return httpx.post(f"{url}/api/ask", json={"question": f"{QUESTION} ({n})", "max_tokens": 8},
                              timeout=600)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, range(8)))
        codes = sorted(response.status_code for response in answers)
        assert 200 in codes and 429 in codes and set(codes) <= {200, 429}, codes
        events = core.audit_events()
        assert len(events) == codes.count(200)  # one audit record per answered request, none for a rejected one
        assert {(event.user, event.shell) for event in events} == {("local", "api")}
        assert codes.count(200) >= 3  # one answering and two waiting always get their turn
        for response in answers:
            if response.status_code == 429:
                assert int(response.headers["Retry-After"]) >= 1
                assert "busy" in response.json()["detail"]
            else:
                assert sse(response.text)[-1][0] == "answer"
        deadline = time.monotonic() + 10  # a place is freed just after its response's last byte went out
        while queue.stats()["active"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queue.stats()["active"] == 0 and queue.stats()["waiting"] == 0

        job = httpx.post(f"{url}/api/ingest/folder", json={"folder": str(roots)}).json()
        assert job["status"] == "running"
        searches = []
        while True:
            response = httpx.post(f"{url}/api/search", json={"query": "sprinkler system", "k": 3}, timeout=60)
            searches.append(response.status_code)
            if httpx.get(f"{url}/api/ingest").json()["status"] != "running":
                break
            time.sleep(0.2)
        state = httpx.get(f"{url}/api/ingest").json()
        assert state["status"] == "done" and not state["report"]["failed"], state
        assert len(searches) >= 3 and set(searches) == {200}, searches
    finally:
        stop()


def test_the_queue_alone_waits_in_order_and_times_out_with_503() -> None:
    from assistant.api.queue import EngineQueue, QueueFull

    queue = EngineQueue(slots=1, max_waiting=1, timeout=0.2)
    first = queue.enter()
    first.wait()
    second = queue.enter()
    with pytest.raises(QueueFull) as full:
        queue.enter()
    assert full.value.status == 429 and full.value.retry_after >= 1
    with pytest.raises(QueueFull) as late:
        second.wait()  # the first never finishes in time
    assert late.value.status == 503 and late.value.retry_after >= 1
    first.release()
    third = queue.enter()
    done = threading.Event()
    threading.Thread(target=lambda: (third.wait(), done.set())).start()
    assert done.wait(2)
    third.release()
    assert queue.stats() | {"mean_answer_seconds": 0} == {"slots": 1, "max_waiting": 1, "active": 0, "waiting": 0,
                                                           "served": 2, "rejected": 2, "mean_answer_seconds": 0}
