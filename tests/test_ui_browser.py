"""The UI in a real browser: Debian's Chromium, headless, driven by Playwright (no browser download).

Starts `assistant ui` on a free port of 127.0.0.1 over a fresh workspace, uploads a document on the
Library page, asks a question on the Chat page and waits for a cited answer; the screenshot lands in
`test-artifacts/`. Every request the page makes is recorded: none may leave the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import ROOT, SAMPLE_DOCS

CHROMIUM = Path(os.environ.get("ASSISTANT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANSWER_TIMEOUT_MS = 240_000

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def ui_server(tmp_path: Path, model_cache: Path) -> Iterator[str]:
    """`assistant ui` as an underwriter starts it, on a free port; yields its URL."""
    port = free_port()
    env = {**os.environ, "ASSISTANT_MODEL_CACHE": str(model_cache), "ASSISTANT_MAX_NEW_TOKENS": "48",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    log = (tmp_path / "ui.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "--workspace", str(tmp_path / "workspace"), "ui", "--port",
         str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"assistant ui did not start:\n{(tmp_path / 'ui.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ci-system-deps.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            yield page
        finally:
            browser.close()


def test_upload_ask_and_see_a_cited_answer_in_chromium(ui_server: str, browser_page) -> None:
    page = browser_page
    try:
        upload_ask_and_check(page, ui_server)
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-browser-failure.png"), full_page=True)  # what the page showed
        raise


def upload_ask_and_check(page, ui_server: str) -> None:
    from playwright.sync_api import expect

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(ui_server, wait_until="domcontentloaded")
    page.get_by_role("heading", name="Chat").wait_for(timeout=60_000)

    # Library: upload one inspection report and wait for the ingest to finish.
    page.locator('[data-testid="stSidebarNavLink"]', has_text="Library").click()
    page.get_by_role("heading", name="Library").wait_for()
    document = SAMPLE_DOCS / "harbor-foods" / "fire_inspection_2024.pdf"
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(document))
    expect(page.locator('[data-testid="stFileUploader"]')).to_contain_text("KB")  # the file is attached
    page.get_by_role("button", name="Upload and ingest").click()
    expect(page.get_by_text("1 added")).to_be_visible(timeout=120_000)

    # Chat: ask, and wait for the answer with its source card.
    page.locator('[data-testid="stSidebarNavLink"]', has_text="Chat").click()
    question = page.locator('[data-testid="stChatInputTextArea"]')
    question.wait_for()
    question.fill("How far is the nearest public hydrant from the Harbor Foods building?")
    question.press("Enter")
    ended = page.get_by_text(re.compile("Open in context|Not in your documents|No source supports|No answer:"))
    ended.first.wait_for(timeout=ANSWER_TIMEOUT_MS)  # whichever way the answer ends
    card = page.locator('[data-testid="stExpander"]', has_text="Open in context").first
    assert card.is_visible(), "the answer has no source card"
    assert page.get_by_text("fire_inspection_2024.pdf").first.is_visible()
    assert page.get_by_text("page 3").first.is_visible() or page.get_by_text("page ").first.is_visible()
    card.locator("summary").click()  # open the passage in context: the page around it, the quote highlighted
    expect(card.locator('[data-testid="stExpanderDetails"]')).to_contain_text("page", timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "ui-browser-chat.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    hosts = {urlparse(url).hostname for url in requested if urlparse(url).scheme in ("http", "https", "ws", "wss")}
    assert hosts <= {"127.0.0.1"}, f"requests left the machine: {sorted(set(requested))}"


def test_the_submission_page_shows_sourced_values_in_chromium(ui_server: str, browser_page) -> None:
    from playwright.sync_api import expect

    page = browser_page
    try:
        page.goto(ui_server, wait_until="domcontentloaded")
        page.get_by_role("heading", name="Chat").wait_for(timeout=60_000)
        page.locator('[data-testid="stSidebarNavLink"]', has_text="Library").click()
        page.get_by_role("heading", name="Library").wait_for()
        files = [str(SAMPLE_DOCS / "harbor-foods" / name) for name in ("statement_of_values.csv",
                                                                         "fire_inspection_2024.pdf")]
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files)
        page.get_by_role("button", name="Upload and ingest").click()
        expect(page.get_by_text("2 added")).to_be_visible(timeout=120_000)
        page.locator('[data-testid="stSidebarNavLink"]', has_text="Submission").click()
        page.get_by_role("heading", name="Submission").wait_for()
        source = page.locator('[data-testid="stExpander"]',
                              has_text="TIV = $82,750,000: statement_of_values.csv, row 2").first
        source.wait_for(timeout=60_000)
        source.locator("summary").click()  # the row it was read from, in its document
        expect(source.locator('[data-testid="stExpanderDetails"]')).to_contain_text("82,750,000", timeout=30_000)
        ppc = page.locator('[data-testid="stExpander"]', has_text="Public protection class = 3").first
        assert ppc.is_visible() and "fire_inspection_2024.pdf, page 3" in ppc.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-browser-submission.png"), full_page=True)
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-browser-submission-failure.png"), full_page=True)
        raise


def test_chromium_is_debians_and_playwright_downloaded_nothing() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ci-system-deps.sh")
    assert shutil.which("chromium") or CHROMIUM.exists()
    browsers = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", Path.home() / ".cache" / "ms-playwright"))
    assert not browsers.exists() or not any(browsers.glob("chromium-*")), "use Debian's chromium, not a download"
