"""What every page shares: the application core for the session's workspace, and background jobs.

One `Assistant` per workspace per server process (`st.cache_resource`), so the models load once
however many pages and browser tabs use them. Long work (ingest, summaries, tuning) runs as a
`Job` in a thread: the job records its progress, the page polls it from a fragment that reruns
every second, and a cancel `threading.Event` stops it at the next step. The board of jobs lives
with the workspace, so a reload or a second tab sees the job that is running.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from assistant.payloads import human_bytes  # noqa: F401 (the views show sizes through core)

if TYPE_CHECKING:
    from assistant.app import Assistant
    from assistant.engines.base import Usage
    from assistant.settings import Settings
    from index.ingest import IngestEvent, IngestReport

# Tests set this to build the core with the session's models already loaded.
FACTORY: Callable[[Settings], Assistant] | None = None

POLL_SECONDS = 1.0


# ---- the application core -----------------------------------------------------------------------


def current_settings() -> Settings:
    """Settings for this server: defaults, then `ASSISTANT_*` (the `assistant ui` command sets the workspace)."""
    from assistant.settings import load_settings

    return load_settings()


@st.cache_resource(show_spinner=False, max_entries=8)
def _workspace_core(workspace: str) -> Workspace:
    from assistant.app import Assistant
    from assistant.settings import load_settings

    settings = load_settings(workspace=Path(workspace))
    core = FACTORY(settings) if FACTORY is not None else Assistant(settings)
    return Workspace(core)


def workspace() -> Workspace:
    """The shared state of this server's workspace: the core, its jobs and usage figures."""
    return _workspace_core(str(current_settings().workspace))


def get_assistant() -> Assistant:
    return workspace().assistant


USER_KEY = "user"  # the session's signed-in user, when the UI asks for one


def session_user() -> str:
    """Who the audit trail records this session's answers as: the signed-in user, else "ui:" + the OS user."""
    from assistant.audit import os_user

    user = st.session_state.get(USER_KEY)
    return (getattr(user, "name", None) or str(user)) if user else f"ui:{os_user()}"


# ---- who is using it -----------------------------------------------------------------------------

LOCAL_USER_NAME = "local"


def listening_on() -> str:
    """The address this Streamlit server was started on (`--server.address`); unset, Streamlit listens on
    every interface, which is beyond this computer."""
    return str(st.get_option("server.address") or "0.0.0.0")


def signed_in() -> Any:
    """The user of this browser session: on loopback the local user (an admin, as the CLI is), else whoever
    signed in with a key, or None."""
    from assistant.api.security import is_loopback
    from assistant.api.users import User

    if is_loopback(listening_on()):
        return User(LOCAL_USER_NAME, "admin")
    return st.session_state.get(USER_KEY)


def may(role: str) -> bool:
    user = signed_in()
    return user is not None and user.may(role)


def sign_in_form() -> None:
    """Asks for an API key (from `assistant users add`) and checks it against the workspace's users."""
    from assistant.api.users import UserStore

    users = UserStore(current_settings().users_path)
    st.title("Underwriter Assistant")
    st.caption(f"This workspace is served at `{listening_on()}`, beyond this computer: sign in with your API key.")
    if not users.any():
        st.error("The workspace has no users, so nobody can sign in. An administrator adds one on the server "
                 "with `assistant users add NAME --role editor`.")
        return
    with st.form("sign_in", border=True):
        key = st.text_input("API key", type="password", help="The key `assistant users add` printed for you.")
        if st.form_submit_button("Sign in", type="primary"):
            user = users.authenticate(key.strip())
            if user is None:
                st.error("That key is not valid.")
            else:
                st.session_state[USER_KEY] = user
                st.rerun()


# ---- usage figures ------------------------------------------------------------------------------


@dataclass
class UsageLedger:
    """Token counts of the answers given since the server started (prefix-cache hit ratio)."""

    answers: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    first_token_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, usage: Usage) -> None:
        with self._lock:
            self.answers += 1
            self.prompt_tokens += usage.prompt_tokens
            self.cached_tokens += usage.cached_tokens
            self.completion_tokens += usage.completion_tokens
            self.first_token_seconds += usage.time_to_first_token

    @property
    def hit_ratio(self) -> float | None:
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else None

    @property
    def mean_first_token(self) -> float | None:
        return self.first_token_seconds / self.answers if self.answers else None


# ---- jobs ---------------------------------------------------------------------------------------


class JobCancelled(BaseException):
    """Raised inside a job's work when its cancel event is set. A BaseException, like KeyboardInterrupt, so the
    core's per-document `except Exception` handlers let it through and the whole job stops."""


RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"


@dataclass
class Job:
    """One piece of long work in a thread. `state` is the work's own progress record."""

    kind: str
    label: str
    state: Any = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    cancel: threading.Event = field(default_factory=threading.Event)
    status: str = RUNNING
    result: Any = None
    error: str = ""
    started: float = field(default_factory=time.time)
    ended: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def elapsed(self) -> float:
        return (self.ended or time.time()) - self.started

    def check(self) -> None:
        """Call between steps of the work: stops it when the user asked to cancel."""
        if self.cancel.is_set():
            raise JobCancelled

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (tests and scripts); True when it ended."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running


class JobBoard:
    """At most one running job of each kind per workspace; finished jobs stay until replaced."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, kind: str) -> Job | None:
        return self._jobs.get(kind)

    def start(self, kind: str, label: str, work: Callable[[Job], Any], state: Any = None) -> Job:
        """Run `work(job)` in a daemon thread; refuses while a job of the same kind runs."""
        with self._lock:
            current = self._jobs.get(kind)
            if current is not None and current.running:
                raise RuntimeError(f"{current.label} is still running")
            job = Job(kind, label, state)
            self._jobs[kind] = job
        job.thread = threading.Thread(target=self._run, args=(job, work), name=f"ui-{kind}-{job.id}", daemon=True)
        job.thread.start()
        return job

    def clear(self, kind: str) -> None:
        with self._lock:
            job = self._jobs.get(kind)
            if job is not None and not job.running:
                del self._jobs[kind]

    @staticmethod
    def _run(job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job.result = work(job)
            job.status = CANCELLED if job.cancel.is_set() else DONE
        except JobCancelled:
            job.status = CANCELLED
        except Exception as exc:  # shown on the page: the server must keep running
            job.error = one_line(exc) or type(exc).__name__
            job.status = CANCELLED if job.cancel.is_set() else FAILED
            if os.environ.get("ASSISTANT_UI_DEBUG"):
                traceback.print_exc()
        finally:
            job.ended = time.time()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


class Workspace:
    """The core of one workspace with what the pages share about it."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.jobs = JobBoard()
        self.usage = UsageLedger()


# ---- ingest -------------------------------------------------------------------------------------


@dataclass
class IngestProgress:
    """What an ingest job has done so far, as its events arrive."""

    total: int | None = None
    done: int = 0
    chunks: int = 0
    current: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def on_event(self, event: IngestEvent) -> None:
        if event.kind == "start":
            self.total = event.total_files
        elif event.kind == "file":
            self.done += 1
            self.chunks += event.chunks
            self.current = event.path
            self.statuses[event.status] = self.statuses.get(event.status, 0) + 1
        elif event.kind == "error":
            self.errors.append((event.path, event.reason))
            if event.path and os.path.isfile(event.path):
                self.done += 1  # a file that failed to load still counts as handled
        elif event.kind == "skipped":
            self.skipped.append((event.path, event.reason))
        elif event.kind == "warning":
            self.warnings.append((event.path, event.reason))


def start_ingest(ws: Workspace, paths: Sequence[Path], label: str = "Ingest") -> Job:
    """Ingest `paths` in the background; the job's `state` is an `IngestProgress`, its result the report."""
    progress = IngestProgress()

    def work(job: Job) -> IngestReport:
        def on_event(event: IngestEvent) -> None:
            progress.on_event(event)
            job.check()  # cancelling stops after the batch in hand is committed: whole documents only

        return ws.assistant.ingest(list(paths), on_event, wait=30.0)

    return ws.jobs.start("ingest", label, work, progress)


# ---- summaries ----------------------------------------------------------------------------------


@dataclass
class SummaryProgress:
    """What a summaries job has done so far."""

    phase: str = "checking the documents"
    total: int | None = None
    done: int = 0
    tokens: int = 0
    current: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def on_event(self, event: Any) -> None:
        if event.kind == "start":
            self.phase, self.total = "summarizing", event.total
        elif event.kind == "tokens":
            self.tokens += event.tokens
            self.current = event.path or self.current
        elif event.kind == "done":
            self.done += 1
            self.current = event.path
        elif event.kind == "error":
            self.done += 1
            self.errors.append((event.path, event.reason))


def start_summaries(ws: Workspace, paths: Sequence[str], *, force: bool = False, model: bool = True,
                    label: str = "Summaries") -> Job:
    """Summarize the documents `paths` in the background; the job's result is the core's `SummaryReport`."""
    progress = SummaryProgress()

    def work(job: Job) -> Any:
        def on_event(event: Any) -> None:
            progress.on_event(event)
            job.check()

        def on_ingest(event: IngestEvent) -> None:
            job.check()

        return ws.assistant.summarize([Path(p) for p in paths], force=force, model=model,
                                      progress=on_event, ingest_progress=on_ingest, wait=30.0)

    return ws.jobs.start("summaries", label, work, progress)


# ---- tuning -------------------------------------------------------------------------------------


def datasets_dir(workspace_dir: Path) -> Path:
    return Path(workspace_dir) / "datasets"


@dataclass
class TuningProgress:
    """A tuning run as its progress events arrive: phase, steps, the loss curve, eval losses."""

    phase: str = "starting"
    step: int = 0
    total_steps: int = 0
    eta_s: float | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    eval_before: float | None = None
    eval_after: float | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    def on_event(self, event: Any) -> None:
        self.phase = event.phase
        if event.total_steps:
            self.step, self.total_steps, self.eta_s = event.step, event.total_steps, event.eta_s
        if event.phase == "train" and event.loss is not None and (not self.losses or self.losses[-1][0] != event.step):
            self.losses.append((event.step, float(event.loss)))
        if event.eval_loss is not None:
            if event.phase == "eval_before":
                self.eval_before = float(event.eval_loss)
            elif event.phase == "eval_after":
                self.eval_after = float(event.eval_loss)
        if event.message:
            self.messages.append(event.message)


def start_tuning(ws: Workspace, data: Path, config: dict[str, Any]) -> Job:
    """QLoRA-tune the configured generator on `data` in the background (cancellable between steps)."""
    train_config = ws.assistant.train_config(**config)  # a bad value fails here, on the page, before any thread
    progress = TuningProgress()

    def work(job: Job) -> Any:
        return ws.assistant.tune(data, config=train_config, progress=progress.on_event, cancel=job.cancel)

    return ws.jobs.start("tuning", f"Tuning on {Path(data).name}", work, progress)


@dataclass
class QuantizeProgress:
    phase: str = "starting"
    messages: list[str] = field(default_factory=list)

    def on_event(self, event: Any) -> None:
        self.phase = event.phase
        if event.message:
            self.messages.append(event.message)


def start_quantize(ws: Workspace, adapter: Path | None, config: dict[str, Any]) -> Job:
    """Merge `adapter` into the generator and AWQ-quantize it to W4A16 in the background (cancels between phases)."""
    quantize_config = ws.assistant.quantize_config(**config)
    progress = QuantizeProgress()

    def work(job: Job) -> Any:
        def on_event(event: Any) -> None:
            progress.on_event(event)
            job.check()

        return ws.assistant.quantize(adapter=adapter, progress=on_event, config=quantize_config)

    label = f"Quantizing {'with ' + Path(adapter).name if adapter else 'the base model'}"
    return ws.jobs.start("quantize", label, work, progress)


# ---- presentation helpers -----------------------------------------------------------------------


def display_path(path: str | Path, workspace_dir: Path) -> str:
    """A document path as an underwriter reads it: relative to the uploads folder or the workspace."""
    from assistant.uploads import uploads_dir

    text = str(path)
    for root in (uploads_dir(workspace_dir), workspace_dir, Path.home()):
        prefix = str(root).rstrip(os.sep) + os.sep
        if text.startswith(prefix):
            relative = text[len(prefix):]
            return relative if root != Path.home() else "~/" + relative
    return text


def engine_line(assistant: Assistant) -> str:
    """The active engine and adapter in a few words, from the settings (nothing is loaded for it)."""
    s = assistant.settings
    if s.engine == "http":
        return f"Engine: SGLang / OpenAI-compatible at {s.http_url} · model {s.http_model}"
    model = s.generator_model.removeprefix("bundled:")
    adapter = Path(s.adapter).name if s.adapter else "none"
    return f"Engine: {s.engine} · {model} · adapter: {adapter}"


def conversation_markdown(answers: Sequence[Any], engine: str, workspace_dir: Path) -> str:
    """A chat as a Markdown document: each question, its answer and the sources it cites."""
    from assistant.answering.prompts import NO_ANSWER_TEXT

    stamp = time.strftime("%Y-%m-%d %H:%M")
    lines = ["# Underwriter Assistant conversation", "", f"_Exported {stamp} · {engine}_", ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {answer.question}", ""]
        kind = getattr(answer, "kind", "answer")
        if answer.declined:
            why = getattr(answer, "reason", "") or "nothing in the documents matched the question"
            lines += [f"> {NO_ANSWER_TEXT} ({why})", ""]
            continue
        label = "Verified answer" if kind == "answer" and answer.supported else \
            "Quoted from the documents (the model's answer did not verify)" if kind == "quote" else "Answer"
        lines += [f"_{label}_", "", answer.text.strip(), ""]
        if answer.citations:
            lines += ["**Sources**", ""]
            for citation in answer.citations:
                check = "inferred" if citation.inferred else "quote" if kind == "quote" \
                    else "verified" if citation.verified else "not verified"
                quote = " ".join(citation.quote.split())
                lines.append(f"- [{citation.number}] {display_path(citation.source, workspace_dir)}, "
                             f"page {citation.page} ({check}, support {citation.score:.2f}): \"{quote}\"")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~:$="})


def md_text(text: str) -> str:
    """Document text shown as plain text inside Markdown: every Markdown character escaped."""
    return text.translate(_MD_SPECIAL)


def md_answer(text: str) -> str:
    """A generated answer for Markdown: formatting kept, but no image (a request leaving the machine)
    and no LaTeX (dollar amounts stay dollar amounts)."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("!", "\\!")


def engine_loaded(assistant: Assistant) -> bool:
    """Whether the generator is already built (the Status page never loads a model)."""
    return "engine" in vars(assistant)


def server_healthy(assistant: Assistant) -> bool:
    """The model server's health light (HTTP engine only)."""
    check = getattr(assistant.engine, "health", None)
    return bool(check()) if check is not None else True


def index_state(assistant: Assistant) -> tuple[list[Any], Any] | None:
    """(documents, stats) of the index, or None while nothing is ingested (or the first ingest is creating it)."""
    return assistant.index_state()


def submissions(assistant: Assistant) -> list[Any]:
    """The workspace's submissions (insured folders), or none while nothing is ingested."""
    return assistant.submissions() if assistant.index_state() is not None else []


def md_highlight(text: str, quote: str) -> str:
    """`text` as plain Markdown with `quote` (ellipses trimmed) highlighted where it occurs, else all of it."""
    wanted = " ".join(quote.split()).strip("… .")
    at = text.find(wanted) if wanted else -1
    if at < 0:
        return f":orange-background[{md_text(text)}]"
    end = at + len(wanted)
    return f"{md_text(text[:at])}:orange-background[{md_text(text[at:end])}]{md_text(text[end:])}"


def short_paths(paths: Sequence[str], workspace_dir: Path) -> dict[str, str]:
    """Labels for a list of documents: uploads by name, the rest relative to the folder they share."""
    from assistant.uploads import uploads_dir

    uploads = str(uploads_dir(workspace_dir)).rstrip(os.sep) + os.sep
    others = [p for p in paths if not p.startswith(uploads)]
    folders = {os.path.dirname(p) for p in others}
    root = os.path.commonpath(list(folders)) if folders else ""
    if len(folders) == 1:
        root = os.path.dirname(root)  # one folder: keep its name in the labels ("harbor-foods/notes.txt")
    labels = {}
    for path in paths:
        if path.startswith(uploads):
            labels[path] = path[len(uploads):]
        elif root and root != os.sep:
            labels[path] = os.path.relpath(path, root)
        else:
            labels[path] = display_path(path, workspace_dir)
    return labels


def show_in_context(assistant: Assistant, chunk_id: int | None, quote: str, source: str, workspace_dir: Path) -> None:
    """The cited passage in its document: its neighbours greyed, the quote highlighted (inside an expander)."""
    import streamlit as st

    from assistant.grounding.sources import location_of

    st.caption(md_text(display_path(source, workspace_dir)))
    if chunk_id is None:
        return
    for chunk in assistant.passage(chunk_id):
        text = " ".join(chunk.text.split())
        where = md_text(location_of(chunk))
        if chunk.id == chunk_id:
            st.markdown(f"**{where}**  \n" + md_highlight(text, " ".join(quote.split())))
        else:
            st.markdown(f":gray[{where}: {md_text(text)}]")

