"""Shared test fixtures: real models, loaded once per session. Each area appends its own section."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DOCS = ROOT / "sample_docs"
CLI = [sys.executable, "-m", "assistant.cli"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`gpu` tests run only where CUDA is present."""
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_gpu = False
    if has_gpu:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


# ---- index ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def embedder():
    """The bundled all-MiniLM-L6-v2, loaded once."""
    from index.embeddings import Embedder

    model = Embedder("bundled:all-MiniLM-L6-v2")
    _ = model.model
    return model


@pytest.fixture
def make_assistant(embedder):
    """Build an application core over a workspace, sharing the session's embedder."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    def build(workspace: Path, **overrides):
        core = Assistant(load_settings(workspace=workspace, **overrides))
        core.__dict__["embedder"] = embedder
        return core

    return build
