"""Batch summaries: one structured summary per document from the user-editable template (`template`,
`templates/summary.toml`), every statement traced to its page and checked against it (`summarizer`), and the
reports per document or per insured in Markdown, JSON lines or CSV (`output`).

May import `index`, `assistant.grounding`, `assistant.answering` (prompt layout, citation checks) and
`assistant.engines.base`.
"""
