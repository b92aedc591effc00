"""The classical baseline's analysis: per-block no-reference measures -> findings -> grounded answers.

numpy and scipy only; see model_adapters/classical.py for the adapter and docs/synth.md for its scores.
"""

VERSION = 2  # part of the adapter's identity (and so of the response cache key): bump on any change of answers
