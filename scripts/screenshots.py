"""Regenerate the UI screenshots in docs/ with a real browser (Debian's Chromium, driven by Playwright).

    .venv/bin/python scripts/screenshots.py [--out docs] [--pages chat,library,...] [--quick]

Ingests sample_docs/ into a fresh workspace, starts `assistant ui` on a free port of 127.0.0.1, then
walks the pages as an underwriter would: asks two questions, summarizes two Harbor Foods documents,
builds a training set and runs a short tuning, and saves `docs/screenshot-<page>.png` for each page.
Takes several minutes on a CPU (the summaries and the tuning run for real). `--quick` skips the
summary and the tuning runs (their pages are shot in their empty state).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("ASSISTANT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ("library", "chat", "summaries", "tuning", "status")
WIDTH, HEIGHT = 1400, 900
LONG = 15 * 60 * 1000  # ms: summaries and tuning on a loaded CPU


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(workspace: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "assistant.cli", "--workspace", str(workspace), *args], check=True,
                   env=env, cwd=ROOT)


@contextmanager
def ui_server(workspace: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    log = (workspace.parent / "ui.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "--workspace", str(workspace), "ui",
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"assistant ui did not start; see {log.name}") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(15)
        log.close()


def go(page, name: str) -> None:
    page.locator('[data-testid="stSidebarNavLink"]', has_text=name).click()
    page.get_by_role("heading", name=name, exact=True).wait_for()
    page.wait_for_timeout(800)


def settle(page) -> None:
    """Wait until Streamlit has finished the current run (no "running" indicator), then a moment more."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LONG)
    page.wait_for_timeout(1000)


def shoot(page, out: Path, name: str, wanted: set[str]) -> None:
    if name in wanted:
        path = out / f"screenshot-{name}.png"
        # Streamlit scrolls inside its main block, not the page: grow the window to the content instead.
        height = page.evaluate("() => document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
                               "?.scrollHeight ?? 0")
        page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, min(int(height) + 160, 3000))})
        page.wait_for_timeout(800)
        page.screenshot(path=str(path))
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def ask(page, question: str) -> None:
    answered = page.get_by_text("tok/s")
    before = answered.count()
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill(question)
    box.press("Enter")
    answered.nth(before).wait_for(timeout=LONG)
    settle(page)


def pick(page, label: str, text: str) -> None:
    """Choose an option of a Streamlit multiselect by typing part of it."""
    box = page.locator('[data-testid="stMultiSelect"]', has_text=label).locator("input")
    box.click()
    box.fill(text)
    box.press("Enter")
    page.keyboard.press("Escape")


def run(out: Path, wanted: set[str], quick: bool) -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: run scripts/ci-system-deps.sh")
    out.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="underwriter-demo-"))
    workspace = base / "workspace"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ASSISTANT_MAX_NEW_TOKENS": "96"}
    if (ROOT / ".test-cache" / "models").is_dir():
        env.setdefault("ASSISTANT_MODEL_CACHE", str(ROOT / ".test-cache" / "models"))  # skip the model conversion
    cli(workspace, "ingest", "sample_docs", env=env)
    with ui_server(workspace, env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
        try:
            walk(page, url, out, wanted, quick)
        except BaseException:
            page.screenshot(path=str(base / "failure.png"))
            print(f"failed; the page as it was: {base / 'failure.png'}, server log {base / 'ui.log'}", file=sys.stderr)
            raise
        finally:
            browser.close()


def walk(page, url: str, out: Path, wanted: set[str], quick: bool) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name="Chat", exact=True).wait_for(timeout=90_000)

    go(page, "Library")
    shoot(page, out, "library", wanted)

    go(page, "Chat")
    if wanted & {"chat", "status"}:
        ask(page, "What ISO construction class is the Harbor Foods cold-storage warehouse?")
        ask(page, "How much anhydrous ammonia is in the Harbor Foods refrigeration system?")
        page.locator('[data-testid="stExpander"]', has_text="Open in context").last.click()
        page.wait_for_timeout(800)
    shoot(page, out, "chat", wanted)

    go(page, "Summaries")
    if "summaries" in wanted and not quick:
        page.get_by_text("Chosen documents", exact=True).click()
        page.wait_for_timeout(800)
        pick(page, "Documents", "harbor-foods/underwriter_notes")
        pick(page, "Documents", "harbor-foods/statement_of_values")
        page.get_by_role("button", name="Summarize", exact=True).click()
        page.get_by_text("Download Markdown").wait_for(timeout=LONG)
        settle(page)
        page.locator('[data-testid="stExpander"]', has_text="underwriter_notes").locator("summary").click()
        page.wait_for_timeout(800)
    shoot(page, out, "summaries", wanted)

    go(page, "Tuning")
    if "tuning" in wanted and not quick:
        page.get_by_role("spinbutton", name="Examples").fill("40")
        page.get_by_role("button", name="Build from my documents").click()
        page.get_by_text("examples (").wait_for(timeout=LONG)
        page.get_by_text("Advanced").click()
        page.get_by_role("spinbutton", name="Steps (0: by length)").fill("6")
        page.get_by_role("spinbutton", name="Batch size").fill("2")
        page.get_by_role("spinbutton", name="Longest example (tokens)").fill("512")
        page.get_by_role("button", name="Start tuning").click()
        page.get_by_text("Adapter saved").wait_for(timeout=LONG)
        settle(page)
        page.get_by_role("button", name="Use for answers").first.click()
        settle(page)
    shoot(page, out, "tuning", wanted)

    go(page, "Status")
    shoot(page, out, "status", wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated: " + ", ".join(PAGES))
    parser.add_argument("--quick", action="store_true", help="skip the summary and tuning runs")
    args = parser.parse_args()
    wanted = {name.strip() for name in args.pages.split(",") if name.strip()}
    unknown = wanted - set(PAGES)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    run(args.out.resolve(), wanted, args.quick)


if __name__ == "__main__":
    main()
