"""The adapter card (JSON for programs, Markdown for people) and the loss-curve picture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CARD_JSON = "tuning_card.json"
CARD_MD = "README.md"
LOSS_PNG = "loss_curve.png"


def write_card(folder: Path, card: dict[str, Any]) -> None:
    """Write `tuning_card.json` and a readable `README.md` (replacing peft's template card)."""
    (folder / CARD_JSON).write_text(json.dumps(card, indent=2) + "\n")
    hyper = card.get("hyperparameters", {})
    lines = [
        "# LoRA adapter (QLoRA)",
        "",
        f"- Base model: `{card.get('base_model')}` ({card.get('base_path')})",
        f"- Training data: `{card.get('data_file')}` ({card.get('data_hash')})",
        f"- Examples: {card.get('n_train')} train, {card.get('n_eval')} eval"
        + (f", {card['n_skipped']} left out (longer than max_seq_len)" if card.get("n_skipped") else ""),
        f"- Eval loss: {card.get('eval_loss_before'):.4f} before, {card.get('eval_loss_after'):.4f} after",
        f"- Steps: {card.get('steps')}, time {card.get('seconds'):.1f} s on {card.get('device')}",
        "",
        "## Hyper-parameters",
        "",
        *[f"- {key}: {value}" for key, value in hyper.items()],
        "",
        "## Loss history (optimizer steps)",
        "",
        "| step | train loss | learning rate |",
        "|---:|---:|---:|",
        *[f"| {row['step']} | {row['loss']:.4f} | {row['lr']:.2e} |" for row in card.get("loss_history", [])],
        "",
        f"![loss curve]({LOSS_PNG})",
        "",
    ]
    (folder / CARD_MD).write_text("\n".join(lines))


def plot_losses(path: Path, train: list[tuple[int, float]], evals: list[tuple[int, float]]) -> Path:
    """Training loss per step and eval loss points, as a PNG (matplotlib when installed, else Pillow)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _plot_with_pillow(path, train, evals)
    figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    if train:
        axes.plot([s for s, _ in train], [v for _, v in train], label="train loss", color="#1f77b4")
    if evals:
        axes.plot([s for s, _ in evals], [v for _, v in evals], "o--", label="eval loss", color="#d62728")
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("loss")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def _plot_with_pillow(path: Path, train: list[tuple[int, float]], evals: list[tuple[int, float]]) -> Path:
    from PIL import Image, ImageDraw

    width, height, left, right, top, bottom = 640, 400, 60, 20, 20, 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    points = train + evals
    if not points:
        image.save(path)
        return path
    steps = [s for s, _ in points]
    values = [v for _, v in points]
    x0, x1 = min(steps), max(steps) if max(steps) > min(steps) else min(steps) + 1
    y0, y1 = min(values), max(values)
    pad = (y1 - y0) * 0.05 or 0.5
    y0, y1 = y0 - pad, y1 + pad

    def to_xy(step: float, value: float) -> tuple[float, float]:
        x = left + (step - x0) / (x1 - x0) * (width - left - right)
        y = top + (y1 - value) / (y1 - y0) * (height - top - bottom)
        return x, y

    draw.rectangle((left, top, width - right, height - bottom), outline="black")
    for i in range(5):
        value = y0 + (y1 - y0) * i / 4
        _, y = to_xy(x0, value)
        draw.line((left - 4, y, left, y), fill="black")
        draw.text((4, y - 6), f"{value:.2f}", fill="black")
        step = x0 + (x1 - x0) * i / 4
        x, _ = to_xy(step, y0)
        draw.line((x, height - bottom, x, height - bottom + 4), fill="black")
        draw.text((x - 8, height - bottom + 6), f"{step:.0f}", fill="black")
    if len(train) > 1:
        draw.line([to_xy(s, v) for s, v in train], fill=(31, 119, 180), width=2)
    for s, v in train if len(train) == 1 else []:
        x, y = to_xy(s, v)
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(31, 119, 180))
    for s, v in evals:
        x, y = to_xy(s, v)
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=(214, 39, 40))
    draw.text((left + 8, top + 4), "train loss (blue), eval loss (red) per optimizer step", fill="black")
    image.save(path)
    return path
