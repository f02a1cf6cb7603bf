"""The layout's import rules, checked in fresh interpreters: `index` and `finetune` never import `assistant`
(one direction: the application over its libraries), the submission profile never imports an engine, and the
command line's entry module loads no torch, transformers or FAISS (so `assistant --help` stays instant)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def loaded_after(*modules: str) -> set[str]:
    code = ("import importlib, json, sys\n"
            f"for name in {list(modules)!r}:\n    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("package", ["finetune.dataset", "finetune.qlora", "finetune.quantize", "finetune.merge",
                                     "finetune.card", "index.ingest", "index.store", "index.retriever"])
def test_libraries_never_import_the_application(package: str) -> None:
    assert not {name for name in loaded_after(package) if name.split(".")[0] in ("assistant", "ui")}


def test_the_profile_never_imports_an_engine() -> None:
    loaded = loaded_after("assistant.profile.build", "assistant.profile.rules", "assistant.profile.memo",
                          "assistant.profile.service")
    assert not {name for name in loaded if name.startswith(("assistant.engines", "assistant.answering"))}


def test_the_command_line_loads_no_heavy_library() -> None:
    loaded = loaded_after("assistant.cli")
    assert not loaded & {"torch", "transformers", "faiss", "sentence_transformers", "streamlit"}


# What each package of the application may import of `assistant` (every import in its source, lazy ones
# included): the one-way flow grounding -> answering -> ...; shells (cli, api, ui) on top, never below.
ALLOWED_IMPORTS = {
    "grounding": ("grounding",),
    "engines": ("engines", "settings"),
    "answering": ("answering", "grounding", "engines.base"),
    "profile": ("profile", "grounding"),
    "summaries": ("summaries", "grounding", "profile"),
    "tuning": ("tuning", "grounding", "answering", "engines.base", "engines.models", "settings", "payloads"),
    "serving": ("serving", "engines", "settings"),
}


def assistant_imports(path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        found |= {name.removeprefix("assistant.") for name in names if name.startswith("assistant.")}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED_IMPORTS))
def test_each_package_imports_only_what_its_docstring_allows(package: str) -> None:
    allowed = ALLOWED_IMPORTS[package]
    stray = {f"{path.relative_to(ROOT)}: assistant.{name}"
             for path in (ROOT / "assistant" / package).rglob("*.py") for name in assistant_imports(path)
             if not any(name == prefix or name.startswith(prefix + ".") for prefix in allowed)}
    assert not stray


def test_the_core_never_imports_a_shell() -> None:
    core = [path for path in (ROOT / "assistant").rglob("*.py")
            if path.relative_to(ROOT / "assistant").parts[0] not in ("cli", "api")]
    stray = {f"{path.relative_to(ROOT)}: {name}" for path in core for name in assistant_imports(path)
             if name.split(".")[0] in ("cli", "api")}
    assert not stray
