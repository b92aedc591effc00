"""Interoperability with other harnesses (lmms-eval). Nothing here imports them at module level."""
