"""Build the public retrieval fixture `benchmarks/fixtures/python_faq/` from the Python 3.11 documentation.

Corpus: the official Python FAQ (design, extending, general, GUI, "why is Python installed", library,
programming, Windows), one passage file per answer with its question heading removed, plus the sections
of the Python tutorial as distractor passages. Questions: the FAQ's own question headings; each one's
gold is the passage holding its answer. The question text never appears in the corpus, so finding the
answer is a real retrieval task (FAQ retrieval, as in FiQA or StackExchange duplicate questions).

Source: the reStructuredText sources shipped in Debian's `python3.11-doc` package
(`/usr/share/doc/python3.11/html/_sources/`). When they are not installed the script fetches the package
with `apt-get download python3.11-doc` and unpacks it with `dpkg-deb -x` into a temporary folder.

License: the Python documentation is distributed under the PSF License Agreement for Python 3.11
(permissive: copying, modification and redistribution allowed with the copyright notice kept), see
`fixtures/python_faq/LICENSE`. Copyright © 2001-2023 Python Software Foundation; All Rights Reserved.

    python benchmarks/build_public_fixture.py [--source DIR] [--out benchmarks/fixtures/python_faq]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "fixtures" / "python_faq"
INSTALLED = Path("/usr/share/doc/python3.11/html/_sources")
FAQ_PAGES = ("general", "programming", "design", "library", "extending", "windows", "gui", "installed")
SEED = 20230207
MIN_WORDS = 25  # shorter tutorial sections are not worth a passage
MIN_ANSWER_WORDS = 8  # shorter FAQ answers only point elsewhere ("See the Unicode HOWTO.")
LICENSE_HEADER = """\
Python documentation, version 3.11 (FAQ and tutorial), as distributed in Debian's python3.11-doc package.
Copyright (c) 2001-2023 Python Software Foundation; All Rights Reserved.
The passages in docs/ are excerpts, with the reStructuredText markup simplified and the FAQ question
headings moved to questions.jsonl. They are used under the license below.

"""

_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")


@dataclass
class Section:
    title: str
    marker: str
    lines: list[str]
    parents: list[str]


def sections(text: str) -> tuple[str, list[Section]]:
    """The document title and its sections (heading, underline character, body lines, enclosing headings)."""
    lines = text.splitlines()
    found: list[Section] = []
    doc_title = ""
    levels: list[str] = []  # underline characters in order of first use (reST levels)
    stack: list[str] = []
    index = 0
    current: Section | None = None
    while index < len(lines):
        line = lines[index]
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        over = _UNDERLINE.match(line) and index + 2 < len(lines) and _UNDERLINE.match(lines[index + 2])
        if over and lines[index + 1].strip():
            title, marker, index = lines[index + 1].strip(), "over" + line[0], index + 3
        elif line.strip() and not _UNDERLINE.match(line) and _UNDERLINE.match(nxt) and len(nxt.rstrip()) >= len(
                line.strip()) - 1:
            title, marker, index = line.strip(), nxt[0], index + 2
        else:
            if current is not None:
                current.lines.append(line)
            index += 1
            continue
        if marker not in levels:
            levels.append(marker)
        level = levels.index(marker)
        if not doc_title:
            doc_title = clean_inline(title)
            stack = [doc_title]
            current = None
            continue
        title = " ".join(clean_inline(title).split())
        stack = [*stack[:level], title]
        current = Section(title, marker, [], stack[1:-1])
        found.append(current)
    return doc_title, found


def clean_inline(text: str) -> str:
    """Inline reST markup to plain text: roles, links, literals, emphasis."""
    text = re.sub(r"`([^`<]+?)\s*<[^>]+>`_{1,2}", r"\1", text)  # `text <url>`_
    text = re.sub(r":[\w:.\-]+:`!?~?([^`<]+?)\s*<[^>]+>`", r"\1", text)  # :ref:`text <target>`
    text = re.sub(r":[\w:.\-]+:`!?~?([^`]+)`", r"\1", text)  # :func:`name`
    text = re.sub(r"``([^`]+)``", r"\1", text)
    text = re.sub(r"`([^`]+)`_{0,2}", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    text = re.sub(r"(?<!\w)\*([^*\s][^*]*)\*(?!\w)", r"\1", text)
    return text


def clean_body(lines: list[str]) -> str:
    """Body text without directives' option lines, comments and labels; literal blocks are kept."""
    out: list[str] = []
    skipping_comment = False
    for line in lines:
        stripped = line.strip()
        if skipping_comment:
            if stripped and not line.startswith((" ", "\t")):
                skipping_comment = False
            else:
                continue
        if stripped.startswith(".. "):
            directive = re.match(r"\.\.\s+([\w\-:]+)::\s*(.*)$", stripped)
            if directive and directive.group(1) in ("note", "seealso", "warning", "versionadded", "versionchanged",
                                                    "deprecated", "tip", "important", "hint"):
                if directive.group(2):
                    out.append(clean_inline(directive.group(2)))
                continue
            if directive and directive.group(1) in ("code-block", "sourcecode", "highlight", "doctest", "testcode"):
                continue
            skipping_comment = True  # labels, index entries, only::, comments, images and other directives
            continue
        if re.match(r"\s+:[\w\-]+:", line) and out and not out[-1].strip():
            continue  # a directive option
        out.append(clean_inline(line.rstrip()))
    text = "\n".join(out)
    text = re.sub(r"::\s*$", ":", text, flags=re.MULTILINE)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def is_question(section: Section, body: str) -> bool:
    return len(body.split()) >= MIN_ANSWER_WORDS and (section.title.endswith("?") or section.marker == "-")


def build(source: Path, out: Path) -> tuple[int, int]:
    """Write docs/ and questions.jsonl under `out`; returns (passages, questions)."""
    docs = out / "docs"
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    questions: list[dict] = []
    passages: list[str] = []
    for page in FAQ_PAGES:
        title, found = sections((source / "faq" / f"{page}.rst.txt").read_text(encoding="utf-8"))
        number = 0
        for section in found:
            body = clean_body(section.lines)
            if not is_question(section, body):
                continue
            number += 1
            heading = ": ".join([title, *section.parents]) if section.parents else title
            passages.append(f"# {heading}\n\n{body}\n")
            questions.append({"id": f"{page}-{number:03d}", "question": section.title,
                              "gold_file": len(passages) - 1, "gold_page": 1, "answer": None, "answerable": True})
    for path in sorted((source / "tutorial").glob("*.rst.txt")):
        if path.name.startswith(("index", "appendix")):
            continue
        title, found = sections(path.read_text(encoding="utf-8"))
        for section in found:
            body = clean_body(section.lines)
            if len(body.split()) < MIN_WORDS:
                continue
            heading = ": ".join([title, *section.parents, section.title])
            passages.append(f"# {heading}\n\n{body}\n")
    # Neutral file names in a fixed shuffled order: a name must not tell an answer from a distractor.
    order = list(range(len(passages)))
    random.Random(SEED).shuffle(order)
    names = {}
    for number, index in enumerate(order, start=1):
        names[index] = f"passage-{number:04d}.md"
        (docs / names[index]).write_text(passages[index], encoding="utf-8")
    with open(out / "questions.jsonl", "w", encoding="utf-8") as handle:
        for item in questions:
            item["gold_file"] = names[item["gold_file"]]
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    return len(passages), len(questions)


def write_license(source: Path, out: Path) -> None:
    """The PSF license text, from the documentation's own license page."""
    text = (source / "license.rst.txt").read_text(encoding="utf-8")
    start = text.index("PSF LICENSE AGREEMENT FOR PYTHON")
    end = text.index("BEOPEN.COM LICENSE AGREEMENT")
    body = re.sub(r"^\.\. parsed-literal::\s*$", "", text[start:end], flags=re.MULTILINE)
    body = "\n".join(line[3:] if line.startswith("   ") else line for line in body.splitlines())
    body = body.replace("|release|", "3.11").replace("|version|", "3.11")
    lines = [line for line in body.strip().splitlines() if not _UNDERLINE.match(line)]
    (out / "LICENSE").write_text(LICENSE_HEADER + "\n".join(lines).strip() + "\n", encoding="utf-8")


def fetch_sources(folder: Path) -> Path:
    """Debian's python3.11-doc, downloaded with apt-get and unpacked; returns its _sources folder."""
    subprocess.run(["apt-get", "download", "python3.11-doc"], cwd=folder, check=True)
    package = next(folder.glob("python3.11-doc_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(package), str(folder / "root")], check=True)
    return folder / "root" / INSTALLED.relative_to("/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help=f"the docs' _sources folder (default {INSTALLED}, or fetched)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        source = args.source or (INSTALLED if (INSTALLED / "faq").is_dir() else fetch_sources(Path(temp)))
        args.out.mkdir(parents=True, exist_ok=True)
        passages, questions = build(source, args.out)
        write_license(source, args.out)
    print(f"{passages} passages, {questions} questions in {args.out}")


if __name__ == "__main__":
    main()
