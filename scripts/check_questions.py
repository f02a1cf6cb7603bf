"""Check ``sample_docs/eval/questions.jsonl`` against the documents in ``sample_docs/``.

For every answerable question the ``answer`` string must occur (case-insensitive, whitespace-normalised)
in the text of the gold file's gold page (1-based PDF page or XLSX sheet; 1 for every other format).
For every unanswerable question, the probe terms listed below must not occur in the files they cover.
Also reports where else each answer string occurs, so gold pages can be kept the most specific ones.

Usage: ``python scripts/check_questions.py [--quiet]``; exits non-zero on any failure.
"""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser
from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "sample_docs"
QUESTIONS = DOCS / "eval" / "questions.jsonl"
INGESTIBLE = {".pdf", ".docx", ".md", ".txt", ".html", ".htm", ".csv", ".xlsx"}

# Unanswerable question id -> (path prefix under sample_docs/ or "" for all files, terms that must be absent)
UNANSWERABLE_PROBES: dict[str, list[tuple[str, list[str]]]] = {
    "earthquake deductible": [("", ["earthquake", "quake"]), ("meridian-plastics/", ["seismic"])],
    "flood zone": [("oakridge-senior-living/", ["flood"]), ("guidelines/", ["flood zone"])],
    "employees work at the meridian": [("meridian-plastics/", ["employee", "headcount", "workforce"])],
    "experience modification": [("", ["experience mod", "workers' comp", "workers comp", "e-mod"])],
    "cyber": [("", ["cyber"])],
    "annual revenues": [("harbor-foods/", ["revenue", "sales", "turnover"])],
    # "commissioned by" (the engineering survey) is fine; a commission rate or amount is not.
    "commission": [("", ["commission ", "commission,", "commission.", "commissions", "% comm"])],
}


def norm(text: str) -> str:
    return " ".join(text.lower().split())


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def pages_of(path: Path) -> list[str]:
    """Text per page (PDF), per sheet (XLSX) or a single page for every other format."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return [page.extract_text() or "" for page in PdfReader(path).pages]
    if suffix == ".xlsx":
        wb = load_workbook(path, read_only=True, data_only=True)
        sheets = []
        for ws in wb.worksheets:
            lines = [" ".join("" if v is None else str(v) for v in row) for row in ws.iter_rows(values_only=True)]
            sheets.append(ws.title + "\n" + "\n".join(lines))
        return sheets
    if suffix == ".docx":
        doc = Document(str(path))
        parts = [p.text for p in doc.paragraphs]
        for table in doc.tables:
            for row in table.rows:
                parts.append(" ".join(cell.text for cell in row.cells))
        return ["\n".join(parts)]
    if suffix in {".html", ".htm"}:
        parser = _HTMLText()
        parser.feed(path.read_text(encoding="utf-8"))
        return [" ".join(parser.parts)]
    return [path.read_text(encoding="utf-8")]


def loader_pages_of(path: Path) -> list[str] | None:
    """Text per page as the project's own ingester (index.loaders) sees it; None if it is not importable."""
    sys.path.insert(0, str(ROOT))
    try:
        from index.loaders import load_document
    except ImportError:
        return None
    finally:
        sys.path.pop(0)
    doc = load_document(path, path.read_bytes())
    pages = [""] * max((page.number for page in doc.pages), default=0)
    for page in doc.pages:
        pages[page.number - 1] = page.text
    return pages


def main() -> int:
    quiet = "--quiet" in sys.argv
    files = sorted(p for p in DOCS.rglob("*") if p.is_file() and p.suffix.lower() in INGESTIBLE)
    corpus = {p.relative_to(DOCS).as_posix(): [norm(t) for t in pages_of(p)] for p in files}
    # The same files through the project's loader (tables become "header: value" lines there).
    loaded = {p.relative_to(DOCS).as_posix(): loader_pages_of(p) for p in files}
    loaded_corpus = {f: [norm(t) for t in pages] for f, pages in loaded.items() if pages is not None}
    if not quiet:
        print(f"checking against plain extraction and {len(loaded_corpus)} files via index.loaders\n")
    for stray in ("src", "eval"):
        bad = [f for f in corpus if f.startswith(stray + "/")]
        assert not bad, f"ingestible files under sample_docs/{stray}/: {bad}"

    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    failures: list[str] = []
    ids = [q["id"] for q in questions]
    if len(ids) != len(set(ids)):
        failures.append("duplicate question ids")
    keys = {"id", "question", "gold_file", "gold_page", "answer", "answerable"}
    probes_used = set()
    for q in questions:
        if set(q) != keys:
            failures.append(f"{q['id']}: keys {sorted(q)}")
            continue
        if not q["answerable"]:
            if q["gold_file"] is not None or q["gold_page"] is not None or q["answer"] is not None:
                failures.append(f"{q['id']}: unanswerable question must have null gold_file/page/answer")
            matched = [k for k in UNANSWERABLE_PROBES if k in q["question"].lower()]
            if not matched:
                failures.append(f"{q['id']}: no absence probe defined for unanswerable question")
            for key in matched:
                probes_used.add(key)
                for prefix, terms in UNANSWERABLE_PROBES[key]:
                    for f, pages in corpus.items():
                        if not f.startswith(prefix):
                            continue
                        for term in terms:
                            for n, text in enumerate(pages, start=1):
                                if term in text:
                                    failures.append(f"{q['id']}: probe term {term!r} found in {f} p{n}")
            if not quiet:
                print(f"{q['id']}  UNANSWERABLE  {q['question']}  (probes: {', '.join(matched)})")
            continue
        f, page, answer = q["gold_file"], q["gold_page"], norm(q["answer"])
        if f not in corpus:
            failures.append(f"{q['id']}: gold file {f} missing")
            continue
        if not 1 <= page <= len(corpus[f]):
            failures.append(f"{q['id']}: gold page {page} out of range for {f} ({len(corpus[f])} pages)")
            continue
        ok = answer in corpus[f][page - 1]
        if not ok:
            failures.append(f"{q['id']}: answer {q['answer']!r} not on {f} page {page}")
        if f in loaded_corpus:
            via_loader = loaded_corpus[f]
            if len(via_loader) != len(corpus[f]):
                failures.append(f"{q['id']}: index.loaders sees {len(via_loader)} pages in {f}")
            elif answer not in via_loader[page - 1]:
                ok = False
                failures.append(f"{q['id']}: answer {q['answer']!r} not on {f} page {page} via index.loaders")
        elsewhere = [f"{g}:{n}" for g, pages in corpus.items() for n, text in enumerate(pages, start=1)
                     if answer in text and (g, n) != (f, page)]
        if not quiet:
            status = "ok  " if ok else "FAIL"
            also = f"  also: {', '.join(elsewhere)}" if elsewhere else ""
            print(f"{q['id']}  {status}  {f}:{page}  {q['answer']!r}{also}")

    answerable = sum(q["answerable"] for q in questions)
    print(f"\n{len(questions)} questions: {answerable} answerable, {len(questions) - answerable} unanswerable")
    print("files: " + ", ".join(f"{f} ({len(p)})" for f, p in corpus.items()))
    if failures:
        print("\nFAILURES:\n" + "\n".join(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
