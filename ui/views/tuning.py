"""Tuning: build a training set from the workspace, tune with a live loss chart, pick the adapter, quantize."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import streamlit as st

from assistant.tuning.service import TuningError, format_quantize_result
from ui import core
from ui.job_panel import job_panel

ws = core.workspace()
assistant = ws.assistant
settings = assistant.settings
datasets = core.datasets_dir(settings.workspace)

LENGTHS = {"Quick try (20 steps)": {"max_steps": 20, "grad_accum": 1}, "Standard (1 pass over the data)": {"epochs": 1},
           "Thorough (3 passes)": {"epochs": 3}}

st.title("Tuning")
st.caption("Teach the model your documents' answer style: it learns to answer from the sources and cite them. "
           "Tuning runs on this computer; nothing is uploaded.")

# ---- 1. training set ------------------------------------------------------------------------------

st.subheader("1. Training set")
state = core.index_state(assistant)
if not state or not state[0]:
    st.info("Add documents on the Library page first: the training set is built from them.")
with st.form("dataset", border=True):
    left, right = st.columns(2)
    count = left.number_input("Examples", min_value=10, max_value=5000, value=200, step=10, key="dataset_count",
                              help="Questions with the answer and its citation, made from your documents' facts.")
    seed = right.number_input("Seed", min_value=0, value=0, help="Same documents and seed: the same set.")
    if st.form_submit_button("Build from my documents", icon=":material/dataset:", disabled=not state):
        out = datasets / f"train-n{int(count)}-seed{int(seed)}.jsonl"
        try:
            with st.spinner("Building the training set…"):
                built = assistant.tuning_dataset(out, int(count), int(seed))
        except TuningError as exc:
            st.error(f"No training set: {core.one_line(exc)}")
        else:
            st.success(f"{built.n_examples} examples ({built.n_no_answer} teach “not in the documents”) from "
                       f"{built.n_documents} documents: `{built.path.name}`")

files = sorted(datasets.glob("*.jsonl"), key=lambda p: -p.stat().st_mtime) if datasets.is_dir() else []

# ---- 2. tune --------------------------------------------------------------------------------------

st.subheader("2. Tune")
tuning = ws.jobs.get("tuning")
busy = bool(tuning and tuning.running)
if not files:
    st.caption("Build a training set first.")
else:
    with st.form("tune", border=True):
        data = st.selectbox("Training set", files, format_func=lambda p: p.name)
        length = st.radio("Length", list(LENGTHS), horizontal=True)
        with st.expander("Advanced"):
            a, b, c = st.columns(3)
            learning_rate = a.number_input("Learning rate", min_value=1e-6, max_value=1e-2, value=2e-4,
                                           format="%.0e", step=1e-5)
            lora_r = b.number_input("LoRA rank", min_value=1, max_value=256, value=16, key="tune_rank")
            batch_size = c.number_input("Batch size", min_value=1, max_value=64, value=1, key="tune_batch")
            steps = a.number_input("Steps (0: by length)", min_value=0, max_value=100_000, value=0, key="tune_steps")
            max_seq_len = b.number_input("Longest example (tokens)", min_value=64, max_value=8192, value=1536,
                                          key="tune_seq_len")
            four_bit = c.checkbox("4-bit base (QLoRA)", value=True, key="tune_4bit",
                                  help="Off: plain LoRA over the full-precision model (faster on a CPU, more memory).")
        if st.form_submit_button("Start tuning", type="primary", icon=":material/model_training:", disabled=busy):
            config = {**LENGTHS[length], "learning_rate": learning_rate, "lora_r": int(lora_r),
                      "lora_alpha": 2 * int(lora_r), "batch_size": int(batch_size), "max_seq_len": int(max_seq_len),
                      "load_in_4bit": four_bit}
            if steps:
                config["max_steps"] = int(steps)
            try:
                core.start_tuning(ws, data, config)
            except Exception as exc:  # a bad setting, or a run already going
                st.error(f"Tuning did not start: {core.one_line(exc)}")
            else:
                st.rerun()  # redraw with the job running


def tuning_progress(job: core.Job) -> tuple[float, str]:
    progress: core.TuningProgress = job.state
    eta = f" · about {progress.eta_s:.0f} s left" if progress.eta_s else ""
    return progress.fraction, (f"{job.label}: {progress.phase.replace('_', ' ')}, step "
                               f"{progress.step} of {progress.total_steps or '?'}{eta}")


def tuning_done(job: core.Job) -> None:
    result = job.result
    st.success(f"Adapter saved: `{result.adapter_dir.name}`. Eval loss {result.eval_loss_before:.3f} → "
               f"{result.eval_loss_after:.3f} in {result.steps} steps ({result.seconds:.0f} s on {result.device}).")


def tuning_curves(job: core.Job) -> None:
    progress: core.TuningProgress = job.state
    if progress.losses:
        st.line_chart({"step": [s for s, _ in progress.losses], "training loss": [v for _, v in progress.losses]},
                      x="step", y="training loss", height=220)
    if progress.eval_before is not None:
        left, right = st.columns(2)
        left.metric("Eval loss before", f"{progress.eval_before:.3f}")
        after = progress.eval_after
        right.metric("Eval loss after", "…" if after is None else f"{after:.3f}",
                     None if after is None else f"{after - progress.eval_before:+.3f}", delta_color="inverse")


job_panel("tuning", progress=tuning_progress, done=tuning_done, details=tuning_curves,
          cancelling="Stopping after the current step; nothing is saved.", cancelled="; no adapter was saved.")

# ---- 3. adapters ----------------------------------------------------------------------------------

st.subheader("3. Adapters")
adapters = assistant.adapters()
active = Path(settings.adapter).resolve() if settings.adapter else None
if settings.engine == "http":
    st.caption("Answers come from a model server: choose its adapter there (SGLang `--lora-paths`), or quantize "
               "a merged model below and serve that.")
st.markdown(f"Answering with: **{active.name if active else 'the plain model'}**")
if active is not None and st.button("Use the plain model", key="use:none"):
    assistant.use_adapter(None)
    st.rerun()
if not adapters:
    st.caption("No adapters yet.")
for folder, card in adapters:
    with st.container(border=True):
        is_active = active is not None and folder.resolve() == active
        head, action = st.columns([4, 1])
        badge = " :green-badge[active]" if is_active else ""
        head.markdown(f"**{core.md_text(folder.name)}**{badge}")
        before, after = card.get("eval_loss_before"), card.get("eval_loss_after")
        losses = f"eval loss {before:.3f} → {after:.3f}" if before is not None and after is not None else ""
        made = dt.datetime.fromtimestamp(folder.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        head.caption(" · ".join(part for part in [f"base {card.get('base_model', '?')}", losses,
                                                  f"{card.get('steps', '?')} steps", made] if part))
        if not is_active and action.button("Use for answers", key=f"use:{folder.name}"):
            assistant.use_adapter(folder)
            st.rerun()
        with st.expander("Card"):
            hyper = card.get("hyperparameters", {})
            st.markdown(f"Training data `{core.md_text(str(card.get('data_file', '?')))}` · "
                        f"{card.get('n_train', '?')} train / {card.get('n_eval', '?')} eval examples")
            if hyper:
                st.dataframe([{"setting": key, "value": str(value)} for key, value in hyper.items()],
                             hide_index=True)
            if (folder / "loss_curve.png").is_file():
                st.image(str(folder / "loss_curve.png"), caption="Loss curve", width=480)

# ---- 4. quantize ----------------------------------------------------------------------------------

st.subheader("4. Quantize for a GPU server")
st.caption("Merges an adapter into the model and compresses it to 4 bits (AWQ, W4A16), calibrated on your "
           "documents, for SGLang to serve. Reports perplexity before and after.")
quantizing = ws.jobs.get("quantize")
with st.form("quantize", border=True):
    choice = st.selectbox("Adapter to merge", [None, *[folder for folder, _ in adapters]],
                          format_func=lambda f: "none (the plain model)" if f is None else f.name)
    quick = st.checkbox("Quick (fewer calibration samples)", value=False)
    start = st.form_submit_button("Quantize", icon=":material/compress:",
                                  disabled=bool(quantizing and quantizing.running))
if start:
    config = {"num_calibration_samples": 16, "n_grid": 5, "max_heldout": 16} if quick else {}
    try:
        core.start_quantize(ws, choice, config)
    except Exception as exc:
        st.error(f"Quantizing did not start: {core.one_line(exc)}")
    else:
        st.rerun()


job_panel("quantize",
          progress=lambda job: (0.0, f"{job.label}: {job.state.phase.replace('_', ' ')} · {job.elapsed:.0f} s"),
          done=lambda job: st.success("\n\n".join(core.md_text(line) for line in format_quantize_result(job.result))),
          cancelling="Stopping at the next phase…", cancelled=".")
