"""The submission profile: what an underwriter pulls from a submission before deciding on it.

Owns the profile's model (`model`), reading it from a submission's stored table rows and text
(`columns`, `tables`, `prose`, `build`), the conflicts between documents (`conflicts`), the carrier's
rules and their check (`rules`) and the memo (`memo`). Every value carries its source (file, location,
quote) and how it was obtained; a value no document states is left unset ("not stated"), never guessed.

May import `index.types`, `index.store` (read only), `assistant.verification` and `assistant.evidence`
(text units, facts) and `assistant.prompts` (locations); never an engine, the CLI or the UI. The
application core (`assistant.app.Assistant.profile`) composes it; shells only show it.
"""
