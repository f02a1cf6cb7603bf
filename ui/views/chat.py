"""Chat: streamed answers over the documents, each citation a source card that opens the passage in context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from ui import core

ws = core.workspace()
assistant = ws.assistant
settings = assistant.settings
key = f"chat:{settings.workspace}"
engine_name = core.engine_line(assistant)
if key not in st.session_state:
    st.session_state[key] = {"conversation": assistant.conversation(user=core.session_user(), shell="ui"),
                             "answers": [], "engine": engine_name}
chat = st.session_state[key]
if chat["engine"] != engine_name:  # the adapter was changed on the Tuning page: same chat, new model
    history = list(chat["conversation"].history)
    chat["conversation"] = assistant.conversation(user=core.session_user(), shell="ui")
    chat["conversation"].history.extend(history)
    chat["engine"] = engine_name
answers: list[Any] = chat["answers"]

st.title("Chat")
st.caption(engine_name)

with st.sidebar:
    st.divider()
    st.markdown("**Conversation**")
    submissions = ["All submissions", *(item.name for item in core.submissions(assistant))]
    picked = st.selectbox("Submission", submissions, help="Answer from one insured's documents only.")
    scope = None if picked == submissions[0] else picked
    max_tokens = st.slider("Longest answer (tokens)", 16, 1024, int(settings.max_new_tokens), step=16)
    top_k = st.slider("Passages per question", 1, 10, int(settings.top_k))
    st.download_button("Export as Markdown", core.conversation_markdown(answers, engine_name, settings.workspace),
                       file_name="conversation.md", mime="text/markdown", icon=":material/download:",
                       disabled=not answers, width="stretch")
    if st.button("New conversation", icon=":material/add_comment:", width="stretch"):
        chat["conversation"].reset()
        answers.clear()
        st.rerun()


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def not_in_documents(detail: str) -> None:
    st.info(f"**Not in your documents.** {detail}", icon=":material/search_off:")


def source_card(citation: Any, kind: str) -> None:
    with st.container(border=True):
        check = (":gray-badge[:material/link: inferred: matched by wording, not cited by the model]"
                 if citation.inferred
                 else ":blue-badge[:material/format_quote: quote from the document]" if kind == "quote"
                 else ":green-badge[:material/verified: verified]" if citation.verified
                 else ":orange-badge[:material/help: not verified]")
        where = Path(citation.source)
        insured = citation.submission or where.parent.name
        st.markdown(f"**[{citation.number}] {core.md_text(insured)} / {core.md_text(where.name)}** · "
                    f"{core.md_text(citation.location or f'page {citation.page}')}  \n{check}")
        if citation.reason and kind == "answer" and not citation.verified:
            st.caption(core.md_text(citation.reason))
        quote = " ".join(citation.quote.split())
        st.markdown("> " + core.md_text(quote[:400] + ("…" if len(quote) > 400 else "")))
        with st.expander("Open in context"):
            core.show_in_context(assistant, citation.chunk_id, quote, citation.source, settings.workspace)


def show_answer(answer: Any) -> None:
    if answer.audit_error:
        st.error(core.md_text(answer.audit_error), icon=":material/history_toggle_off:")
    for note in answer.notes:  # the submission tried to instruct the reader: say so above all else
        st.warning(core.md_text(note), icon=":material/report:")
    if answer.kind == "declined":
        not_in_documents("The documents do not contain this information"
                         + (f" ({core.md_text(answer.reason)})." if answer.reason else ".")
                         + " Try other words, or add the documents that hold the answer on the Library page.")
        return
    if answer.kind == "answer" and answer.supported:
        st.markdown(":green-badge[:material/verified: verified answer] " + core.md_answer(answer.text))
    else:
        st.markdown(":blue-badge[:material/format_quote: quoted from the documents] "
                    "The model's answer did not verify, so here is what the documents say, word for word.")
        if answer.draft:
            with st.expander("What the model wrote (not verified, not an answer)"):
                st.caption(core.md_text(answer.draft))
                if answer.reason:
                    st.caption("Why: " + core.md_text(answer.reason))
    if answer.citations:
        columns = st.columns(min(3, len(answer.citations)))
        for index, citation in enumerate(answer.citations):
            with columns[index % len(columns)]:
                source_card(citation, answer.kind)
    if answer.invalid_citations:
        st.caption(f"Cited sources that do not exist were dropped: {answer.invalid_citations}")
    usage = answer.usage
    cached = f" ({usage.cached_tokens} reused)" if usage.cached_tokens else ""
    st.caption(f"{answer.model} · {usage.prompt_tokens} prompt tokens{cached} · {usage.completion_tokens} "
               f"generated · first token {usage.time_to_first_token:.1f} s · {usage.tokens_per_second:.0f} tok/s")


state = core.index_state(assistant)
has_documents = bool(state and state[1].documents)
if not has_documents:
    st.info("No documents yet. Add your submission documents on the Library page, then ask away.",
            icon=":material/folder_open:")

for answer in answers:
    with st.chat_message("user"):
        st.markdown(core.md_text(answer.question))
    with st.chat_message("assistant"):
        show_answer(answer)

question = st.chat_input("Ask about your documents", disabled=not has_documents)
if question:
    with st.chat_message("user"):
        st.markdown(core.md_text(question))
    with st.chat_message("assistant"):
        final: dict[str, Any] = {}

        def pieces() -> Iterator[str]:
            for item in chat["conversation"].stream(question, k=top_k, max_tokens=max_tokens, scope=scope):
                if isinstance(item, str):
                    yield core.md_answer(item)
                else:
                    final["answer"] = item

        stream = pieces()
        try:
            with st.spinner("Reading your documents…"):
                first = next(stream, "")
            st.caption("Draft, being checked against the documents:")
            st.write_stream(_chain(first, stream) if first else stream)
        except Exception as exc:  # the engine or index failed: tell the user, keep the page alive
            st.error(f"No answer: {core.one_line(exc)}", icon=":material/error:")
        answer = final.get("answer")
        if answer is not None:
            answers.append(answer)
            if not answer.declined:  # the model was called: its usage counts
                ws.usage.add(answer.usage)
            st.rerun()
