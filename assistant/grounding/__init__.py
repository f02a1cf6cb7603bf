"""Grounding: what the documents say, and whether a claim agrees with them. No engine, no model calls.

Owns the answer contract's test (`verification`: a quote stands in its source, and every figure, date,
identifier and negation of a claim agrees with it), the evidence units of a passage and their ranking
against a question (`evidence`), what kind of value a question asks for (`kinds`), and how a source is
named and ordered (`sources`: insured, file, location).

May import `index` (chunks, the embedder's interface) and nothing else of `assistant`: answering, the
submission profile, summaries and tuning all build on it.
"""
