"""The command line (`assistant ...`): a thin shell over the application core (`assistant.app`).

`main` holds the Typer application and every command; `console` the terminal presentation (progress,
tables, streaming answers); `queries` the query files of `search --batch` and `ask --batch`. May import
`assistant.app`, `assistant.payloads`, the API client (`--server URL`) and the core's types; importing it
loads no torch, transformers or FAISS, so `assistant --help` stays instant.
"""

from assistant.cli.main import app

__all__ = ["app"]
