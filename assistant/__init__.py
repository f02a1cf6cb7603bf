"""Underwriter Assistant: answers, summaries and tuning over the local index."""
