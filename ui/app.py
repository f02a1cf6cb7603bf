"""Entry script of `assistant ui`: page setup, the sidebar every page shares, and navigation.

Run by `assistant ui` as `streamlit run ui/app.py` with the workspace in `ASSISTANT_WORKSPACE`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import core

# Not "pages/": Streamlit would also treat such a folder as an old-style multipage app (deep links skip this script).
PAGES = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="Underwriter Assistant", page_icon="📑", layout="wide")

if not core.may("reader"):  # bound beyond this computer and not signed in: a key first, nothing else shown
    core.sign_in_form()
    st.stop()

navigation = st.navigation([
    st.Page(PAGES / "chat.py", title="Chat", icon=":material/forum:", default=True),
    st.Page(PAGES / "library.py", title="Library", icon=":material/folder_open:"),
    st.Page(PAGES / "submission.py", title="Submission", icon=":material/assignment:"),
    st.Page(PAGES / "summaries.py", title="Summaries", icon=":material/table_view:"),
    st.Page(PAGES / "tuning.py", title="Tuning", icon=":material/tune:"),
    st.Page(PAGES / "audit.py", title="Audit", icon=":material/history:"),
    st.Page(PAGES / "status.py", title="Status", icon=":material/monitor_heart:"),
])

ws = core.workspace()
settings = ws.assistant.settings
with st.sidebar:
    st.markdown("**Underwriter Assistant**")
    st.caption(f"Workspace `{settings.workspace}`")
    st.caption(core.engine_line(ws.assistant))
    running = [job for kind in ("ingest", "summaries", "tuning") if (job := ws.jobs.get(kind)) and job.running]
    for job in running:
        st.caption(f":material/hourglass_top: {job.label} running")

navigation.run()
