"""The UI's answers reach the audit trail as the session's user, and the Audit page lists and opens them."""

from __future__ import annotations

import pytest

from assistant.audit import os_user
from tests.conftest import SAMPLE_DOCS
from tests.test_ui_apptest import ingest, texts, ui  # noqa: F401 - `ui` is the fixture

pytestmark = pytest.mark.slow


def test_a_ui_answer_is_recorded_and_shown_on_the_audit_page(ui) -> None:  # noqa: F811
    ingest(ui, SAMPLE_DOCS / "harbor-foods" / "fire_inspection_2024.pdf")
    app = ui("audit")
    assert "No answers recorded yet" in texts(app)

    app = ui()
    app.chat_input[0].set_value("What is the recipe for a chocolate souffle?").run()
    assert not app.exception, app.exception
    log = ui.workspace.assistant.audit_log
    [record] = log.events()
    assert (record.user, record.shell) == (f"ui:{os_user()}", "ui")
    assert record.question == "What is the recipe for a chocolate souffle?" and record.declined

    app = ui("audit")
    assert not app.exception, app.exception
    assert "1 of 1 records" in texts(app)
    [row] = app.dataframe[0].value.to_dict("records")
    assert row["user"] == f"ui:{os_user()}" and row["outcome"] == "declined"
    [detail] = [e for e in app.expander if e.label.startswith(f"#{record.id} ")]
    assert "chocolate souffle" in detail.label
    assert "the model was not called" in texts(app)
