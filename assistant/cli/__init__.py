"""The command line (`assistant ...`): a thin shell over the application core (`assistant.app`).

`main` holds the Typer application, its global options and `core()`; the commands live in modules by
capability (`library`, `underwriting`, `answers`, `serving`, `audit`, `tuning`), imported here in the order
`assistant --help` lists them; `console` is the terminal presentation (progress, tables, streaming answers)
and `queries` the query files of `search --batch` and `ask --batch`. May import `assistant.app`,
`assistant.payloads`, the API client (`--server URL`) and the core's types; importing it loads no torch,
transformers or FAISS, so `assistant --help` stays instant.
"""

# isort: off
from assistant.cli import library, underwriting, answers, serving, tuning, audit  # noqa: F401 (registers the commands)
# isort: on
from assistant.cli.main import app

__all__ = ["app"]
