"""Keep third-party libraries quiet and offline: no hub look-ups, no progress bars of theirs."""

from __future__ import annotations

import logging
import os


def quiet_libraries() -> None:
    """Call before importing transformers / sentence-transformers; idempotent."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for name in ("bitsandbytes", "sentence_transformers", "transformers", "accelerate", "peft", "llmcompressor"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
