"""The referral memo from a profile built by hand (Harbor Foods) and its rules check: the DOCX opens with
python-docx and holds the chart and the triggers' sections, the Markdown names every value's source, and a value
no document states reads "not stated"."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from assistant.profile.memo import MemoError, loss_chart_png, memo_blocks, render_markdown, write_memo
from assistant.profile.rules import check, load_rules
from tests.conftest import SAMPLE_DOCS
from tests.rules_profiles import harbor_profile


@pytest.fixture(scope="module")
def checked():
    profile = harbor_profile()
    return profile, check(profile, load_rules(SAMPLE_DOCS / "guidelines" / "rules.toml"))


def test_the_docx_opens_and_holds_the_chart_and_the_triggers(checked, tmp_path: Path) -> None:
    import docx
    from PIL import Image

    profile, report = checked
    (path,) = write_memo(profile, report, tmp_path / "memo.docx")
    document = docx.Document(str(path))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "Referral memo: Harbor Foods Distribution LLC" in text
    assert "\u00a7 5.3 Home Office referral" in text and "\u00a7 5.4 " in text and "\u00a7 3.1 " in text
    assert "claim NBM-23-000588: incurred 184,500 > 150,000" in text
    images = [rel.target_part.blob for rel in document.part.rels.values() if "image" in rel.reltype]
    assert len(images) == 1
    chart = Image.open(io.BytesIO(images[0]))
    assert chart.format == "PNG" and chart.size == (720, 340)
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert "$82,750,000 [4]" in cells and "not stated" in cells
    assert any(cell.startswith("36,500") and "(conflict)" in cell for cell in cells)


def test_the_markdown_names_every_values_source(checked, tmp_path: Path) -> None:
    profile, report = checked
    md_path, png_path = write_memo(profile, report, tmp_path / "memo.md")
    text = md_path.read_text()
    assert png_path == tmp_path / "memo_losses.png" and png_path.read_bytes().startswith(b"\x89PNG")
    assert "![Incurred losses per year](memo_losses.png)" in text
    # the trigger names its evidence's source in words, the tables by number, resolved in Sources
    assert "area_sqft = 36,500 (statement_of_values.csv, row 3)" in text
    assert "valuation_date = 09/30/2024 (loss_runs_2019-2024.pdf, page 1)" in text
    sources = dict(re.findall(r"^- (\[\d+\]) (.+)$", text.split("## Sources", 1)[1], re.M))
    cited = set(re.findall(r"\[\d+\]", text.split("## Sources", 1)[0]))
    assert cited and cited == set(sources)  # every number cited is listed, every one listed is cited
    assert any(line.startswith("statement_of_values.csv, row 3: \u201cLocation No 2") for line in sources.values())
    # every cell of the locations' tables is a value with its source, or "not stated"
    tables = text.split("## Locations", 1)[1].split("## Loss history", 1)[0]
    for row in [line for line in tables.splitlines() if line.startswith("| ") and not line.startswith("| Loc")]:
        for cell in [c.strip() for c in row.strip("|").split(" | ")][1:]:
            assert cell == "not stated" or re.search(r"\[\d+\]|\(sum of", cell), (row, cell)


def test_the_memo_states_what_is_not_stated_and_what_could_not_be_checked(checked) -> None:
    profile, report = checked
    text = render_markdown(memo_blocks(profile, report, chart=b""))
    assert "![" not in text  # no chart file, text bars only
    assert "property  2023  " in text and "$184,500" in text
    assert ("hydrant-distance (A public or private hydrant must be within 1,000 feet of the building.): "
            "location 2: cannot check: hydrant_distance_ft not stated") in text
    assert "| 2 Dry goods and garage | No [5] | not stated |" in text
    assert "HF-24-03" in text and "HF-24-01" not in text.split("## Open recommendations")[1].split("##")[0]
    profile = profile.model_copy(deep=True)
    profile.effective_date = None
    profile.insured = None
    text = render_markdown(memo_blocks(profile, None, chart=b""))
    assert "- Proposed effective date: not stated" in text and "- Insured: not stated" in text
    assert "The carrier's rules were not checked." in text


def test_the_chart_draws_each_line_of_business(checked) -> None:
    from PIL import Image

    profile, _ = checked
    image = Image.open(io.BytesIO(loss_chart_png(profile))).convert("RGB")
    blue = sum(1 for pixel in image.getdata() if pixel == (37, 99, 165))
    assert blue > 2000  # the property bars
    empty = profile.model_copy(deep=True)
    empty.claims, empty.losses = [], []
    assert loss_chart_png(empty) == b""


def test_a_memo_is_md_or_docx(checked, tmp_path: Path) -> None:
    profile, report = checked
    with pytest.raises(MemoError, match=r"memo\.pdf: a memo is \.md or \.docx"):
        write_memo(profile, report, tmp_path / "memo.pdf")
    with pytest.raises(MemoError, match="no such folder"):
        write_memo(profile, report, tmp_path / "missing" / "memo.md")
