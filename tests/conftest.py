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

    def build(workspace: Path, *, shared_engine=None, **overrides):
        """`overrides` are settings (`engine="http"` is the engine's kind); `shared_engine` an engine to use."""
        return Assistant(load_settings(workspace=workspace, **overrides), embedder=embedder, engine=shared_engine)

    return build


# ---- engines ----------------------------------------------------------------------------------

TEST_CACHE = ROOT / ".test-cache"


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Converted generator models, kept across runs: the GGUF conversion takes ~20 s, loading after it <1 s."""
    path = TEST_CACHE / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def engine_settings(model_cache, tmp_path_factory):
    """Settings for engine tests: a throwaway workspace, the shared model cache."""
    from assistant.settings import load_settings

    return load_settings(workspace=tmp_path_factory.mktemp("engine-workspace"), model_cache=model_cache)


@pytest.fixture(scope="session")
def embedded_engine(engine_settings):
    """The bundled SmolLM2-135M-Instruct in the embedded engine, loaded once (prefix cache on)."""
    from assistant.engines import build_engine

    return build_engine("embedded", engine_settings)


@pytest.fixture(scope="session")
def local_server(embedded_engine):
    """Our OpenAI-compatible server over the embedded engine on 127.0.0.1 (a free port); yields its base URL."""
    from assistant.serving.server import start_in_thread

    url, stop = start_in_thread(embedded_engine)
    yield url
    stop()


# ---- answering ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample_workspace(tmp_path_factory, embedder, model_cache):
    """sample_docs/ ingested once per session (real embedder, SQLite, FAISS); returns the settings."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    settings = load_settings(workspace=tmp_path_factory.mktemp("sample-workspace"), model_cache=model_cache)
    core = Assistant(settings, embedder=embedder)
    report = core.ingest([SAMPLE_DOCS])
    assert not report.failed, report.summary()
    return settings


@pytest.fixture
def sample_assistant(sample_workspace, embedder, embedded_engine):
    """An application core over the sample workspace sharing the session's embedder and embedded engine."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    def build(**overrides):
        given = {key: value for key, value in overrides.items() if value is not None}
        settings = load_settings(**{**sample_workspace.model_dump(), **given})
        shared = embedded_engine if settings.engine == "embedded" and settings.adapter is None else None
        return Assistant(settings, embedder=embedder, engine=shared)

    return build


@pytest.fixture
def cli(monkeypatch, sample_assistant):
    """Invoke the CLI in-process; `core()` builds over the sample workspace with the shared models."""
    from typer.testing import CliRunner

    import assistant.cli.main as cli_module

    monkeypatch.setattr(cli_module, "core", lambda **overrides: sample_assistant(**overrides))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli_module.app, list(args), input=input)

    return invoke


# ---- submission profiles ------------------------------------------------------------------------------

LAKEVIEW = Path(__file__).resolve().parent.parent / "benchmarks" / "fixtures" / "submissions" / "lakeview-cold-storage"


@pytest.fixture(scope="session")
def profile_workspace(tmp_path_factory, embedder, model_cache):
    """sample_docs/ and the lakeview-cold-storage submission (other column names, a prose survey, an e-mail)
    ingested once per session; returns the settings."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    settings = load_settings(workspace=tmp_path_factory.mktemp("profile-workspace"), model_cache=model_cache)
    core = Assistant(settings, embedder=embedder)
    report = core.ingest([SAMPLE_DOCS, LAKEVIEW])
    assert not report.failed, report.summary()
    return settings


@pytest.fixture
def profile_core(profile_workspace, embedder):
    """An application core over the profile workspace (no engine: profiles are read from tables and text)."""
    from assistant.app import Assistant

    core = Assistant(profile_workspace, embedder=embedder)
    return core


# ---- the UI ------------------------------------------------------------------------------------------


@pytest.fixture
def listening_on():
    """Set the address the Streamlit server was started on (`--server.address`), restored afterwards: the UI
    asks for a key beyond loopback."""
    from streamlit import config

    before = config.get_option("server.address")
    yield lambda host: config.set_option("server.address", host)
    config.set_option("server.address", before)
