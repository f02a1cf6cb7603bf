"""Domain tuning: `tune dataset`, `tune` (QLoRA) and `quantize` (merge and AWQ)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli import main as shell  # shell.core(): the one place the core is built (tests pass theirs)
from assistant.cli.main import app, fail

tune_app = typer.Typer(help="Domain tuning: build a grounded dataset, QLoRA-tune an adapter.")


app.add_typer(tune_app, name="tune")


@tune_app.callback(invoke_without_command=True)
def tune(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option("--data", help="Chat-format JSON lines to train on.")] = None,
    base: Annotated[str | None, typer.Option(help="Base model: bundled:NAME or a local folder "
                                             "(default: the configured generator).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Adapter folder "
                                             "(default: <workspace>/adapters/<data>-<hash>).")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Optimizer steps (default: one epoch).", min=1)] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the data (default 1).", min=1)] = None,
    learning_rate: Annotated[float | None, typer.Option("--lr", help="Peak learning rate (default 2e-4).",
                                                        min=0.0)] = None,
    batch_size: Annotated[int | None, typer.Option(help="Examples per micro-batch (default 1; more on a GPU).",
                                                   min=1)] = None,
    grad_accum: Annotated[int | None, typer.Option(help="Micro-batches per optimizer step (default 16).",
                                                   min=1)] = None,
    lora_r: Annotated[int | None, typer.Option(help="LoRA rank (default 16; alpha is twice it).", min=1)] = None,
    device: Annotated[str | None, typer.Option(help="auto (default), cpu or cuda.")] = None,
) -> None:
    """QLoRA-tune the generator on --data (4-bit NF4 base, LoRA on every linear layer); the adapter then
    answers at once with `assistant ask --adapter DIR`. `assistant tune dataset --out FILE` builds data."""
    if ctx.invoked_subcommand is not None:
        return
    if data is None:
        raise fail("give --data FILE (build one with `assistant tune dataset --out FILE`)")
    from assistant.tuning.service import RichTrainProgress, TuningError, format_tune_result

    assistant = shell.core()
    config = assistant.train_config(**given(max_steps=steps, epochs=epochs, learning_rate=learning_rate,
                                            batch_size=batch_size, grad_accum=grad_accum, lora_r=lora_r,
                                            lora_alpha=2 * lora_r if lora_r else None, device=device))
    try:
        with RichTrainProgress() as bar:
            result = assistant.tune(data, base=base, out=out, config=config, progress=bar)
    except (TuningError, OSError) as exc:
        raise fail(str(exc)) from None
    _print_lines(format_tune_result(result))


@tune_app.command("dataset")
def tune_dataset(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON-lines file to write.")],
    n: Annotated[int, typer.Option("-n", help="Examples to build.", min=1)] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same workspace: the same file.")] = 0,
) -> None:
    """Build a grounded starter dataset from the workspace: questions answered from sampled chunks, laid out
    exactly as the assistant prompts at answer time, answered in the served JSON schema (some "not in the
    documents")."""
    from assistant.tuning.service import TuningError

    try:
        result = shell.core().tuning_dataset(out, n=n, seed=seed)
    except (TuningError, OSError) as exc:
        raise fail(str(exc)) from None
    _print_lines([f"{result.n_examples} examples ({result.n_no_answer} with no answer in the sources) from "
                  f"{result.n_chunks} chunks of {result.n_documents} documents, seed {result.seed}: {result.path}"])


@app.command()
def quantize(
    base: Annotated[str | None, typer.Option(help="Base model: bundled:NAME or a local folder "
                                             "(default: the configured generator).")] = None,
    adapter: Annotated[Path | None, typer.Option("--adapter", help="LoRA adapter merged in first.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder "
                                             "(default: <workspace>/models/<base>[-<adapter>]-awq-w4a16).")] = None,
    calibration: Annotated[int | None, typer.Option(help="Workspace chunks used to calibrate AWQ (default 64).",
                                                    min=1)] = None,
    group_size: Annotated[int | None, typer.Option(help="Weights per scale (default: the largest of 128/64/32 "
                                                   "dividing every layer).", min=8)] = None,
    device: Annotated[str | None, typer.Option(help="auto (default), cpu or cuda.")] = None,
) -> None:
    """Merge an adapter into the base in full precision, then AWQ W4A16 (llm-compressor) calibrated on the
    workspace's chunks: a compressed-tensors folder SGLang serves (`assistant serve --backend sglang --model DIR`)."""
    from assistant.cli.console import err
    from assistant.tuning.service import TuningError, format_quantize_result

    assistant = shell.core()
    config = assistant.quantize_config(**given(num_calibration_samples=calibration, group_size=group_size,
                                               device=device))

    def on_event(event: Any) -> None:
        if event.message:
            err.print(f"[dim]{event.elapsed_s:6.0f} s[/dim] {event.message}", highlight=False)

    try:
        result = assistant.quantize(base=base, adapter=adapter, out=out, config=config, progress=on_event)
    except (TuningError, OSError) as exc:
        raise fail(str(exc)) from None
    _print_lines(format_quantize_result(result))


def given(**options: Any) -> dict[str, Any]:
    """The options given on the command line (None: not given, the config's own default applies)."""
    return {key: value for key, value in options.items() if value is not None}


def _print_lines(lines: list[str]) -> None:
    from rich.markup import escape

    from assistant.cli.console import out

    for line in lines:
        out.print(escape(line), highlight=False)
