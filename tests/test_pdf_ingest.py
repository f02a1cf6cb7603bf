"""PDF pages end to end: a scanned page and a two-page loss run go through ingest, search and ask with the
bundled models, and come back cited to their page with the row whole."""

from __future__ import annotations

from tests.test_pdf import SCANNED_SENTENCE, loss_claims, loss_run_pdf, mixed_pdf


def test_a_scanned_page_and_a_loss_run_are_found_and_cited_to_their_page(tmp_path, make_assistant,
                                                                          embedded_engine) -> None:
    docs = tmp_path / "docs" / "harbor-cold"
    docs.mkdir(parents=True)
    (docs / "loss_control_notes.pdf").write_bytes(mixed_pdf())  # page 1 text, page 2 a scan
    (docs / "loss_runs_2024.pdf").write_bytes(loss_run_pdf(40))  # two pages, header repeated
    core = make_assistant(tmp_path / "ws", shared_engine=embedded_engine)
    report = core.ingest([docs.parent])
    assert not report.failed, report.failed

    # The scanned page's sentence is found by search and cited to page 2.
    hit = core.search("Was the sprinkler riser in Building 4 found closed?", k=3)[0]
    assert hit.chunk.source.endswith("loss_control_notes.pdf") and hit.chunk.page == 2
    assert hit.chunk.location.startswith("page 2")
    assert "found closed on 12 March 2024" in " ".join(hit.chunk.text.split())
    assert SCANNED_SENTENCE.split()[1] in hit.chunk.text

    # A claim on the second page, asked for by its number: its row comes back whole, cited to its page.
    claim = loss_claims(40)[33]
    number, incurred = claim[0], claim[5]
    row = f"Claim {number} | Date of loss {claim[1]} | Cause {claim[2]} | Paid {claim[3]} | Reserve {claim[4]} | " \
          f"Incurred {incurred} | Status {claim[6]}"
    hits = core.search(f"claim {number}", k=3)
    holding = [h for h in hits if row in h.chunk.text.splitlines()]
    assert holding, [h.chunk.text[:200] for h in hits]
    assert holding[0].chunk.source.endswith("loss_runs_2024.pdf") and holding[0].chunk.page == 2
    stored = [r for r in core.store.rows_of(holding[0].chunk.source) if dict(r.cells).get("Claim") == number]
    assert stored and dict(stored[0].cells)["Incurred"] == incurred

    answer = core.make_answerer().answer(f"What was incurred on claim {number}?", scope="harbor-cold")
    assert answer.kind in ("answer", "quote"), answer.reason
    first = answer.citations[0]
    assert number in first.quote and incurred in first.quote, first.quote
    assert first.file_name == "loss_runs_2024.pdf" and first.location.startswith("page 2")
