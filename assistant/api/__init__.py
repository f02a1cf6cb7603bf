"""The application API: a shell over the application core (`assistant.app.Assistant`), like the CLI and the UI.

It owns HTTP for the product (search, ask, ask batch, ingest, documents, submissions, status, users) and
the rules of serving it to a team: users and their keys (`users`), roles, the exposure and ingest-folder
rules (`security`), the bounded queue in front of the engine (`queue`), and the client the CLI's
`--server URL` talks through (`client`). It may import `assistant.app`, the core's types and presentation
helpers (`assistant.payloads`, the JSON shapes the CLI prints too), `assistant.serving.server` (the OpenAI-compatible
`/v1` endpoints it mounts), `assistant.uploads` and `index` errors; the core never imports it, nor does
`index`. `assistant.api.client` needs only httpx (no models, no workspace).

Modules: `service` (`create_api`, `serve_api`, `start_api_in_thread`), `users`, `security`, `queue`, `client`.
"""

from __future__ import annotations

from typing import Any


def create_api(core: Any, users: Any = None, **options: Any) -> Any:
    """The FastAPI application over `core` (see `assistant.api.service.create_api`)."""
    from assistant.api.service import create_api as build

    return build(core, users, **options)
