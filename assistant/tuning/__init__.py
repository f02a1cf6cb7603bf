"""Domain tuning in the application: the grounded starter set built from indexed chunks with no model
(`starter_set`), and the dataset, QLoRA and AWQ jobs the CLI and the UI run through `assistant.app`
(`service`, over the `finetune` library).

May import `finetune`, `index`, `assistant.grounding`, `assistant.answering` (the served prompt
layout and answer schema, so tuned and served prompts match), `assistant.engines.base`,
`assistant.engines.models`, `assistant.payloads` (sizes) and `assistant.settings`.
`finetune` never imports `assistant`.
"""
