"""PDF text, tables and OCR: `index.pdf` against today's pypdf path, on real-world PDFs, in one run.

1. Real PDFs (public documents no one here wrote; folders or files as arguments, default the PDFs Debian ships
   under /usr/share/doc): per file, pages in, pages with text on each path, tables and table rows found,
   hidden-text items, and the time of `index.pdf.parse_pdf` against the pypdf path `index/loaders.py` used
   before it (`PdfReader`, `extract_text()` per page), with the ratio. The word overlap of the two texts is
   printed as a sanity check (1.0: the same words).
2. OCR: a generated 50-page report (a heading, a paragraph and a small loss table per page, each page with its
   own reference code) rasterised at 200 dpi into an image-only PDF, read in a fresh process: pages/second,
   reference codes found on their own page, mean confidence, and peak memory (ru_maxrss of that process, and
   its value once the OCR engine is loaded, before the first page). tracemalloc is left off: it slowed the
   run and sees Python objects only, not onnxruntime's buffers.

    python benchmarks/pdf_pages.py [PDF or folder ...] [--ocr-pages 50] [--skip-ocr]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SOURCES = [Path("/usr/share/doc")]


def legacy_pypdf(data: bytes) -> list[str]:
    """Today's path before index.pdf: pypdf's text per page (raises where pypdf refuses the file)."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    return [(page.extract_text() or "").replace("\x00", "") for page in reader.pages]


def overlap(first: str, second: str) -> float:
    """Bag-of-words overlap: shared words over the larger text's words."""
    a, b = Counter(re.findall(r"\w+", first.lower())), Counter(re.findall(r"\w+", second.lower()))
    total = max(sum(a.values()), sum(b.values()))
    return sum((a & b).values()) / total if total else 1.0


def find_pdfs(sources: list[Path]) -> list[Path]:
    """The PDFs under the sources, each content once."""
    import hashlib

    found, seen = [], set()
    for source in sources:
        paths = sorted(path for path in source.rglob("*") if path.suffix.lower() == ".pdf" and path.is_file()) \
            if source.is_dir() else [source] if source.is_file() else []
        for path in paths:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                found.append(path)
    return found


def real_pdfs(paths: list[Path]) -> None:
    from index.pdf import parse_pdf

    print(f"## Real PDFs: {len(paths)} files\n")
    print("| file | KB | pages | text (new) | text (pypdf) | OCR | tables | rows | hidden | new s | pypdf s | "
          "ratio | overlap |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    totals = Counter()
    for path in paths:
        data = path.read_bytes()
        start = time.perf_counter()
        try:
            _, pages, _ = parse_pdf(data)
            error = ""
        except Exception as exc:
            pages, error = [], str(exc)
        new_s = time.perf_counter() - start
        start = time.perf_counter()
        try:
            old = legacy_pypdf(data)
            old_error = ""
        except Exception as exc:
            old, old_error = [], " ".join(str(exc).split())[:60]
        old_s = time.perf_counter() - start
        if error:
            print(f"| {path.name} | {len(data) // 1024} | new path failed: {error} |")
            continue
        with_text = sum(1 for page in pages if page.text.strip() and not page.ocr)
        old_text = sum(1 for text in old if text.strip())
        ocr = sum(1 for page in pages if page.ocr)
        tables = len({(row.table) for page in pages for row in page.rows})
        rows = sum(len(page.rows) for page in pages)
        hidden = sum(1 for page in pages for item in page.hidden)
        same = overlap("\n".join(page.text for page in pages), "\n".join(old)) if old else 0.0
        old_cell = f"fails: {old_error}" if old_error else str(old_text)
        print(f"| {path.name} | {len(data) // 1024} | {len(pages)} | {with_text} | {old_cell} | {ocr} | {tables} | "
              f"{rows} | {hidden} | {new_s:.2f} | {old_s:.2f} | {old_s / new_s if new_s else 0:.2f}x | "
              f"{same:.2f} |", flush=True)
        totals.update(pages=len(pages), text=with_text, old_text=old_text, ocr=ocr, tables=tables, rows=rows,
                      hidden=hidden, old_failed=1 if old_error else 0, files=1)
        totals["new_s"] += new_s
        totals["old_s"] += old_s
    ratio = totals["old_s"] / totals["new_s"] if totals["new_s"] else 0
    print(f"| **all {totals['files']}** | | **{totals['pages']}** | **{totals['text']}** | **{totals['old_text']}** "
          f"({totals['old_failed']} files fail) | {totals['ocr']} | **{totals['tables']}** | **{totals['rows']}** | "
          f"{totals['hidden']} | **{totals['new_s']:.1f}** | **{totals['old_s']:.1f}** | **{ratio:.2f}x** | |")
    print(f"\npages/s: new {totals['pages'] / max(totals['new_s'], 1e-9):.1f}, "
          f"pypdf {totals['pages'] / max(totals['old_s'], 1e-9):.1f} (ratio > 1: the new path is faster)\n")


# ---- OCR --------------------------------------------------------------------------------------


def reference(page: int) -> str:
    return f"Reference QX-{page * 7919 % 100000:05d}-{page:02d}"


def scanned_report(pages: int, dpi: int = 200) -> bytes:
    """A generated report, each page rasterised (grayscale, as a scanner hands it over) into an image-only PDF."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    pdf = FPDF(format="letter")
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=14)
        pdf.cell(0, 10, f"Survey of location {number}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, f"{reference(number)}. The building is a tilt-up concrete warehouse with a wet pipe "
                             "sprinkler system fed from the city main. The ammonia refrigeration plant was "
                             "inspected in March and the relief valves were replaced. Housekeeping is good; "
                             "hot work is under a permit system.", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        with pdf.table(col_widths=(30, 30, 60, 30)) as table:
            table.row(("Claim", "Date of loss", "Cause", "Incurred"))
            for row in range(4):
                table.row((f"24-{number:03d}{row}", f"0{row + 1}/1{row}/2024", "Water damage",
                           f"${(row + 1) * 1250:,}"))
    document = pdfium.PdfDocument(bytes(pdf.output()))
    images = [document[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(document))]
    document.close()
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()


def ocr_child(path: str) -> None:
    """Runs in its own process: engine loaded first, then the whole file; prints one JSON line."""
    import resource

    from index.pdf import _ocr_engine, ocr_threads, parse_pdf

    _ocr_engine()
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    data = Path(path).read_bytes()
    start = time.perf_counter()
    _, pages, warnings = parse_pdf(data)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = sum(1 for page in pages if reference(page.number) in " ".join(page.text.split()))
    confidences = [page.ocr_confidence for page in pages if page.ocr_confidence is not None]
    print(json.dumps({"pages": len(pages), "ocr": sum(page.ocr for page in pages), "seconds": seconds,
                      "found": found, "confidence": sum(confidences) / max(len(confidences), 1),
                      "base_mb": base_kb / 1024, "peak_mb": peak_kb / 1024,
                      "threads": ocr_threads(), "warnings": len(warnings)}))


def ocr_run(pages: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scanned.pdf"
        start = time.perf_counter()
        path.write_bytes(scanned_report(pages))
        made = time.perf_counter() - start
        result = subprocess.run([sys.executable, __file__, "--ocr-child", str(path)], capture_output=True,
                                text=True, check=True)
        numbers = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"## OCR: {pages}-page scanned report (200 dpi grayscale, generated in {made:.1f}s)\n")
    print("| pages | OCR'd | seconds | pages/s | references found on their page | mean confidence | threads | "
          "RSS after engine load | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {numbers['pages']} | {numbers['ocr']} | {numbers['seconds']:.1f} | "
          f"{numbers['ocr'] / numbers['seconds']:.2f} | {numbers['found']}/{numbers['pages']} | "
          f"{numbers['confidence']:.3f} | {numbers['threads']} | {numbers['base_mb']:.0f} MB | "
          f"{numbers['peak_mb']:.0f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", type=Path, help="PDF files or folders (default /usr/share/doc)")
    parser.add_argument("--ocr-pages", type=int, default=50)
    parser.add_argument("--skip-ocr", action="store_true")
    parser.add_argument("--ocr-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ocr_child:
        ocr_child(args.ocr_child)
        return
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    paths = find_pdfs(args.sources or DEFAULT_SOURCES)
    if paths:
        real_pdfs(paths)
    else:
        print("no PDFs found in", ", ".join(map(str, args.sources or DEFAULT_SOURCES)))
    if not args.skip_ocr:
        ocr_run(args.ocr_pages)


if __name__ == "__main__":
    main()
