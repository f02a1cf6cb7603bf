"""The client of the application API, for the CLI's `--server URL` (a laptop with neither documents nor model).

Needs httpx only. Every call returns what the local command would have printed as JSON (the same shapes);
`ask_stream` yields the draft pieces, then the answer as an `AnswerView`, which the CLI's presentation
(`assistant.cli.console.stream_answer`, `print_answer_details`) shows exactly as a local `Answer`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

KEY_ENV = "ASSISTANT_API_KEY"


class ApiError(RuntimeError):
    """The server refused or failed a request, or could not be reached; `status` is the HTTP status (0: none)."""

    def __init__(self, message: str, status: int = 0, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class AnswerView(SimpleNamespace):
    """An answer as the API sends it (`Answer.to_dict()`), with the attributes the terminal presentation reads."""

    @classmethod
    def of(cls, payload: dict[str, Any]) -> AnswerView:
        citations = [SimpleNamespace(**citation) for citation in payload.get("citations", [])]
        usage = SimpleNamespace(**{"prompt_tokens": 0, "cached_tokens": 0, "completion_tokens": 0,
                                   "time_to_first_token": 0.0, "tokens_per_second": 0.0, **payload.get("usage", {})})
        return cls(**{**payload, "text": payload.get("answer", ""), "citations": citations, "usage": usage,
                      "payload": payload})

    def to_dict(self) -> dict[str, Any]:
        return self.payload


class ApiClient:
    def __init__(self, url: str, key: str | None = None, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        key = key or os.environ.get(KEY_ENV) or None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(base_url=self.url, headers=headers,
                                 timeout=httpx.Timeout(timeout, connect=10.0))

    def close(self) -> None:
        self.http.close()

    # ---- plumbing ---------------------------------------------------------------------------------

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code < 400:
            return response
        try:
            body = json.loads(response.read() or b"{}")
            detail = body.get("detail", body) if isinstance(body, dict) else body
        except ValueError:
            detail = response.text
        if isinstance(detail, dict):
            detail = detail.get("message") or json.dumps(detail)
        elif isinstance(detail, list):  # a validation error
            detail = "; ".join(str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail)
        retry = response.headers.get("retry-after")
        message = f"{self.url}: HTTP {response.status_code}: {detail}"
        if retry:
            message += f" (retry after {retry} s)"
        raise ApiError(message, response.status_code, retry)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach the application API at {self.url}: {exc}") from None
        return self._check(response).json()

    def _stream(self, method: str, path: str, **kwargs: Any) -> Iterator[str]:
        try:
            with self.http.stream(method, path, **kwargs) as response:
                self._check(response)
                yield from response.iter_lines()
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach the application API at {self.url}: {exc}") from None

    # ---- the calls --------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return self._request("GET", "/api/status")

    def documents(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/documents")

    def submissions(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/submissions")

    def remove_documents(self, paths: Sequence[str]) -> list[str]:
        return self._request("DELETE", "/api/documents", params={"path": list(paths)})["removed"]

    def search(self, queries: Sequence[str], k: int = 5, mode: str = "hybrid",
               scope: str | None = None) -> list[dict[str, Any]]:
        """One `{"id", "query", "results"}` per query, as `search --json` prints them."""
        return self._request("POST", "/api/search", json={"queries": list(queries), "k": k, "mode": mode,
                                                          "scope": scope})

    def ask_stream(self, question: str, *, scope: str | None = None, k: int | None = None,
                   max_tokens: int | None = None) -> Iterator[str | AnswerView]:
        """The draft pieces as the server streams them, then the answer (an `AnswerView`, last)."""
        body = {"question": question, "scope": scope, "k": k, "max_tokens": max_tokens, "stream": True}
        event = "message"
        for line in self._stream("POST", "/api/ask", json=body):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                payload = json.loads(line[5:].strip())
                if event == "draft":
                    yield payload["text"]
                elif event == "answer":
                    yield AnswerView.of(payload)
                elif event == "error":
                    raise ApiError(f"{self.url}: {payload['error']}", payload.get("status") or 500)

    def ask(self, question: str, **options: Any) -> AnswerView:
        body = {"question": question, **options, "stream": False}
        return AnswerView.of(self._request("POST", "/api/ask", json=body))

    def ask_batch(self, questions: Sequence[dict[str, Any]], scope: str | None = None,
                  k: int | None = None, max_tokens: int | None = None) -> Iterator[dict[str, Any]]:
        """The `ask --batch --json` lines, one per question, as they are answered."""
        body = {"questions": list(questions), "scope": scope, "k": k, "max_tokens": max_tokens}
        for line in self._stream("POST", "/api/ask/batch", json=body):
            if line.strip():
                yield json.loads(line)

    def ingest_files(self, paths: Sequence[Path], wait: bool = True) -> dict[str, Any]:
        handles = [open(path, "rb") for path in paths]  # noqa: SIM115 - closed below
        try:
            files = [("files", (Path(path).name, handle)) for path, handle in zip(paths, handles, strict=True)]
            return self._request("POST", "/api/ingest/upload", params={"wait": wait}, files=files)
        finally:
            for handle in handles:
                handle.close()

    def ingest_folder(self, folder: str, wait: bool = True) -> dict[str, Any]:
        return self._request("POST", "/api/ingest/folder", json={"folder": folder, "wait": wait})
