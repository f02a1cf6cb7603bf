"""Audit: every answer given from any shell (CLI, UI, API), newest first, each with what the model saw."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from ui import core

ws = core.workspace()
assistant = ws.assistant
settings = assistant.settings

st.title("Audit")
st.caption(f"Every answer given, to whom, from which passages and model: `{settings.audit_path}` (append-only).")
if not settings.audit_enabled:
    st.warning("The audit trail is off for this workspace (ASSISTANT_AUDIT_ENABLED=false): new answers are not "
               "recorded.", icon=":material/history_toggle_off:")

everything = assistant.audit_events()
users = sorted({event.user for event in everything})
columns = st.columns(3)
picked = columns[0].selectbox("User", ["Everyone", *users])
since = columns[1].date_input("Since (UTC)", value=None)
limit = int(columns[2].number_input("Latest", min_value=1, max_value=1000, value=50, step=10))

bound = datetime.combine(since, time.min, tzinfo=UTC).isoformat() if since else None
events = assistant.audit_events(user=None if picked == "Everyone" else picked, since=bound, limit=limit)
events.reverse()  # newest first

if not events:
    st.info("No answers recorded yet" + (" for this filter." if everything else "."), icon=":material/history:")
else:
    st.caption(f"{len(events)} of {len(everything)} records")
    st.dataframe(
        [{"id": e.id, "time (UTC)": e.time[:19].replace("T", " "), "user": e.user, "shell": e.shell,
          "question": e.question, "outcome": e.outcome, "sources": sum(1 for s in e.sources if not s.get("flagged")),
          "model": e.model} for e in events],
        hide_index=True, width="stretch",
    )
    for event in events:
        with st.expander(f"#{event.id} · {event.time[:19].replace('T', ' ')} · {event.user} · {event.outcome} · "
                         f"{event.question[:80]}"):
            engine = event.engine + (f" at {event.engine_url}" if event.engine_url else "")
            st.caption(f"Shell {event.shell} · scope {event.scope or 'all submissions'} · model {event.model}"
                       + (f" + {event.adapter}" if event.adapter else "") + f" · engine {engine}")
            st.markdown("**Answer**" + (f" ({core.md_text(event.reason)})" if event.reason else ""))
            st.markdown(core.md_answer(event.answer))
            st.markdown("**Sources retrieved**")
            for source in event.sources:
                where = f"{source.get('submission') or ''} / {core.display_path(source['file'], settings.workspace)}"
                cited = [c for c in event.citations if c["chunk_id"] == source["chunk_id"]]
                mark = ("flagged, not given to the model: " + source.get("reason", "")) if source.get("flagged") \
                    else "verified citation" if any(c["verified"] for c in cited) \
                    else "cited, not verified" if cited else "given to the model"
                number = f"[{source['number']}] " if source.get("number") else ""
                st.markdown(f"- {number}{core.md_text(where)}, {core.md_text(source['location'])} "
                            f"(chunk {source['chunk_id']}): {core.md_text(mark)}")
            st.markdown("**What the model saw**")
            if not event.messages:
                st.caption("Nothing: the model was not called.")
            for message in event.messages:
                st.caption(message["role"])
                st.code(message["content"], language=None, wrap_lines=True)
            if event.raw:
                st.caption("model output")
                st.code(event.raw, language=None, wrap_lines=True)
