"""Library: add documents (upload, or a folder on this computer), follow the ingest, list and remove documents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st

from assistant.api.security import FolderRefused, check_ingest_folder
from assistant.uploads import UploadRefused, save_upload, supported_types, uploads_dir
from ui import core
from ui.job_panel import job_panel

ws = core.workspace()
assistant = ws.assistant
settings = assistant.settings
max_bytes = settings.max_file_mb * 1024 * 1024

st.title("Library")
st.caption("Your submission documents. Everything stays on this computer.")

notes: list[tuple[str, str]] = st.session_state.setdefault("library_notes", [])  # (level, message)


def start(paths: list[Path], label: str) -> None:
    try:
        core.start_ingest(ws, paths, label)
    except RuntimeError as exc:
        notes.append(("error", str(exc)))
    else:
        st.rerun()  # redraw with the job running: buttons disabled, progress polling


editor = core.may("editor")  # readers see the library; adding and removing documents needs an editor
if not editor:
    st.info(f"Signed in as {core.md_text(core.signed_in().name)} (reader): adding and removing documents needs "
            "the editor role.")
busy = not editor or bool((job := ws.jobs.get("ingest")) and job.running)
roots = settings.allowed_ingest_roots()
upload_column, folder_column = st.columns(2, gap="large")
with upload_column, st.form("upload", clear_on_submit=True, border=True):
    files = st.file_uploader(
        "Upload documents", accept_multiple_files=True,
        help=f"Supported: {supported_types()}. Up to {settings.max_file_mb} MB each.",
    )
    if st.form_submit_button("Upload and ingest", type="primary", icon=":material/upload:", disabled=busy):
        notes.clear()
        saved: list[Path] = []
        for upload in files or []:
            try:
                result = save_upload(settings.workspace, upload.name, upload.getvalue(), max_bytes)
            except UploadRefused as exc:
                notes.append(("error", f"**{upload.name}** was not added: {exc}"))
                continue
            saved.append(result.path)
            if result.duplicate:
                notes.append(("info", f"**{upload.name}** is already in the library as `{result.path.name}`."))
            elif result.renamed:
                notes.append(("info", f"**{upload.name}** was saved as `{result.path.name}`."))
        if saved:
            start(saved, f"Ingest of {len(saved)} uploaded file{'s' if len(saved) != 1 else ''}")
        elif not files:
            notes.append(("warning", "Choose one or more files first."))

with folder_column, st.form("folder", border=True):
    folder = st.text_input("Or ingest a folder on this computer", placeholder=str(roots[0] / "harbor-foods"),
                           help="Every supported file in it and its subfolders, if it lies under "
                                + ", ".join(f"`{root}`" for root in roots) + " (the ingest_roots setting). "
                                "Files already ingested and unchanged cost nothing; files gone from the folder "
                                "leave the library.")
    if st.form_submit_button("Ingest folder", icon=":material/folder_open:", disabled=busy):
        notes.clear()
        if not folder.strip():
            notes.append(("warning", "Type the path of a folder first."))
        else:
            try:
                path = check_ingest_folder(folder, roots)
            except FolderRefused as exc:
                notes.append(("error", core.md_text(str(exc)) + "."))
            else:
                start([path], f"Ingest of {path.name or path}")

for level, message in notes:
    getattr(st, level)(message)


def ingest_progress(job: core.Job) -> tuple[float, str]:
    progress: core.IngestProgress = job.state
    total = "?" if progress.total is None else progress.total
    return progress.fraction, (f"{job.label}: {progress.done} of {total} files · {progress.chunks} chunks · "
                               f"{job.elapsed:.0f} s")


def ingest_note(job: core.Job) -> str | None:
    current = job.state.current
    return f"Last done: {core.display_path(current, settings.workspace)}" if current else None


def ingest_done(job: core.Job) -> None:
    report = job.result
    if report is not None and report.failed:
        st.warning(f"{job.label}: {report.summary()}")
    elif report is not None:
        st.success(f"{job.label}: {report.summary()}")


def ingest_problems(job: core.Job) -> None:
    progress: core.IngestProgress = job.state
    problems = [("error", path, reason) for path, reason in progress.errors]
    problems += [("skipped", path, reason) for path, reason in progress.skipped]
    problems += [("warning", path, reason) for path, reason in progress.warnings]
    if problems:
        st.markdown(f"**Files with problems ({len(problems)})**")
        st.dataframe(
            [{"File": core.display_path(path, settings.workspace), "Problem": kind, "Reason": reason}
             for kind, path, reason in problems],
            hide_index=True, width="stretch",
        )


job_panel("ingest", progress=ingest_progress, running_note=ingest_note, done=ingest_done, details=ingest_problems,
          cancelling="Cancelling after the documents in hand are saved…",
          cancelled=". Documents finished before that are in the library.")
busy = bool((job := ws.jobs.get("ingest")) and job.running)  # a job may have started just above

st.subheader("Documents")
state = core.index_state(assistant)
records, stats = state if state else ([], None)
if not records or stats is None:
    st.info("No documents yet: upload files or ingest a folder above.")
else:
    st.caption(f"{stats.documents} documents · {stats.pages} pages · {stats.chunks} chunks")
    labels = core.short_paths([record.path for record in records], settings.workspace)
    flagged = assistant.flagged()
    for path, items in flagged.items():
        first = items[0]
        st.warning(f"**{core.md_text(labels.get(path, path))}**: {len(items)} passage"
                   f"{'s' if len(items) != 1 else ''} flagged, first at {core.md_text(first.location)} "
                   f"({core.md_text(first.reason)}); kept, never used as evidence.", icon=":material/report:")
    st.dataframe(
        [
            {
                "Document": labels[record.path],
                "Title": record.title,
                "Type": record.kind,
                "Pages": (record.report or {}).get("pages_in", record.pages),
                "Rows": (record.report or {}).get("rows", 0),
                "Sections": (record.report or {}).get("sections", 0),
                "Chunks": record.chunks,
                "OCR'd pages": (record.report or {}).get("pages_ocr", 0),
                "Empty pages": (record.report or {}).get("pages_empty", 0),
                "Size": core.human_bytes(record.size),
                "Ingested": dt.datetime.fromtimestamp(record.ingested_at).strftime("%Y-%m-%d %H:%M"),
                "Status": record.status,
                "Flagged": len(flagged.get(record.path, [])),
                "Warnings": "; ".join((record.report or {}).get("warnings", [])),
                "E-mail": " · ".join(filter(None, (record.meta.get("from"), record.meta.get("date"),
                                                   record.meta.get("subject")))),
                "Folder": core.display_path(str(Path(record.path).parent), settings.workspace),
            }
            for record in records
        ],
        hide_index=True, width="stretch",
    )
    with st.form("remove", border=True):
        chosen = st.multiselect("Remove documents from the library", [record.path for record in records],
                                format_func=lambda path: labels[path])
        delete_copies = st.checkbox("Also delete the uploaded copies", value=True,
                                    help=f"Only files this page uploaded (in {uploads_dir(settings.workspace)}); "
                                         "your own folders are never touched.")
        if st.form_submit_button("Remove", icon=":material/delete:", disabled=busy) and chosen and editor:
            notes.clear()
            try:
                removed = assistant.remove_documents([Path(path) for path in chosen], wait=10.0)
            except Exception as exc:
                notes.append(("error", f"Nothing was removed: {exc}"))
            else:
                uploads = uploads_dir(settings.workspace).resolve()
                for path in removed:
                    copy = Path(path)
                    if delete_copies and copy.parent == uploads and copy.is_file() and not copy.is_symlink():
                        copy.unlink()
                notes.append(("success", f"Removed {len(removed)} document{'s' if len(removed) != 1 else ''}."))
            st.rerun()
