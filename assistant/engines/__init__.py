"""Engines by name: a small registry that builds the generator backend chosen in settings.

Importing this package is cheap: torch and transformers load only when an embedded engine is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.engines.base import Engine, EngineError, GenerationRequest, StreamEvent, Usage, generate

if TYPE_CHECKING:
    from assistant.settings import Settings


def _embedded(settings: Settings, **kwargs: Any) -> Engine:
    from assistant.engines.embedded import EmbeddedEngine

    return EmbeddedEngine(settings, **kwargs)


def _http(settings: Settings, **kwargs: Any) -> Engine:
    from assistant.engines.http import HttpEngine

    return HttpEngine(settings, **kwargs)


ENGINES: dict[str, Callable[..., Engine]] = {"embedded": _embedded, "http": _http}


def build_engine(name: str, settings: Settings, **kwargs: Any) -> Engine:
    """Build the engine registered under `name`; an unknown name lists the known ones."""
    factory = ENGINES.get(name)
    if factory is None:
        raise EngineError(f"unknown engine {name!r}; known engines: {', '.join(sorted(ENGINES))}")
    return factory(settings, **kwargs)


__all__ = [
    "ENGINES",
    "Engine",
    "EngineError",
    "GenerationRequest",
    "StreamEvent",
    "Usage",
    "build_engine",
    "generate",
]
