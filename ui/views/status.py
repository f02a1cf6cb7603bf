"""Status: the engine (embedded, or a model server with a health light), prefix-cache reuse, index figures."""

from __future__ import annotations

import streamlit as st

from ui import core

ws = core.workspace()
assistant = ws.assistant
settings = assistant.settings

st.title("Status")

st.subheader("Engine")
if settings.engine == "http":
    healthy = core.server_healthy(assistant)
    light = ":green[:material/circle:] answering" if healthy else ":red[:material/circle:] not answering"
    st.markdown(f"**Model server** (SGLang or any OpenAI-compatible server) at `{settings.http_url}`: {light}")
    st.caption(f"Model `{settings.http_model}`. The health light checks `{settings.http_url}/health`.")
    st.button("Check again", icon=":material/refresh:")
else:
    loaded = core.engine_loaded(assistant)
    st.markdown(f"**Embedded** on this computer's CPU: `{settings.generator_model.removeprefix('bundled:')}`"
                + (" (loaded)" if loaded else " (loads with the first question)"))
    st.caption(f"Adapter: {settings.adapter or 'none'}")
    if loaded and (cache := getattr(assistant.engine, "prefix_cache", None)) is not None:
        st.caption(f"Prefix cache: {len(cache)} prompts kept, {core.human_bytes(cache.total_bytes)}; "
                   f"{cache.hits} hits, {cache.misses} misses")

st.subheader("Prefix cache")
usage = ws.usage
ratio = usage.hit_ratio
columns = st.columns(4)
columns[0].metric("Hit ratio", "–" if ratio is None else f"{ratio:.0%}",
                  help="Share of prompt tokens served from a reused prefix, over the answers since the UI started.")
columns[1].metric("Answers", usage.answers)
columns[2].metric("Prompt tokens reused", f"{usage.cached_tokens:,} of {usage.prompt_tokens:,}")
mean_ttft = usage.mean_first_token
columns[3].metric("Mean time to first token", "–" if mean_ttft is None else f"{mean_ttft:.2f} s")

st.subheader("Index")
state = core.index_state(assistant)
if state is None:
    st.info("Nothing ingested yet: add documents on the Library page.")
else:
    stats = state[1]
    columns = st.columns(4)
    columns[0].metric("Documents", stats.documents)
    columns[1].metric("Pages", stats.pages)
    columns[2].metric("Chunks", stats.chunks)
    columns[3].metric("On disk", core.human_bytes(stats.db_bytes + stats.faiss_bytes))
    st.caption(f"Embedding model `{stats.embedding_model}` ({stats.dimension} dimensions) · SQLite "
               f"{core.human_bytes(stats.db_bytes)} · FAISS {core.human_bytes(stats.faiss_bytes)}")

with st.expander("Settings"):
    st.caption(f"Workspace `{settings.workspace}`. Change any of these with `ASSISTANT_*` environment variables.")
    shown = settings.model_dump(mode="json", exclude={"api_key"})
    st.json(shown, expanded=True)
