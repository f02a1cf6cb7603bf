"""Answering: a question in, a verified answer, a labelled quote or the decline out.

Owns the pipeline (`pipeline`: retrieve, select evidence, decide answerability, generate under the answer
schema, verify), the decision to decline (`answerability`), the answer schema every engine writes
(`schema`), the `[n]` citation check of free-text answers (`citations`), the prompt layout built for prefix
caching (`prompts`) and the answer types that cross module borders (`types`).

May import `index`, `assistant.grounding`, `assistant.engines.base` (the engine interface, never a concrete
engine) and `assistant.settings`. The shells (CLI, UI, API) reach it through `assistant.app`.
"""
