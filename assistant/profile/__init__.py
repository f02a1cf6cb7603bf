"""The submission profile: what an underwriter pulls from a submission before deciding on it.

Owns the profile's model (`model`); reading it from a submission's stored table rows and text (`columns`
for headers and cells, `tables`, `prose`, `facts` for the submission-level values, `recommendations`,
`requests` for the coverages asked for, `losses`, `prose_model` for the descriptive fields only a model
reads from prose, orchestrated by `build`); the conflicts between documents
(`conflicts`); the carrier's rules and their check (`rules`, `drafting`); the outputs (`output`, `memo`);
and the profiles kept in the workspace (`service`). Every value carries its source (file, location, quote)
and how it was obtained; a value no document states is left unset ("not stated"), never guessed.

May import `index.types`, `index.store` (read only), `index.atomic`, `assistant.grounding.verification` and
`assistant.grounding.evidence` (text units, facts) and `assistant.grounding.sources` (locations); never an
engine, the answering pipeline, the CLI or the UI (tests/test_layout.py checks the first two): a model
reaches it as a `service.ModelReader` (a model id and an `ask` function) that the application builds. The
application core (`assistant.app.Assistant.profile`) composes it; shells only show it.
"""
