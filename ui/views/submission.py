"""Submission: one insured's profile as tables (COPE and values per location, totals, loss history with a chart,
recommendations), the conflicts between its documents and the carrier's rules it triggers, every value with its
source and a way to open the cited passage; downloads of the profile and the referral memo."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from assistant.profile.model import LOCATION_FIELDS, TOTAL_FIELDS
from assistant.profile.output import NOT_STATED, cite, show, to_csv, to_json, to_markdown
from ui import core

ws = core.workspace()
assistant = ws.assistant
settings = assistant.settings

st.title("Submission")
st.caption("What the documents say about one insured, every value with the document and place it was read from.")

names = [item.name for item in core.submissions(assistant)]
if not names:
    st.info("No documents yet: add a submission's folder on the Library page first.", icon=":material/folder_open:")
    st.stop()
left, right = st.columns([3, 1])
picked = left.selectbox("Submission", names, key="profile_submission")
rebuild = right.button("Rebuild", icon=":material/refresh:", help="Read the documents again (done by itself "
                                                                  "whenever one of them changed).")
try:
    profile = assistant.profile(picked, force=rebuild)
except Exception as exc:  # one line, never a traceback, for a submission that cannot be read
    st.error(f"{picked}: {core.one_line(exc)}")
    st.stop()
if not profile.documents:
    st.info(f"{picked} holds guidelines only, no submission documents.", icon=":material/menu_book:")
    st.stop()


def source_expander(label: str, sourced: Any) -> None:
    """The value's source and quote, and the passage it was read from in context."""
    if sourced is None or sourced.source is None:
        if sourced is not None and sourced.basis:
            st.caption(core.md_text(f"{label}: derived, {sourced.basis}"))
        return
    with st.expander(f"{label}: {sourced.source.cite()}"):
        st.markdown("> " + core.md_text(" ".join(sourced.source.quote.split())[:500]))
        core.show_in_context(assistant, sourced.source.chunk_id, sourced.source.quote, sourced.source.file,
                             settings.workspace)


insured = profile.insured.value if profile.insured else picked
st.subheader(core.md_text(str(insured)))
facts = [("Effective date", profile.effective_date), ("Loss runs valued", profile.valuation_date),
         ("Expiring premium", profile.premium.get("expiring"))]
columns = st.columns(len(facts) + 1)
for column, (label, sourced) in zip(columns, facts, strict=False):
    value = show("premium" if "premium" in label else "", sourced.value) if sourced else NOT_STATED
    column.metric(label, value, help=cite(sourced) or None)
columns[-1].metric("Documents", len(profile.documents))

tabs = st.tabs(["Locations", "Loss history", "Conflicts", "Rules", "Recommendations", "Download"])

with tabs[0]:
    table = []
    for key, label in LOCATION_FIELDS.items():
        row = {"Field": label}
        for location in profile.locations:
            sourced = location.sourced(key)
            title = f"{location.number}" + (f" {location.name}" if location.name else "")
            row[title] = show(key, sourced.value) if sourced else NOT_STATED
        table.append(row)
    st.dataframe(table, hide_index=True, width="stretch")
    st.markdown("**Totals**")
    st.dataframe([{"Field": LOCATION_FIELDS[key], "Value": show(key, profile.totals[key].value) if key in
                   profile.totals else NOT_STATED, "Source": cite(profile.totals.get(key))} for key in TOTAL_FIELDS],
                 hide_index=True, width="stretch")
    st.markdown("**Where each value was read**")
    for location in profile.locations:
        with st.container(border=True):
            st.markdown(f"**Location {core.md_text(location.number)}**"
                        + (f" · {core.md_text(location.name)}" if location.name else ""))
            for key, found in location.fields.items():
                source_expander(f"{LOCATION_FIELDS[key]} = {show(key, found.value.value)}", found.value)

with tabs[1]:
    if not profile.claims and not profile.losses:
        st.info("No loss run among the documents: the loss history is not stated.")
    for summary in profile.losses:
        ratio = f"{summary.loss_ratio_pct}%" if summary.loss_ratio_pct is not None else NOT_STATED
        st.markdown(f"**{summary.line.capitalize()}**: {summary.claims} claims ({summary.open_claims} open), "
                    f"incurred {show('incurred', summary.incurred)}, open reserves "
                    f"{show('reserve', summary.open_reserves)}, loss ratio {ratio}")
        if summary.by_year:
            st.bar_chart({"incurred": {str(y.year): y.incurred for y in summary.by_year}}, x_label="year of loss",
                         y_label="incurred ($)")
    if profile.claims:
        st.dataframe([{"Claim": c.claim_number, "Line": c.line, "Date of loss": show("", c.date_of_loss),
                       "Cause": c.cause, "Paid": show("paid", c.paid), "Reserve": show("reserve", c.reserve),
                       "Incurred": show("incurred", c.incurred), "Status": c.status, "Source": c.source.cite()}
                      for c in profile.claims], hide_index=True, width="stretch")

with tabs[2]:
    if not profile.conflicts:
        st.success("The documents agree: no conflicts found.", icon=":material/check_circle:")
    for conflict in profile.conflicts:
        with st.container(border=True):
            st.markdown(f":orange-badge[:material/compare_arrows: conflict] {core.md_text(conflict.summary)}")
            for reading in conflict.readings:
                source_expander(f"{show(conflict.field, reading.value)}"[:80], reading)

with tabs[3]:
    try:
        report = assistant.check(picked)
    except Exception as exc:  # no rules file, or a bad one: one line
        st.info(core.one_line(exc), icon=":material/rule:")
        report = None
    if report is not None:
        st.caption(core.md_text(f"{report.guideline or report.rules_file}: {len(report.fired)} fired, "
                                f"{len(report.clear)} clear, {len(report.cannot_check)} could not be checked"))
        for result in report.fired:
            with st.container(border=True):
                st.markdown(f":red-badge[:material/flag: § {core.md_text(result.section)}] "
                            f"**{core.md_text(result.action or result.rule_id)}**  \n{core.md_text(result.text)}")
                for trigger in result.triggers:
                    st.markdown(f"- {core.md_text(trigger.subject)}: {core.md_text('; '.join(trigger.conditions))}")
                    for evidence in trigger.evidence:
                        for source in evidence.sources:
                            with st.expander(f"{evidence.field}: {source.cite()}"):
                                st.markdown("> " + core.md_text(" ".join(source.quote.split())[:500]))
                                core.show_in_context(assistant, source.chunk_id, source.quote, source.file,
                                                     settings.workspace)
        for result in report.cannot_check:
            st.markdown(f":gray-badge[§ {core.md_text(result.section)}] {core.md_text(result.rule_id)}: "
                        + core.md_text("; ".join(result.unchecked)))

with tabs[4]:
    if not profile.recommendations:
        st.info(f"Recommendations: {NOT_STATED}.")
    else:
        st.dataframe([{"No.": r.number, "Priority": r.priority or NOT_STATED, "Status": r.status,
                       "Recommendation": r.text, "Source": (r.status_source or r.source).cite()}
                      for r in profile.recommendations], hide_index=True, width="stretch")

with tabs[5]:
    columns = st.columns(3)
    for column, (fmt, label, render, mime) in zip(columns, [
            ("json", "JSON", to_json, "application/json"), ("md", "Markdown", to_markdown, "text/markdown"),
            ("csv", "CSV", to_csv, "text/csv")], strict=True):
        column.download_button(f"Profile ({label})", render(profile), file_name=f"{picked}-profile.{fmt}", mime=mime,
                               icon=":material/download:", width="stretch")
    if st.button("Write the referral memo", icon=":material/description:"):
        try:
            with tempfile.TemporaryDirectory() as folder:
                written = assistant.memo(picked, Path(folder) / f"{picked}-memo.docx")
                st.session_state[f"memo:{picked}"] = written[0].read_bytes()
        except Exception as exc:
            st.error(core.one_line(exc))
    memo_bytes = st.session_state.get(f"memo:{picked}")
    if memo_bytes:
        st.download_button("Referral memo (DOCX)", memo_bytes, file_name=f"{picked}-memo.docx",
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           icon=":material/download:")

if profile.notes:
    with st.expander("What the documents do not state"):
        for note in profile.notes:
            st.markdown(f"- {core.md_text(note)}")
