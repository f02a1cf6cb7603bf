"""Summaries: choose an insured or documents, run the batch summary, read the fields, download the report."""

from __future__ import annotations

import streamlit as st

from assistant.summaries.output import render, value_text, views_of
from ui import core
from ui.job_panel import job_panel

ws = core.workspace()
assistant = ws.assistant
settings = assistant.settings

st.title("Summaries")
st.caption("One summary per document or insured, a view of the submission's profile: every statement quoted "
           "from a cited page.")

state = core.index_state(assistant)
records = state[0] if state else []
if not records:
    st.info("No documents yet: add them on the Library page first.", icon=":material/folder_open:")
    st.stop()

job = ws.jobs.get("summaries")
busy = bool(job and job.running)
groups = assistant.insureds()
with st.container(border=True):
    mode = st.radio("Summarize", ["An insured", "Chosen documents"], horizontal=True, key="summary_mode")
    if mode == "An insured":
        insured = st.selectbox("Insured", list(groups), format_func=lambda g: f"{g} ({len(groups[g])} documents)")
        paths = groups.get(insured, [])
        label = f"Summaries of {insured}"
    else:
        labels = core.short_paths([record.path for record in records], settings.workspace)
        paths = st.multiselect("Documents", [record.path for record in records], format_func=lambda p: labels[p])
        label = f"Summaries of {len(paths)} document{'s' if len(paths) != 1 else ''}"
    force = st.checkbox("Redo summaries already made", value=False,
                        help="Profiles are kept in the workspace and reused unless this is ticked.")
    model = st.checkbox("Let the model read descriptive fields", value=True,
                        help="Occupancy, construction, sprinkler system, alarm and exposures, where the patterns "
                             "found nothing: the model chooses from the location's own sentences, and a choice is "
                             "kept only when it verifies against the sentence.")
    submitted = st.button("Summarize", type="primary", icon=":material/summarize:", disabled=busy)
if submitted:
    if not paths:
        st.warning("Choose at least one document.")
    else:
        try:
            core.start_summaries(ws, paths, force=force, model=model, label=label)
        except RuntimeError as exc:
            st.error(str(exc))
        else:
            st.rerun()  # redraw with the job running


def summaries_progress(job: core.Job) -> tuple[float, str]:
    progress: core.SummaryProgress = job.state
    total = "?" if progress.total is None else progress.total
    return progress.fraction, (f"{job.label}: {progress.phase}, {progress.done} of {total} documents · "
                               f"{progress.tokens:,} tokens · {job.elapsed:.0f} s")


def summaries_note(job: core.Job) -> str | None:
    current = job.state.current
    return f"Working on {core.display_path(current, settings.workspace)}" if current else None


def summaries_errors(job: core.Job) -> None:
    progress: core.SummaryProgress = job.state
    if progress.errors:
        st.markdown(f"**Documents that could not be summarized ({len(progress.errors)})**")
        st.dataframe([{"Document": core.display_path(path, settings.workspace), "Reason": reason}
                      for path, reason in progress.errors], hide_index=True, width="stretch")


job_panel("summaries", progress=summaries_progress, running_note=summaries_note, details=summaries_errors,
          done=lambda job: st.success(f"{job.label}: {job.result.summary()}"),
          cancelling="Cancelling after the current step…",
          cancelled=". Summaries finished before that are kept and reused next time.")

job = ws.jobs.get("summaries")
report = job.result if job is not None and job.status == core.DONE else None
if report is not None and report.summaries:
    summaries = report.summaries
    not_stated = summaries[0].not_stated
    st.subheader("Fields")
    per = st.segmented_control("One row per", ["document", "insured"], default="document") or "document"
    views = views_of(summaries, per)
    st.dataframe(
        [{"": view.title, **{fv.label: value_text(fv, not_stated) for fv in view.fields}} for view in views],
        hide_index=True, width="stretch",
    )
    stem = "summaries" if per == "document" else "summaries-by-insured"
    columns = st.columns(3)
    for column, (fmt, label, mime) in zip(columns, [("md", "Markdown", "text/markdown"), ("csv", "CSV", "text/csv"),
                                                    ("jsonl", "JSON lines", "application/x-ndjson")], strict=True):
        column.download_button(f"Download {label}", render(summaries, fmt, per, not_stated),
                               file_name=f"{stem}.{fmt}", mime=mime, icon=":material/download:", width="stretch")
    st.subheader("Statements and their sources")
    for view in views:
        with st.expander(view.title):
            for fv in view.fields:
                if not fv.statements:
                    st.markdown(f"**{core.md_text(fv.label)}**: :gray[{core.md_text(fv.empty or not_stated)}]")
                    continue
                lines = [f"**{core.md_text(fv.label)}**"]
                for statement in fv.statements:
                    cited = core.md_text(", ".join(statement.citations))
                    how = " · model, verified" if statement.method == "model" else ""
                    lines.append(f"- {core.md_text(statement.text)} :gray[({cited}{how})]")
                st.markdown("\n".join(lines))
