"""The panel every background job shows on its page: progress and a Cancel button while it runs, then
how it ended (cancelled, failed, or its result), polled from a fragment that redraws the whole page once the
job ends. Pages give only what differs: the progress line, the result, and details below."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from ui import core


def job_panel(name: str, *, progress: Callable[[core.Job], tuple[float, str]], cancelling: str, cancelled: str,
              done: Callable[[core.Job], None], running_note: Callable[[core.Job], str | None] | None = None,
              details: Callable[[core.Job], None] | None = None) -> None:
    """Show the workspace's job `name` (nothing when there is none): `progress` gives the bar's fraction and
    text, `running_note` a caption under it, `cancelling` what Cancel says it will do, `cancelled` what follows
    "LABEL was cancelled", `done` shows the result, `details` whatever follows in every state."""
    ws = core.workspace()

    def show(polling: bool) -> None:
        job = ws.jobs.get(name)
        if job is None:
            return
        if job.running:
            fraction, text = progress(job)
            st.progress(fraction, text=text)
            note = running_note(job) if running_note else None
            if note:
                st.caption(note)
            if st.button("Cancel", icon=":material/stop_circle:", key=f"cancel_{name}"):
                job.cancel.set()
                st.caption(cancelling)
        elif job.status == core.CANCELLED:
            st.warning(f"{job.label} was cancelled{cancelled}")
        elif job.status == core.FAILED:
            st.error(f"{job.label} failed: {job.error}")
        else:
            done(job)
        if details:
            details(job)
        if polling and not job.running:
            st.rerun()  # the job just ended: redraw the whole page (lists, enabled buttons)

    busy = bool((job := ws.jobs.get(name)) and job.running)
    st.fragment(run_every=core.POLL_SECONDS if busy else None)(show)(busy)
