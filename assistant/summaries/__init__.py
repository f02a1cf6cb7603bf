"""Batch summaries: one summary per document or per insured, each a view of its submission's profile
(`summarizer`), in the fields and labels of the user-editable template (`template`, `templates/summary.toml`),
every statement with the file, location and quote the profile read it from; reports in Markdown, JSON lines
or CSV (`output`). Nothing is extracted here: the profile is the one extractor.

May import `index`, `assistant.grounding` and `assistant.profile`; never an engine (the model reaches the
profile as a `ModelReader` the application builds).
"""
