"""The application API's endpoints (FastAPI), over one application core.

    GET    /api/health                  open: {"status": "ok"}
    GET    /api/status                  reader: `assistant status --json`, plus "api" (queue, ingest job, you)
    GET    /api/documents               reader: one `docs list --json` object per document
    DELETE /api/documents?path=P        editor: remove documents (or a folder's) from the index
    GET    /api/submissions             reader: one `submissions --json` object per submission
    POST   /api/search                  reader: {"query" | "queries", "k", "mode", "scope"}: `search --json` lines
    POST   /api/ask                     reader: {"question", "scope", "k", "max_tokens", "stream"}; streamed as
                                        server-sent events `draft` ({"text"}) ... then `answer` (the very JSON
                                        `ask --json` prints) or `error`; "stream": false gives the answer JSON
    POST   /api/ask/batch               reader: {"questions": [{"id", "question", "scope"} | "text"], "scope"}:
                                        the `ask --batch --json` lines, streamed as NDJSON
    POST   /api/ingest/upload           editor: multipart files, saved into <workspace>/uploads, then ingested
    POST   /api/ingest/folder           editor: {"folder"}: a folder under the configured ingest roots
    GET    /api/ingest                  editor: the current (or last) ingest job with its progress and report
    GET|POST /api/users, DELETE /api/users/{name}     admin: list, add (the key is in the reply, once), remove
    /v1/chat/completions, /v1/models, /health, /health_generate: the OpenAI-compatible model endpoints of
                                        `assistant.serving.server` over the core's engine (reader, same queue)
    /docs, /openapi.json                OpenAPI (open)

Authentication: `Authorization: Bearer KEY` (or `X-API-Key: KEY`) with a key from `assistant users add`. While the
workspace has no users the API is open, and `serve_api` refuses any host beyond loopback. Answers (ask, ask
batch, /v1 completions) pass through one bounded queue (`assistant.api.queue`): a full queue is a 429, a turn
not reached in time a 503, both with Retry-After.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, Security, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from assistant.api.queue import EngineQueue, QueueFull
from assistant.api.security import FolderRefused, check_exposure, check_ingest_folder
from assistant.api.users import ROLES, User, UserError, UserStore

if TYPE_CHECKING:
    from assistant.app import Assistant

LOCAL_USER = User("local", "admin")  # who everyone is while the workspace has no users (loopback only)
OPEN_PATHS = {"/api/health", "/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
QUEUED = {("POST", "/api/ask"), ("POST", "/api/ask/batch"), ("POST", "/v1/chat/completions"),
          ("GET", "/health_generate")}


# ---- requests ---------------------------------------------------------------------------------------


class SearchRequest(BaseModel):
    query: str | None = Field(default=None, description="One query (or give `queries`).")
    queries: list[str] | None = Field(default=None, description="Several queries, embedded together.")
    k: int = Field(default=5, ge=1, le=100)
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    scope: str | None = Field(default=None, description="One submission: its folder's name, or a path.")


class AskRequest(BaseModel):
    question: str = Field(min_length=1)
    scope: str | None = None
    k: int | None = Field(default=None, ge=1, le=50)
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    stream: bool = Field(default=True, description="Server-sent events (draft pieces, then the answer).")


class BatchQuestion(BaseModel):
    id: str | None = None
    question: str = Field(min_length=1)
    scope: str | None = None


class AskBatchRequest(BaseModel):
    questions: list[BatchQuestion | str] = Field(min_length=1, max_length=500)
    scope: str | None = None
    k: int | None = Field(default=None, ge=1, le=50)
    max_tokens: int | None = Field(default=None, ge=1, le=4096)


class FolderRequest(BaseModel):
    folder: str
    wait: bool = Field(default=False, description="Reply when the ingest is done, with its report.")


class NewUser(BaseModel):
    name: str
    role: Literal["reader", "editor", "admin"] = "reader"


# ---- the ASGI guard: authentication first, then the engine queue ------------------------------------


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}.get(status, "server_error")
    return JSONResponse(status_code=status, headers=headers,
                        content={"detail": message, "error": {"message": message, "type": kind, "code": status}})


def presented_key(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return headers.get("x-api-key") or None


class Guard:
    """Pure ASGI around the whole app: every request but the open paths carries a user's key (while users
    exist), stored as `request.state.user`; answers then take a place in the engine queue, held until
    their response (streamed or not) has been sent."""

    def __init__(self, app: Any, users: UserStore, queue: EngineQueue) -> None:
        self.app = app
        self.users = users
        self.queue = queue
        self._waiters = anyio.CapacityLimiter(queue.slots + queue.max_waiting + 1)  # not the endpoints' threads

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path not in OPEN_PATHS:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            users_exist = await anyio.to_thread.run_sync(self.users.any)
            if users_exist:
                key = presented_key(headers)
                user = await anyio.to_thread.run_sync(self.users.authenticate, key) if key else None
                if user is None:
                    message = "invalid API key" if key else "an API key is required (Authorization: Bearer KEY)"
                    await _error(401, message, {"WWW-Authenticate": "Bearer"})(scope, receive, send)
                    return
            else:
                user = LOCAL_USER
            scope.setdefault("state", {})["user"] = user
        if (scope["method"], path) not in QUEUED:
            await self.app(scope, receive, send)
            return
        try:
            ticket = self.queue.enter()
        except QueueFull as exc:
            await _error(exc.status, str(exc), {"Retry-After": str(exc.retry_after)})(scope, receive, send)
            return
        try:
            try:
                await anyio.to_thread.run_sync(ticket.wait, limiter=self._waiters)
            except QueueFull as exc:
                await _error(exc.status, str(exc), {"Retry-After": str(exc.retry_after)})(scope, receive, send)
                return
            await self.app(scope, receive, send)
        finally:
            ticket.release()


def current_user(request: Request) -> User:
    return getattr(request.state, "user", None) or LOCAL_USER


def allow(role: str) -> Callable[..., User]:
    """A dependency: the request's user, or 403 when their role does not include `role`."""
    bearer = HTTPBearer(auto_error=False, description="An API key from `assistant users add`.")

    def check(request: Request, _: HTTPAuthorizationCredentials | None = Security(bearer)) -> User:
        user = current_user(request)
        if not user.may(role):
            raise HTTPException(403, f"user {user.name!r} ({user.role}) may not do this; it needs the {role} role")
        return user

    return check


# ---- ingest jobs ------------------------------------------------------------------------------------


def report_dict(report: Any) -> dict[str, Any]:
    pairs = lambda items: [{"path": path, "reason": reason} for path, reason in items]  # noqa: E731
    return {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "removed": report.removed, "failed": pairs(report.failed), "skipped": pairs(report.skipped),
            "warnings": pairs(report.warnings), "chunks": report.chunks, "seconds": round(report.seconds, 3),
            "summary": report.summary()}


class IngestJobs:
    """One ingest at a time, in a background thread; the last job's state stays readable."""

    def __init__(self, core: Assistant) -> None:
        self.core = core
        self._lock = threading.Lock()
        self.job: dict[str, Any] | None = None
        self._done = threading.Event()

    def start(self, paths: list[Path], label: str, user: str, *, prune: bool) -> dict[str, Any]:
        with self._lock:
            if self.job is not None and self.job["status"] == "running":
                raise HTTPException(409, f"an ingest is running ({self.job['label']}); try again when it finishes")
            job = {"id": uuid.uuid4().hex[:12], "label": label, "user": user, "status": "running",
                   "paths": [str(p) for p in paths], "started_at": time.time(), "finished_at": None,
                   "files_total": None, "files_done": 0, "chunks": 0, "report": None, "error": None}
            self.job = job
            self._done = done = threading.Event()
        threading.Thread(target=self._run, args=(job, paths, prune, done), name="api-ingest", daemon=True).start()
        return dict(job)

    def _run(self, job: dict[str, Any], paths: list[Path], prune: bool, done: threading.Event) -> None:
        def on_event(event: Any) -> None:
            if event.kind == "start":
                job["files_total"] = event.total_files
            elif event.kind in ("file", "error"):
                job["files_done"] += 1
                job["chunks"] += event.chunks

        try:
            report = self.core.ingest(paths, on_event, wait=30.0, prune=prune)
            job["report"] = report_dict(report)
            job["status"] = "done"
        except Exception as exc:  # the job's error is the reply; the server goes on
            job["error"] = str(exc) or type(exc).__name__
            job["status"] = "failed"
        finally:
            job["finished_at"] = time.time()
            done.set()

    def wait(self, timeout: float) -> None:
        self._done.wait(timeout)

    def state(self) -> dict[str, Any] | None:
        return dict(self.job) if self.job else None


# ---- the application --------------------------------------------------------------------------------


class _CoreEngine:
    """The core's engine, looked up on every use: built on the first answer, and swapped with the adapter."""

    def __init__(self, core: Assistant) -> None:
        self._core = core

    def __getattr__(self, name: str) -> Any:
        return getattr(self._core.engine, name)


def _answer_errors() -> dict[type[Exception], int]:
    from assistant.engines.base import EngineError
    from index.embeddings import EmbedderError
    from index.retriever import RetrievalError
    from index.store import StoreError

    return {RetrievalError: 400, StoreError: 409, EngineError: 503, EmbedderError: 503}


def _status_of(exc: Exception) -> int | None:
    for kind, status in _answer_errors().items():
        if isinstance(exc, kind):
            return status
    return None


def _sse(event: str, payload: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def create_api(core: Assistant, users: UserStore | None = None, *, queue: EngineQueue | None = None,
               model_endpoints: bool = True) -> FastAPI:
    """The application API over `core`; `users` defaults to the workspace's users file, `queue` to one sized
    by the settings (`api_engine_slots`, `api_max_queue`, `api_queue_timeout`). With `model_endpoints` the
    OpenAI-compatible `/v1` endpoints over the core's engine are served too."""
    from assistant.payloads import document_dict, result_dict, status_payload

    settings = core.settings
    users = users or UserStore(settings.users_path)
    queue = queue or EngineQueue(settings.api_engine_slots, settings.api_max_queue, settings.api_queue_timeout)
    jobs = IngestJobs(core)
    errors = tuple(_answer_errors())

    api = FastAPI(title="Underwriter Assistant API", version="1",
                  description="Search, ask, ingest and the submissions of one workspace. Authenticate with "
                              "`Authorization: Bearer KEY` (`assistant users add NAME --role ROLE`). The "
                              "OpenAI-compatible model endpoints (`/v1/chat/completions`, `/v1/models`) are "
                              "served beside these.")
    api.state.queue = queue
    api.state.jobs = jobs
    reader, editor, admin = allow("reader"), allow("editor"), allow("admin")

    def who(user: User) -> dict[str, Any]:
        """Whom the audit trail records the answer as given to (the key's user; `local` while there are none)."""
        return {"user": user.name, "shell": "api"}

    def failure(exc: Exception) -> HTTPException:
        return HTTPException(_status_of(exc) or 500, str(exc))

    @api.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/api/status")
    def status(user: User = Depends(reader)) -> dict[str, Any]:
        try:
            payload = status_payload(settings, core.stats(), core.documents(), core.flagged())
        except errors as exc:
            raise failure(exc) from None
        payload["api"] = {"user": user.name, "role": user.role, "queue": queue.stats(), "ingest": jobs.state()}
        return payload

    @api.get("/api/documents")
    def documents(_: User = Depends(reader)) -> list[dict[str, Any]]:
        try:
            return [document_dict(record) for record in core.documents()]
        except errors as exc:
            raise failure(exc) from None

    @api.delete("/api/documents")
    def remove_documents(path: list[str] = Query(..., description="Documents or folders, as ingested."),
                         _: User = Depends(editor)) -> dict[str, Any]:
        from index.lock import LockHeld

        try:
            removed = core.remove_documents([Path(p) for p in path], wait=10.0)
        except LockHeld as exc:
            raise HTTPException(409, str(exc)) from None
        except errors as exc:
            raise failure(exc) from None
        if not removed:
            raise HTTPException(404, "no ingested document matches " + ", ".join(path))
        return {"removed": removed}

    @api.get("/api/submissions")
    def submissions(_: User = Depends(reader)) -> list[dict[str, Any]]:
        try:
            found = core.submissions()
        except errors as exc:
            raise failure(exc) from None
        return [{"name": item.name, "folder": item.folder, "documents": list(item.documents), "chunks": item.chunks}
                for item in found]

    @api.get("/api/submissions/{name}/profile")
    def profile(name: str, force: bool = Query(False, description="Rebuild though no document changed."),
                _: User = Depends(reader)) -> dict[str, Any]:
        """The submission's profile (the same JSON as `assistant profile NAME --json`)."""
        from assistant.profile.service import ProfileError

        try:
            return core.profile(name, force=force).model_dump(mode="json")
        except ProfileError as exc:
            raise HTTPException(404, str(exc)) from None
        except errors as exc:
            raise failure(exc) from None

    @api.get("/api/submissions/{name}/check")
    def check(name: str, _: User = Depends(reader)) -> dict[str, Any]:
        """The carrier's rules checked against the profile (the same JSON as `assistant check NAME --json`)."""
        from assistant.profile.rules import RulesError
        from assistant.profile.service import ProfileError

        try:
            return core.check(name).model_dump(mode="json")
        except ProfileError as exc:
            raise HTTPException(404, str(exc)) from None
        except RulesError as exc:
            raise HTTPException(409, str(exc)) from None
        except errors as exc:
            raise failure(exc) from None

    @api.post("/api/search")
    def search(body: SearchRequest, _: User = Depends(reader)) -> list[dict[str, Any]]:
        if (body.query is None) == (body.queries is None):
            raise HTTPException(422, "give query or queries (one of the two)")
        queries = [body.query] if body.query is not None else list(body.queries or [])
        try:
            results = core.search_many(queries, k=body.k, mode=body.mode, scope=body.scope)
        except errors as exc:
            raise failure(exc) from None
        return [{"id": str(n), "query": query, "results": [result_dict(hit) for hit in hits]}
                for n, (query, hits) in enumerate(zip(queries, results, strict=True), start=1)]

    @api.post("/api/ask", response_model=None)
    def ask(body: AskRequest, user: User = Depends(reader)) -> StreamingResponse | dict[str, Any]:
        options = {"k": body.k, "max_tokens": body.max_tokens, "scope": body.scope, **who(user)}
        if not body.stream:
            try:
                return core.answer(body.question, **options).to_dict()
            except errors as exc:
                raise failure(exc) from None

        def events() -> Iterator[str]:
            try:
                for item in core.ask_stream(body.question, **options):
                    if isinstance(item, str):
                        if item:
                            yield _sse("draft", {"text": item})
                    else:
                        yield _sse("answer", item.to_dict())
            except Exception as exc:  # the stream ends with an error event, never cut off
                yield _sse("error", {"error": str(exc) or type(exc).__name__, "status": _status_of(exc) or 500})

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @api.post("/api/ask/batch")
    def ask_batch(body: AskBatchRequest, user: User = Depends(reader)) -> StreamingResponse:
        items = [item if isinstance(item, BatchQuestion) else BatchQuestion(question=item) for item in body.questions]

        def lines() -> Iterator[str]:
            for n, item in enumerate(items, start=1):
                ident = item.id or str(n)
                try:
                    answer = core.answer(item.question, k=body.k, max_tokens=body.max_tokens,
                                         scope=item.scope or body.scope, **who(user))
                except Exception as exc:  # one question's failure is its line; the batch goes on
                    line = {"id": ident, "question": item.question, "error": str(exc) or type(exc).__name__}
                else:
                    line = {"id": ident, **answer.to_dict()}
                yield json.dumps(line, ensure_ascii=False) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @api.post("/api/ingest/upload", status_code=202)
    def ingest_upload(files: list[UploadFile] = File(...), wait: bool = Query(False),
                      user: User = Depends(editor)) -> dict[str, Any]:
        from assistant.uploads import UploadRefused, save_upload

        max_bytes = settings.max_file_mb * 1024 * 1024
        saved, refused = [], []
        for upload in files:
            data = upload.file.read(max_bytes + 1)
            try:
                saved.append(save_upload(settings.workspace, upload.filename or "", data, max_bytes).path)
            except UploadRefused as exc:
                refused.append({"file": upload.filename, "reason": str(exc)})
        if not saved:
            raise HTTPException(422, {"message": "no file was accepted", "refused": refused})
        job = jobs.start(saved, f"upload of {len(saved)} file{'s' if len(saved) != 1 else ''}", user.name, prune=False)
        return {**_finished(job, wait), "refused": refused}

    @api.post("/api/ingest/folder", status_code=202)
    def ingest_folder(body: FolderRequest, user: User = Depends(editor)) -> dict[str, Any]:
        try:
            folder = check_ingest_folder(body.folder, settings.allowed_ingest_roots())
        except FolderRefused as exc:
            raise HTTPException(403, str(exc)) from None
        return _finished(jobs.start([folder], f"folder {folder.name or folder}", user.name, prune=True), body.wait)

    def _finished(job: dict[str, Any], wait: bool) -> dict[str, Any]:
        if not wait:
            return job
        jobs.wait(timeout=3600)
        return jobs.state() or job

    @api.get("/api/ingest")
    def ingest_state(_: User = Depends(editor)) -> dict[str, Any]:
        state = jobs.state()
        if state is None:
            raise HTTPException(404, "no ingest has run since the server started")
        return state

    @api.get("/api/users")
    def list_users(_: User = Depends(admin)) -> list[dict[str, Any]]:
        return [{"name": u.name, "role": u.role, "created_at": u.created_at} for u in users.users()]

    @api.post("/api/users", status_code=201)
    def add_user(body: NewUser, _: User = Depends(admin)) -> dict[str, Any]:
        try:
            key = users.add(body.name, body.role)
        except UserError as exc:
            raise HTTPException(409, str(exc)) from None
        return {"name": body.name, "role": body.role, "key": key}

    @api.delete("/api/users/{name}")
    def remove_user(name: str, _: User = Depends(admin)) -> dict[str, str]:
        try:
            users.remove(name)
        except UserError as exc:
            raise HTTPException(404, str(exc)) from None
        return {"removed": name}

    if model_endpoints:
        from assistant.serving.server import create_app

        model = create_app(_CoreEngine(core), default_max_tokens=settings.max_new_tokens,  # type: ignore[arg-type]
                           default_temperature=settings.temperature)
        api.mount("/", model)  # after every /api route: what they do not match goes to the model endpoints
    api.add_middleware(Guard, users=users, queue=queue)  # type: ignore[arg-type]
    return api


def check_can_serve(core: Assistant, host: str) -> None:
    """ExposureRefused when `host` reaches beyond this computer and the workspace has no users."""
    check_exposure(host, has_auth=UserStore(core.settings.users_path).any(), what="the application API",
                   remedy="add a user first (assistant users add NAME --role admin)")


def serve_api(core: Assistant, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """The application API in the foreground until Ctrl-C (refused beyond loopback while there are no users)."""
    import uvicorn

    check_can_serve(core, host)
    uvicorn.run(create_api(core), host=host, port=port, log_level=log_level)


def start_api_in_thread(core: Assistant, port: int = 0, host: str = "127.0.0.1", *, users: UserStore | None = None,
                        queue: EngineQueue | None = None, log_level: str = "warning") -> tuple[str, Callable[[], None]]:
    """The application API in a background thread (port 0: a free one): its base URL and a stop function."""
    from assistant.serving.server import serve_in_thread

    check_can_serve(core, host)
    return serve_in_thread(create_api(core, users, queue=queue), port, host, log_level=log_level, name="assistant-api")


__all__ = ["ROLES", "create_api", "serve_api", "start_api_in_thread"]
