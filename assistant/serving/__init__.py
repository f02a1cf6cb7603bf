"""Serving models: the local OpenAI-compatible server (`server`: `/v1/chat/completions` over any engine,
honouring `response_format` and `regex`), and the launchers of SGLang (`sglang`) and of sglang-router in
front of several workers (`router`).

May import `assistant.engines` and `assistant.settings`; never the answering pipeline or a shell.
"""
