"""Domain tuning: chat-format training data, QLoRA, adapter merge and AWQ quantization.

Heavy libraries (torch, transformers, peft, bitsandbytes, llm-compressor) are imported inside the
functions that need them, so importing this package costs nothing. It may import `index` (its atomic
folder writes), never `assistant`.
"""

from __future__ import annotations


class TuningError(RuntimeError):
    """A tuning or quantization step cannot go on; the message is meant for the user."""
