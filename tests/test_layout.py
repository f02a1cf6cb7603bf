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
